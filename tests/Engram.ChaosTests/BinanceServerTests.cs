using Engram.ChaosTests.Infrastructure;
using Engram.TestServers;
using Engram.Trading.MarketData;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Engram.ChaosTests;

/// <summary>The Binance stand-in the chaos run points the silos at, read by Engram's real Binance client.</summary>
public sealed class BinanceServerTests
{
    [Fact]
    public async Task The_real_Binance_client_reads_scripted_prices_real_candles_and_the_recorded_symbols()
    {
        await using var binance = await BinanceServer.StartAsync(new BinanceServerOptions { DataDirectory = ChaosPaths.SharedData });
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["MarketData:BinanceBaseUrl"] = binance.BaseUrl, ["MarketData:MaxRetries"] = "0" })
            .Build();
        await using var services = new ServiceCollection().AddLogging().AddEngramMarketData(configuration).BuildServiceProvider();
        var market = services.GetRequiredService<IMarketDataProvider>();

        binance.SetPrice("SOLUSDT", 31.25m);
        Assert.Equal(31.25, await market.GetPriceAsync("SOLUSDT"));
        var ticker = await market.Get24hTickerAsync("SOLUSDT");
        Assert.Equal(31.25, ticker.LastPrice);
        binance.SetPrice("SOLUSDT", 40m);
        Assert.Equal(40, await market.GetPriceAsync("SOLUSDT"));

        // The last 1h candle of binance_BTCUSDT_1h.csv opens 2022-10-11 10:00 UTC; 4h is aggregated from the 1h file.
        var hourly = await market.GetCandlesAsync("BTCUSDT", Timeframe.Parse("1h"), 1200);
        Assert.Equal(1200, hourly.Count);
        Assert.Equal(DateTimeOffset.Parse("2022-10-11T10:00:00Z"), DateTimeOffset.FromUnixTimeMilliseconds(hourly[^1].OpenTimeMs));
        Assert.All(hourly.Zip(hourly.Skip(1)), pair => Assert.True(pair.Second.OpenTimeMs > pair.First.OpenTimeMs));
        var fourHourly = await market.GetCandlesAsync("BTCUSDT", Timeframe.Parse("4h"), 10);
        Assert.Equal(10, fourHourly.Count);
        Assert.All(fourHourly, c => Assert.Equal(0, c.OpenTimeMs % (4 * 3_600_000)));

        var symbols = await market.GetSymbolsAsync();
        Assert.Contains(symbols, s => s.Symbol == "SOLUSDT" && s.BaseAsset == "SOL");
        var unknown = await Assert.ThrowsAsync<MarketDataException>(() => market.GetPriceAsync("NOPEUSDT"));
        Assert.Equal(MarketDataErrorKind.InvalidSymbol, unknown.Kind);
    }
}
