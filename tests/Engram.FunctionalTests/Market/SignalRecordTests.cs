using Engram.Abstractions.Signals;
using Engram.FunctionalTests.Grains;
using Engram.FunctionalTests.Infrastructure;
using Engram.TestServers;
using Engram.Trading.MarketData;
using Engram.Trading.Tools;
using Microsoft.Extensions.DependencyInjection;

namespace Engram.FunctionalTests.Market;

/// <summary>
/// The live track record against the Binance stand-in, whose market clock the test moves forward: a signal is
/// recorded once however many silos give it, scored from the candles that follow it, and still there after the
/// cluster restarts.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class SignalRecordTests(RedisServer redis)
{
    private const int Horizon = 24; // 1h signals play out over 24 candles

    [Fact]
    public async Task A_signal_is_recorded_once_across_silos_scored_after_its_horizon_and_kept_across_a_restart()
    {
        await using var binance = await BinanceServer.StartAsync(new BinanceServerOptions { DataDirectory = RepositoryPaths.SharedData });
        var candles = CsvMarketDataProvider.ParseFile(Path.Combine(RepositoryPaths.SharedData, "binance_BTCUSDT_1h.csv"));
        var (at, signal) = LastTradeSignal(candles);
        var entryClose = DateTimeOffset.FromUnixTimeMilliseconds(candles[at].OpenTimeMs) + Timeframe.H1.Duration;
        binance.MarketTime = entryClose;
        var serviceId = "signals-" + Guid.NewGuid().ToString("N")[..8];
        var settings = new Dictionary<string, string?>
        {
            ["MarketData:Provider"] = "Binance",
            ["MarketData:BinanceBaseUrl"] = binance.BaseUrl,
        };

        await using (var cluster = await UserGrainCluster.StartAsync(redis, serviceId, silos: 2, settings: settings))
        {
            var tools = cluster.Silos.Select(s => ((Orleans.TestingHost.InProcessSiloHandle)s).ServiceProvider.GetRequiredService<TradingToolService>()).ToList();
            // Both silos give the same candle's signal, several times each: one record.
            var given = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => tools[i % 2].GenerateSignalAsync("BTC", "1h")));
            Assert.All(given, g => Assert.Equal(signal.Action, g.Value!.Action));
            Assert.Equal(signal.Entry, given[0].Value!.Entry);
            var record = await cluster.Client.GetGrain<ISignalRecordGrain>("BTCUSDT/1h").GetAsync();
            Assert.Equal((0, 1, entryClose), (record.Scored, record.Open, record.Since!.Value));
            Assert.Contains("no BTCUSDT 1h signal scored yet (1 still open)", given[^1].Value!.ToSummary());

            // The exchange moves on past the horizon; the next signal (on any silo) scores the first.
            binance.MarketTime = entryClose + Horizon * Timeframe.H1.Duration;
            await Task.Delay(TimeSpan.FromSeconds(6)); // the candle cache asks the exchange again after 5 s
            var later = await tools[1].GenerateSignalAsync("BTC", "1h");
            var live = later.Value!.LiveRecord!;
            var expected = ExpectedOutcome(signal, candles, at);
            Assert.Equal(1, live.Scored);
            Assert.Equal((expected == "target" ? 1 : 0, expected == "stop" ? 1 : 0, expected == "expired" ? 1 : 0),
                (live.TargetHits, live.StopHits, live.Expired));
            Assert.Equal(expected == "target" ? 100 : 0, live.HitRatePct);
            Assert.Contains("\"liveRecord\":{\"scored\":1", later.Value.ToJson());
        }

        // A new cluster on the same storage: the record is durable.
        await using (var restarted = await UserGrainCluster.StartAsync(redis, serviceId, settings: settings))
        {
            var record = await restarted.Client.GetGrain<ISignalRecordGrain>("BTCUSDT/1h").GetAsync();
            Assert.Equal(1, record.Scored);
            Assert.Equal(entryClose, record.Since);
        }
    }

    /// <summary>The newest candle (with a horizon after it) at which the signal is a BUY or SELL, as the service computes it.</summary>
    private static (int Index, TradingSignal Signal) LastTradeSignal(Candle[] candles)
    {
        for (var i = candles.Length - 1 - Horizon; i > 1000; i--)
        {
            var window = candles[(i - 999)..(i + 1)];
            var signal = TradingTools.GenerateSignal("BTCUSDT", Timeframe.H1, window, signalCandles: 500);
            if (signal.Action != SignalAction.Hold)
                return (i, signal);
        }
        throw new InvalidOperationException("No BUY or SELL in the BTC hourly candles.");
    }

    /// <summary>The oracle, written out from the definition: stop first if a candle touches both.</summary>
    private static string ExpectedOutcome(TradingSignal signal, Candle[] candles, int at)
    {
        var buy = signal.Action == SignalAction.Buy;
        for (var k = at + 1; k <= at + Horizon; k++)
        {
            var c = candles[k];
            if (buy ? c.Low <= signal.StopLoss : c.High >= signal.StopLoss)
                return "stop";
            if (buy ? c.High >= signal.TakeProfit : c.Low <= signal.TakeProfit)
                return "target";
        }
        return "expired";
    }
}
