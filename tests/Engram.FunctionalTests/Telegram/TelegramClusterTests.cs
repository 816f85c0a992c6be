using System.Diagnostics;
using System.Net;
using Engram.FunctionalTests.Infrastructure;
using Engram.TestServers;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace Engram.FunctionalTests.Telegram;

/// <summary>Telegram ingress across real silo processes: the poller lease and its failover, and the webhook.</summary>
[Collection(RedisCollection.Name)]
public sealed class TelegramClusterTests(RedisServer redis, ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string clusterId = "tg-" + Guid.NewGuid().ToString("N")[..8];
    private readonly string workDirectory = Directory.CreateTempSubdirectory("engram-tg-").FullName;
    private readonly List<SiloProcess> silos = [];
    private BotApiServer telegram = null!;

    public async Task InitializeAsync() => telegram = await BotApiServer.StartAsync(new BotApiServerOptions { AutoDeliverWebhook = true });

    public async Task DisposeAsync()
    {
        foreach (var silo in silos)
            await silo.DisposeAsync();
        await telegram.DisposeAsync();
        try { Directory.Delete(workDirectory, recursive: true); } catch (IOException) { }
    }

    private async Task<SiloProcess> StartSiloAsync(string name, Dictionary<string, string>? extra = null, int? httpPort = null)
    {
        var environment = new Dictionary<string, string>
        {
            ["ENGRAM_REDIS"] = redis.ConnectionString,
            ["TELEGRAM_BOT_TOKEN"] = telegram.Token,
            ["TELEGRAM_API_BASE_URL"] = telegram.BaseUrl,
            ["telegram__PollTimeoutSeconds"] = "2",
            ["telegram__PollerLeaseTtl"] = "00:00:03",
            ["telegram__MessagesPerSecondPerChat"] = "50",
            ["telegram__ChatBurst"] = "50",
            ["MarketData__Provider"] = "Csv",
            ["MarketData__CsvDirectory"] = RepositoryPaths.SharedData,
            ["Cluster__ProbeTimeout"] = "00:00:01",
        };
        foreach (var (key, value) in extra ?? [])
            environment[key] = value;
        var silo = await SiloProcess.StartAsync(clusterId, Path.Combine(workDirectory, name), environment, httpPort: httpPort);
        silos.Add(silo);
        return silo;
    }

    private async Task<SiloProcess> CurrentPollerAsync()
    {
        using var connection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            var holder = (string?)await connection.GetDatabase().StringGetAsync($"engram:{clusterId}:telegram:poller");
            var poller = silos.FirstOrDefault(s => !s.HasExited && holder?.Contains($":{s.Pid}:", StringComparison.Ordinal) == true);
            if (poller is not null)
                return poller;
            await Task.Delay(200);
        }
        throw new TimeoutException("no silo took the poller lease");
    }

    [Fact]
    public async Task Only_one_silo_polls_and_when_it_is_killed_another_takes_over_losing_nothing_and_applying_each_update_once()
    {
        await StartSiloAsync("a");
        await StartSiloAsync("b");
        var poller = await CurrentPollerAsync();

        // 20 users each record 10 purchases of 1 BTC: every one must be answered and applied exactly once.
        var users = Enumerable.Range(1, 20).Select(i => 3_000_000L + i).ToList();
        var sending = Task.Run(async () =>
        {
            for (var round = 0; round < 10; round++)
            {
                foreach (var user in users)
                    telegram.EnqueueMessage(user, $"/buy BTC 1 {100 + round}");
                await Task.Delay(300);
            }
        });
        await Task.Delay(1200);
        var clock = Stopwatch.StartNew();
        poller.Kill();
        var survivor = await CurrentPollerAsync();
        output.WriteLine($"poller killed; {survivor.Pid} took over after {clock.Elapsed.TotalSeconds:F1} s");
        await sending;

        var repeats = 0;
        foreach (var user in users)
        {
            // Ten different replies: a repeat from the kill window must not count as one of them.
            await telegram.WaitUntilAsync(t => t.SentMessages.Where(m => m.ChatId == user).Select(m => m.PlainText).Distinct().Count() >= 10, TimeSpan.FromSeconds(90));
            await Task.Delay(100);
            var all = telegram.SentMessages.Where(m => m.ChatId == user).Select(m => m.PlainText).ToList();
            // Every purchase answered ("You now hold N" is unique per purchase) and applied exactly once.
            Assert.Equal(10, all.Distinct().Count());
            Assert.Contains(all, t => t.Contains("You now hold 10 at an average", StringComparison.Ordinal));
            // A reply the killed silo had already handed to Telegram, but not yet recorded as sent, goes
            // out once more after failover: the Bot API has no idempotency key (at-least-once delivery).
            Assert.InRange(all.Count - all.Distinct().Count(), 0, 1);
            repeats += all.Count - all.Distinct().Count();
        }
        output.WriteLine($"replies repeated from the kill -9 window: {repeats} of {users.Count * 10}");
        Assert.Empty(telegram.PendingUpdateIds);
    }

    /// <summary>A hostile client picks the Host header; a reverse proxy rewrites it. Neither decides what is served.</summary>
    [Fact]
    public async Task Endpoints_are_told_apart_by_listener_not_by_the_Host_header()
    {
        var (publicPort, operatorPort, dashboardPort) = (TestPorts.Free(), TestPorts.Free(), TestPorts.Free());
        var secret = "s3cret_" + Guid.NewGuid().ToString("N");
        await StartSiloAsync("h", new Dictionary<string, string>
        {
            ["telegram__Mode"] = "Webhook",
            ["telegram__webhook_url"] = "https://bot.example.com/telegram/webhook",
            ["telegram__webhook_secret"] = secret,
            ["Http__OperatorPort"] = operatorPort.ToString(),
            ["Http__DashboardEnabled"] = "true",
            ["Http__DashboardPort"] = dashboardPort.ToString(),
            ["Http__DashboardPassword"] = "dash-pass",
        }, publicPort);
        await telegram.WaitUntilAsync(t => t.Webhook is not null, TimeSpan.FromSeconds(20));
        using var http = new HttpClient();

        async Task<HttpStatusCode> GetAsync(int port, string path, string? host = null, string? password = null)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{port}{path}");
            if (host is not null)
                request.Headers.Host = host;
            if (password is not null)
                request.Headers.Authorization = new("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("ops:" + password)));
            using var response = await http.SendAsync(request);
            return response.StatusCode;
        }

        // The public listener serves the webhook and health, whatever Host a proxy passes, and nothing operator-side.
        using (var update = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{publicPort}/telegram/webhook")
        {
            Content = new StringContent("""{"update_id":888001,"message":{"message_id":1,"date":1700000000,"chat":{"id":4100001,"type":"private"},"from":{"id":4100001,"is_bot":false,"first_name":"P"},"text":"/start"}}""", System.Text.Encoding.UTF8, "application/json"),
        })
        {
            update.Headers.Host = "bot.example.com";
            update.Headers.Add("X-Telegram-Bot-Api-Secret-Token", secret);
            Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(update)).StatusCode);
        }
        Assert.Contains("Welcome to Engram", (await telegram.WaitForMessagesAsync(4_100_001, 1, TimeSpan.FromSeconds(20)))[0].PlainText);
        Assert.Equal(HttpStatusCode.OK, await GetAsync(publicPort, "/health/ready", "bot.example.com"));
        foreach (var (path, spoofed) in new[] { ("/status", operatorPort), ("/metrics", operatorPort), ("/", dashboardPort), ("/DashboardCounters", dashboardPort) })
        {
            Assert.Equal(HttpStatusCode.NotFound, await GetAsync(publicPort, path, $"x:{spoofed}"));
            Assert.Equal(HttpStatusCode.NotFound, await GetAsync(publicPort, path));
        }

        // The operator listener: health, /status and /metrics; not the webhook, not the Dashboard.
        Assert.Equal(HttpStatusCode.OK, await GetAsync(operatorPort, "/status", $"x:{publicPort}"));
        Assert.Equal(HttpStatusCode.OK, await GetAsync(operatorPort, "/metrics"));
        Assert.Equal(HttpStatusCode.OK, await GetAsync(operatorPort, "/health/live"));
        Assert.Equal(HttpStatusCode.NotFound, await GetAsync(operatorPort, "/", $"x:{dashboardPort}"));
        using (var misplaced = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{operatorPort}/telegram/webhook") { Content = new StringContent("{}") })
        {
            misplaced.Headers.Add("X-Telegram-Bot-Api-Secret-Token", secret);
            Assert.Equal(HttpStatusCode.NotFound, (await http.SendAsync(misplaced)).StatusCode);
        }

        // The Dashboard's own listener serves it, and only it, and with a password set only to who gives it.
        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync(dashboardPort, "/"));
        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync(dashboardPort, "/DashboardCounters", password: "wrong"));
        Assert.Equal(HttpStatusCode.OK, await GetAsync(dashboardPort, "/", password: "dash-pass"));
        Assert.Equal(HttpStatusCode.NotFound, await GetAsync(dashboardPort, "/status", $"x:{operatorPort}", "dash-pass"));
    }

    [Fact]
    public async Task Webhook_mode_answers_on_any_silo_and_refuses_a_wrong_secret()
    {
        var httpPort = TestPorts.Free();
        var secret = "s3cret_" + Guid.NewGuid().ToString("N");
        await StartSiloAsync("w", new Dictionary<string, string>
        {
            ["telegram__Mode"] = "Webhook",
            ["telegram__webhook_url"] = $"http://127.0.0.1:{httpPort}/telegram/webhook",
            ["telegram__webhook_secret"] = secret,
            ["ENGRAM_ALLOWED_USERS"] = "4000001, 4000002",
        }, httpPort);
        await telegram.WaitUntilAsync(t => t.Webhook is not null, TimeSpan.FromSeconds(20));
        Assert.Equal(secret, telegram.Webhook!.SecretToken);

        telegram.EnqueueMessage(4_000_001, "/start");
        var reply = await telegram.WaitForMessagesAsync(4_000_001, 1, TimeSpan.FromSeconds(20));
        Assert.Contains("Welcome to Engram", reply[0].PlainText);

        using var http = new HttpClient();
        var forged = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{httpPort}/telegram/webhook")
        {
            Content = new StringContent("""{"update_id":999999,"message":{"message_id":1,"date":1700000000,"chat":{"id":4000002,"type":"private"},"from":{"id":4000002,"is_bot":false,"first_name":"M"},"text":"/start"}}""", System.Text.Encoding.UTF8, "application/json"),
        };
        forged.Headers.Add("X-Telegram-Bot-Api-Secret-Token", "wrong");
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(forged)).StatusCode);
        await Task.Delay(1000);
        Assert.DoesNotContain(telegram.SentMessages, m => m.ChatId == 4_000_002);

        // Someone not on the allow-list gets one polite refusal, however often they write, and nothing runs for them.
        telegram.EnqueueMessage(4_000_003, "/start");
        telegram.EnqueueMessage(4_000_003, "/portfolio");
        telegram.EnqueueMessage(4_000_003, "hello?");
        Assert.True(await telegram.WaitUntilAsync(t => t.PendingUpdateIds.Count == 0, TimeSpan.FromSeconds(20)));
        await Task.Delay(1000);
        var refusals = telegram.SentMessages.Where(m => m.ChatId == 4_000_003).ToList();
        Assert.Single(refusals);
        Assert.Contains("private", refusals[0].PlainText);
        // Remembered for a day, not forever: strangers' keys do not pile up in Redis.
        await using (var connection = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redis.ConnectionString))
        {
            var ttl = await connection.GetDatabase().KeyTimeToLiveAsync("engram:telegram:refused:4000003");
            Assert.InRange(ttl ?? TimeSpan.Zero, TimeSpan.FromHours(23), TimeSpan.FromDays(1));
        }

        // In a group a stranger is not answered at all, not even a command addressed to the bot: no public refusals.
        telegram.EnqueueMessage(4_000_004, "/start", chatId: -100_777, chatType: "supergroup");
        telegram.EnqueueMessage(4_000_004, "hi all", chatId: -100_777, chatType: "supergroup");
        Assert.True(await telegram.WaitUntilAsync(t => t.PendingUpdateIds.Count == 0, TimeSpan.FromSeconds(20)));
        await Task.Delay(1000);
        Assert.DoesNotContain(telegram.SentMessages, m => m.ChatId == -100_777 || m.ChatId == 4_000_004);

        // The token is in every Bot API URL the silo calls; it must not be in any log line or console output.
        var logs = Directory.EnumerateFiles(workDirectory, "*.log", SearchOption.AllDirectories).Select(File.ReadAllText).ToList();
        Assert.NotEmpty(logs);
        Assert.All(logs.Append(silos[0].Output), text => Assert.DoesNotContain(telegram.Token.Split(':')[1], text));
    }
}
