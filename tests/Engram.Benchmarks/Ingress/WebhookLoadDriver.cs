using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Engram.TestServers;

namespace Engram.Benchmarks.Ingress;

/// <summary>
/// Issue 5: webhook ingress under load. Real redis-server, the Bot API stand-in for the replies,
/// 1 or 2 real silo processes (Release build), and Telegram-shaped updates POSTed at a fixed
/// concurrency for a fixed time after a warm-up. Latency is request start → 200, i.e. until the
/// update is handled and stored by its user's grain and its replies handed to the Bot API; they are counted
/// separately (replies/s, backlog after the run).
/// <code>
/// dotnet build src/Engram.Silo -c Release
/// dotnet run -c Release --project tests/Engram.Benchmarks -- webhook [--silos 1|2] [--seconds 20] [--warmup 5]
///     [--users 1000] [--concurrency 64] [--commands /alerts,/portfolio]
/// </code>
/// </summary>
public static class WebhookLoadDriver
{
    private const string Secret = "engram-load-secret";
    private const int UserBase = 5_000_000;

    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        var o = LoadTools.ParseOptions(args);
        var settings = new Settings(
            Silos: o.Int("silos", 1),
            Seconds: o.Int("seconds", 20),
            Warmup: o.Int("warmup", 5),
            Users: o.Int("users", 1000),
            Concurrency: o.Int("concurrency", 64),
            Commands: o.Str("commands", "/alerts,/portfolio").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            Configuration: o.Str("configuration", "Release"),
            Kind: o.Str("kind", "message"));
        Console.WriteLine($"webhook load: {settings}");

        await using var redis = await RedisProcess.StartAsync();
        await using var botApi = await BotApiServer.StartAsync();
        var silos = new List<SiloUnderLoad>();
        try
        {
            var clusterId = "load-" + Guid.NewGuid().ToString("N")[..8];
            var environment = new Dictionary<string, string>
            {
                ["ENGRAM_REDIS"] = redis.ConnectionString,
                ["TELEGRAM_BOT_TOKEN"] = botApi.Token,
                ["TELEGRAM_API_BASE_URL"] = botApi.BaseUrl,
                ["telegram__Mode"] = "Webhook",
                ["telegram__webhook_secret"] = Secret,
                // Telegram's real limits (1/s per chat, 30/s per bot) would make the replies the bottleneck; raise them to the maxima.
                ["telegram__MessagesPerSecondPerChat"] = "100",
                ["telegram__ChatBurst"] = "1000",
                ["telegram__MessagesPerSecondOverall"] = "1000",
                ["Users__CommandsPerMinute"] = "10000",
                ["MarketData__Provider"] = "Csv",
                ["MarketData__CsvDirectory"] = LoadTools.SharedData,
                ["Http__DashboardEnabled"] = "false",
                ["LOG_LEVEL"] = "WARNING",
            };
            var assembly = SiloUnderLoad.Assembly(settings.Configuration);
            for (var i = 0; i < settings.Silos; i++)
            {
                silos.Add(await SiloUnderLoad.StartAsync(assembly, clusterId, environment));
                Console.WriteLine($"silo {i + 1} ready (pid {silos[^1].Pid}, http {silos[^1].HttpPort})");
            }

            using var http = new HttpClient(new SocketsHttpHandler
            {
                MaxConnectionsPerServer = settings.Concurrency,
                PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
                UseCookies = false,
                UseProxy = false,
                AutomaticDecompression = DecompressionMethods.None,
            })
            { Timeout = TimeSpan.FromSeconds(30) };
            http.DefaultRequestHeaders.Add("X-Telegram-Bot-Api-Secret-Token", Secret);
            var load = new Load(http, silos.Select(s => new Uri(s.WebhookUrl)).ToArray(), settings);

            // Every user gets a position first (so /portfolio prices it from the cached market data) and an active grain.
            var seeded = Stopwatch.StartNew();
            var seedErrors = await load.SeedAsync("/buy BTC 0.1 65000");
            await botApi.WaitUntilAsync(b => b.SentMessages.Count >= settings.Users, TimeSpan.FromSeconds(120));
            Console.WriteLine($"seeded {settings.Users} users in {seeded.Elapsed.TotalSeconds:0.0} s ({seedErrors} errors, {botApi.SentMessages.Count} replies)");

            var result = await load.RunAsync(silos, redis, botApi);
            Console.WriteLine();
            Console.WriteLine(result.Render(settings));
            return result.Errors == 0 ? 0 : 1;
        }
        catch (Exception ex) when (ex is TimeoutException or InvalidOperationException && silos.Count > 0)
        {
            Console.Error.WriteLine(ex);
            Console.Error.WriteLine("--- last silo output ---");
            Console.Error.WriteLine(silos[^1].Output);
            return 2;
        }
        finally
        {
            foreach (var silo in silos)
                await silo.DisposeAsync();
        }
    }

    public sealed record Settings(int Silos, int Seconds, int Warmup, int Users, int Concurrency, string[] Commands, string Configuration, string Kind)
    {
        public override string ToString() =>
            $"silos={Silos} seconds={Seconds} warmup={Warmup} users={Users} concurrency={Concurrency} commands={string.Join(",", Commands)} kind={Kind} ({Configuration})";
    }

    private sealed class Load(HttpClient http, Uri[] targets, Settings settings)
    {
        private static readonly MediaTypeHeaderValue Json = new("application/json");
        private long nextUpdateId;
        private long sequence;

        /// <summary>One update per user, <see cref="Settings.Concurrency"/> at a time.</summary>
        public async Task<int> SeedAsync(string text)
        {
            var errors = 0;
            await Parallel.ForAsync(0, settings.Users, new ParallelOptions { MaxDegreeOfParallelism = settings.Concurrency }, async (i, _) =>
            {
                if (await PostAsync(targets[i % targets.Length], UserBase + i, text) != HttpStatusCode.OK)
                    Interlocked.Increment(ref errors);
            });
            return errors;
        }

        public async Task<RunResult> RunAsync(IReadOnlyList<SiloUnderLoad> silos, RedisProcess redis, BotApiServer botApi)
        {
            var frequency = Stopwatch.Frequency;
            var begin = Stopwatch.GetTimestamp();
            var measureFrom = begin + settings.Warmup * frequency;
            var measureTo = measureFrom + settings.Seconds * frequency;
            var errorSamples = new System.Collections.Concurrent.ConcurrentQueue<string>();
            var workers = Enumerable.Range(0, settings.Concurrency).Select(w => Task.Run(async () =>
            {
                var random = new Random(w);
                var latencies = new List<double>(settings.Seconds * 200);
                int completed = 0, errors = 0;
                while (Stopwatch.GetTimestamp() < measureTo)
                {
                    var n = Interlocked.Increment(ref sequence);
                    var user = UserBase + (int)(n % settings.Users);
                    var text = settings.Commands[(int)(n / settings.Users % settings.Commands.Length)];
                    var target = targets[random.Next(targets.Length)];
                    var started = Stopwatch.GetTimestamp();
                    HttpStatusCode status;
                    var kind = settings.Kind;
                    string? failure = null;
                    try
                    {
                        status = await PostAsync(target, user, text, kind);
                    }
                    catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                    {
                        status = 0;
                        failure = ex.GetType().Name + ": " + ex.Message;
                    }
                    var ended = Stopwatch.GetTimestamp();
                    if (started < measureFrom || started >= measureTo)
                        continue;
                    if (status == HttpStatusCode.OK)
                    {
                        latencies.Add((ended - started) * 1000.0 / frequency);
                        if (ended <= measureTo)
                            completed++;
                    }
                    else
                    {
                        errors++;
                        if (errorSamples.Count < 10)
                            errorSamples.Enqueue(failure ?? $"HTTP {(int)status}");
                    }
                }
                return (latencies, completed, errors);
            })).ToArray();

            // Snapshots at the edges of the measured window: CPU per process, Redis commands, replies sent.
            await DelayUntil(measureFrom);
            await redis.ResetStatsAsync();
            var before = Snapshot.Take(silos, redis, botApi);
            await DelayUntil(measureTo);
            var after = Snapshot.Take(silos, redis, botApi);
            var commands = await redis.CommandStatsAsync();

            var results = await Task.WhenAll(workers);
            var latencies = results.SelectMany(r => r.latencies).ToArray();
            Array.Sort(latencies);

            // How long the replies take to catch up with what was accepted (each command is answered once).
            var expectedReplies = settings.Users + (settings.Kind == "message" ? Interlocked.Read(ref sequence) : 0);
            var drain = Stopwatch.StartNew();
            await botApi.WaitUntilAsync(b => b.SentMessages.Count >= expectedReplies, TimeSpan.FromSeconds(60));
            var drained = botApi.SentMessages.Count;

            return new RunResult(latencies, results.Sum(r => r.completed), results.Sum(r => r.errors), errorSamples.ToArray(),
                before, after, commands, expectedReplies, drained, drain.Elapsed, silos.Count);
        }

        private async Task<HttpStatusCode> PostAsync(Uri target, long userId, string text, string kind = "message")
        {
            var updateId = Interlocked.Increment(ref nextUpdateId);
            using var content = new ByteArrayContent(UpdateJson(updateId, userId, text, kind));
            content.Headers.ContentType = Json;
            using var response = await http.PostAsync(target, content);
            return response.StatusCode;
        }

        private static async Task DelayUntil(long timestamp)
        {
            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), timestamp);
            if (wait > TimeSpan.Zero)
                await Task.Delay(wait);
        }
    }

    /// <summary>
    /// An update shaped as Telegram sends it (doc_update_message.json), with the bot_command entity Telegram adds.
    /// <paramref name="kind"/> "edited_message" is acknowledged by the router without touching a grain: the HTTP + JSON floor.
    /// </summary>
    public static byte[] UpdateJson(long updateId, long userId, string text, string kind = "message")
    {
        var commandLength = text.IndexOf(' ') is var space and >= 0 ? space : text.Length;
        var date = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        return Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $$$"""{"update_id":{{{updateId}}},"{{{kind}}}":{"message_id":{{{updateId % 1_000_000 + 1}}},"from":{"id":{{{userId}}},"is_bot":false,"first_name":"Load","last_name":"User{{{userId}}}","username":"load{{{userId}}}","language_code":"en"},"chat":{"id":{{{userId}}},"first_name":"Load","last_name":"User{{{userId}}}","username":"load{{{userId}}}","type":"private"},"date":{{{date}}},"text":"{{{text}}}","entities":[{"offset":0,"length":{{{commandLength}}},"type":"bot_command"}]}}"""));
    }

    private sealed record Snapshot(long At, double[] SiloCpuMs, double RedisCpuMs, double DriverCpuMs, double MachineBusyMs, double MachineTotalMs, int Replies)
    {
        public static Snapshot Take(IReadOnlyList<SiloUnderLoad> silos, RedisProcess redis, BotApiServer botApi)
        {
            var (busy, total) = CpuTime.MachineMs();
            return new Snapshot(Stopwatch.GetTimestamp(), silos.Select(s => CpuTime.ProcessMs(s.Pid)).ToArray(), CpuTime.ProcessMs(redis.Pid),
                CpuTime.CurrentProcessMs(), busy, total, botApi.SentMessages.Count);
        }
    }

    private sealed record RunResult(double[] Latencies, int Completed, int Errors, string[] ErrorSamples, Snapshot Before, Snapshot After,
        IReadOnlyList<(string Command, long Calls, double Usec)> RedisCommands, long ExpectedReplies, int RepliesAfterDrain, TimeSpan DrainTime, int Silos)
    {
        public string Render(Settings s)
        {
            var seconds = (After.At - Before.At) / (double)Stopwatch.Frequency;
            var rate = Completed / seconds;
            var text = new StringBuilder();
            text.Append(LoadTools.Table(
                ["silos", "users", "conc.", "window s", "accepted", "updates/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "errors", "replies/s (window)", "reply backlog after run"],
                [[
                    s.Silos.ToString(CultureInfo.InvariantCulture), s.Users.ToString(CultureInfo.InvariantCulture), s.Concurrency.ToString(CultureInfo.InvariantCulture),
                    seconds.ToString("0.0", CultureInfo.InvariantCulture), Completed.ToString(CultureInfo.InvariantCulture), rate.ToString("0", CultureInfo.InvariantCulture),
                    LoadTools.Ms(LoadTools.Percentile(Latencies, 50)), LoadTools.Ms(LoadTools.Percentile(Latencies, 90)),
                    LoadTools.Ms(LoadTools.Percentile(Latencies, 99)), LoadTools.Ms(Latencies.LastOrDefault(double.NaN)),
                    Errors.ToString(CultureInfo.InvariantCulture),
                    ((After.Replies - Before.Replies) / seconds).ToString("0", CultureInfo.InvariantCulture),
                    RepliesAfterDrain >= ExpectedReplies ? $"0 (caught up {DrainTime.TotalSeconds:0.0} s after)" : $"{ExpectedReplies - RepliesAfterDrain} still unsent after 60 s",
                ]]));
            if (ErrorSamples.Length > 0)
                text.Append("\nerrors, e.g.: ").Append(string.Join("; ", ErrorSamples.Distinct().Take(3))).Append('\n');

            // Where the CPU went during the window: cores used and CPU time per accepted update.
            var rows = new List<IReadOnlyList<string>>();
            void Row(string name, double ms) => rows.Add([name, (ms / 1000 / seconds).ToString("0.00", CultureInfo.InvariantCulture),
                Completed == 0 ? "–" : (ms * 1000 / Completed).ToString("0", CultureInfo.InvariantCulture)]);
            for (var i = 0; i < Before.SiloCpuMs.Length; i++)
                Row($"silo {i + 1}", After.SiloCpuMs[i] - Before.SiloCpuMs[i]);
            Row("redis-server", After.RedisCpuMs - Before.RedisCpuMs);
            Row("driver + Bot API stand-in", After.DriverCpuMs - Before.DriverCpuMs);
            var ours = After.SiloCpuMs.Zip(Before.SiloCpuMs, (a, b) => a - b).Sum() + After.RedisCpuMs - Before.RedisCpuMs + After.DriverCpuMs - Before.DriverCpuMs;
            Row("other processes (e.g. the chaos test)", Math.Max(0, After.MachineBusyMs - Before.MachineBusyMs - ours));
            Row("machine idle", (After.MachineTotalMs - Before.MachineTotalMs) - (After.MachineBusyMs - Before.MachineBusyMs));
            text.Append('\n').Append(LoadTools.Table(["process", "cores used", "CPU µs per accepted update"], rows));

            var totalCalls = RedisCommands.Sum(c => c.Calls);
            text.Append('\n').Append(CultureInfo.InvariantCulture,
                $"Redis: {totalCalls / Math.Max(1.0, Completed):0.0} commands per accepted update ({totalCalls / seconds:0} commands/s), the whole pipeline (accept + answer + deliver):\n");
            text.Append(LoadTools.Table(["command", "calls per update", "server µs per call"],
                RedisCommands.Where(c => c.Calls > 0).Take(8).Select(c => (IReadOnlyList<string>)[
                    c.Command, (c.Calls / Math.Max(1.0, Completed)).ToString("0.00", CultureInfo.InvariantCulture),
                    (c.Usec / c.Calls).ToString("0.0", CultureInfo.InvariantCulture)])));
            return text.ToString();
        }
    }
}
