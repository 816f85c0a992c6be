using System.Diagnostics;
using System.Globalization;
using Engram.Abstractions.Alerts;
using Engram.Abstractions.Users;
using Engram.Benchmarks.Conversation;
using Engram.Benchmarks.Ingress;
using Engram.Telegram;
using Engram.TestServers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Engram.Benchmarks.Alerts;

/// <summary>
/// An alert storm through the real Telegram sender to the Bot API stand-in: <c>owners</c> users with one alert each,
/// one tick crosses them all. Reports the time from the tick to each notification the stand-in received, against the
/// floor Telegram's 30 messages a second sets (owners / 30 s), and checks every owner got exactly one.
/// <code>dotnet run -c Release --project tests/Engram.Benchmarks -- storm [--owners 10000] [--limits on|off]</code>
/// With <c>--limits off</c> the sender's limits are switched off (a local stand-in only).
/// </summary>
public static class AlertStormDriver
{
    private const string Symbol = "SOLUSDT";

    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        var o = LoadTools.ParseOptions(args);
        var owners = o.Int("owners", 10_000);
        var limits = o.Str("limits", "on") != "off";
        await using var redis = await RedisProcess.StartAsync();
        await using var telegram = await BotApiServer.StartAsync();
        var settings = new Dictionary<string, string?>
        {
            ["telegram:bot_token"] = telegram.Token,
            ["telegram:api_base_url"] = telegram.BaseUrl,
            ["telegram:PollTimeoutSeconds"] = "2",
            ["telegram:MessagesPerSecondOverall"] = limits ? "30" : "0",
            ["telegram:MessagesPerSecondPerChat"] = limits ? "1" : "0",
            ["Alerts:PollInterval"] = "01:00:00", // ticks come from this driver only
            ["Users:MaxActiveAlerts"] = "50",
        };
        var cluster = await ConversationCluster.StartAsync(redis.ConnectionString, "http://127.0.0.1:9/v1", settings, services =>
        {
            services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(redis.ConnectionString));
            services.AddEngramTelegram(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        });
        try
        {
            var client = cluster.Client;
            var users = Enumerable.Range(1, owners).Select(i => 20_000_000L + i).ToList();
            Console.WriteLine($"alert storm: {owners:N0} owners, one alert each, one tick; Telegram limits {(limits ? "on (30/s bot, 1/s chat)" : "off")}");
            using (var slots = new SemaphoreSlim(64))
            {
                await Task.WhenAll(users.Select(async user =>
                {
                    await slots.WaitAsync();
                    try
                    {
                        var set = await client.GetGrain<IUserGrain>(user).AddAlertAsync(new AlertRequest(Symbol, AlertCondition.Above, 200m, 150m));
                        if (!set.Ok)
                            throw new InvalidOperationException(set.Error);
                    }
                    finally
                    {
                        slots.Release();
                    }
                }));
            }
            var watch = client.GetGrain<IPriceWatchGrain>(Symbol);
            await watch.OnPriceAsync(150m, DateTimeOffset.UtcNow);
            var tick = DateTimeOffset.UtcNow;
            var clock = Stopwatch.StartNew();
            await watch.OnPriceAsync(250m, tick);
            var floor = owners / 30.0;
            var deadline = TimeSpan.FromSeconds((limits ? floor * 3 : 60) + 120);
            var wanted = users.ToHashSet();
            while (Notified(telegram, wanted).Count < owners && clock.Elapsed < deadline)
            {
                await Task.Delay(1000);
                if (limits && (int)clock.Elapsed.TotalSeconds % 30 == 0)
                    Console.WriteLine($"  {clock.Elapsed.TotalSeconds,5:F0} s: {Notified(telegram, wanted).Count:N0} notified");
            }
            await Task.Delay(3000); // a late duplicate would arrive now
            var notified = Notified(telegram, wanted);
            var perOwner = notified.GroupBy(m => m.ChatId).ToList();
            var latencies = perOwner.Select(g => (g.Min(m => m.ReceivedAt) - tick).TotalSeconds).Order().ToList();
            Console.WriteLine($"notified {perOwner.Count:N0} of {owners:N0} owners; duplicates {notified.Count - perOwner.Count}");
            if (latencies.Count > 0)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"tick -> notification at the stand-in: p50 {Percentile(latencies, 0.50):F2} s, p99 {Percentile(latencies, 0.99):F2} s, last {latencies[^1]:F2} s"));
                if (limits)
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"floor at 30/s: {floor:F1} s; last / floor = {latencies[^1] / floor:F3}; achieved {perOwner.Count / latencies[^1]:F1} messages/s"));
            }
            return perOwner.Count == owners && notified.Count == owners ? 0 : 1;
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }

    private static List<SentMessage> Notified(BotApiServer telegram, HashSet<long> users) =>
        telegram.SentMessages.Where(m => users.Contains(m.ChatId) && m.PlainText.StartsWith("🔔", StringComparison.Ordinal)).ToList();

    private static double Percentile(List<double> sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
}
