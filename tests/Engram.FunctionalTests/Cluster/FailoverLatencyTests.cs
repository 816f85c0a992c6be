using System.Diagnostics;
using Engram.Abstractions.Users;
using Engram.FunctionalTests.Infrastructure;
using Engram.TestServers;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace Engram.FunctionalTests.Cluster;

/// <summary>
/// kill -9 of the silo that polls Telegram and hosts half the users, with real silo processes at the default failure
/// detection settings: every user is answered again, nothing is lost or applied twice, and the time from the kill to
/// each user's next reply is printed (a measurement quoted in notes, not asserted: timings are for benchmarks).
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class FailoverLatencyTests(RedisServer redis, ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string clusterId = "fo-" + Guid.NewGuid().ToString("N")[..8];
    private readonly string workDirectory = Directory.CreateTempSubdirectory("engram-fo-").FullName;
    private readonly List<SiloProcess> silos = [];
    private BotApiServer telegram = null!;

    private TcpBalancer? balancer;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var silo in silos)
            await silo.DisposeAsync();
        if (balancer is not null)
            await balancer.DisposeAsync();
        if (telegram is not null)
            await telegram.DisposeAsync();
        try { Directory.Delete(workDirectory, recursive: true); } catch (IOException) { }
    }

    private async Task<SiloProcess> StartSiloAsync(string name, bool webhook)
    {
        var port = TestPorts.Free();
        var settings = new Dictionary<string, string>
        {
            ["ENGRAM_REDIS"] = redis.ConnectionString,
            ["TELEGRAM_BOT_TOKEN"] = telegram.Token,
            ["TELEGRAM_API_BASE_URL"] = telegram.BaseUrl,
            ["telegram__PollTimeoutSeconds"] = "2",
            ["telegram__MessagesPerSecondPerChat"] = "50",
            ["telegram__ChatBurst"] = "50",
            // 50 users × 2 messages a second is over Telegram's 30/s for a bot: with that limit on, this would
            // measure the send queue, not the failover.
            ["telegram__MessagesPerSecondOverall"] = "0",
            ["MarketData__Provider"] = "Csv",
            ["MarketData__CsvDirectory"] = RepositoryPaths.SharedData,
            // Everything else at its defaults: the poller lease's TTL (10 s), probes, the directory's hold.
        };
        if (webhook)
        {
            // Telegram posts to one public URL; the balancer in front spreads it over the silos' webhook listeners.
            settings["telegram__Mode"] = "Webhook";
            settings["telegram__webhook_url"] = $"http://127.0.0.1:{balancer!.Port}/telegram/webhook";
            settings["telegram__webhook_secret"] = "failover-secret";
            balancer.Add(port);
        }
        var silo = await SiloProcess.StartAsync(clusterId, Path.Combine(workDirectory, name), settings, httpPort: port);
        silos.Add(silo);
        return silo;
    }

    [Theory]
    [InlineData("polling", false)]
    [InlineData("polling", true)]
    [InlineData("webhook", false)]
    public async Task After_kill_9_or_SIGTERM_of_a_silo_every_user_is_answered_again_and_the_wait_is_reported(string mode, bool graceful)
    {
        var webhook = mode == "webhook";
        // Telegram retries a webhook update that failed; the stand-in does so a few times, 250 ms apart.
        telegram = await BotApiServer.StartAsync(new BotApiServerOptions { AutoDeliverWebhook = webhook, WebhookMaxAttempts = 40, WebhookRetryDelay = TimeSpan.FromMilliseconds(250) });
        balancer = webhook ? TcpBalancer.Start() : null;
        await StartSiloAsync("a", webhook);
        await StartSiloAsync("b", webhook);
        SiloProcess? poller = null;
        if (webhook)
        {
            await telegram.WaitUntilAsync(t => t.Webhook is not null, TimeSpan.FromSeconds(30));
            poller = silos[0]; // "the victim": in webhook mode any silo takes updates
        }
        using var connection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        for (var i = 0; i < 150 && poller is null; i++)
        {
            var holder = (string?)await connection.GetDatabase().StringGetAsync($"engram:{clusterId}:telegram:poller");
            poller = silos.FirstOrDefault(s => holder?.Contains($":{s.Pid}:", StringComparison.Ordinal) == true);
            if (poller is null)
                await Task.Delay(200);
        }
        Assert.NotNull(poller);

        var users = Enumerable.Range(1, 50).Select(i => 3_500_000L + i).ToList();
        using var sending = new CancellationTokenSource();
        var sent = users.ToDictionary(u => u, _ => 0);
        var traffic = Task.Run(async () =>
        {
            // Each user buys 1 BTC every 500 ms: each reply says the new holding, so each purchase is told apart.
            while (!sending.IsCancellationRequested)
            {
                foreach (var user in users)
                {
                    sent[user]++;
                    telegram.EnqueueMessage(user, $"/buy BTC 1 {100 + sent[user]}");
                }
                await Task.Delay(500);
            }
        });
        Assert.True(await telegram.WaitUntilAsync(t => users.All(u => t.SentMessages.Any(m => m.ChatId == u)), TimeSpan.FromSeconds(60)), "not every user was answered before the kill");

        // Where each user's grain lives: the victim's users wait for the directory, the others only for the poller.
        Dictionary<long, bool> onVictim;
        await using (var client = await EngramClient.ConnectAsync(redis.ConnectionString, clusterId))
        {
            var management = client.Cluster.GetGrain<IManagementGrain>(0);
            onVictim = [];
            foreach (var user in users)
            {
                var address = await management.GetActivationAddress((IAddressable)client.Cluster.GetGrain<IUserGrain>(user));
                Assert.NotNull(address);
                onVictim[user] = address!.Endpoint.Port == poller!.SiloPort;
            }
        }
        output.WriteLine($"{onVictim.Count(p => p.Value)} of {users.Count} users' grains on the polling silo, which is killed");

        var killedAt = DateTimeOffset.UtcNow;
        var stopping = graceful ? poller!.StopAsync() : Task.Run(poller!.Kill);
        Assert.True(await telegram.WaitUntilAsync(t => users.All(u => t.SentMessages.Any(m => m.ChatId == u && m.ReceivedAt > killedAt)), TimeSpan.FromSeconds(60)),
            "some users were never answered after the kill");
        var waits = users.ToDictionary(u => u, u => (telegram.SentMessages.Where(m => m.ChatId == u && m.ReceivedAt > killedAt).Min(m => m.ReceivedAt) - killedAt).TotalSeconds);
        await stopping;
        await Task.Delay(2000);
        await sending.CancelAsync();
        await traffic;

        // Nothing lost, nothing applied twice: every purchase answered once with its own holding.
        foreach (var user in users)
        {
            Assert.True(await telegram.WaitUntilAsync(t => t.SentMessages.Where(m => m.ChatId == user).Select(m => m.PlainText).Distinct().Count() >= sent[user], TimeSpan.FromSeconds(60)),
                $"user {user}: {sent[user]} purchases, {telegram.SentMessages.Where(m => m.ChatId == user).Select(m => m.PlainText).Distinct().Count()} distinct replies");
            var replies = telegram.SentMessages.Where(m => m.ChatId == user).Select(m => m.PlainText).ToList();
            Assert.Contains(replies, r => r.Contains($"You now hold {sent[user]} at an average", StringComparison.Ordinal));
            Assert.InRange(replies.Count - replies.Distinct().Count(), 0, 1); // the Bot API's missing idempotency: one repeat at most
        }

        output.WriteLine($"{mode} mode, {(graceful ? "SIGTERM (a deploy)" : "kill -9")} of {(webhook ? "a silo behind the balancer" : "the polling silo")}:");
        Report("all users", waits.Values);
        Report("users whose grain was on the killed silo", users.Where(u => onVictim[u]).Select(u => waits[u]));
        Report("users on the surviving silo", users.Where(u => !onVictim[u]).Select(u => waits[u]));
    }

    /// <summary>A TCP load balancer in front of the silos' webhook ports: round robin, the next backend when one refuses.</summary>
    private sealed class TcpBalancer : IAsyncDisposable
    {
        private readonly System.Net.Sockets.TcpListener listener = new(System.Net.IPAddress.Loopback, 0);
        private readonly List<int> backends = [];
        private readonly CancellationTokenSource stop = new();
        private Task accepting = Task.CompletedTask;
        private int next;

        public int Port => ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;

        public static TcpBalancer Start()
        {
            var balancer = new TcpBalancer();
            balancer.listener.Start();
            balancer.accepting = balancer.AcceptAsync();
            return balancer;
        }

        public void Add(int port)
        {
            lock (backends)
                backends.Add(port);
        }

        private async Task AcceptAsync()
        {
            try
            {
                while (!stop.IsCancellationRequested)
                    _ = RelayAsync(await listener.AcceptTcpClientAsync(stop.Token));
            }
            catch (Exception ex) when (ex is OperationCanceledException or System.Net.Sockets.SocketException) { }
        }

        private async Task RelayAsync(System.Net.Sockets.TcpClient client)
        {
            using (client)
            {
                int[] order;
                lock (backends)
                {
                    var start = next++;
                    order = Enumerable.Range(0, backends.Count).Select(i => backends[(start + i) % backends.Count]).ToArray();
                }
                foreach (var port in order)
                {
                    using var upstream = new System.Net.Sockets.TcpClient();
                    try
                    {
                        await upstream.ConnectAsync(System.Net.IPAddress.Loopback, port, stop.Token);
                    }
                    catch (System.Net.Sockets.SocketException)
                    {
                        continue; // that silo is gone: the next one
                    }
                    try
                    {
                        await Task.WhenAny(client.GetStream().CopyToAsync(upstream.GetStream(), stop.Token), upstream.GetStream().CopyToAsync(client.GetStream(), stop.Token));
                    }
                    catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or OperationCanceledException) { }
                    return;
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            await stop.CancelAsync();
            listener.Stop();
            await accepting;
        }
    }

    private void Report(string who, IEnumerable<double> seconds)
    {
        var sorted = seconds.Order().ToList();
        if (sorted.Count == 0)
        {
            output.WriteLine($"{who}: none");
            return;
        }
        double At(double q) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)];
        output.WriteLine($"stop → next reply, {who} (n={sorted.Count}): min {sorted[0]:F2} s, p50 {At(0.5):F2} s, p90 {At(0.9):F2} s, p99 {At(0.99):F2} s, max {sorted[^1]:F2} s");
    }
}
