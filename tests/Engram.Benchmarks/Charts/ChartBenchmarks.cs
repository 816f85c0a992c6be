using BenchmarkDotNet.Attributes;
using Engram.Benchmarks.Infrastructure;
using Engram.Charts;
using Engram.Trading.MarketData;

namespace Engram.Benchmarks.Charts;

/// <summary>
/// One chat chart from data to PNG bytes, uncached: indicators, layout, Skia drawing and PNG encoding.
/// The target is under 100 ms per chart at the Telegram size (1280×960).
/// </summary>
[MemoryDiagnoser]
public class ChartBenchmarks
{
    private readonly ChartRenderer _renderer = new();
    private PriceChartRequest _price = null!;
    private PortfolioChartRequest _portfolio = null!;

    [GlobalSetup]
    public void Setup()
    {
        // 100 candles shown, 50 more so EMA 50 is warmed up across the view, plus the user's alert levels.
        var candles = BenchmarkData.LastCandles("binance_BTCUSDT_1h.csv", 150);
        var last = candles[^1].Close;
        _price = new PriceChartRequest("BTCUSDT", Timeframe.H1, candles,
            [new AlertLevel("Alert above", last * 1.015), new AlertLevel("Stop", last * 0.99)]);
        _portfolio = new PortfolioChartRequest(
            [new("BTC", 5400, 620), new("ETH", 3100, -240), new("SOL", 900, 130), new("BNB", 650, -45), new("XRP", 300, 12)],
            DateTimeOffset.Parse("2026-03-02T08:00:00Z"));

        // Font lookup and Skia start-up happen once per process, not per chart.
        if (!_renderer.RenderPriceChart(_price).IsSuccess || !_renderer.RenderPortfolioChart(_portfolio).IsSuccess)
        {
            throw new InvalidOperationException("Chart rendering failed; is fonts-dejavu-core installed?");
        }
    }

    [Benchmark]
    public int PriceChart() => _renderer.RenderPriceChart(_price).Png!.Length;

    [Benchmark]
    public int PortfolioChart() => _renderer.RenderPortfolioChart(_portfolio).Png!.Length;
}
