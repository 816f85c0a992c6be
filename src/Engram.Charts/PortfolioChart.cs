using ScottPlot;
using ScottPlot.TickGenerators;
using SkiaSharp;

namespace Engram.Charts;

/// <summary>
/// Lays out the portfolio chart: header with total value and P&amp;L, an allocation donut with its legend on the
/// left, and P&amp;L per position as horizontal bars (green gains, red losses) on the right.
/// </summary>
internal static class PortfolioChart
{
    private const float HeaderHeight = 92;
    private const float LeftPanelWidth = 560;
    private const int MaxSlices = 8;
    private const int MaxBars = 12;

    public static byte[] Render(PortfolioChartRequest request, string fontFamily)
    {
        using var canvas = new ChartCanvas(request.Size, fontFamily);
        var positions = request.Positions;
        var totalValue = positions.Sum(p => p.Value);
        var totalPnl = positions.Sum(p => p.Pnl);
        DrawHeader(canvas, request, totalValue, totalPnl);

        var top = canvas.Px(HeaderHeight);
        var leftWidth = canvas.Px(LeftPanelWidth);
        DrawAllocation(canvas, positions, totalValue, request.QuoteAsset, top, leftWidth);
        DrawPnl(canvas, positions, leftWidth, top);
        return canvas.ToPng();
    }

    private static void DrawHeader(ChartCanvas canvas, PortfolioChartRequest request, double totalValue, double totalPnl)
    {
        var x = canvas.Px(18);
        var line1 = canvas.Px(44);
        x += canvas.Text(string.IsNullOrWhiteSpace(request.Title) ? "Portfolio" : request.Title, x, line1, 34, ChartTheme.Text, bold: true)
            + canvas.Px(24);
        x += canvas.Text($"{ChartFormat.Price(totalValue, 2)} {request.QuoteAsset}", x, line1, 30, ChartTheme.Text, bold: true)
            + canvas.Px(20);
        var cost = totalValue - totalPnl;
        var pnlText = ChartFormat.Signed(totalPnl) + (cost > 0 ? $" ({ChartFormat.SignedPercent(totalPnl / cost)})" : "");
        canvas.Text(pnlText, x, line1, 26, totalPnl >= 0 ? ChartTheme.Up : ChartTheme.Down, bold: true);

        var count = request.Positions.Count;
        canvas.Text($"{count} position{(count == 1 ? "" : "s")} \u00b7 unrealised P&L \u00b7 valued {ChartFormat.Utc(request.AsOf)}",
            canvas.Px(18), canvas.Px(78), 20, ChartTheme.MutedText);
    }

    private static void DrawAllocation(ChartCanvas canvas, IReadOnlyList<PortfolioPosition> positions, double totalValue, string quote,
        float top, float width)
    {
        canvas.Text("Allocation", canvas.Px(18), top + canvas.Px(30), 22, ChartTheme.Text, bold: true);

        // Largest holdings get their own slice; the tail is one "Other" slice so labels stay readable.
        var ordered = positions.Where(p => p.Value > 0).OrderByDescending(p => p.Value).ToList();
        var shown = ordered.Count <= MaxSlices ? ordered : ordered.Take(MaxSlices - 1).ToList();
        var slices = shown.Select((p, i) => (Label: p.Symbol, p.Value, Color: ChartTheme.Slices[i % (ChartTheme.Slices.Length - 1)])).ToList();
        if (ordered.Count > shown.Count)
        {
            var rest = ordered.Skip(shown.Count).ToList();
            slices.Add(($"Other ({rest.Count})", rest.Sum(p => p.Value), ChartTheme.Slices[^1]));
        }

        var donutSize = Math.Min(width - canvas.Px(40), canvas.Px(440));
        var donutTop = top + canvas.Px(44);
        using (var plot = canvas.NewPlot())
        {
            var pie = plot.Add.Pie(slices.Select(s => new PieSlice(s.Value, s.Color)).ToList());
            pie.DonutFraction = 0.55;
            pie.LineColor = ChartTheme.Background;
            pie.LineWidth = canvas.Px(2);
            plot.Axes.Frameless();
            plot.HideGrid();
            plot.DataBackground.Color = ChartTheme.Background;
            plot.Axes.SquareUnits();
            var centre = plot.Add.Text(ChartFormat.Compact(totalValue), 0, 0);
            centre.Alignment = Alignment.MiddleCenter;
            centre.LabelFontName = canvas.FontFamily;
            centre.LabelFontSize = canvas.Px(30);
            centre.LabelBold = true;
            centre.LabelFontColor = ChartTheme.Text;
            var unit = plot.Add.Text(quote, 0, 0);
            unit.Alignment = Alignment.UpperCenter;
            unit.OffsetY = canvas.Px(20);
            unit.LabelFontName = canvas.FontFamily;
            unit.LabelFontSize = canvas.Px(18);
            unit.LabelFontColor = ChartTheme.MutedText;
            canvas.Draw(plot, (width - donutSize) / 2, donutTop, donutSize, donutSize, PixelPadding.Zero);
        }

        // Legend: swatch, symbol, share and value, one row per slice.
        var rowHeight = canvas.Px(34);
        var y = donutTop + donutSize + canvas.Px(36);
        var x = canvas.Px(40);
        using var swatch = new SKPaint { IsAntialias = true };
        foreach (var (label, value, color) in slices)
        {
            swatch.Color = color.ToSKColor();
            canvas.Canvas.DrawRoundRect(x, y - canvas.Px(16), canvas.Px(18), canvas.Px(18), canvas.Px(3), canvas.Px(3), swatch);
            canvas.Text(label, x + canvas.Px(30), y, 19, ChartTheme.Text, bold: true);
            canvas.Text(ChartFormat.Percent(value / totalValue), x + canvas.Px(250), y, 19, ChartTheme.Text, align: SKTextAlign.Right);
            canvas.Text(ChartFormat.Price(value, 2), width - canvas.Px(30), y, 19, ChartTheme.MutedText, align: SKTextAlign.Right);
            y += rowHeight;
        }
    }

    private static void DrawPnl(ChartCanvas canvas, IReadOnlyList<PortfolioPosition> positions, float left, float top)
    {
        canvas.Text("P&L per position", left + canvas.Px(10), top + canvas.Px(30), 22, ChartTheme.Text, bold: true);

        // Biggest moves (either way) get their own bar; the rest are summed into "Other".
        var ordered = positions.OrderByDescending(p => Math.Abs(p.Pnl)).ToList();
        var shown = ordered.Count <= MaxBars ? ordered : ordered.Take(MaxBars - 1).ToList();
        var rows = shown.Select(p => (p.Symbol, p.Value, p.Pnl)).ToList();
        if (ordered.Count > shown.Count)
        {
            var rest = ordered.Skip(shown.Count).ToList();
            rows.Add(($"Other ({rest.Count})", rest.Sum(p => p.Value), rest.Sum(p => p.Pnl)));
        }

        // Best at the top: y = count-1 … 0.
        rows = rows.OrderByDescending(r => r.Pnl).ToList();
        using var plot = canvas.NewPlot(tickFontSize: 19);
        plot.Axes.Left.IsVisible = true;
        plot.Axes.Bottom.IsVisible = false;
        plot.Axes.Right.IsVisible = false;
        plot.Axes.Top.IsVisible = false;
        plot.HideGrid();
        plot.Axes.Left.FrameLineStyle.Width = 0;

        var bars = new List<Bar>();
        var ticks = new NumericManual();
        var minPnl = Math.Min(0, rows.Min(r => r.Pnl));
        var maxPnl = Math.Max(0, rows.Max(r => r.Pnl));
        var span = Math.Max(maxPnl - minPnl, 1e-9);
        for (var i = 0; i < rows.Count; i++)
        {
            var (symbol, value, pnl) = rows[i];
            var y = rows.Count - 1 - i;
            var color = pnl >= 0 ? ChartTheme.Up : ChartTheme.Down;
            bars.Add(new Bar { Position = y, Value = pnl, Size = 0.62, FillColor = color, LineWidth = 0 });
            ticks.AddMajor(y, symbol);

            var cost = value - pnl;
            var label = ChartFormat.Signed(pnl) + (cost > 0 ? $"  {ChartFormat.SignedPercent(pnl / cost)}" : "");
            var text = plot.Add.Text(label, pnl, y);
            text.Alignment = pnl >= 0 ? Alignment.MiddleLeft : Alignment.MiddleRight;
            text.OffsetX = pnl >= 0 ? canvas.Px(8) : -canvas.Px(8);
            text.LabelFontName = canvas.FontFamily;
            text.LabelFontSize = canvas.Px(18);
            text.LabelBold = true;
            text.LabelFontColor = color;
        }

        var barPlot = plot.Add.Bars(bars);
        barPlot.Horizontal = true;
        var zero = plot.Add.VerticalLine(0, canvas.Px(1.5f), ChartTheme.MutedText);
        zero.ExcludeFromLegend = true;

        plot.Axes.Left.TickGenerator = ticks;
        plot.Axes.Left.MajorTickStyle.Length = 0;
        // Room on both sides for the value labels, which are about as wide as the longest bar on a phone.
        var room = span * 0.75;
        plot.Axes.SetLimitsX(minPnl - (minPnl < 0 ? room : span * 0.05), maxPnl + (maxPnl > 0 ? room : span * 0.05));
        plot.Axes.SetLimitsY(-0.7, rows.Count - 0.3);

        var panelTop = top + canvas.Px(44);
        var height = canvas.Size.Height - panelTop - canvas.Px(24);
        var rowsHeight = Math.Min(height, canvas.Px(64) * rows.Count + canvas.Px(20));
        canvas.Draw(plot, left, panelTop, canvas.Size.Width - left, rowsHeight,
            new PixelPadding(canvas.Px(130), canvas.Px(24), canvas.Px(10), canvas.Px(10)));
    }
}
