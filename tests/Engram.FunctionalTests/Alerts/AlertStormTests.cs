using Engram.Abstractions.Digests;
using Engram.Abstractions.Inbox;
using Engram.Abstractions.Users;
using Engram.FunctionalTests.Grains;
using Engram.FunctionalTests.Infrastructure;
using Engram.Telegram;
using Engram.TestServers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace Engram.FunctionalTests.Alerts;

/// <summary>
/// One move fires many alerts while a slot's digests fall due, through the real Telegram sender at Telegram's limits
/// (30 messages a second for the bot, 1 a second per chat) to the Bot API stand-in.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class AlertStormTests(RedisServer redis, ITestOutputHelper output)
{
    private const string Symbol = "STORMUSDT";

    [Fact]
    public async Task A_storm_goes_out_within_the_limits_alerts_before_digests_and_one_message_per_owner()
    {
        await using var telegram = await BotApiServer.StartAsync();
        var prices = new ScriptedPrices();
        prices.Set(Symbol, 100m);
        var settings = new Dictionary<string, string?>
        {
            ["telegram:bot_token"] = telegram.Token,
            ["telegram:api_base_url"] = telegram.BaseUrl,
            ["telegram:PollTimeoutSeconds"] = "2",
            ["Alerts:PollInterval"] = "00:00:00.200",
            ["Digests:SpreadWindow"] = "00:00:00.500",
            ["Digests:CheckInterval"] = "00:00:00.100",
            ["Digests:MaxPerSecond"] = "0", // not paced: the sender alone puts alerts first
        };
        await using var cluster = await UserGrainCluster.StartAsync(redis, "storm-" + Guid.NewGuid().ToString("N")[..8], settings: settings,
            configureServices: services =>
            {
                services.AddSingleton<Engram.Grains.Alerts.IAlertPriceSource>(prices);
                services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(redis.ConnectionString));
                services.AddEngramTelegram(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
            });
        var client = cluster.Client;

        // Sixty users with a daily digest far from now (their confirmations go out first, at the limits).
        var readers = Enumerable.Range(1, 60).Select(i => 9_500_000L + i).ToList();
        // Daily at the time of an hour ago: the test makes today's slot due, the next is a day away.
        var slot = DateTimeOffset.UtcNow.AddHours(-1);
        slot = slot.AddTicks(-(slot.Ticks % TimeSpan.TicksPerMinute));
        await Task.WhenAll(readers.Select(u => client.GetGrain<IUserGrain>(u)
            .AcceptAsync(new InboundUpdate(u, u, u, InboundKind.Text, $"/digest {slot:HH:mm} UTC", false, null, DateTimeOffset.UtcNow))));
        await Eventually(() => readers.All(u => telegram.SentMessages.Any(m => m.ChatId == u)), TimeSpan.FromSeconds(30));

        // Ninety owners of one alert each, and one owner of three alerts the same move crosses.
        var owners = Enumerable.Range(1, 90).Select(i => 9_600_000L + i).ToList();
        foreach (var owner in owners)
            Assert.True((await client.GetGrain<IUserGrain>(owner).AddAlertAsync(new AlertRequest(Symbol, AlertCondition.Above, 110m, 100m))).Ok);
        const long several = 9_700_000;
        foreach (var level in new[] { 101m, 102m, 103m })
            Assert.True((await client.GetGrain<IUserGrain>(several).AddAlertAsync(new AlertRequest(Symbol, AlertCondition.Above, level, 100m))).Ok);
        await Task.Delay(500);

        // The slot falls due, then the move: both queue for the same 30 a second.
        var start = DateTimeOffset.UtcNow;
        foreach (var reader in readers)
            await client.GetGrain<IDigestShardGrain>(reader % IDigestShardGrain.Count).ScheduleAsync(reader, slot, durable: true);
        prices.Set(Symbol, 120m);
        await Eventually(() => owners.Append(several).All(o => Alerts(telegram, o).Count >= 1) && readers.All(r => Digests(telegram, r).Count >= 1), TimeSpan.FromSeconds(60));
        await Task.Delay(1500);

        var alerts = owners.Append(several).SelectMany(o => Alerts(telegram, o)).OrderBy(m => m.ReceivedAt).ToList();
        var digests = readers.SelectMany(r => Digests(telegram, r)).OrderBy(m => m.ReceivedAt).ToList();
        Assert.Equal(91, alerts.Count); // every owner once
        Assert.Equal(60, digests.Count);
        Assert.Contains("3 of your alerts fired", Assert.Single(Alerts(telegram, several)).PlainText);

        // Within the bot-wide limit: past the first second's 30, no more than 30 a second.
        var all = alerts.Concat(digests).OrderBy(m => m.ReceivedAt).ToList();
        var span = (all[^1].ReceivedAt - all[0].ReceivedAt).TotalSeconds;
        output.WriteLine($"{all.Count} messages in {span:F2} s; last alert {(alerts[^1].ReceivedAt - start).TotalSeconds:F2} s after the move, " +
            $"first digest {(digests[0].ReceivedAt - start).TotalSeconds:F2} s, last digest {(digests[^1].ReceivedAt - start).TotalSeconds:F2} s");
        Assert.True(span >= (all.Count - 30) / 30.0 - 0.2, $"{all.Count} messages in {span:F2} s is over 30 a second");
        // Alerts first: digests take only what alerts leave. Those sent before the move's first alert had the limit to
        // themselves; once alerts wait, none goes until they are out.
        var amongAlerts = digests.Count(d => d.ReceivedAt > alerts[0].ReceivedAt && d.ReceivedAt < alerts[^1].ReceivedAt);
        output.WriteLine($"digests before the first alert: {digests.Count(d => d.ReceivedAt < alerts[0].ReceivedAt)}; " +
            $"between the first and the last alert: {amongAlerts} of {digests.Count}");
        Assert.True(amongAlerts <= 3, $"{amongAlerts} digests went out while alerts waited");
    }

    private static List<SentMessage> Alerts(BotApiServer telegram, long user) =>
        telegram.SentMessages.Where(m => m.ChatId == user && m.PlainText.StartsWith("🔔", StringComparison.Ordinal)).ToList();

    private static List<SentMessage> Digests(BotApiServer telegram, long user) =>
        telegram.SentMessages.Where(m => m.ChatId == user && m.PlainText.StartsWith("📰 Your digest", StringComparison.Ordinal)).ToList();

    private static async Task Eventually(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting");
            await Task.Delay(100);
        }
    }
}
