using Engram.Charts.UnitTests.Infrastructure;
using Engram.Trading.MarketData;

namespace Engram.Charts.UnitTests;

public class SampleTests
{
    [Fact]
    public void WritesSamples()
    {
        var renderer = new ChartRenderer();
        var candles = SharedData.LastCandles("binance_BTCUSDT_1h.csv", 150);
        var r = renderer.RenderPriceChart(new PriceChartRequest("BTCUSDT", Timeframe.H1, candles,
            [new AlertLevel("Alert above", 19_400), new AlertLevel("Stop", 18_900), new AlertLevel("TP", 25_000)]));
        Assert.True(r.IsSuccess, r.Error);
        File.WriteAllBytes("/tmp/engram_chart_price.png", r.Png);
        var p = renderer.RenderPortfolioChart(new PortfolioChartRequest(
            [new("BTC", 5400, 620), new("ETH", 3100, -240), new("SOL", 900, 130), new("BNB", 650, -45), new("XRP", 300, 12)],
            DateTimeOffset.Parse("2026-03-02T08:00:00Z")));
        Assert.True(p.IsSuccess, p.Error);
        File.WriteAllBytes("/tmp/engram_chart_portfolio.png", p.Png);
    }
}
