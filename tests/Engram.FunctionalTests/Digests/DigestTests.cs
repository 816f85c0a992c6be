using Engram.Abstractions.Conversation;
using Engram.Abstractions.Delivery;
using Engram.Abstractions.Digests;
using Engram.Abstractions.Inbox;
using Engram.Abstractions.Users;
using Engram.FunctionalTests.Alerts;
using Engram.FunctionalTests.Grains;
using Engram.FunctionalTests.Infrastructure;
using Engram.Trading.Tools;
using Microsoft.Extensions.DependencyInjection;

namespace Engram.FunctionalTests.Digests;

/// <summary>Watchlist and digests through the conversation, on the real candles, with user and shard state in real Redis.</summary>
[Collection(RedisCollection.Name)]
public sealed class DigestTests(RedisServer redis)
{
    [Fact]
    public async Task A_due_digest_lists_each_watched_pair_and_the_portfolio_and_a_slot_is_sent_once()
    {
        var messenger = new RecordingMessenger();
        await using var cluster = await UserGrainCluster.StartAsync(redis, "digests-" + Guid.NewGuid().ToString("N")[..8],
            settings: new Dictionary<string, string?> { ["Digests:SpreadWindow"] = "00:00:01", ["Digests:CheckInterval"] = "00:00:00.200" },
            configureServices: services => services.AddSingleton<IMessenger>(messenger));
        const long user = 9_300_000;
        var grain = cluster.Client.GetGrain<IUserGrain>(user);
        long update = 0;
        async Task<ChatReply> Say(string text)
        {
            var id = ++update;
            await grain.AcceptAsync(new InboundUpdate(id, user, user, InboundKind.Text, text, false, null, DateTimeOffset.UtcNow));
            return Assert.Single(messenger.ForUpdate(id));
        }

        Assert.Contains("Watching BTC/USDT, ETH/USDT (2 of 20)", (await Say("/watch BTC ETH NOTACOIN")).Text);
        Assert.Contains("'NOTACOIN'", messenger.ForUpdate(1)[0].Text);
        Assert.Contains("Stopped watching ETH/USDT. 1 left.", (await Say("/unwatch ETH")).Text);
        await Say("/watch ETH SOL");
        await Say("/buy BTC 0.5 20000");
        var list = (await Say("/watchlist")).Text;
        Assert.Contains("Your watchlist (3)", list);
        Assert.Contains("No digest.", list);
        Assert.Contains("I don't know the time zone 'Mars/Olympus'", (await Say("/digest 08:00 Mars/Olympus")).Text);
        Assert.Contains("'25:00' is not a time", (await Say("/digest 25:00")).Text);
        // Daily at the Berlin time of an hour ago: today's slot has passed (the test makes it due), the next is a day away.
        var slot = DateTimeOffset.UtcNow.AddHours(-1);
        slot = slot.AddTicks(-(slot.Ticks % TimeSpan.TicksPerMinute));
        var berlin = NodaTime.Instant.FromDateTimeOffset(slot).InZone(Engram.Grains.Digests.DigestSlots.Zone("Europe/Berlin")!).TimeOfDay;
        var local = berlin.ToString("HH:mm", System.Globalization.CultureInfo.InvariantCulture);
        var set = (await Say($"/digest {local} Europe/Berlin")).Text;
        Assert.Contains($"Digest set: daily at {local} Europe/Berlin. Next:", set);

        var shard = cluster.Client.GetGrain<IDigestShardGrain>(user % IDigestShardGrain.Count);
        var scheduled = await shard.GetStatusAsync();
        Assert.Equal(1, scheduled.Scheduled);
        Assert.InRange(scheduled.NextDue!.Value, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddHours(25));

        // The shard is told today's slot, as if it had not passed yet: due now, the digest comes, computed from the tools.
        await shard.ScheduleAsync(user, slot, durable: true);
        var digest = await WaitForDigest(messenger, user, 1);
        var tools = ((Orleans.TestingHost.InProcessSiloHandle)cluster.Silos[0]).ServiceProvider.GetRequiredService<TradingToolService>();
        foreach (var symbol in new[] { "BTC", "ETH", "SOL" })
        {
            var analysis = (await tools.AnalyzeMarketAsync(symbol, "1h")).Value!;
            var signal = (await tools.GenerateSignalAsync(symbol, "1h")).Value!;
            Assert.Contains($"{symbol}/USDT {Engram.Grains.Alerts.AlertNotification.Money((decimal)analysis.Price)} " +
                $"({analysis.Day.ChangePct.ToString("+0.00;-0.00;0.00", System.Globalization.CultureInfo.InvariantCulture)}% 24h) · " +
                $"RSI {analysis.Momentum.Rsi.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)} · {analysis.Trend.Direction} · " +
                $"signal {signal.Action.ToString().ToUpperInvariant()}", digest.Text);
        }
        var btc = (decimal)(await tools.AnalyzeMarketAsync("BTC", "1h")).Value!.Price;
        Assert.Contains($"💼 Portfolio: {Engram.Grains.Alerts.AlertNotification.Money(0.5m * btc)} USDT, the first digest to track it.", digest.Text);
        Assert.Equal(ReplyKind.Digest, digest.Kind);
        Assert.Contains(digest.Buttons!, b => b.Command == "/chart BTC 1h");

        // The same slot again (a shard that crashed before storing its rescheduling asks again), or a slot that is not
        // one of this schedule's: nothing more is sent.
        await grain.DigestDueAsync(slot);
        await grain.DigestDueAsync(slot.AddMinutes(7));
        await shard.ScheduleAsync(user, slot, durable: true);
        await Task.Delay(2500);
        Assert.Single(Digests(messenger, user));
        // The shard holds the next real slot again, and "/digest off" empties it.
        Assert.True((await shard.GetStatusAsync()).NextDue > DateTimeOffset.UtcNow.AddHours(20));
        Assert.Contains("Digest off", (await Say("/digest off")).Text);
        Assert.Equal(0, (await shard.GetStatusAsync()).Scheduled);
    }

    [Fact]
    public async Task Digests_due_together_are_asked_for_at_the_paced_rate()
    {
        var messenger = new RecordingMessenger();
        // 5 a second for each of the 64 shards: ten users of one shard need two seconds, not one check.
        await using var cluster = await UserGrainCluster.StartAsync(redis, "digests-paced-" + Guid.NewGuid().ToString("N")[..8],
            settings: new Dictionary<string, string?>
            {
                ["Digests:SpreadWindow"] = "00:00:00", ["Digests:CheckInterval"] = "00:00:00.050", ["Digests:MaxPerSecond"] = $"{5 * IDigestShardGrain.Count}",
            },
            configureServices: services => services.AddSingleton<IMessenger>(messenger));
        var slot = DateTimeOffset.UtcNow.AddHours(-1);
        slot = slot.AddTicks(-(slot.Ticks % TimeSpan.TicksPerMinute));
        var users = Enumerable.Range(1, 10).Select(i => 9_400_000L * IDigestShardGrain.Count + i * IDigestShardGrain.Count).ToList();
        foreach (var user in users)
            await cluster.Client.GetGrain<IUserGrain>(user).AcceptAsync(new InboundUpdate(1, user, user, InboundKind.Text, $"/digest {slot:HH:mm} UTC", false, null, DateTimeOffset.UtcNow));
        var shard = cluster.Client.GetGrain<IDigestShardGrain>(users[0] % IDigestShardGrain.Count);
        await Task.Delay(1200); // the shard's allowance fills to a second's worth
        foreach (var user in users)
            await shard.ScheduleAsync(user, slot, durable: false);
        foreach (var user in users)
            await WaitForDigest(messenger, user, 1);
        var arrivals = messenger.Sent.Where(s => users.Contains(s.UserId) && s.Reply.Kind == ReplyKind.Digest).Select(s => s.At).Order().ToList();
        Assert.Equal(10, arrivals.Count);
        // Five at once (the allowance), then about five a second.
        Assert.InRange((arrivals[^1] - arrivals[0]).TotalSeconds, 0.7, 3);
        Assert.True(arrivals.Count(a => a < arrivals[0].AddMilliseconds(150)) <= 5,
            string.Join(", ", arrivals.Select(a => $"{(a - arrivals[0]).TotalMilliseconds:F0}")));
    }

    private static List<ChatReply> Digests(RecordingMessenger messenger, long user) =>
        messenger.Sent.Where(s => s.UserId == user && s.Reply.Kind == ReplyKind.Digest).Select(s => s.Reply).ToList();

    private static async Task<ChatReply> WaitForDigest(RecordingMessenger messenger, long user, int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (Digests(messenger, user).Count < count)
        {
            Assert.True(DateTime.UtcNow < deadline, "no digest came");
            await Task.Delay(100);
        }
        return Digests(messenger, user)[count - 1];
    }
}
