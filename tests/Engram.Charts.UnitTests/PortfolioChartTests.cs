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
