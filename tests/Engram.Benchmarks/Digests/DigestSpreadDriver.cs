using System.Collections.Concurrent;
using System.Globalization;
using Engram.Abstractions.Conversation;
using Engram.Abstractions.Delivery;
using Engram.Abstractions.Digests;
using Engram.Abstractions.Inbox;
using Engram.Abstractions.Users;
using Engram.Benchmarks.Conversation;
using Engram.Benchmarks.Ingress;
using Microsoft.Extensions.DependencyInjection;

namespace Engram.Benchmarks.Digests;

/// <summary>
/// <c>users</c> users with a digest due at one slot, through the real shards and user grains (state in a real
/// redis-server), the sender replaced by a recorder: how the digests spread over the window (per second), and that
/// each user gets exactly one.
/// Every user sets a daily digest at the same minute, far enough ahead (<c>--lead</c> minutes) for the setup to finish.
/// <code>dotnet run -c Release --project tests/Engram.Benchmarks -- digests [--users 20000] [--window 60] [--lead 2]</code>
/// </summary>
public static class DigestSpreadDriver
{
    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        var o = LoadTools.ParseOptions(args);
        var count = o.Int("users", 20_000);
        var window = TimeSpan.FromSeconds(o.Int("window", 60));
        var lead = TimeSpan.FromMinutes(o.Int("lead", 2));
        var recorder = new DigestRecorder();
        await using var redis = await RedisProcess.StartAsync();
        var cluster = await ConversationCluster.StartAsync(redis.ConnectionString, "http://127.0.0.1:9/v1", new Dictionary<string, string?>
        {
            ["Digests:SpreadWindow"] = window.ToString("c", CultureInfo.InvariantCulture),
            ["Digests:CheckInterval"] = "00:00:01",
            ["Digests:MaxPerSecond"] = o.Str("pace", "0"), // the recorder has no send limits: how the work itself spreads
        }, services => services.AddSingleton<IMessenger>(recorder));
        try
        {
            var client = cluster.Client;
            var users = Enumerable.Range(1, count).Select(i => 30_000_000L + i).ToList();
            var slot = DateTimeOffset.UtcNow + lead;
            slot = slot.AddTicks(TimeSpan.TicksPerMinute - slot.Ticks % TimeSpan.TicksPerMinute); // the next whole minute after the lead
            Console.WriteLine($"digest spread: {count:N0} users due at one slot, window {window.TotalSeconds:0} s; setting the schedules…");
            using (var slots = new SemaphoreSlim(64))
            {
                await Task.WhenAll(users.Select(async user =>
                {
                    await slots.WaitAsync();
                    try
                    {
                        var grain = client.GetGrain<IUserGrain>(user);
                        await grain.AcceptAsync(new InboundUpdate(1, user, user, InboundKind.Text, "/watch BTC ETH", false, null, DateTimeOffset.UtcNow));
                        await grain.AcceptAsync(new InboundUpdate(2, user, user, InboundKind.Text, $"/digest {slot:HH:mm} UTC", false, null, DateTimeOffset.UtcNow));
                    }
                    finally
                    {
                        slots.Release();
                    }
                }));
            }
            if (DateTimeOffset.UtcNow >= slot)
                throw new InvalidOperationException($"The setup outlasted the lead; run again with a --lead over {(DateTimeOffset.UtcNow - slot + lead).TotalMinutes:F0}");
            Console.WriteLine($"set; the slot {slot:HH:mm} UTC is {(slot - DateTimeOffset.UtcNow).TotalSeconds:F0} s away");
            var deadline = slot + window + TimeSpan.FromSeconds(120);
            while (recorder.Arrivals.Count < count && DateTimeOffset.UtcNow < deadline)
                await Task.Delay(1000);
            await Task.Delay(3000);

            var firsts = recorder.Arrivals.GroupBy(a => a.User).Select(g => g.Min(a => a.At)).ToList();
            var duplicates = recorder.Arrivals.Count - firsts.Count;
            var perSecond = firsts.GroupBy(t => (int)Math.Floor((t - slot).TotalSeconds)).OrderBy(g => g.Key).Select(g => (Second: g.Key, Count: g.Count())).ToList();
            var offsets = firsts.Select(t => (t - slot).TotalSeconds).Order().ToList();
            Console.WriteLine($"digests: {firsts.Count:N0} of {count:N0} users, duplicates {duplicates}");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"after the slot: first {offsets[0]:F1} s, p50 {offsets[offsets.Count / 2]:F1} s, last {offsets[^1]:F1} s (window {window.TotalSeconds:0} s)"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"per second: mean {firsts.Count / window.TotalSeconds:F0}, busiest {perSecond.Max(p => p.Count)} (second {perSecond.MaxBy(p => p.Count).Second}), quietest inside the window {perSecond.Where(p => p.Second >= 0 && p.Second < window.TotalSeconds - 1).Min(p => p.Count)}"));
            foreach (var decile in Enumerable.Range(0, 10))
            {
                var from = window.TotalSeconds * decile / 10;
                var to = window.TotalSeconds * (decile + 1) / 10;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {from,5:F0}–{to,4:F0} s: {offsets.Count(x => x >= from && x < to),7:N0}"));
            }
            Console.WriteLine($"  later   : {offsets.Count(x => x >= window.TotalSeconds),7:N0}");
            return firsts.Count == count && duplicates == 0 ? 0 : 1;
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }

    private sealed class DigestRecorder : IMessenger
    {
        public ConcurrentBag<(long User, DateTimeOffset At)> Arrivals { get; } = [];

        public bool IsEnabled => true;

        public Task<DeliveryOutcome> SendAsync(OutgoingMessage message, CancellationToken cancellationToken)
        {
            if (message.Reply.Kind == ReplyKind.Digest)
                Arrivals.Add((message.UserId, DateTimeOffset.UtcNow));
            return Task.FromResult(DeliveryOutcome.Delivered);
        }

        public IAsyncDisposable BeginTyping(long chatId) => NoTyping.Instance;
    }
}
