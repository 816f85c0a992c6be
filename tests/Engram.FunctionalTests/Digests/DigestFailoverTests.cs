using System.Diagnostics;
using Engram.Abstractions.Digests;
using Engram.Abstractions.Inbox;
using Engram.Abstractions.Users;
using Engram.FunctionalTests.Infrastructure;
using Engram.TestServers;
using Xunit.Abstractions;

namespace Engram.FunctionalTests.Digests;

/// <summary>
/// Digests across real silo processes on a real Redis, candles from the Binance stand-in and messages to the Bot API
/// stand-in: the silo that holds the digest shard is killed -9 after the digests were stored but before Telegram took
/// them, and every user still gets the slot's digest exactly once.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class DigestFailoverTests(RedisServer redis, ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string clusterId = "digests-" + Guid.NewGuid().ToString("N")[..8];
    private readonly string workDirectory = Directory.CreateTempSubdirectory("engram-digests-").FullName;
    private readonly List<SiloProcess> silos = [];
    private BotApiServer telegram = null!;
    private BinanceServer binance = null!;

    public async Task InitializeAsync()
    {
        telegram = await BotApiServer.StartAsync();
        binance = await BinanceServer.StartAsync(new BinanceServerOptions { DataDirectory = RepositoryPaths.SharedData });
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
    public async Task Killing_the_digest_shards_silo_after_the_digests_are_stored_still_delivers_each_exactly_once()
    {
        var (a, b) = (await StartSiloAsync("a"), await StartSiloAsync("b"));
        await using var client = await EngramClient.ConnectAsync(redis.ConnectionString, clusterId);
        // Thirty users of one shard, each with a daily digest far from now.
        var users = Enumerable.Range(1, 30).Select(i => 3_400_000L * IDigestShardGrain.Count + i * IDigestShardGrain.Count + 7).ToList();
        var shard = client.Cluster.GetGrain<IDigestShardGrain>(users[0] % IDigestShardGrain.Count);
        // Daily at the time of an hour ago: today's slot has passed (the test makes it due), the next is a day away.
        var slot = DateTimeOffset.UtcNow.AddHours(-1);
        slot = slot.AddTicks(-(slot.Ticks % TimeSpan.TicksPerMinute));
        foreach (var user in users)
        {
            await Say(client, user, 1, "/watch BTC");
            await Say(client, user, 2, $"/digest {slot:HH:mm} UTC");
        }
        Assert.True(await WaitUntilAsync(async () => (await shard.GetStatusAsync()).Scheduled == users.Count, TimeSpan.FromSeconds(20)));
        Assert.True(await WaitUntilAsync(() => Task.FromResult(telegram.SentMessages.Count(m => users.Contains(m.ChatId)) == 2 * users.Count), TimeSpan.FromSeconds(30)));
        var victim = await HostOfAsync(client, shard, a, b);

        // Telegram holds every send; the slot falls due: each user stores its digest and reschedules, nothing is delivered.
        telegram.Pause("sendMessage");
        foreach (var user in users)
            await shard.ScheduleAsync(user, slot, durable: true);
        Assert.True(await WaitUntilAsync(async () => await shard.GetStatusAsync() is { InFlight: 0, NextDue: { } next } && next > slot.AddHours(1), TimeSpan.FromSeconds(30)),
            "the users did not take their digests");
        Assert.Empty(Digests());

        var clock = Stopwatch.StartNew();
        victim.Kill();
        await Task.Delay(TimeSpan.FromSeconds(1)); // the dead silo's held requests drop; Telegram never accepted them
        telegram.Resume();

        Assert.True(await WaitUntilAsync(() => Task.FromResult(users.All(u => Digests(u).Count >= 1)), TimeSpan.FromSeconds(90)),
            $"{users.Count(u => Digests(u).Count == 0)} of {users.Count} users never got the digest");
        output.WriteLine($"all {users.Count} digests delivered {clock.Elapsed.TotalSeconds:F1} s after kill -9 of the shard's silo");
        await Task.Delay(TimeSpan.FromSeconds(5)); // a late duplicate would arrive now
        foreach (var user in users)
            Assert.Contains("BTC/USDT", Assert.Single(Digests(user)).PlainText, StringComparison.Ordinal);
        // The shard, back on the survivor, holds each user's next real slot, not the one just sent.
        var status = await shard.GetStatusAsync();
        Assert.Equal(users.Count, status.Scheduled);
        Assert.True(status.NextDue > slot.AddHours(1));
    }

    private static async Task Say(EngramClient client, long user, long update, string text) =>
        await client.Cluster.GetGrain<IUserGrain>(user).AcceptAsync(new InboundUpdate(user * 10 + update, user, user, InboundKind.Text, text, false, null, DateTimeOffset.UtcNow));

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
            ["PriceStream__Enabled"] = "false",
            ["Cluster__ProbeTimeout"] = "00:00:01",
            ["Digests__SpreadWindow"] = "00:00:02",
            ["Digests__CheckInterval"] = "00:00:00.250",
            ["Digests__MaxPerSecond"] = "0", // thirty users of one shard at once
        };
        var silo = await SiloProcess.StartAsync(clusterId, Path.Combine(workDirectory, name), environment);
        silos.Add(silo);
        return silo;
    }

    private static async Task<SiloProcess> HostOfAsync(EngramClient client, IDigestShardGrain shard, SiloProcess a, SiloProcess b)
    {
        var host = await client.Cluster.GetGrain<IManagementGrain>(0).GetActivationAddress((IAddressable)shard);
        Assert.NotNull(host);
        return host!.Endpoint.Port == a.SiloPort ? a : b;
    }

    private List<SentMessage> Digests(long? user = null) =>
        telegram.SentMessages.Where(m => (user is null || m.ChatId == user) && m.PlainText.StartsWith("📰 Your digest", StringComparison.Ordinal)).ToList();

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
