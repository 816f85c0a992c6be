using Engram.Abstractions.Alerts;
using Engram.Abstractions.Delivery;
using Engram.Abstractions.Inbox;
using Engram.Abstractions.Users;
using Engram.FunctionalTests.Grains;
using Engram.FunctionalTests.Infrastructure;
using Engram.TestServers;
using Engram.Trading.Indicators;
using Engram.Trading.MarketData;
using Microsoft.Extensions.DependencyInjection;

namespace Engram.FunctionalTests.Alerts;

/// <summary>
/// Indicator alerts end to end: set through the conversation and directly, evaluated by the indicator watch against
/// the Binance stand-in (real HTTP, real candles) whose market clock the test moves, stored in real Redis.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class IndicatorAlertTests(RedisServer redis)
{
    private static readonly Candle[] Hourly = CsvMarketDataProvider.ParseFile(Path.Combine(RepositoryPaths.SharedData, "binance_BTCUSDT_1h.csv"));

    [Fact]
    public async Task Thirty_owners_of_one_rsi_level_are_told_once_each_at_the_close_that_crossed_from_one_evaluation_per_close()
    {
        // The first close after index 2000 where the 1h RSI (over the watch's 500-candle window) crosses above 70.
        var crossing = Enumerable.Range(2000, Hourly.Length - 2000).First(k => Rsi(k)[^1] >= 70 && Rsi(k)[^2] < 70);
        await using var binance = await BinanceServer.StartAsync(new BinanceServerOptions { DataDirectory = RepositoryPaths.SharedData });
        binance.MarketTime = CloseTime(crossing - 3);
        var messenger = new RecordingMessenger();
        await using var cluster = await UserGrainCluster.StartAsync(redis, "indicators-" + Guid.NewGuid().ToString("N")[..8],
            settings: new Dictionary<string, string?>
            {
                ["MarketData:Provider"] = "Binance",
                ["MarketData:BinanceBaseUrl"] = binance.BaseUrl,
                ["Alerts:IndicatorCheckInterval"] = "00:00:00.300",
            },
            configureServices: services => services.AddSingleton<IMessenger>(messenger));

        // One user through the conversation: the reply names the reading now.
        const long talker = 9_100_000;
        var grain = cluster.Client.GetGrain<IUserGrain>(talker);
        await grain.AcceptAsync(new InboundUpdate(1, talker, talker, InboundKind.Text, "/alert BTC rsi 1h above 70", false, null, DateTimeOffset.UtcNow));
        var set = Assert.Single(messenger.ForUpdate(1));
        Assert.Contains("Alert #1 set: BTC/USDT RSI(14) 1h above 70. Checked at every 1h close.", set.Text);
        Assert.Contains($"Now: {F(Rsi(crossing - 3)[^1])} at the {CloseTime(crossing - 3).UtcDateTime:yyyy-MM-dd HH:mm} UTC close.", set.Text);
        await grain.AcceptAsync(new InboundUpdate(2, talker, talker, InboundKind.Text, "/alerts", false, null, DateTimeOffset.UtcNow));
        Assert.Contains($"#1 BTC/USDT RSI(14) 1h above 70 — now {F(Rsi(crossing - 3)[^1])}", Assert.Single(messenger.ForUpdate(2)).Text);

        // Twenty-nine more owners, set directly.
        var owners = Enumerable.Range(1, 29).Select(i => talker + i).ToList();
        foreach (var owner in owners)
        {
            var added = await cluster.Client.GetGrain<IUserGrain>(owner).AddAlertAsync(
                new AlertRequest("BTCUSDT", AlertCondition.Above, 70, null, Indicator: new IndicatorSpec("rsi14", "1h")));
            Assert.True(added.Ok, added.Error);
        }
        owners.Add(talker);
        var watch = cluster.Client.GetGrain<IIndicatorWatchGrain>("BTCUSDT/1h");
        await Eventually(async () => (await watch.GetStatusAsync()).LastEvaluatedClose == CloseTime(crossing - 3));
        Assert.Empty(owners.SelectMany(o => Notices(messenger, o)));

        // The exchange moves five closes on at once (a gap): the crossing two closes before the end fires, once.
        binance.MarketTime = CloseTime(crossing + 2);
        try
        {
            await Eventually(() => owners.All(o => Notices(messenger, o).Count == 1), TimeSpan.FromSeconds(20));
        }
        catch (Exception)
        {
            throw new Xunit.Sdk.XunitException($"Not all told: {await watch.GetStatusAsync()}, {owners.Count(o => Notices(messenger, o).Count == 1)} told, sent {messenger.Sent.Count}");
        }
        await Task.Delay(1500); // more checks: nothing more comes
        foreach (var owner in owners)
        {
            var notice = Assert.Single(Notices(messenger, owner)).Text;
            Assert.Contains($"BTC/USDT RSI(14) 1h crossed above 70: {F(Rsi(crossing)[^1])} at the {CloseTime(crossing).UtcDateTime:yyyy-MM-dd HH:mm} UTC close " +
                $"(was {F(Rsi(crossing)[^2])})", notice);
            Assert.Empty(await cluster.Client.GetGrain<IUserGrain>(owner).GetAlertsAsync());
        }
        var buttons = Notices(messenger, talker)[0].Buttons!;
        Assert.Contains(buttons, b => b.Command == "/chart BTC 1h");
        Assert.Contains(buttons, b => b.Command == "/analyze BTC 1h");
        Assert.Contains(buttons, b => b.Command == "/alert BTC rsi 1h above 70");

        // Shared work: one evaluation per close (the first check's close, then the five), one RSI series per evaluation.
        var status = await watch.GetStatusAsync();
        Assert.Equal((6L, 2L, 0, 0), (status.ClosesEvaluated, status.SeriesComputed, status.Armed, status.Firing));
        Assert.False(status.Watching); // nothing armed any more: no timer, no reminder
    }

    [Fact]
    public async Task An_armed_indicator_alert_and_its_watch_come_back_after_the_cluster_restarts()
    {
        var serviceId = "indicators-restart-" + Guid.NewGuid().ToString("N")[..8];
        const long owner = 9_200_000;
        var spec = new IndicatorSpec("ema200", "4h");
        await using (var cluster = await UserGrainCluster.StartAsync(redis, serviceId))
        {
            var added = await cluster.Client.GetGrain<IUserGrain>(owner).AddAlertAsync(
                new AlertRequest("ETHUSDT", AlertCondition.Crosses, 0, null, Repeat: true, Cooldown: TimeSpan.FromHours(8), Indicator: spec));
            Assert.True(added.Ok, added.Error);
            Assert.Equal(1, (await cluster.Client.GetGrain<IIndicatorWatchGrain>("ETHUSDT/4h").GetStatusAsync()).Armed);
        }
        await using (var restarted = await UserGrainCluster.StartAsync(redis, serviceId))
        {
            var status = await restarted.Client.GetGrain<IIndicatorWatchGrain>("ETHUSDT/4h").GetStatusAsync();
            Assert.Equal((1, true), (status.Armed, status.Watching));
            var alert = Assert.Single(await restarted.Client.GetGrain<IUserGrain>(owner).GetAlertsAsync());
            Assert.Equal((spec, AlertCondition.Crosses, true, TimeSpan.FromHours(8)), (alert.Indicator, alert.Condition, alert.Repeat, alert.Cooldown));
        }
    }

    private static List<Engram.Abstractions.Conversation.ChatReply> Notices(RecordingMessenger messenger, long user) =>
        messenger.Sent.Where(s => s.UserId == user && s.UpdateId is null).Select(s => s.Reply).ToList();

    private static double[] Rsi(int k)
    {
        var close = Hourly[(k - IndicatorLine.Window + 1)..(k + 1)].Select(c => c.Close).ToArray();
        var rsi = new double[close.Length];
        TechnicalIndicators.Rsi(close, rsi);
        return rsi;
    }

    private static string F(double rsi) => rsi.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture);

    private static DateTimeOffset CloseTime(int k) => Hourly[k].OpenTime + TimeSpan.FromHours(1);

    private static async Task Eventually(Func<Task<bool>> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting");
            await Task.Delay(100);
        }
    }

    private static Task Eventually(Func<bool> condition, TimeSpan timeout) => Eventually(() => Task.FromResult(condition()), timeout);
}
