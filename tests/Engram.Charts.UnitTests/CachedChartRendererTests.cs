using Engram.Charts.UnitTests.Infrastructure;
using Engram.Trading.MarketData;

namespace Engram.Charts.UnitTests;

public class CachedChartRendererTests
{
    private static readonly Candle[] Candles = SharedData.LastCandles("binance_BTCUSDT_1h.csv", 151);

    private static PriceChartRequest Request(Candle[]? candles = null, IReadOnlyList<AlertLevel>? alerts = null) =>
        new("BTCUSDT", Timeframe.H1, candles ?? Candles[1..], alerts);

    [Fact]
    public void Identical_input_returns_the_cached_bytes()
    {
        var cached = new CachedChartRenderer(new ChartRenderer());

        var first = cached.RenderPriceChart(Request());
        var second = cached.RenderPriceChart(Request() with { Candles = Candles[1..] }); // equal data, new array

        Assert.True(first.IsSuccess, first.Error);
        Assert.Same(first.Png, second.Png);
        Assert.Equal(1, cached.Count);
    }

    [Fact]
    public void Renders_once_for_the_same_closed_candle()
    {
        var inner = new CountingRenderer();
        var cached = new CachedChartRenderer(inner);

        cached.RenderPriceChart(Request());
        cached.RenderPriceChart(Request());
        cached.RenderPriceChart(Request(alerts: [new("a", 1), new("b", 2)]));
        cached.RenderPriceChart(Request(alerts: [new("b", 2), new("a", 1)])); // order does not matter

        Assert.Equal(2, inner.PriceCalls);
    }

    [Fact]
    public void A_new_candle_alerts_or_size_render_again()
    {
        var inner = new CountingRenderer();
        var cached = new CachedChartRenderer(inner);

        cached.RenderPriceChart(Request());
        cached.RenderPriceChart(Request(candles: Candles[..^1]));
        cached.RenderPriceChart(Request(alerts: [new("Stop", 19_000)]));
        cached.RenderPriceChart(Request(alerts: [new("Stop", 19_000.5)]));
        cached.RenderPriceChart(Request(alerts: [new("TP", 19_000)]));
        cached.RenderPriceChart(Request() with { Size = new ChartSize(1200, 900) });
        cached.RenderPriceChart(Request() with { Symbol = "ETHUSDT" });
        cached.RenderPriceChart(Request() with { Timeframe = Timeframe.H4 });

        Assert.Equal(8, inner.PriceCalls);
    }

    [Fact]
    public void Errors_are_not_cached()
    {
        var inner = new CountingRenderer();
        var cached = new CachedChartRenderer(inner);

        cached.RenderPriceChart(Request(candles: Candles[..5]));
        cached.RenderPriceChart(Request(candles: Candles[..5]));

        Assert.Equal(2, inner.PriceCalls);
        Assert.Equal(0, cached.Count);
    }

    [Fact]
    public void The_cache_is_bounded()
    {
        var inner = new CountingRenderer();
        var cached = new CachedChartRenderer(inner, capacity: 3);

        for (var i = 0; i < 10; i++)
        {
            cached.RenderPriceChart(Request(candles: Candles[i..(i + 100)]));
        }

        Assert.Equal(3, cached.Count);
        cached.RenderPriceChart(Request(candles: Candles[9..109])); // most recent: still cached
        Assert.Equal(10, inner.PriceCalls);
        cached.RenderPriceChart(Request(candles: Candles[0..100])); // evicted long ago
        Assert.Equal(11, inner.PriceCalls);
    }

    [Fact]
    public void Portfolio_charts_are_cached_by_content()
    {
        var inner = new CountingRenderer();
        var cached = new CachedChartRenderer(inner);
        var asOf = DateTimeOffset.Parse("2026-03-02T08:00:00Z");

        var a = cached.RenderPortfolioChart(new PortfolioChartRequest([new("BTC", 100, 5)], asOf));
        var b = cached.RenderPortfolioChart(new PortfolioChartRequest([new("BTC", 100, 5)], asOf));
        cached.RenderPortfolioChart(new PortfolioChartRequest([new("BTC", 100, 6)], asOf));

        Assert.Same(a.Png, b.Png);
        Assert.Equal(2, inner.PortfolioCalls);
    }

    [Fact]
    public void Concurrent_callers_share_one_image()
    {
        var cached = new CachedChartRenderer(new ChartRenderer());
        var results = new ChartResult[8];

        Parallel.For(0, results.Length, i => results[i] = cached.RenderPriceChart(Request()));

        Assert.All(results, r => Assert.Same(results[0].Png, r.Png));
    }

    /// <summary>Counts calls and returns a distinct tiny "PNG" per call; fails like the real one on short history.</summary>
    private sealed class CountingRenderer : IChartRenderer
    {
        private int _price;
        private int _portfolio;

        public int PriceCalls => _price;

        public int PortfolioCalls => _portfolio;

        public ChartResult RenderPriceChart(PriceChartRequest request)
        {
            var n = Interlocked.Increment(ref _price);
            return request.Candles.Count < 30
                ? ChartResult.Failure(ChartErrorKind.NotEnoughHistory, "short")
                : ChartResult.Success([(byte)n]);
        }

        public ChartResult RenderPortfolioChart(PortfolioChartRequest request) =>
            ChartResult.Success([(byte)Interlocked.Increment(ref _portfolio)]);
    }
}
