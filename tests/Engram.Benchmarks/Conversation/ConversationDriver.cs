using System.Diagnostics;
using System.Globalization;
using System.Text;
using Engram.Abstractions.Conversation;
using Engram.Abstractions.Delivery;
using Engram.Abstractions.Inbox;
using Engram.Abstractions.Users;
using Engram.Agent;
using Engram.Benchmarks.Ingress;
using Engram.TestServers;
using Engram.Trading.Tools;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using AI = Microsoft.Extensions.AI;

namespace Engram.Benchmarks.Conversation;

/// <summary>
/// Issue 4: Engram's own time per free-text question. A scripted LLM answers every request after a
/// fixed delay, either with text (one round) or with an analyze_market tool call and then text (two
/// rounds). Engram's added time = question time − rounds × the LLM call as measured directly (the
/// same request body POSTed to the same stand-in), so loopback HTTP and the stand-in's own work are
/// not charged to Engram. Then many users ask at once behind llm:MaxConcurrentRequests.
/// <code>
/// dotnet run -c Release --project tests/Engram.Benchmarks -- conversation [--delay-ms 200] [--questions 200]
///     [--users 100] [--max-concurrent 4] [--scenarios text,tool]
/// </code>
/// </summary>
public static class ConversationDriver
{
    private const string Answer = "BTC trades below its 200-period EMA; momentum is weak, so waiting for a reclaim is the cautious choice.";
    private const int SequentialUsers = 10;

    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        var o = LoadTools.ParseOptions(args);
        var delay = TimeSpan.FromMilliseconds(o.Int("delay-ms", 200));
        var questions = o.Int("questions", 200);
        var burstUsers = o.Int("users", 100);
        var maxConcurrent = o.Int("max-concurrent", 4);
        var warmup = o.Int("warmup", 20);
        var scenarios = o.Str("scenarios", "text,tool").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Console.WriteLine($"conversation load: delay={delay.TotalMilliseconds} ms questions={questions} users={burstUsers} max-concurrent={maxConcurrent} scenarios={string.Join(",", scenarios)}");

        await using var redis = await RedisProcess.StartAsync();
        await using var llm = await OpenAiServer.StartAsync();
        var script = new Script(delay);
        llm.Handler = script.Reply;
        var cluster = await ConversationCluster.StartAsync(redis.ConnectionString, llm.BaseUrl + "/v1", new Dictionary<string, string?>
        {
            ["llm:MaxConcurrentRequests"] = maxConcurrent.ToString(CultureInfo.InvariantCulture),
            ["llm:QueueTimeout"] = "60",
            ["Users:QuestionsPerMinute"] = "10000",
            ["Users:CommandsPerMinute"] = "10000",
        }, services => services.AddSingleton<IMessenger>(Replies));
        var failures = 0;
        try
        {
            var sequentialRows = new List<IReadOnlyList<string>>();
            var burstRows = new List<IReadOnlyList<string>>();
            long nextUser = 7_000_000;
            foreach (var scenario in scenarios)
            {
                script.WithTool = scenario == "tool";
                var users = Enumerable.Range(0, SequentialUsers).Select(_ => cluster.Client.GetGrain<IUserGrain>(Interlocked.Increment(ref nextUser))).ToArray();

                // Warm-up: activations, JIT, the market data cache, the OpenAI client's connections.
                for (var i = 0; i < warmup; i++)
                    await AskAsync(users[i % users.Length], $"warm-up question {i}: should I buy bitcoin now?");

                var sequential = new List<(double TotalMs, int Rounds)>();
                var wrong = 0;
                for (var i = 0; i < questions; i++)
                {
                    var before = script.Calls;
                    var started = Stopwatch.GetTimestamp();
                    var reply = await AskAsync(users[i % users.Length], $"question {i}: should I buy bitcoin now?");
                    var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                    sequential.Add((elapsed, script.Calls - before));
                    if (!reply.Contains(Answer, StringComparison.Ordinal))
                        wrong++;
                }
                failures += wrong;
                var callMs = await CalibrateAsync(llm, 30);
                var rounds = sequential.Select(s => s.Rounds).Distinct().ToArray();
                var total = sequential.Select(s => s.TotalMs).Order().ToArray();
                var overScripted = sequential.Select(s => s.TotalMs - s.Rounds * delay.TotalMilliseconds).Order().ToArray();
                var overMeasured = sequential.Select(s => s.TotalMs - s.Rounds * callMs).Order().ToArray();
                sequentialRows.Add([
                    scenario, string.Join("/", rounds), questions.ToString(CultureInfo.InvariantCulture),
                    LoadTools.Ms(LoadTools.Percentile(total, 50)), LoadTools.Ms(callMs),
                    LoadTools.Ms(LoadTools.Percentile(overMeasured, 50)), LoadTools.Ms(LoadTools.Percentile(overMeasured, 99)),
                    LoadTools.Ms(LoadTools.Percentile(overScripted, 50)), LoadTools.Ms(LoadTools.Percentile(overScripted, 99)),
                    wrong.ToString(CultureInfo.InvariantCulture),
                ]);

                // Many users at once: each asks one question; the silo's gate lets maxConcurrent through.
                var crowd = Enumerable.Range(0, burstUsers).Select(_ => cluster.Client.GetGrain<IUserGrain>(Interlocked.Increment(ref nextUser))).ToArray();
                await Task.WhenAll(crowd.Select(u => SayAsync(u, "/start")));
                llm.ResetMaxConcurrency();
                var callsBefore = script.Calls;
                var wall = Stopwatch.StartNew();
                var outcomes = await Task.WhenAll(crowd.Select(async u =>
                {
                    var started = Stopwatch.GetTimestamp();
                    try
                    {
                        var text = await AskAsync(u, "should I buy bitcoin now?");
                        return (Ms: Stopwatch.GetElapsedTime(started).TotalMilliseconds, Answered: text.Contains(Answer, StringComparison.Ordinal), Error: (string?)null);
                    }
                    catch (Exception ex)
                    {
                        return (Ms: Stopwatch.GetElapsedTime(started).TotalMilliseconds, Answered: false, Error: ex.GetType().Name);
                    }
                }));
                wall.Stop();
                var latencies = outcomes.Select(x => x.Ms).Order().ToArray();
                var answered = outcomes.Count(x => x.Answered);
                var errors = outcomes.Where(x => x.Error is not null).Select(x => x.Error!).ToArray();
                var perRound = rounds.Max();
                var ideal = Math.Ceiling(burstUsers / (double)maxConcurrent) * perRound * delay.TotalMilliseconds;
                failures += burstUsers - answered + (llm.MaxConcurrency > maxConcurrent ? 1 : 0);
                burstRows.Add([
                    scenario, burstUsers.ToString(CultureInfo.InvariantCulture), $"{answered}/{burstUsers}",
                    llm.MaxConcurrency.ToString(CultureInfo.InvariantCulture) + $" (limit {maxConcurrent})",
                    (script.Calls - callsBefore).ToString(CultureInfo.InvariantCulture),
                    (wall.Elapsed.TotalMilliseconds / 1000).ToString("0.00", CultureInfo.InvariantCulture),
                    (ideal / 1000).ToString("0.00", CultureInfo.InvariantCulture),
                    LoadTools.Ms(LoadTools.Percentile(latencies, 50)), LoadTools.Ms(LoadTools.Percentile(latencies, 99)), LoadTools.Ms(latencies[^1]),
                    errors.Length == 0 ? "none" : string.Join(", ", errors.GroupBy(e => e).Select(g => $"{g.Count()}× {g.Key}")),
                ]);
            }

            var components = await ComponentsAsync(cluster, llm, script, Interlocked.Increment(ref nextUser), 200);

            var text = new StringBuilder();
            text.Append('\n').Append(CultureInfo.InvariantCulture, $"Sequential questions (scripted LLM delay {delay.TotalMilliseconds:0} ms per round; goal: added p50 < 5 ms)\n");
            text.Append(LoadTools.Table(
                ["scenario", "LLM rounds", "questions", "total p50 ms", "LLM call measured directly ms", "added p50 ms", "added p99 ms",
                    "added p50 vs scripted delay ms", "added p99 vs scripted delay ms", "wrong answers"], sequentialRows));
            text.Append('\n').Append(CultureInfo.InvariantCulture, $"{burstUsers} users asking at once (llm:MaxConcurrentRequests={maxConcurrent})\n");
            text.Append(LoadTools.Table(
                ["scenario", "users", "answered by the LLM", "max in flight at the LLM", "LLM requests", "wall s", "ideal wall s", "p50 ms", "p99 ms", "max ms", "timeouts/errors"],
                burstRows));
            text.Append("\nPieces of a question's path, measured alone (median of 200 calls, warm grain)\n");
            text.Append(LoadTools.Table(["call", "p50 µs", "p99 µs", "what it stands for"], components));
            Console.WriteLine(text);
            return failures == 0 ? 0 : 1;
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }

    /// <summary>
    /// Engram's pieces measured alone: the client → grain hop, a command through the conversation, one state write,
    /// the tool, and the LLM client stack (OpenAI SDK + function invocation) against the stand-in answering at once.
    /// </summary>
    private static async Task<List<IReadOnlyList<string>>> ComponentsAsync(InProcessTestCluster cluster, OpenAiServer llm, Script script, long userId, int samples)
    {
        var user = cluster.Client.GetGrain<IUserGrain>(userId);
        await SayAsync(user, "/start");
        var rows = new List<IReadOnlyList<string>>();
        async Task Measure(string name, string meaning, Func<Task> call)
        {
            for (var i = 0; i < 20; i++)
                await call();
            var times = new double[samples];
            for (var i = 0; i < samples; i++)
            {
                var started = Stopwatch.GetTimestamp();
                await call();
                times[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            }
            Array.Sort(times);
            rows.Add([name, Us(LoadTools.Percentile(times, 50)), Us(LoadTools.Percentile(times, 99)), meaning]);
        }
        await Measure("GetSettingsAsync", "client → user grain → client, no work (the hop every question pays once)", () => user.GetSettingsAsync());
        await Measure("AcceptAsync(\"/help\")", "a command through the update path: the conversation, one state write, the send", () => SayAsync(user, "/help"));
        await Measure("AcceptAsync(\"/alerts\")", "a command reading the user's alerts, one state write, the send", () => SayAsync(user, "/alerts"));

        var services = cluster.Silos[0].ServiceProvider;
        var trading = services.GetRequiredService<TradingToolService>();
        var clients = services.GetRequiredService<LlmClientFactory>();
        await Measure("analyze_market BTC/USDT 1h", "the tool the scripted model calls (cached candles, indicators, JSON)", () => trading.AnalyzeMarketAsync("BTC/USDT", "1h"));

        // The request Engram sends: system prompt, the question, the seven tools.
        var tools = new AgentTools(trading, new UserContext(await user.GetPortfolioAsync(), await user.GetAlertsAsync(), await user.GetSettingsAsync()));
        List<AI.ChatMessage> messages =
        [
            new(AI.ChatRole.System, SystemPrompt.For("1h", "medium", DateTimeOffset.UtcNow)),
            new(AI.ChatRole.User, "should I buy bitcoin now?"),
        ];
        var options = new AI.ChatOptions { ModelId = clients.Model, Temperature = 0.3f, Tools = [.. tools.Functions], ToolMode = AI.ChatToolMode.Auto };
        var delay = script.Delay;
        script.Delay = TimeSpan.Zero;
        try
        {
            script.WithTool = false;
            await Measure("IChatClient round, LLM answers at once", "OpenAI SDK + function invocation + loopback HTTP + the stand-in, one round", () => clients.ChatClient.GetResponseAsync(messages, options));
            var body = llm.Requests[^1].RawJson;
            using var http = new HttpClient();
            await Measure("raw POST of that request, LLM answers at once", "loopback HTTP + the stand-in alone (subtract from the row above)", async () =>
            {
                using var content = new StringContent(body, Encoding.UTF8, "application/json");
                using var response = await http.PostAsync(llm.BaseUrl + "/v1/chat/completions", content);
                await response.Content.ReadAsByteArrayAsync();
            });
            script.WithTool = true;
            await Measure("IChatClient with a tool round, LLM at once", "two rounds + analyze_market, as the tool scenario", () => clients.ChatClient.GetResponseAsync(messages, options));
        }
        finally
        {
            script.Delay = delay;
        }
        return rows;
    }

    private static string Us(double ms) => (ms * 1000).ToString("0", CultureInfo.InvariantCulture);

    private static readonly ReplyCollector Replies = new();
    private static long nextUpdateId = 1;

    /// <summary>One message through the update path, as Telegram's ingress sends it; a question waits for its answer.</summary>
    private static async Task<string> SayAsync(IUserGrain user, string text)
    {
        var updateId = Interlocked.Increment(ref nextUpdateId);
        var userId = user.GetPrimaryKeyLong();
        if (await user.AcceptAsync(new InboundUpdate(updateId, userId, userId, InboundKind.Text, text)) == UpdateOutcome.Thinking)
        {
            while (await user.CountPendingQuestionsAsync() > 0)
                await Task.Delay(5);
        }
        return Replies.Take(updateId);
    }

    private static Task<string> AskAsync(IUserGrain user, string question) => SayAsync(user, question);

    /// <summary>The transport: keeps each update's replies until the driver reads them.</summary>
    private sealed class ReplyCollector : IMessenger
    {
        private readonly System.Collections.Concurrent.ConcurrentDictionary<long, string> byUpdate = new();

        public bool IsEnabled => true;

        public Task<DeliveryOutcome> SendAsync(OutgoingMessage message, CancellationToken cancellationToken)
        {
            if (message.UpdateId is { } id)
                byUpdate.AddOrUpdate(id, message.Reply.Text, (_, earlier) => earlier + "\n" + message.Reply.Text);
            return Task.FromResult(DeliveryOutcome.Delivered);
        }

        public IAsyncDisposable BeginTyping(long chatId) => NoTyping.Instance;

        public string Take(long updateId) => byUpdate.TryRemove(updateId, out var text) ? text : "";
    }

    /// <summary>
    /// The median time of one LLM round seen from outside Engram: the last request Engram sent,
    /// POSTed as-is to the same stand-in (same scripted delay, same loopback HTTP, same server work).
    /// </summary>
    private static async Task<double> CalibrateAsync(OpenAiServer llm, int samples)
    {
        var body = llm.Requests[^1].RawJson;
        using var http = new HttpClient();
        var times = new List<double>();
        for (var i = 0; i < samples + 3; i++)
        {
            using var content = new StringContent(body, Encoding.UTF8, "application/json");
            var started = Stopwatch.GetTimestamp();
            using var response = await http.PostAsync(llm.BaseUrl + "/v1/chat/completions", content);
            await response.Content.ReadAsByteArrayAsync();
            if (i >= 3)
                times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        return LoadTools.Percentile(times.Order().ToArray(), 50);
    }

    /// <summary>The LLM's script: every request waits the delay; with a tool, the first round asks for analyze_market.</summary>
    private sealed class Script(TimeSpan delay)
    {
        private int calls;

        public TimeSpan Delay { get; set; } = delay;

        public volatile bool WithTool;

        public int Calls => Volatile.Read(ref calls);

        public ScriptedReply Reply(ChatRequest request)
        {
            Interlocked.Increment(ref calls);
            var toolAnswered = request.Messages.Any(m => m.Role == "tool");
            return WithTool && !toolAnswered
                ? ScriptedReply.ToolCall("analyze_market", new { pair = "BTC/USDT", timeframe = "1h" }).After(Delay)
                : ScriptedReply.Text(Answer).After(Delay);
        }
    }
}
