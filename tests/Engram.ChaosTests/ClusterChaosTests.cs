using System.Diagnostics;
using Engram.ChaosTests.Infrastructure;
using Engram.ChaosTests.Load;
using Engram.TestServers;
using Xunit.Abstractions;

namespace Engram.ChaosTests;

/// <summary>
/// Chaos and load, bounded in time: three real silo processes on a redis-server this test owns,
/// Telegram, the LLM and Binance as local stand-ins, and a few hundred users chatting while a
/// silo is killed with SIGKILL, a new one joins, and Redis is restarted. Judged from the users'
/// side only: every message answered exactly once, every crossed alert notified exactly once,
/// every position and alert as the bot confirmed it.
/// </summary>
public sealed class ClusterChaosTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Cluster_survives_kill9_and_redis_restart_with_zero_lost_and_zero_duplicated_messages()
    {
        var runClock = Stopwatch.StartNew();
        var scenario = ChaosScenario.FromEnvironment();
        var logDirectory = Path.Combine(ChaosPaths.Results, "chaos-logs");
        if (Directory.Exists(logDirectory))
            Directory.Delete(logDirectory, recursive: true);
        Directory.CreateDirectory(logDirectory);
        var work = Directory.CreateTempSubdirectory("engram-chaos-").FullName;
        using var log = new RunLog(Path.Combine(logDirectory, "driver.log"));

        await using var redis = await RedisProcess.StartAsync(Path.Combine(work, "redis"), Path.Combine(logDirectory, "redis.log"));
        await using var telegram = await BotApiServer.StartAsync(new BotApiServerOptions { LoopbackAliases = 6 });
        await using var llm = await OpenAiServer.StartAsync();
        llm.Handler = ScriptedLlm.Answer;
        await using var binance = await BinanceServer.StartAsync(new BinanceServerOptions { DataDirectory = ChaosPaths.SharedData });
        binance.SetPrice(ChaosScenario.AlertSymbolPair, scenario.StartPrice);
        binance.SetPrice("BTCUSDT", 20_000m);
        binance.SetPrice("ETHUSDT", 1_500m);

        var clusterId = "chaos-" + Guid.NewGuid().ToString("N")[..8];
        await using var cluster = new ChaosCluster(clusterId, redis, SiloEnvironment(clusterId, redis, telegram, llm, binance), Path.Combine(work, "silos"), logDirectory, telegram);
        await cluster.StartSiloAsync("a");
        await Task.WhenAll(cluster.StartSiloAsync("b"), cluster.StartSiloAsync("c"));
        output.WriteLine($"chaos test uses {redis.Kind} at {redis.ConnectionString}");
        log.Write($"{redis.Kind} at {redis.ConnectionString}, 3 silos ready after {runClock.Elapsed.TotalSeconds:0.0} s; {scenario.Users} users x {scenario.UpdatesPerUser} messages");

        var userIds = Enumerable.Range(1, scenario.Users).Select(i => 5_000_000L + i).ToList();
        await using var ledger = new ChatLedger(telegram, userIds,
            via => ChaosCluster.SiloNamed(via) is { } name && cluster.Silos.Any(s => s.Name == name && s.WasKilled));
        var users = userIds.Select(id => new SimulatedUser(id, ledger, scenario)).ToList();
        var faults = new List<FaultRecord>();
        using var deadline = new CancellationTokenSource(scenario.LoadDeadline);

        using var busy = new BusyCores(scenario.BusyCores);
        log.Write($"{scenario.BusyCores} core(s) kept busy by the test during the load");
        var loadStarted = DateTimeOffset.UtcNow;
        var load = Task.WhenAll(users.Select(async user =>
        {
            await user.RunOpeningAsync(deadline.Token);
            await user.RunStepsAsync(scenario.Steps, deadline.Token);
        }));
        var progress = Task.Run(async () =>
        {
            while (!load.IsCompleted)
            {
                log.Write($"progress {ledger.SentCount}/{scenario.PlannedUpdates} sent, {ledger.AllReplies.Count} replies");
                await Task.WhenAny(load, Task.Delay(5000));
            }
        });
        var chaos = RunFaultsAsync(scenario, cluster, redis, binance, ledger, users, faults, log, deadline.Token);
        await Swallow(load, log, "load");
        await Swallow(chaos, log, "faults");
        var loadEnded = DateTimeOffset.UtcNow;
        busy.Dispose();
        await progress;

        // Crossed alerts are notified by the price watches in their own time; give them a moment, then look.
        await WaitForNotificationsAsync(ledger, users, TimeSpan.FromSeconds(60), log);
        await Task.WhenAll(users.Select(user => user.RunFinalAsync(CancellationToken.None)));
        // Late duplicates (an outbox redelivered after a failover) would arrive now.
        await Task.Delay(TimeSpan.FromSeconds(5));
        ledger.Drain();

        var report = ChaosReport.Build(scenario, ledger, users, faults, telegram, cluster, loadStarted, loadEnded, runClock.Elapsed);
        output.WriteLine(report.Summary);
        var summaryFile = Path.Combine(ChaosPaths.Results, "chaos-summary.txt");
        await File.WriteAllTextAsync(summaryFile, report.Summary);
        await File.WriteAllTextAsync(Path.Combine(logDirectory, "problems.txt"), report.Problems);
        foreach (var stalled in users.Where(u => u.Stalled).Take(5))
            await File.AppendAllTextAsync(Path.Combine(logDirectory, "problems.txt"),
                $"{Environment.NewLine}== Redis for stalled user {stalled.Id} at the end{Environment.NewLine}{await cluster.DescribeUserAsync(stalled.Id)}");
        output.WriteLine($"summary: {summaryFile}; logs and transcripts of users with a problem: {logDirectory}");
        log.Write(report.Summary);
        try { Directory.Delete(work, recursive: true); } catch (IOException) { }

        Assert.True(report.Failures.Count == 0, string.Join(Environment.NewLine, report.Failures));
    }

    /// <summary>
    /// Faults and price moves, each when the run has sent its share of the planned updates, on
    /// three independent timelines so a slow step (a silo starting under load) does not bunch the
    /// others: SIGKILL the silo holding the Telegram poller lease, then start a replacement; drive
    /// the alert symbol across the users' "above" thresholds, then their "below" thresholds;
    /// restart Redis (once the replacement silo has joined).
    /// </summary>
    private static async Task RunFaultsAsync(ChaosScenario scenario, ChaosCluster cluster, RedisProcess redis, BinanceServer binance,
        ChatLedger ledger, IReadOnlyList<SimulatedUser> users, List<FaultRecord> faults, RunLog log, CancellationToken cancellationToken)
    {
        async Task ReachAsync(double fraction, Func<bool>? also = null)
        {
            while (ledger.SentCount < fraction * scenario.PlannedUpdates || (also is not null && !also()))
                await Task.Delay(50, cancellationToken);
        }

        void Record(FaultRecord fault)
        {
            lock (faults)
                faults.Add(fault);
            log.Write($"{fault.Name}: {fault.Detail}");
        }

        var replacementReady = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        async Task KillAndReplaceAsync()
        {
            try
            {
                await ReachAsync(scenario.KillAt);
                var poller = await cluster.FindPollerAsync(TimeSpan.FromSeconds(10));
                var victim = poller?.Silo ?? cluster.Running[0];
                var killedAt = DateTimeOffset.UtcNow;
                victim.Kill();
                Record(new FaultRecord($"kill -9 silo {victim.Name} ({Percent(ledger, scenario)})", killedAt,
                    poller is null ? $"pid {victim.Pid}; no poller lease found, killed the first silo" : $"pid {victim.Pid}, held the poller lease {poller.Value.Holder}"));
                var takeover = await cluster.FindPollerAsync(TimeSpan.FromSeconds(60));
                log.Write(takeover is null ? "no silo took the poller lease within 60 s" : $"silo {takeover.Value.Silo.Name} polls {(DateTimeOffset.UtcNow - killedAt).TotalSeconds:0.0} s after the kill");

                await ReachAsync(scenario.RestartAt);
                var restartAt = DateTimeOffset.UtcNow;
                var replacement = await cluster.StartSiloAsync("d");
                Record(new FaultRecord($"restart: silo d joins ({Percent(ledger, scenario)})", restartAt,
                    $"pid {replacement.Pid}, ready after {(DateTimeOffset.UtcNow - restartAt).TotalSeconds:0.0} s", MeasureRecovery: false));
            }
            finally
            {
                replacementReady.TrySetResult();
            }
        }

        async Task MovePricesAsync()
        {
            await ReachAsync(scenario.PriceUpAt, () => users.All(u => u.AlertsPlaced));
            binance.SetPrice(ChaosScenario.AlertSymbolPair, scenario.UpPrice);
            var movedAt = DateTimeOffset.UtcNow;
            Record(new FaultRecord($"{ChaosScenario.AlertSymbol} {scenario.StartPrice} -> {scenario.UpPrice} ({Percent(ledger, scenario)})", movedAt,
                "crosses every 'above' alert", MeasureRecovery: false));
            // The price watches poll every second: let every "above" crossing be seen before the price turns.
            var expected = users.Sum(u => u.Alerts.Count(a => a.WillCross && a.Condition == "above"));
            while (DateTimeOffset.UtcNow - movedAt < TimeSpan.FromSeconds(30) && users.Sum(u => ledger[u.Id].Notifications.Count) < expected)
                await Task.Delay(100, cancellationToken);
            log.Write($"'above' notifications arrived within {(DateTimeOffset.UtcNow - movedAt).TotalSeconds:0.0} s of the move");

            await ReachAsync(scenario.PriceDownAt);
            binance.SetPrice(ChaosScenario.AlertSymbolPair, scenario.DownPrice);
            Record(new FaultRecord($"{ChaosScenario.AlertSymbol} {scenario.UpPrice} -> {scenario.DownPrice} ({Percent(ledger, scenario)})", DateTimeOffset.UtcNow,
                "crosses every 'below' alert", MeasureRecovery: false));
        }

        async Task RestartRedisAsync()
        {
            // A silo that is still joining when Redis goes away fails its start-up; that is not what this fault tests.
            await replacementReady.Task.WaitAsync(cancellationToken);
            await ReachAsync(scenario.RedisRestartAt);
            var stoppedAt = DateTimeOffset.UtcNow;
            await redis.StopAsync();
            var down = DateTimeOffset.UtcNow;
            await Task.Delay(scenario.RedisDowntime, cancellationToken);
            await redis.StartAgainAsync();
            Record(new FaultRecord($"restart Redis ({Percent(ledger, scenario)})", stoppedAt,
                $"SIGTERM took {(down - stoppedAt).TotalSeconds:0.0} s, down {scenario.RedisDowntime.TotalSeconds:0.0} s, answering PING {(DateTimeOffset.UtcNow - stoppedAt).TotalSeconds:0.0} s after the stop"));
        }

        await Task.WhenAll(KillAndReplaceAsync(), MovePricesAsync(), RestartRedisAsync());
        faults.Sort((a, b) => a.At.CompareTo(b.At));
    }

    private static async Task WaitForNotificationsAsync(ChatLedger ledger, IReadOnlyList<SimulatedUser> users, TimeSpan timeout, RunLog log)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            ledger.Drain();
            var missing = users.Sum(u => u.Alerts.Count(a => a.WillCross) - ledger[u.Id].Notifications.Count);
            if (missing <= 0)
                break;
            await Task.Delay(250);
        }
        log.Write($"notifications settled after {clock.Elapsed.TotalSeconds:0.0} s");
    }

    private static string Percent(ChatLedger ledger, ChaosScenario scenario) => $"{100.0 * ledger.SentCount / scenario.PlannedUpdates:0}%";

    private static async Task Swallow(Task task, RunLog log, string what)
    {
        try
        {
            await task;
        }
        catch (OperationCanceledException)
        {
            log.Write($"{what}: cut short by the load deadline");
        }
    }

    /// <summary>
    /// Everything a silo is told, as environment variables only. Per-user and Telegram pacing limits
    /// are lifted so the run measures the cluster, not the throttles; the LLM gate is wide so no
    /// "busy" notice precedes an answer.
    /// </summary>
    private static Dictionary<string, string> SiloEnvironment(string clusterId, RedisProcess redis, BotApiServer telegram, OpenAiServer llm, BinanceServer binance) => new()
    {
        ["ENGRAM_REDIS"] = redis.ConnectionString,
        ["TELEGRAM_BOT_TOKEN"] = telegram.Token,
        ["TELEGRAM_API_BASE_URL"] = telegram.BaseUrl,
        ["ENGRAM_LLM_ENDPOINT"] = llm.BaseUrl + "/v1",
        ["BINANCE_BASE_URL"] = binance.BaseUrl,
        ["Cluster__ClusterId"] = clusterId,
        ["Cluster__ServiceId"] = clusterId,
        ["Cluster__ProbeTimeout"] = "00:00:01",
        ["telegram__PollTimeoutSeconds"] = "2",
        ["telegram__PollerLeaseTtl"] = "00:00:03",
        ["telegram__MessagesPerSecondPerChat"] = "100",
        ["telegram__ChatBurst"] = "100",
        ["telegram__MessagesPerSecondOverall"] = "1000",
        ["Users__CommandsPerMinute"] = "10000",
        ["Users__QuestionsPerMinute"] = "10000",
        ["Alerts__PollInterval"] = "00:00:01",
        // Prices come from the stand-in over REST (ticker/price); no WebSocket push feed.
        ["PriceStream__Enabled"] = "false",
        ["llm__MaxConcurrentRequests"] = "256",
        ["lmstudio__timeout"] = "30",
        ["LOG_LEVEL"] = "INFO",
    };
}

/// <summary>The driver's own timeline, in a file next to the silos' logs.</summary>
public sealed class RunLog(string path) : IDisposable
{
    private readonly StreamWriter writer = new(path) { AutoFlush = true };
    private readonly Stopwatch clock = Stopwatch.StartNew();

    public void Write(string line)
    {
        lock (writer)
            writer.WriteLine($"{DateTimeOffset.UtcNow:HH:mm:ss.fff} +{clock.Elapsed.TotalSeconds,6:0.0}s {line}");
    }

    public void Dispose()
    {
        lock (writer)
            writer.Dispose();
    }
}

/// <summary>Threads that spin until disposed: a machine whose cores are all busy with other work.</summary>
internal sealed class BusyCores : IDisposable
{
    private readonly CancellationTokenSource stop = new();
    private readonly List<Thread> threads = [];

    public BusyCores(int count)
    {
        for (var i = 0; i < count; i++)
        {
            var thread = new Thread(() =>
            {
                var spins = 0L;
                while (!stop.IsCancellationRequested)
                    spins++;
                GC.KeepAlive(spins);
            })
            { IsBackground = true, Name = $"busy-core-{i}" };
            thread.Start();
            threads.Add(thread);
        }
    }

    public void Dispose()
    {
        if (stop.IsCancellationRequested)
            return;
        stop.Cancel();
        foreach (var thread in threads)
            thread.Join();
    }
}
