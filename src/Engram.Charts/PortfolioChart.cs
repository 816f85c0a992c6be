using ScottPlot;
using ScottPlot.TickGenerators;
using SkiaSharp;

namespace Engram.Charts;

/// <summary>
/// Lays out the portfolio chart: a header with total value and P&amp;L; allocation as a donut with a legend
/// beside it; below, P&amp;L per position as horizontal bars (green gains, red losses) across the full width,
/// the best at the top. Long portfolios are folded into "Other" so every label stays readable on a phone.
/// The bar rows share the height left under the donut (between <see cref="MinBarRow"/> and <see cref="MaxBarRow"/>
/// each); when a few rows at their tallest still do not fill it, the image ends below the last bar instead of
/// carrying an empty band, so a portfolio of one or two positions is shorter than <see cref="PortfolioChartRequest.Size"/>.
/// </summary>
internal static class PortfolioChart
{
    // Layout in pixels of the 1280×960 frame; ChartCanvas scales it to the requested size.
    private const float HeaderHeight = 92;
    private const float SectionTitle = 30;
    private const float DonutSize = 360;
    private const float LegendRow = 42;
    private const float BarRow = 60;
    private const float MinBarRow = 36;
    private const float MaxBarRow = 2 * BarRow;
    private const float BottomMargin = 16;
    private const float LabelFont = 19;
    private const int MaxSlices = 8;
    private const int MaxBars = 10;

    public static byte[] Render(PortfolioChartRequest request, string fontFamily)
    {
        using var canvas = new ChartCanvas(request.Size, fontFamily);
        var positions = request.Positions;
        var totalValue = positions.Sum(p => p.Value);
        var totalPnl = positions.Sum(p => p.Pnl);
        DrawHeader(canvas, request, totalValue, totalPnl);

        var top = canvas.Px(HeaderHeight);
        var allocationBottom = DrawAllocation(canvas, positions, totalValue, request.QuoteAsset, top);
        var contentBottom = DrawPnl(canvas, positions, allocationBottom + canvas.Px(12)) + canvas.Px(BottomMargin);

        // Within a couple of pixels of the frame is the frame (rounding); otherwise cut the empty band off.
        var frame = canvas.Size.Height;
        return canvas.ToPng(contentBottom >= frame - canvas.Px(2) ? frame : (int)MathF.Ceiling(contentBottom));
    }

    private static void DrawHeader(ChartCanvas canvas, PortfolioChartRequest request, double totalValue, double totalPnl)
    {
        var x = canvas.Px(18);
        var line1 = canvas.Px(44);
        x += canvas.Text(string.IsNullOrWhiteSpace(request.Title) ? "Portfolio" : request.Title, x, line1, 34, ChartTheme.Text, bold: true)
            + canvas.Px(24);
        x += canvas.Text($"{ChartFormat.Price(totalValue, 2)} {request.QuoteAsset}", x, line1, 30, ChartTheme.Text, bold: true)
            + canvas.Px(20);
        canvas.Text(PnlText(totalPnl, totalValue), x, line1, 26, totalPnl >= 0 ? ChartTheme.Up : ChartTheme.Down, bold: true);

        var count = request.Positions.Count;
        canvas.Text($"{count} position{(count == 1 ? "" : "s")} \u00b7 unrealised P&L \u00b7 valued {ChartFormat.Utc(request.AsOf)}",
            canvas.Px(18), canvas.Px(78), 20, ChartTheme.MutedText);
    }

    /// <summary>"+620.00 (+12.97%)": the percentage is against cost (value − P&amp;L), left out when cost is not positive.</summary>
    private static string PnlText(double pnl, double value)
    {
        var cost = value - pnl;
        return ChartFormat.Signed(pnl) + (cost > 0 ? $" ({ChartFormat.SignedPercent(pnl / cost)})" : "");
    }

    /// <returns>The y just below the section.</returns>
    private static float DrawAllocation(ChartCanvas canvas, IReadOnlyList<PortfolioPosition> positions, double totalValue, string quote, float top)
    {
        canvas.Text("Allocation", canvas.Px(18), top + canvas.Px(SectionTitle), 22, ChartTheme.Text, bold: true);

        // Largest holdings get their own slice; the tail is one "Other" slice.
        var ordered = positions.Where(p => p.Value > 0).OrderByDescending(p => p.Value).ToList();
        var shown = ordered.Count <= MaxSlices ? ordered : ordered.Take(MaxSlices - 1).ToList();
        var slices = shown.Select((p, i) => (Label: p.Symbol, p.Value, Color: ChartTheme.Slices[i % (ChartTheme.Slices.Length - 1)])).ToList();
        if (ordered.Count > shown.Count)
        {
            var rest = ordered.Skip(shown.Count).ToList();
            slices.Add(($"Other ({rest.Count})", rest.Sum(p => p.Value), ChartTheme.Slices[^1]));
        }

        var donutSize = canvas.Px(DonutSize);
        var donutTop = top + canvas.Px(SectionTitle + 14);
        var donutLeft = canvas.Px(40);
        using (var plot = canvas.NewPlot())
        {
            var pie = plot.Add.Pie(slices.Select(s => new PieSlice(s.Value, s.Color)).ToList());
            pie.DonutFraction = 0.6;
            pie.LineColor = ChartTheme.Background;
            pie.LineWidth = canvas.Px(2);
            pie.ManageAxisLimits = false;
            plot.Axes.Frameless();
            plot.HideGrid();
            plot.DataBackground.Color = ChartTheme.Background;
            plot.Axes.SetLimits(-1.04, 1.04, -1.04, 1.04); // the box is square, so the donut fills it

            CentreText(plot, canvas, ChartFormat.Compact(totalValue), 30, ChartTheme.Text, bold: true, Alignment.LowerCenter, canvas.Px(2));
            CentreText(plot, canvas, quote, 18, ChartTheme.MutedText, bold: false, Alignment.UpperCenter, canvas.Px(6));
            canvas.Draw(plot, donutLeft, donutTop, donutSize, donutSize, PixelPadding.Zero);
        }

        // Legend beside the donut: swatch, symbol, share, value; vertically centred on it.
        var row = canvas.Px(LegendRow);
        var legendLeft = donutLeft + donutSize + canvas.Px(60);
        var legendRight = canvas.Size.Width - canvas.Px(40);
        var y = donutTop + donutSize / 2 - row * slices.Count / 2 + row * 0.7f;
        using var swatch = new SKPaint { IsAntialias = true };
        foreach (var (label, value, color) in slices)
        {
            swatch.Color = color.ToSKColor();
            var box = canvas.Px(20);
            canvas.Canvas.DrawRoundRect(legendLeft, y - box + canvas.Px(2), box, box, canvas.Px(4), canvas.Px(4), swatch);
            canvas.Text(label, legendLeft + canvas.Px(34), y, 21, ChartTheme.Text, bold: true);
            canvas.Text(ChartFormat.Percent(value / totalValue), legendLeft + canvas.Px(330), y, 21, ChartTheme.Text, align: SKTextAlign.Right);
            canvas.Text($"{ChartFormat.Price(value, 2)} {quote}", legendRight, y, 21, ChartTheme.MutedText, align: SKTextAlign.Right);
            y += row;
        }

        return donutTop + donutSize;
    }

    private static void CentreText(Plot plot, ChartCanvas canvas, string text, float size, Color color, bool bold, Alignment alignment, float offsetY)
    {
        var label = plot.Add.Text(text, 0, 0);
        label.Alignment = alignment;
        label.OffsetY = alignment == Alignment.UpperCenter ? offsetY : -offsetY;
        label.LabelFontName = canvas.FontFamily;
        label.LabelFontSize = canvas.Px(size);
        label.LabelBold = bold;
        label.LabelFontColor = color;
    }

    /// <returns>The y just below the bars.</returns>
    private static float DrawPnl(ChartCanvas canvas, IReadOnlyList<PortfolioPosition> positions, float top)
    {
        canvas.Text("P&L per position", canvas.Px(18), top + canvas.Px(SectionTitle), 22, ChartTheme.Text, bold: true);

        // Biggest moves either way get their own bar; the rest are summed into "Other".
        var ordered = positions.OrderByDescending(p => Math.Abs(p.Pnl)).ToList();
        var shown = ordered.Count <= MaxBars ? ordered : ordered.Take(MaxBars - 1).ToList();
        var rows = shown.Select(p => (p.Symbol, p.Value, p.Pnl)).ToList();
        if (ordered.Count > shown.Count)
        {
            var rest = ordered.Skip(shown.Count).ToList();
            rows.Add(($"Other ({rest.Count})", rest.Sum(p => p.Value), rest.Sum(p => p.Pnl)));
        }

        rows = rows.OrderByDescending(r => r.Pnl).ToList();
        var labels = rows.Select(r => PnlText(r.Pnl, r.Value)).ToList();

        using var plot = canvas.NewPlot(tickFontSize: 21);
        plot.Axes.Left.IsVisible = true;
        plot.Axes.Bottom.IsVisible = false;
        plot.Axes.Right.IsVisible = false;
        plot.Axes.Top.IsVisible = false;
        plot.HideGrid();
        plot.Axes.Left.FrameLineStyle.Width = 0;
        plot.Axes.Left.MajorTickStyle.Length = 0;
        plot.Axes.Left.TickLabelStyle.Bold = true;
        plot.DataBackground.Color = ChartTheme.Background;

        var bars = new List<Bar>();
        var ticks = new NumericManual();
        for (var i = 0; i < rows.Count; i++)
        {
            var (symbol, _, pnl) = rows[i];
            var y = rows.Count - 1 - i; // best at the top
            var color = pnl >= 0 ? ChartTheme.Up : ChartTheme.Down;
            bars.Add(new Bar { Position = y, Value = pnl, Size = 0.6, FillColor = color, LineWidth = 0 });
            ticks.AddMajor(y, symbol);

            var text = plot.Add.Text(labels[i], pnl, y);
            text.Alignment = pnl >= 0 ? Alignment.MiddleLeft : Alignment.MiddleRight;
            text.OffsetX = pnl >= 0 ? canvas.Px(8) : -canvas.Px(8);
            text.LabelFontName = canvas.FontFamily;
            text.LabelFontSize = canvas.Px(LabelFont);
            text.LabelBold = true;
            text.LabelFontColor = color;
        }

        plot.Add.Bars(bars).Horizontal = true;
        plot.Add.VerticalLine(0, canvas.Px(1.5f), ChartTheme.MutedText).ExcludeFromLegend = true;
        plot.Axes.Left.TickGenerator = ticks;

        var symbolWidth = canvas.Px(24) + rows.Max(r => canvas.Measure(r.Symbol, 21, bold: true));
        var padding = new PixelPadding(symbolWidth, canvas.Px(24), canvas.Px(6), canvas.Px(6));
        var width = canvas.Size.Width;
        var dataWidth = width - padding.Left - padding.Right;

        // Value labels sit beyond the bar ends: reserve their pixel width on each side that has bars,
        // then fit the bars into what is left.
        var labelRoom = canvas.Px(16) + labels.Max(l => canvas.Measure(l, LabelFont, bold: true));
        var minPnl = Math.Min(0, rows.Min(r => r.Pnl));
        var maxPnl = Math.Max(0, rows.Max(r => r.Pnl));
        var leftRoom = minPnl < 0 ? labelRoom : canvas.Px(4);
        var rightRoom = maxPnl > 0 ? labelRoom : canvas.Px(4);
        var unitsPerPixel = Math.Max(maxPnl - minPnl, 1e-9) / Math.Max(canvas.Px(80), dataWidth - leftRoom - rightRoom);
        plot.Axes.SetLimitsX(minPnl - leftRoom * unitsPerPixel, maxPnl + rightRoom * unitsPerPixel);
        plot.Axes.SetLimitsY(-0.6, rows.Count - 0.4);

        // Rows share what is left of the frame, neither cramped nor stretched past twice their base height.
        var plotTop = top + canvas.Px(SectionTitle + 10);
        var available = canvas.Size.Height - plotTop - canvas.Px(BottomMargin);
        var row = Math.Clamp((available - padding.Vertical) / rows.Count, canvas.Px(MinBarRow), canvas.Px(MaxBarRow));
        var height = Math.Min(available, row * rows.Count + padding.Vertical);
        canvas.Draw(plot, 0, plotTop, width, height, padding);
        return plotTop + height;
    }
}
