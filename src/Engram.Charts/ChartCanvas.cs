using ScottPlot;
using SkiaSharp;

namespace Engram.Charts;

/// <summary>
/// One figure made of several ScottPlot plots drawn side by side on a single Skia surface, plus a header drawn
/// directly. Each plot gets a fixed padding so that stacked panels share the same data-area edges (the price,
/// volume and RSI x axes line up candle for candle).
/// </summary>
internal sealed class ChartCanvas : IDisposable
{
    private readonly SKSurface _surface;

    public ChartCanvas(ChartSize size, string fontFamily)
    {
        Size = size;
        Scale = Math.Min(size.Width / 1280f, size.Height / 960f);
        FontFamily = fontFamily;
        _surface = SKSurface.Create(new SKImageInfo(size.Width, size.Height, SKColorType.Rgba8888, SKAlphaType.Premul))
            ?? throw new InvalidOperationException($"Skia could not allocate a {size} surface.");
        Canvas.Clear(ChartTheme.Background.ToSKColor());
    }

    public ChartSize Size { get; }

    /// <summary>Layout unit: 1 at 1280×960, so sizes below are written for that frame.</summary>
    public float Scale { get; }

    public string FontFamily { get; }

    public SKCanvas Canvas => _surface.Canvas;

    public float Px(float size) => size * Scale;

    /// <summary>A plot styled with the theme and the chosen font; tick labels at <paramref name="tickFontSize"/> (1280 px frame).</summary>
    public Plot NewPlot(float tickFontSize = 18)
    {
        var plot = new Plot();
        plot.Font.Set(FontFamily);
        plot.FigureBackground.Color = ChartTheme.Background;
        plot.DataBackground.Color = ChartTheme.Panel;
        plot.Axes.Color(ChartTheme.Text);
        plot.Axes.FrameColor(ChartTheme.Frame);
        plot.Grid.MajorLineColor = ChartTheme.Grid;
        plot.Grid.MajorLineWidth = Math.Max(1, Px(1));
        foreach (var axis in plot.Axes.GetAxes())
        {
            axis.TickLabelStyle.FontSize = Px(tickFontSize);
            axis.TickLabelStyle.ForeColor = ChartTheme.Text;
            axis.MajorTickStyle.Color = ChartTheme.Frame;
            axis.MinorTickStyle.Length = 0;
        }

        // Labels sit on the right (price) axis or are drawn by hand; the left one stays hidden unless a chart asks for it.
        plot.Axes.Left.IsVisible = false;
        plot.Legend.FontName = FontFamily;
        plot.Legend.FontSize = Px(17);
        plot.Legend.FontColor = ChartTheme.Text;
        plot.Legend.BackgroundColor = ChartTheme.Background.WithAlpha(0.85);
        plot.Legend.OutlineColor = ChartTheme.Frame;
        plot.Legend.ShadowColor = Colors.Transparent;
        return plot;
    }

    /// <summary>Draws <paramref name="plot"/> into a rectangle of the figure (pixels), with fixed padding around its data area.</summary>
    public void Draw(Plot plot, float left, float top, float width, float height, PixelPadding padding)
    {
        // Whole pixels: a fractional edge leaves an anti-aliased seam across the figure.
        (left, top, width, height) = (MathF.Round(left), MathF.Round(top), MathF.Round(width), MathF.Round(height));
        plot.Layout.Fixed(padding);
        // ScottPlot clears the canvas before drawing; the clip keeps that (and any overdraw) inside this rectangle.
        Canvas.Save();
        Canvas.ClipRect(new SKRect(left, top, left + width, top + height));
        plot.Render(Canvas, new PixelRect(left, left + width, top + height, top));
        Canvas.Restore();
    }

    /// <summary>Width in figure pixels of <paramref name="text"/> at <paramref name="size"/> (1280 px frame).</summary>
    public float Measure(string text, float size, bool bold = false)
    {
        using var typeface = SKTypeface.FromFamilyName(FontFamily, bold ? SKFontStyle.Bold : SKFontStyle.Normal);
        using var font = new SKFont(typeface, Px(size));
        return font.MeasureText(text);
    }

    /// <summary>Draws text with its baseline at (x, y) and returns its width.</summary>
    public float Text(string text, float x, float y, float size, Color color, bool bold = false, SKTextAlign align = SKTextAlign.Left)
    {
        using var typeface = SKTypeface.FromFamilyName(FontFamily, bold ? SKFontStyle.Bold : SKFontStyle.Normal);
        using var font = new SKFont(typeface, Px(size)) { Subpixel = true, Edging = SKFontEdging.Antialias };
        using var paint = new SKPaint { Color = color.ToSKColor(), IsAntialias = true };
        Canvas.DrawText(text, x, y, align, font, paint);
        return font.MeasureText(text);
    }

    /// <summary>
    /// Encodes the figure, or only its top <paramref name="height"/> rows (a layout with less to show than the
    /// frame holds cuts the empty rest off). Skia's default (every row filter tried, zlib 6) spends ~70 ms of a
    /// ~115 ms chart here; Sub/Up filters with zlib 3 (the fast deflate strategy) take ~20 ms for a file ~10 %
    /// larger (~155 KB).
    /// </summary>
    public byte[] ToPng(int? height = null)
    {
        var rows = Math.Clamp(height ?? Size.Height, 1, Size.Height);
        using var image = _surface.Snapshot();
        using var full = image.PeekPixels();
        // A subset shares the surface's pixels and row stride: nothing is copied.
        using var cropped = rows < Size.Height
            ? (full.ExtractSubset(new SKRectI(0, 0, Size.Width, rows)) ?? throw new InvalidOperationException($"Skia could not crop the chart to {Size.Width}x{rows}."))
            : null;
        var pixmap = cropped ?? full;
        using var data = pixmap.Encode(new SKPngEncoderOptions(SKPngEncoderFilterFlags.Sub | SKPngEncoderFilterFlags.Up, zLibLevel: 3))
            ?? throw new InvalidOperationException("Skia could not encode the chart as PNG.");
        return data.ToArray();
    }

    public void Dispose() => _surface.Dispose();
}
