using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Engram.Abstractions.Alerts;
using Engram.Abstractions.Conversation;
using Engram.Abstractions.Delivery;
using Engram.Abstractions.Users;
using Engram.Benchmarks.Conversation;
using Engram.Benchmarks.Ingress;
using Engram.Grains.Alerts;
using Microsoft.Extensions.DependencyInjection;

namespace Engram.Benchmarks.Alerts;

/// <summary>
/// From a price tick arriving at a symbol's price watch to each notification handed to the sender
/// (the messenger's SendAsync, where Telegram would begin): one in-process silo, user and watch
/// state in a real redis-server, the messenger replaced by a recorder that answers at once.
/// Each round arms <c>n</c> one-shot alerts, ticks below them, then ticks across all of them.
/// <code>dotnet run -c Release --project tests/Engram.Benchmarks -- alerts [--sizes 1,10,100,1000] [--rounds 5]</code>
/// </summary>
public static class AlertLatencyDriver
{
    private const string Symbol = "SOLUSDT";

    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        var o = LoadTools.ParseOptions(args);
        var sizes = o.Str("sizes", "1,10,100,1000").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        var rounds = o.Int("rounds", 5);
        var recorder = new RecordingMessenger();
        await using var redis = await RedisProcess.StartAsync();
        var cluster = await ConversationCluster.StartAsync(redis.ConnectionString, "http://127.0.0.1:9/v1", new Dictionary<string, string?>
        {
            // Ticks come from this driver only: the watch's own polling stays out of the way.
            ["Alerts:PollInterval"] = "01:00:00",
            ["Users:MaxActiveAlerts"] = "50",
        }, services => services.AddSingleton<IMessenger>(recorder));
        try
        {
            var client = cluster.Client;
            var watch = client.GetGrain<IPriceWatchGrain>(Symbol);
            Console.WriteLine($"alert latency: tick -> notification handed to the sender; sizes {string.Join(",", sizes)}, {rounds} rounds each (after 1 warm-up round)");
            Console.WriteLine($"{"alerts crossing one tick",-26}{"p50",10}{"p99",10}{"max",10}{"last of the tick",18}");
            long nextUser = 8_000_000;
            foreach (var size in sizes)
            {
                var latencies = new List<double>();
                var lastOfTick = new List<double>();
                for (var round = 0; round <= rounds; round++)
                {
                    var users = Enumerable.Range(0, size).Select(_ => nextUser++).ToList();
                    using var slots = new SemaphoreSlim(64); // each set writes the watch: thousands at once would only queue there
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
                    await watch.OnPriceAsync(150m, DateTimeOffset.UtcNow);
                    recorder.Expect(users);
                    var tick = Stopwatch.GetTimestamp();
                    await watch.OnPriceAsync(250m, DateTimeOffset.UtcNow);
                    var handed = await recorder.WaitAsync(TimeSpan.FromSeconds(60));
                    if (handed.Count < size)
                        throw new TimeoutException($"{size - handed.Count} of {size} notifications never reached the sender");
                    if (round == 0)
                        continue; // warm-up: activations and first writes
                    var ms = handed.Select(t => Stopwatch.GetElapsedTime(tick, t).TotalMilliseconds).Order().ToList();
                    latencies.AddRange(ms);
                    lastOfTick.Add(ms[^1]);
                }
                latencies.Sort();
                Console.WriteLine($"{size,-26}{Percentile(latencies, 0.50),10:F1}{Percentile(latencies, 0.99),10:F1}{latencies[^1],10:F1}{lastOfTick.Average(),15:F1} ms");
            }
            return 0;
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }

    private static double Percentile(List<double> sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];

    /// <summary>Answers Delivered at once and remembers when each expected user's notification arrived.</summary>
    private sealed class RecordingMessenger : IMessenger
    {
        private ConcurrentDictionary<long, long> arrivals = new();
        private HashSet<long> expected = [];
        private TaskCompletionSource all = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool IsEnabled => true;

        public void Expect(IEnumerable<long> users)
        {
            expected = users.ToHashSet();
            arrivals = new ConcurrentDictionary<long, long>();
            all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        public async Task<IReadOnlyCollection<long>> WaitAsync(TimeSpan timeout)
        {
            await Task.WhenAny(all.Task, Task.Delay(timeout));
            return arrivals.Values.ToList();
        }

        public Task<DeliveryOutcome> SendAsync(OutgoingMessage message, CancellationToken cancellationToken)
        {
            var (userId, _, reply, _, _) = message;
            var now = Stopwatch.GetTimestamp();
            if (expected.Contains(userId) && reply.Text.StartsWith("🔔", StringComparison.Ordinal) && arrivals.TryAdd(userId, now) && arrivals.Count == expected.Count)
                all.TrySetResult();
            return Task.FromResult(DeliveryOutcome.Delivered);
        }

        public IAsyncDisposable BeginTyping(long chatId) => NoTyping.Instance;
    }
}
