using Engram.Charts.UnitTests.Infrastructure;
using SkiaSharp;

namespace Engram.Charts.UnitTests;

public class PortfolioChartTests
{
    private static readonly ChartRenderer Renderer = new();
    private static readonly DateTimeOffset AsOf = DateTimeOffset.Parse("2026-03-02T08:00:00Z");

    private static PortfolioChartRequest Mixed() => new(
        [new("BTC", 5400, 620), new("ETH", 3100, -240), new("SOL", 900, 130), new("BNB", 650, -45), new("XRP", 300, 12)],
        AsOf);

    [Fact]
    public void Renders_gains_and_losses()
    {
        var result = Renderer.RenderPortfolioChart(Mixed());

        Assert.True(result.IsSuccess, result.Error);
        Assert.Equal((1280, 960), Png.Header(result.Png));
        using var bitmap = Png.Decode(result.Png);
        Assert.True(Png.DistinctColours(bitmap) > 100, $"only {Png.DistinctColours(bitmap)} colours");
        Assert.True(Png.CountNear(bitmap, SKColor.Parse("#26A69A"), tolerance: 4) > 5000, "no green (gain) bars");
        Assert.True(Png.CountNear(bitmap, SKColor.Parse("#EF5350"), tolerance: 4) > 5000, "no red (loss) bars");
        Assert.True(Png.LightTextPixels(bitmap) > 2000, "no labels");
    }

    [Fact]
    public void All_losses_render_without_green_bars()
    {
        var result = Renderer.RenderPortfolioChart(new PortfolioChartRequest([new("BTC", 900, -100), new("ETH", 400, -50)], AsOf));

        Assert.True(result.IsSuccess, result.Error);
        using var bitmap = Png.Decode(result.Png);
        Assert.True(Png.CountNear(bitmap, SKColor.Parse("#EF5350"), tolerance: 4) > 5000);
    }

    [Fact]
    public void Many_positions_are_folded_into_other()
    {
        var positions = Enumerable.Range(1, 25)
            .Select(i => new PortfolioPosition($"COIN{i}", 100 * i, (i % 3 - 1) * 10.0 * i))
            .ToList();

        var result = Renderer.RenderPortfolioChart(new PortfolioChartRequest(positions, AsOf) { Size = new ChartSize(1200, 900) });

        Assert.True(result.IsSuccess, result.Error);
        Assert.Equal((1200, 900), Png.Header(result.Png));
    }

    [Fact]
    public void Different_positions_render_a_different_image()
    {
        var a = Renderer.RenderPortfolioChart(Mixed());
        var b = Renderer.RenderPortfolioChart(Mixed() with { Positions = [.. Mixed().Positions.Take(4)] });

        Assert.NotEqual(a.Png, b.Png);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    [InlineData(8)]
    [InlineData(20)]
    public void The_image_has_no_large_empty_band(int count)
    {
        var positions = Enumerable.Range(1, count)
            .Select(i => new PortfolioPosition($"C{i}", 100.0 * i, (i % 2 == 0 ? -3.0 : 5.0) * i))
            .ToList();

        var result = Renderer.RenderPortfolioChart(new PortfolioChartRequest(positions, AsOf));

        Assert.True(result.IsSuccess, result.Error);
        using var bitmap = Png.Decode(result.Png);
        Assert.Equal(1280, bitmap.Width);
        Assert.InRange(bitmap.Height, 600, 960);
        var blank = BlankRows(bitmap);
        // Content (bars, their zero line) reaches into the bottom 10 % of the image ...
        Assert.Contains(false, blank[(bitmap.Height * 9 / 10)..]);
        // ... and no band of empty rows is taller than 8 % of it (the gaps between sections are ~3 %).
        Assert.True(LongestRun(blank) < bitmap.Height * 0.08, $"{LongestRun(blank)} empty rows in a row of {bitmap.Height}");
    }

    [Fact]
    public void A_short_portfolio_makes_a_shorter_image_and_a_long_one_fills_the_frame()
    {
        var two = Renderer.RenderPortfolioChart(new PortfolioChartRequest([new("BTC", 900, 40), new("ETH", 400, -50)], AsOf));
        var five = Renderer.RenderPortfolioChart(Mixed());

        Assert.True(two.IsSuccess, two.Error);
        Assert.InRange(Png.Header(two.Png!).Height, 700, 900);
        Assert.Equal((1280, 960), Png.Header(five.Png!));
    }

    /// <summary>For each row, whether every pixel is within a few levels of the background (the top-left pixel).</summary>
    private static bool[] BlankRows(SKBitmap bitmap)
    {
        var background = bitmap.GetPixel(0, 0);
        var pixels = bitmap.Pixels;
        var blank = new bool[bitmap.Height];
        for (var y = 0; y < bitmap.Height; y++)
        {
            blank[y] = true;
            for (var x = 0; x < bitmap.Width && blank[y]; x++)
            {
                var p = pixels[y * bitmap.Width + x];
                blank[y] = Math.Abs(p.Red - background.Red) <= 6 && Math.Abs(p.Green - background.Green) <= 6 && Math.Abs(p.Blue - background.Blue) <= 6;
            }
        }

        return blank;
    }

    private static int LongestRun(bool[] blank)
    {
        int longest = 0, run = 0;
        foreach (var b in blank)
        {
            run = b ? run + 1 : 0;
            longest = Math.Max(longest, run);
        }

        return longest;
    }

    [Fact]
    public void An_empty_portfolio_is_an_error()
    {
        var result = Renderer.RenderPortfolioChart(new PortfolioChartRequest([], AsOf));

        Assert.Equal(ChartErrorKind.InvalidRequest, result.ErrorKind);
        Assert.Equal("The portfolio has no positions to chart.", result.Error);
    }

    [Theory]
    [InlineData(-1, 0)]
    [InlineData(double.NaN, 0)]
    [InlineData(10, double.PositiveInfinity)]
    public void An_invalid_position_is_an_error(double value, double pnl)
    {
        var result = Renderer.RenderPortfolioChart(new PortfolioChartRequest([new("BTC", value, pnl)], AsOf));

        Assert.Equal(ChartErrorKind.InvalidRequest, result.ErrorKind);
    }

    [Fact]
    public void A_zero_value_portfolio_is_an_error()
    {
        var result = Renderer.RenderPortfolioChart(new PortfolioChartRequest([new("BTC", 0, -100)], AsOf));

        Assert.Equal(ChartErrorKind.InvalidRequest, result.ErrorKind);
    }
}
