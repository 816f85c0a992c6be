using Engram.Charts.UnitTests.Infrastructure;
using Engram.Trading.MarketData;

namespace Engram.Charts.UnitTests;

/// <summary>
/// Writes sample charts for a person to look at when <c>ENGRAM_CHART_SAMPLES</c> names a folder, e.g.
/// <c>ENGRAM_CHART_SAMPLES=/tmp dotnet test tests/Engram.Charts.UnitTests --filter SampleImages</c>.
/// Without it the test only renders them.
/// </summary>
public class SampleImages
{
    [Fact]
    public void Writes_samples()
    {
        var renderer = new ChartRenderer();
        var hourly = SharedData.LastCandles("binance_BTCUSDT_1h.csv", 150);
        var last = hourly[^1].Close;
        var samples = new Dictionary<string, ChartResult>
        {
            ["engram_chart_price.png"] = renderer.RenderPriceChart(new PriceChartRequest("BTCUSDT", Timeframe.H1, hourly,
                [new AlertLevel("Alert above", Math.Round(last * 1.016)), new AlertLevel("Stop", Math.Round(last * 0.99)),
                 new AlertLevel("TP", 25_000)])),
            ["engram_chart_price_1d.png"] = renderer.RenderPriceChart(new PriceChartRequest("ETHUSDT", Timeframe.D1,
                SharedData.LastCandles("binance_ETHUSDT_1d.csv", 150))),
            ["engram_chart_price_1m.png"] = renderer.RenderPriceChart(new PriceChartRequest("SOLUSDT", Timeframe.M1,
                SharedData.LastCandles("binance_SOLUSDT_1m.csv", 150))
            { Size = new ChartSize(1200, 900) }),
            ["engram_chart_portfolio.png"] = renderer.RenderPortfolioChart(new PortfolioChartRequest(
                [new("BTC", 5400, 620), new("ETH", 3100, -240), new("SOL", 900, 130), new("BNB", 650, -45), new("XRP", 300, 12)],
                DateTimeOffset.Parse("2026-03-02T08:00:00Z"))),
        };

        var folder = Environment.GetEnvironmentVariable("ENGRAM_CHART_SAMPLES");
        foreach (var (name, result) in samples)
        {
            Assert.True(result.IsSuccess, $"{name}: {result.Error}");
            if (!string.IsNullOrWhiteSpace(folder))
            {
                File.WriteAllBytes(Path.Combine(folder, name), result.Png);
            }
        }
    }
}
