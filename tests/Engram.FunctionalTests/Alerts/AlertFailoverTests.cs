using System.Diagnostics;
using Engram.Abstractions.Alerts;
using Engram.Abstractions.Users;
using Engram.FunctionalTests.Infrastructure;
using Engram.Grains.Alerts;
using Engram.TestServers;
using Xunit.Abstractions;

namespace Engram.FunctionalTests.Alerts;

/// <summary>
/// Price alerts across real silo processes on a real Redis, prices from the Binance stand-in and
/// notifications to the Bot API stand-in: the silo that holds a symbol's price watch (its feed)
/// is killed -9, and every user still hears about every crossing exactly once.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class AlertFailoverTests(RedisServer redis, ITestOutputHelper output) : IAsyncLifetime
{
    private const string Symbol = "SOLUSDT";
    private readonly string clusterId = "alerts-" + Guid.NewGuid().ToString("N")[..8];
    private readonly string workDirectory = Directory.CreateTempSubdirectory("engram-alerts-").FullName;
    private readonly List<SiloProcess> silos = [];
    private BotApiServer telegram = null!;
    private BinanceServer binance = null!;

    public async Task InitializeAsync()
    {
        telegram = await BotApiServer.StartAsync();
        binance = await BinanceServer.StartAsync(new BinanceServerOptions { DataDirectory = RepositoryPaths.SharedData });
        binance.SetPrice(Symbol, 100m);
    }

    public async Task DisposeAsync()
    {
        foreach (var silo in silos)
            await silo.DisposeAsync();
        await telegram.DisposeAsync();
        await binance.DisposeAsync();
        try { Directory.Delete(workDirectory, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task Killing_the_price_watch_silo_between_trigger_and_delivery_still_notifies_every_user_exactly_once()
    {
        var (a, b) = (await StartSiloAsync("a"), await StartSiloAsync("b"));
        await using var client = await EngramClient.ConnectAsync(redis.ConnectionString, clusterId);
        var users = Enumerable.Range(1, 30).Select(i => 3_100_000L + i).ToList();
        await SetAlertsAsync(client, users, _ => 110m);
        var watch = client.Cluster.GetGrain<IPriceWatchGrain>(Symbol);
        var victim = await HostOfAsync(client, watch, a, b);

        // Telegram holds every send: the crossings are triggered and every owner's notification is on its way, none delivered.
        telegram.Pause("sendMessage");
        binance.SetPrice(Symbol, 120m);
        Assert.True(await WaitUntilAsync(async () => await watch.GetStatusAsync() is { Armed: 0 } && telegram.HeldRequests == users.Count, TimeSpan.FromSeconds(30)),
            $"the price watch did not hand every crossing to its owner ({telegram.HeldRequests} of {users.Count} sends held)");
        Assert.Empty(Notifications());

        var clock = Stopwatch.StartNew();
        victim.Kill();
        // Let the stand-in see the dead silo's held requests drop (Telegram never accepted those);
        // the survivor's held sends go through on resume.
        await Task.Delay(TimeSpan.FromSeconds(1));
        telegram.Resume();

        Assert.True(await WaitUntilAsync(() => Task.FromResult(users.All(u => Notifications(u).Count >= 1)), TimeSpan.FromSeconds(90)),
            $"{users.Count(u => Notifications(u).Count == 0)} of {users.Count} users never heard about the crossing");
        output.WriteLine($"all {users.Count} notifications delivered {clock.Elapsed.TotalSeconds:F1} s after kill -9 of the price watch's silo");
        await Task.Delay(TimeSpan.FromSeconds(5)); // a late duplicate would arrive now
        foreach (var user in users)
        {
            var notification = Assert.Single(Notifications(user));
            Assert.Contains("SOL/USDT is above 110", notification.PlainText, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Killing_the_feed_silo_while_prices_keep_coming_misses_no_crossing()
    {
        var (a, b) = (await StartSiloAsync("a"), await StartSiloAsync("b"));
        await using var client = await EngramClient.ConnectAsync(redis.ConnectionString, clusterId);
        // Thresholds 101 … 140, one per user: the price climbs through them while the feed's silo dies.
        var users = Enumerable.Range(1, 40).Select(i => 3_200_000L + i).ToList();
        await SetAlertsAsync(client, users, user => 100m + (user - 3_200_000L));
        var watch = client.Cluster.GetGrain<IPriceWatchGrain>(Symbol);
        var victim = await HostOfAsync(client, watch, a, b);

        using var climbing = new CancellationTokenSource();
        var price = 100m;
        var climb = Task.Run(async () =>
        {
            while (!climbing.IsCancellationRequested && price < 145m)
            {
                price += 0.5m;
                binance.SetPrice(Symbol, price);
                await Task.Delay(250);
            }
        });

        // Kill the feed once the first crossings have been notified, with most still ahead.
        Assert.True(await WaitUntilAsync(() => Task.FromResult(Notifications().Count >= 5), TimeSpan.FromSeconds(30)), "no crossing was notified before the kill");
        var killedAt = price;
        var clock = Stopwatch.StartNew();
        victim.Kill();
        var before = Notifications().Count;
        Assert.True(await WaitUntilAsync(() => Task.FromResult(Notifications().Count > before), TimeSpan.FromSeconds(60)), "no crossing was notified after the kill");
        output.WriteLine($"feed killed at {killedAt}; first notification from the new feed {clock.Elapsed.TotalSeconds:F1} s later");

        await climb;
        Assert.True(await WaitUntilAsync(() => Task.FromResult(users.All(u => Notifications(u).Count >= 1)), TimeSpan.FromSeconds(60)),
            $"crossings missed for users {string.Join(", ", users.Where(u => Notifications(u).Count == 0))}");
        await Task.Delay(TimeSpan.FromSeconds(5));
        foreach (var user in users)
        {
            var threshold = 100m + (user - 3_200_000L);
            var notification = Assert.Single(Notifications(user));
            Assert.Contains($"is above {threshold}", notification.PlainText, StringComparison.Ordinal);
        }
        var status = await watch.GetStatusAsync();
        Assert.Equal(0, status.Armed + status.Firing);
    }

    [Fact]
    public async Task A_418_from_the_exchange_stops_the_silos_requests_until_its_retry_after()
    {
        var a = await StartSiloAsync("a");
        await using var client = await EngramClient.ConnectAsync(redis.ConnectionString, clusterId);
        await SetAlertsAsync(client, [3_300_001L], _ => 110m);
        Assert.True(await WaitUntilAsync(() => Task.FromResult(binance.RequestCounts.GetValueOrDefault("ticker/price") > 2), TimeSpan.FromSeconds(20)),
            "the fallback never polled");

        var bannedFrom = DateTimeOffset.UtcNow;
        binance.RateLimit(418, retryAfterSeconds: 3);
        await Task.Delay(TimeSpan.FromSeconds(5));
        var log = binance.RequestLog.Where(r => r.At >= bannedFrom).Select(r => r.At).ToList();
        // Find the banned request: the one followed by the longest silence; polls every 250 ms otherwise.
        var gaps = log.Zip(log.Skip(1), (x, y) => (From: x, Gap: y - x)).ToList();
        var longest = gaps.MaxBy(g => g.Gap);
        output.WriteLine($"longest silence between price requests: {longest.Gap.TotalSeconds:F2} s; {log.Count} requests");
        Assert.InRange(longest.Gap, TimeSpan.FromSeconds(2.9), TimeSpan.FromSeconds(4.5));
        Assert.True(gaps.Count(g => g.Gap > TimeSpan.FromSeconds(1)) == 1, "only the ban paused the polls");

        // Prices flow again: a crossing after the ban is notified.
        binance.SetPrice(Symbol, 120m);
        Assert.True(await WaitUntilAsync(() => Task.FromResult(Notifications(3_300_001L).Count == 1), TimeSpan.FromSeconds(15)), "no notification after the ban");
        GC.KeepAlive(a);
    }

    private async Task<SiloProcess> StartSiloAsync(string name)
    {
        var environment = new Dictionary<string, string>
        {
            ["ENGRAM_REDIS"] = redis.ConnectionString,
            ["TELEGRAM_BOT_TOKEN"] = telegram.Token,
            ["TELEGRAM_API_BASE_URL"] = telegram.BaseUrl,
            ["telegram__PollTimeoutSeconds"] = "2",
            ["telegram__MessagesPerSecondPerChat"] = "50",
            ["telegram__ChatBurst"] = "50",
            ["BINANCE_BASE_URL"] = binance.BaseUrl,
            ["Alerts__PollInterval"] = "00:00:00.250",
            // Prices come over REST from the stand-in (ticker/price); the WebSocket feed has its own tests.
            ["PriceStream__Enabled"] = "false",
            ["Cluster__ProbeTimeout"] = "00:00:01",
        };
        var silo = await SiloProcess.StartAsync(clusterId, Path.Combine(workDirectory, name), environment);
        silos.Add(silo);
        return silo;
    }

    private static async Task SetAlertsAsync(EngramClient client, IEnumerable<long> users, Func<long, decimal> threshold)
    {
        foreach (var user in users)
        {
            var grain = client.Cluster.GetGrain<IUserGrain>(user);
            // The client fails fast (5 s, for the kill); with both cores busy a first call can take
            // longer, so a timed-out set is checked before it is tried again (never set twice).
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    var set = await grain.AddAlertAsync(new AlertRequest(Symbol, AlertCondition.Above, threshold(user), 100m));
                    Assert.True(set.Ok, set.Error);
                    break;
                }
                catch (TimeoutException) when (attempt < 5)
                {
                    if (await WaitUntilAsync(async () => (await grain.GetAlertsAsync()).Any(a => a.Threshold == threshold(user)), TimeSpan.FromSeconds(10)))
                        break;
                }
            }
        }
        var watch = client.Cluster.GetGrain<IPriceWatchGrain>(Symbol);
        Assert.True(await WaitUntilAsync(async () => (await watch.GetStatusAsync()).Armed == users.Count(), TimeSpan.FromSeconds(10)));
    }

    private static async Task<SiloProcess> HostOfAsync(EngramClient client, IPriceWatchGrain watch, SiloProcess a, SiloProcess b)
    {
        var host = await client.Cluster.GetGrain<IManagementGrain>(0).GetActivationAddress((IAddressable)watch);
        Assert.NotNull(host);
        return host!.Endpoint.Port == a.SiloPort ? a : b;
    }

    private List<SentMessage> Notifications(long? user = null) =>
        telegram.SentMessages.Where(m => (user is null || m.ChatId == user) && m.PlainText.StartsWith("🔔 SOL/USDT is above", StringComparison.Ordinal)).ToList();

    private static async Task<bool> WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if (await condition())
                    return true;
            }
            catch (Exception ex) when (ex is TimeoutException or OrleansException)
            {
                // A grain of the killed silo is still under the directory's lease: ask again.
            }
            await Task.Delay(200);
        }
        return false;
    }
}
