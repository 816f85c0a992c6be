using Engram.Charts.UnitTests.Infrastructure;
using Engram.Trading.MarketData;
using SkiaSharp;

namespace Engram.Charts.UnitTests;

public class PriceChartTests
{
    private static readonly ChartRenderer Renderer = new();

    private static PriceChartRequest Btc(int count = 150, IReadOnlyList<AlertLevel>? alerts = null) =>
        new("BTCUSDT", Timeframe.H1, SharedData.LastCandles("binance_BTCUSDT_1h.csv", count), alerts);

    [Fact]
    public void Renders_a_png_of_the_telegram_size()
    {
        var result = Renderer.RenderPriceChart(Btc());

        Assert.True(result.IsSuccess, result.Error);
        Assert.Equal((1280, 960), Png.Header(result.Png));
        using var bitmap = Png.Decode(result.Png);
        Assert.Equal(1280, bitmap.Width);
        Assert.Equal(960, bitmap.Height);
    }

    [Fact]
    public void Renders_at_a_requested_size()
    {
        var result = Renderer.RenderPriceChart(Btc() with { Size = new ChartSize(1200, 900) });

        Assert.True(result.IsSuccess, result.Error);
        Assert.Equal((1200, 900), Png.Header(result.Png));
    }

    [Fact]
    public void Is_not_blank_and_draws_candles_and_labels()
    {
        var result = Renderer.RenderPriceChart(Btc());

        Assert.True(result.IsSuccess, result.Error);
        using var bitmap = Png.Decode(result.Png);
        Assert.True(Png.DistinctColours(bitmap) > 200, $"only {Png.DistinctColours(bitmap)} colours");
        Assert.True(Png.NonBackgroundShare(bitmap) > 0.3, $"only {Png.NonBackgroundShare(bitmap):P0} drawn");
        Assert.True(Png.CountNear(bitmap, SKColor.Parse("#26A69A")) > 2000, "no rising candles");
        Assert.True(Png.CountNear(bitmap, SKColor.Parse("#EF5350")) > 2000, "no falling candles");
        // Title, axis and legend text: zero here means no font was found and every label is blank.
        Assert.True(Png.LightTextPixels(bitmap) > 3000, $"only {Png.LightTextPixels(bitmap)} text pixels");
    }

    [Fact]
    public void Same_input_renders_the_same_bytes()
    {
        var first = Renderer.RenderPriceChart(Btc());
        var second = Renderer.RenderPriceChart(Btc());

        Assert.Equal(first.Png, second.Png);
    }

    [Fact]
    public void Different_candles_render_a_different_image()
    {
        var all = SharedData.Candles("binance_BTCUSDT_1h.csv");
        var now = Renderer.RenderPriceChart(new PriceChartRequest("BTCUSDT", Timeframe.H1, all[^150..]));
        var hourBefore = Renderer.RenderPriceChart(new PriceChartRequest("BTCUSDT", Timeframe.H1, all[^151..^1]));

        Assert.True(now.IsSuccess && hourBefore.IsSuccess);
        Assert.NotEqual(now.Png, hourBefore.Png);
        using var a = Png.Decode(now.Png);
        using var b = Png.Decode(hourBefore.Png);
        var changed = a.Pixels.Zip(b.Pixels).Count(p => p.First != p.Second);
        Assert.True(changed > 10_000, $"only {changed} pixels changed");
    }

    [Fact]
    public void Alert_levels_are_drawn()
    {
        var candles = SharedData.LastCandles("binance_BTCUSDT_1h.csv", 150);
        var last = candles[^1].Close;
        var plain = Renderer.RenderPriceChart(Btc());
        var withAlerts = Renderer.RenderPriceChart(Btc(alerts:
        [
            new AlertLevel("Alert above", Math.Round(last * 1.01)),
            new AlertLevel("Stop", Math.Round(last * 0.99)),
            new AlertLevel("Far target", Math.Round(last * 1.5)), // off the chart: listed as a note instead
        ]));

        Assert.True(plain.IsSuccess && withAlerts.IsSuccess);
        using var before = Png.Decode(plain.Png);
        using var after = Png.Decode(withAlerts.Png);
        var alertColour = SKColor.Parse("#FFD54F");
        Assert.True(Png.CountNear(after, alertColour) > Png.CountNear(before, alertColour) + 1500);
    }

    [Theory]
    [InlineData("binance_BTCUSDT_1d.csv", "1d")]
    [InlineData("binance_ETHUSDT_5m.csv", "5m")]
    [InlineData("binance_SOLUSDT_1m.csv", "1m")]
    public void Renders_other_timeframes(string file, string timeframe)
    {
        var result = Renderer.RenderPriceChart(new PriceChartRequest(
            file.Split('_')[1], Timeframe.Parse(timeframe), SharedData.LastCandles(file, 150)));

        Assert.True(result.IsSuccess, result.Error);
        using var bitmap = Png.Decode(result.Png);
        Assert.True(Png.DistinctColours(bitmap) > 200);
    }

    [Fact]
    public void Renders_with_just_the_minimum_history()
    {
        // 30 candles: EMA 50 is not defined yet and is left out; the rest still draws.
        var result = Renderer.RenderPriceChart(Btc(count: 30));

        Assert.True(result.IsSuccess, result.Error);
    }

    [Fact]
    public void Too_little_history_is_a_clear_error_not_an_empty_frame()
    {
        var result = Renderer.RenderPriceChart(Btc(count: 12));

        Assert.False(result.IsSuccess);
        Assert.Null(result.Png);
        Assert.Equal(ChartErrorKind.NotEnoughHistory, result.ErrorKind);
        Assert.Equal("Not enough history for BTCUSDT 1h: 12 candles, need at least 30.", result.Error);
    }

    [Fact]
    public void No_candles_is_the_same_error()
    {
        var result = Renderer.RenderPriceChart(new PriceChartRequest("ethusdt", Timeframe.D1, []));

        Assert.Equal(ChartErrorKind.NotEnoughHistory, result.ErrorKind);
        Assert.Equal("Not enough history for ETHUSDT 1d: 0 candles, need at least 30.", result.Error);
    }

    [Fact]
    public void The_minimum_history_is_configurable()
    {
        var renderer = new ChartRenderer(new ChartOptions { MinCandles = 60 });

        var result = renderer.RenderPriceChart(Btc(count: 50));

        Assert.Equal("Not enough history for BTCUSDT 1h: 50 candles, need at least 60.", result.Error);
    }

    [Theory]
    [InlineData(100, 100)]
    [InlineData(4000, 960)]
    public void A_size_out_of_range_is_rejected(int width, int height)
    {
        var result = Renderer.RenderPriceChart(Btc() with { Size = new ChartSize(width, height) });

        Assert.Equal(ChartErrorKind.InvalidRequest, result.ErrorKind);
    }

    [Fact]
    public void An_invalid_alert_price_is_rejected()
    {
        var result = Renderer.RenderPriceChart(Btc(alerts: [new AlertLevel("bad", double.NaN)]));

        Assert.Equal(ChartErrorKind.InvalidRequest, result.ErrorKind);
    }

    [Fact]
    public void Concurrent_renders_are_independent_and_identical()
    {
        var request = Btc();
        var expected = Renderer.RenderPriceChart(request).Png;

        var results = new ChartResult[8];
        Parallel.For(0, results.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 },
            i => results[i] = Renderer.RenderPriceChart(request));

        Assert.All(results, r => Assert.Equal(expected, r.Png));
    }

    [Fact]
    public void A_missing_font_is_reported_instead_of_drawing_blank_labels()
    {
        var renderer = new ChartRenderer(new ChartOptions { FontFamilies = ["No Such Font Family"] });

        var result = renderer.RenderPriceChart(Btc());

        Assert.Equal(ChartErrorKind.FontMissing, result.ErrorKind);
        Assert.Contains("fonts-dejavu-core", result.Error);
    }

    [Fact]
    public void DejaVu_Sans_is_picked_deliberately()
    {
        // Needs the Debian package fonts-dejavu-core; without a font every label would be blank.
        Assert.Equal("DejaVu Sans", Renderer.FontFamily);
        Assert.Null(ChartFonts.Resolve(["No Such Font Family"]));
    }
}
