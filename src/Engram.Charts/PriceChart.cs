using Engram.Trading.Indicators;
using Engram.Trading.MarketData;
using ScottPlot;
using ScottPlot.TickGenerators;

namespace Engram.Charts;

/// <summary>
/// Lays out the price chart: header, candles with EMA 20/50 and Bollinger Bands, last close and alert levels,
/// then volume and RSI panels sharing the candle axis. x is the candle index, so gaps in the data take no space.
/// </summary>
internal static class PriceChart
{
    // Layout in pixels of the 1280×960 frame; ChartCanvas scales it to the requested size.
    private const float HeaderHeight = 92;
    private const float SidePadding = 14;
    private const float PriceAxisWidth = 136;
    private const float PanelGap = 6;
    private const float TimeAxisHeight = 40;
    private const float PriceShare = 0.62f;
    private const float VolumeShare = 0.13f;

    /// <summary>Empty candle slots right of the last candle, room for the level labels.</summary>
    private const double RightMarginCandles = 2;

    public static byte[] Render(PriceChartRequest request, string fontFamily)
    {
        var all = request.Candles;
        var n = all.Count;
        var close = new double[n];
        for (var i = 0; i < n; i++)
        {
            close[i] = all[i].Close;
        }

        // Over the whole history given, so the visible part starts warmed up.
        var ema20 = new double[n];
        var ema50 = new double[n];
        var bbMiddle = new double[n];
        var bbUpper = new double[n];
        var bbLower = new double[n];
        var rsi = new double[n];
        TechnicalIndicators.Ema(close, IndicatorSeries.EmaFast, ema20);
        TechnicalIndicators.Ema(close, IndicatorSeries.EmaMedium, ema50);
        TechnicalIndicators.BollingerBands(close, bbMiddle, bbUpper, bbLower, IndicatorSeries.BollingerPeriod, IndicatorSeries.BollingerK);
        TechnicalIndicators.Rsi(close, rsi, IndicatorSeries.RsiPeriod);

        var start = Math.Max(0, n - Math.Max(1, request.VisibleCandles));
        var m = n - start;
        var candles = new Candle[m];
        var openTimes = new long[m];
        for (var i = 0; i < m; i++)
        {
            candles[i] = all[start + i];
            openTimes[i] = candles[i].OpenTimeMs;
        }

        using var canvas = new ChartCanvas(request.Size, fontFamily);
        var last = candles[^1];
        var previousClose = n >= 2 ? all[n - 2].Close : last.Open;
        DrawHeader(canvas, request, last, previousClose, m);

        var (tickPositions, tickLabels) = TimeTicks.Build(openTimes, request.Timeframe,
            maxLabels: (int)(canvas.Size.Width / canvas.Px(150)));
        var xMin = -0.7;
        var xMax = m - 0.3 + RightMarginCandles;

        var width = canvas.Size.Width;
        var top = canvas.Px(HeaderHeight);
        var available = canvas.Size.Height - top - canvas.Px(TimeAxisHeight) - 2 * canvas.Px(PanelGap);
        var priceHeight = available * PriceShare;
        var volumeHeight = available * VolumeShare;
        var rsiHeight = available - priceHeight - volumeHeight + canvas.Px(TimeAxisHeight);
        var padding = new PixelPadding(canvas.Px(SidePadding), canvas.Px(PriceAxisWidth), 0, 0);

        using (var price = canvas.NewPlot())
        {
            BuildPricePanel(price, canvas, request, candles, start, ema20, ema50, bbUpper, bbLower, previousClose);
            ConfigureTimeAxis(price, tickPositions, tickLabels, showLabels: false);
            price.Axes.SetLimitsX(xMin, xMax, price.Axes.Bottom);
            canvas.Draw(price, 0, top, width, priceHeight, padding);
        }

        top += priceHeight + canvas.Px(PanelGap);
        using (var volume = canvas.NewPlot(tickFontSize: 16))
        {
            BuildVolumePanel(volume, canvas, candles);
            ConfigureTimeAxis(volume, tickPositions, tickLabels, showLabels: false);
            volume.Axes.SetLimitsX(xMin, xMax, volume.Axes.Bottom);
            canvas.Draw(volume, 0, top, width, volumeHeight, padding);
        }

        top += volumeHeight + canvas.Px(PanelGap);
        using (var rsiPlot = canvas.NewPlot())
        {
            BuildRsiPanel(rsiPlot, canvas, rsi.AsSpan(start), m);
            ConfigureTimeAxis(rsiPlot, tickPositions, tickLabels, showLabels: true);
            rsiPlot.Axes.SetLimitsX(xMin, xMax, rsiPlot.Axes.Bottom);
            canvas.Draw(rsiPlot, 0, top, width, rsiHeight,
                new PixelPadding(padding.Left, padding.Right, canvas.Px(TimeAxisHeight), 0));
        }

        return canvas.ToPng();
    }

    private static void DrawHeader(ChartCanvas canvas, PriceChartRequest request, Candle last, double previousClose, int shown)
    {
        var x = canvas.Px(SidePadding + 4);
        var line1 = canvas.Px(44);
        var title = $"{request.Symbol.ToUpperInvariant()} \u00b7 {request.Timeframe.Code}";
        x += canvas.Text(title, x, line1, 34, ChartTheme.Text, bold: true) + canvas.Px(24);

        var change = previousClose != 0 ? last.Close / previousClose - 1 : 0;
        var color = last.Close >= previousClose ? ChartTheme.Up : ChartTheme.Down;
        x += canvas.Text(ChartFormat.Price(last.Close), x, line1, 30, color, bold: true) + canvas.Px(16);
        canvas.Text(ChartFormat.SignedPercent(change), x, line1, 24, color);

        var closeTime = DateTimeOffset.FromUnixTimeMilliseconds(last.OpenTimeMs) + request.Timeframe.Duration;
        var source = string.IsNullOrWhiteSpace(request.Source) ? "" : request.Source + " \u00b7 ";
        canvas.Text($"{source}{shown} candles \u00b7 last close {ChartFormat.Utc(closeTime)}",
            canvas.Px(SidePadding + 4), canvas.Px(78), 20, ChartTheme.MutedText);
    }

    private static void BuildPricePanel(Plot plot, ChartCanvas canvas, PriceChartRequest request, Candle[] candles, int start,
        double[] ema20, double[] ema50, double[] bbUpper, double[] bbLower, double previousClose)
    {
        var m = candles.Length;
        var yAxis = plot.Axes.Right;
        plot.Grid.YAxis = yAxis;

        // Bands first so the fill sits beneath the candles.
        var upper = Line(plot, bbUpper, start, m, ChartTheme.Bollinger, canvas.Px(1.5f), "BB 20, 2");
        var lower = Line(plot, bbLower, start, m, ChartTheme.Bollinger, canvas.Px(1.5f), null);
        if (upper is not null && lower is not null)
        {
            var fill = plot.Add.FillY(upper, lower);
            fill.FillColor = ChartTheme.Bollinger.WithAlpha(0.07);
            fill.LineWidth = 0;
            fill.Axes.YAxis = yAxis;
        }

        var ohlc = new OHLC[m];
        for (var i = 0; i < m; i++)
        {
            ohlc[i] = new OHLC(candles[i].Open, candles[i].High, candles[i].Low, candles[i].Close);
        }

        var candlePlot = plot.Add.Candlestick(ohlc);
        candlePlot.Sequential = true;
        candlePlot.RisingColor = ChartTheme.Up;
        candlePlot.FallingColor = ChartTheme.Down;
        candlePlot.Axes.YAxis = yAxis;

        Line(plot, ema20, start, m, ChartTheme.Ema20, canvas.Px(2.2f), $"EMA {IndicatorSeries.EmaFast}");
        Line(plot, ema50, start, m, ChartTheme.Ema50, canvas.Px(2.2f), $"EMA {IndicatorSeries.EmaMedium}");

        // Y range: candles and bands, then alerts close enough not to squash the candles.
        double lo = double.MaxValue, hi = double.MinValue;
        for (var i = 0; i < m; i++)
        {
            lo = Math.Min(lo, candles[i].Low);
            hi = Math.Max(hi, candles[i].High);
            if (double.IsFinite(bbLower[start + i]))
            {
                lo = Math.Min(lo, bbLower[start + i]);
                hi = Math.Max(hi, bbUpper[start + i]);
            }
        }

        var range = Math.Max(hi - lo, Math.Abs(hi) * 1e-6);
        var alerts = request.Alerts ?? [];
        var reach = range * 0.35;
        var offChart = new List<AlertLevel>();
        foreach (var alert in alerts)
        {
            if (alert.Price >= lo - reach && alert.Price <= hi + reach)
            {
                lo = Math.Min(lo, alert.Price);
                hi = Math.Max(hi, alert.Price);
            }
            else
            {
                offChart.Add(alert);
            }
        }

        range = Math.Max(hi - lo, Math.Abs(hi) * 1e-6);
        var bottom = lo - range * 0.06;
        var top = hi + range * 0.13; // room for the legend
        plot.Axes.SetLimitsY(bottom, top, yAxis);

        var (step, ticks) = ChartFormat.NiceTicks(bottom, top, target: 7);
        var decimals = Math.Max(ChartFormat.StepDecimals(step), 0);
        var lastPrice = candles[^1].Close;
        var priceDecimals = Math.Max(decimals, ChartFormat.PriceDecimals(lastPrice));
        var priceTicks = new NumericManual();
        foreach (var t in ticks)
        {
            priceTicks.AddMajor(t, ChartFormat.Price(t, decimals));
        }

        yAxis.TickGenerator = priceTicks;

        var closeColor = lastPrice >= previousClose ? ChartTheme.Up : ChartTheme.Down;
        var closeLine = plot.Add.HorizontalLine(lastPrice, canvas.Px(1.5f), closeColor, LinePattern.Dotted);
        closeLine.Axes.YAxis = yAxis;
        LevelLabel(closeLine, canvas, ChartFormat.Price(lastPrice, priceDecimals), closeColor, ChartTheme.Background);

        foreach (var alert in alerts.Where(a => !offChart.Contains(a)).OrderBy(a => a.Price))
        {
            var line = plot.Add.HorizontalLine(alert.Price, canvas.Px(2), ChartTheme.Alert, LinePattern.Dashed);
            line.Axes.YAxis = yAxis;
            LevelLabel(line, canvas, ChartFormat.Price(alert.Price, priceDecimals), ChartTheme.Alert, ChartTheme.Background);

            var text = plot.Add.Text(alert.Label, m - 0.3 + RightMarginCandles, alert.Price);
            text.Axes.YAxis = yAxis;
            // Name above the line in the lower half of the panel, below it in the upper half, so it never leaves the frame.
            var above = alert.Price < (bottom + top) / 2;
            text.Alignment = above ? Alignment.LowerRight : Alignment.UpperRight;
            text.LabelFontName = canvas.FontFamily;
            text.LabelFontSize = canvas.Px(17);
            text.LabelFontColor = ChartTheme.Alert;
            text.LabelBold = true;
            text.LabelBackgroundColor = ChartTheme.Panel.WithAlpha(0.8);
            text.LabelPadding = canvas.Px(3);
            text.OffsetY = above ? -canvas.Px(3) : canvas.Px(3);
        }

        var aboveNotes = offChart.Where(a => a.Price > hi).OrderBy(a => a.Price).Select(a => Note(a, lastPrice, priceDecimals, "\u2191"));
        var belowNotes = offChart.Where(a => a.Price < lo).OrderByDescending(a => a.Price).Select(a => Note(a, lastPrice, priceDecimals, "\u2193"));
        AddNote(plot, canvas, string.Join("\n", aboveNotes), Alignment.UpperRight);
        AddNote(plot, canvas, string.Join("\n", belowNotes), Alignment.LowerRight);

        plot.ShowLegend(Alignment.UpperLeft, Orientation.Horizontal);
    }

    private static string Note(AlertLevel alert, double lastPrice, int decimals, string arrow) =>
        $"{arrow} {alert.Label} {ChartFormat.Price(alert.Price, decimals)} ({ChartFormat.SignedPercent(alert.Price / lastPrice - 1)})";

    private static void AddNote(Plot plot, ChartCanvas canvas, string text, Alignment alignment)
    {
        if (text.Length == 0)
        {
            return;
        }

        var note = plot.Add.Annotation(text, alignment);
        note.LabelFontName = canvas.FontFamily;
        note.LabelFontSize = canvas.Px(17);
        note.LabelFontColor = ChartTheme.Alert;
        note.LabelBackgroundColor = ChartTheme.Background.WithAlpha(0.85);
        note.LabelBorderColor = ChartTheme.Alert.WithAlpha(0.6);
        note.LabelShadowColor = Colors.Transparent;
        note.LabelPadding = canvas.Px(5);
        note.OffsetX = canvas.Px(8);
        note.OffsetY = canvas.Px(8);
    }

    /// <summary>The price tag on the axis for a horizontal level, TradingView style.</summary>
    private static void LevelLabel(ScottPlot.Plottables.HorizontalLine line, ChartCanvas canvas, string text, Color back, Color fore)
    {
        line.Text = text;
        line.LabelFontName = canvas.FontFamily;
        line.LabelFontSize = canvas.Px(17);
        line.LabelBold = true;
        line.LabelBackgroundColor = back;
        line.LabelFontColor = fore;
        line.LabelPadding = canvas.Px(4);
        line.LabelOppositeAxis = true; // the price axis is on the right
        line.LabelRotation = 0;
        line.ManualLabelAlignment = Alignment.MiddleLeft;
        line.ExcludeFromLegend = true;
    }

    /// <summary>A line over the defined (non-NaN) part of <paramref name="series"/>[start..start+m], or null if none is.</summary>
    private static ScottPlot.Plottables.Scatter? Line(Plot plot, double[] series, int start, int m, Color color, float width, string? legend)
    {
        var first = 0;
        while (first < m && !double.IsFinite(series[start + first]))
        {
            first++;
        }

        if (first >= m)
        {
            return null;
        }

        var xs = new double[m - first];
        var ys = new double[m - first];
        for (var i = first; i < m; i++)
        {
            xs[i - first] = i;
            ys[i - first] = series[start + i];
        }

        var line = plot.Add.ScatterLine(xs, ys, color);
        line.LineWidth = width;
        line.Axes.YAxis = plot.Axes.Right;
        if (legend is null)
        {
            line.LegendText = "";
        }
        else
        {
            line.LegendText = legend;
        }

        return line;
    }

    private static void BuildVolumePanel(Plot plot, ChartCanvas canvas, Candle[] candles)
    {
        var yAxis = plot.Axes.Right;
        plot.Grid.YAxis = yAxis;
        var bars = new List<Bar>(candles.Length);
        var max = 0.0;
        for (var i = 0; i < candles.Length; i++)
        {
            var c = candles[i];
            max = Math.Max(max, c.Volume);
            bars.Add(new Bar
            {
                Position = i,
                Value = c.Volume,
                Size = 0.7,
                FillColor = (c.Close >= c.Open ? ChartTheme.Up : ChartTheme.Down).WithAlpha(0.65),
                LineWidth = 0,
            });
        }

        var barPlot = plot.Add.Bars(bars);
        barPlot.Axes.YAxis = yAxis;
        var top = max > 0 ? max * 1.12 : 1;
        plot.Axes.SetLimitsY(0, top, yAxis);
        var (_, ticks) = ChartFormat.NiceTicks(0, max > 0 ? max : 1, target: 2);
        var volumeTicks = new NumericManual();
        foreach (var t in ticks.Where(t => t > 0))
        {
            volumeTicks.AddMajor(t, ChartFormat.Compact(t));
        }

        yAxis.TickGenerator = volumeTicks;
        PanelLabel(plot, canvas, $"Volume {ChartFormat.Compact(candles[^1].Volume)}", ChartTheme.MutedText);
    }

    private static void BuildRsiPanel(Plot plot, ChartCanvas canvas, ReadOnlySpan<double> rsi, int m)
    {
        var yAxis = plot.Axes.Right;
        plot.Grid.YAxis = yAxis;

        var band = plot.Add.VerticalSpan(30, 70);
        band.FillColor = ChartTheme.Rsi.WithAlpha(0.06);
        band.LineWidth = 0;
        band.Axes.YAxis = yAxis;
        foreach (var level in new[] { 30.0, 70.0 })
        {
            var guide = plot.Add.HorizontalLine(level, canvas.Px(1.2f), ChartTheme.MutedText, LinePattern.Dashed);
            guide.Axes.YAxis = yAxis;
            guide.ExcludeFromLegend = true;
        }

        var values = rsi.ToArray();
        var line = Line(plot, values, 0, m, ChartTheme.Rsi, canvas.Px(2.2f), null);
        var lastRsi = values.Length > 0 ? values[^1] : double.NaN;
        plot.Axes.SetLimitsY(0, 100, yAxis);
        yAxis.TickGenerator = new NumericManual([30, 50, 70], ["30", "50", "70"]);
        var text = line is null || !double.IsFinite(lastRsi)
            ? $"RSI {IndicatorSeries.RsiPeriod}"
            : $"RSI {IndicatorSeries.RsiPeriod}  {lastRsi:0.0}";
        PanelLabel(plot, canvas, text, ChartTheme.Rsi);
    }

    private static void PanelLabel(Plot plot, ChartCanvas canvas, string text, Color color)
    {
        var label = plot.Add.Annotation(text, Alignment.UpperLeft);
        label.LabelFontName = canvas.FontFamily;
        label.LabelFontSize = canvas.Px(17);
        label.LabelFontColor = color;
        label.LabelBackgroundColor = ChartTheme.Background.WithAlpha(0.7);
        label.LabelBorderColor = Colors.Transparent;
        label.LabelShadowColor = Colors.Transparent;
        label.LabelPadding = canvas.Px(4);
        label.OffsetX = canvas.Px(6);
        label.OffsetY = canvas.Px(6);
    }

    private static void ConfigureTimeAxis(Plot plot, double[] positions, string[] labels, bool showLabels)
    {
        var axis = plot.Axes.Bottom;
        axis.TickGenerator = new NumericManual(positions, showLabels ? labels : labels.Select(_ => "").ToArray());
        axis.TickLabelStyle.IsVisible = showLabels;
        axis.IsVisible = showLabels;
        axis.FrameLineStyle.Width = showLabels ? axis.FrameLineStyle.Width : 0;
        plot.Grid.XAxis = axis;
    }
}
