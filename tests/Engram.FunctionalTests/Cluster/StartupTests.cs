using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Engram.FunctionalTests.Infrastructure;
using Xunit.Abstractions;

namespace Engram.FunctionalTests.Cluster;

/// <summary>What an operator sees when a silo cannot start: one line per problem, naming the setting, exit code 2, no stack trace.</summary>
[Collection(RedisCollection.Name)]
public sealed class StartupTests(RedisServer redis, ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string clusterId = "start-" + Guid.NewGuid().ToString("N")[..8];
    private readonly string workDirectory = Directory.CreateTempSubdirectory("engram-start-").FullName;
    private readonly List<SiloProcess> silos = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var silo in silos)
            await silo.DisposeAsync();
        try { Directory.Delete(workDirectory, recursive: true); } catch (IOException) { }
    }

    private async Task<(int? ExitCode, string Output)> RunUntilExitAsync(string name, Dictionary<string, string> settings, int? httpPort = null)
    {
        var environment = new Dictionary<string, string> { ["ENGRAM_REDIS"] = redis.ConnectionString };
        foreach (var (key, value) in settings)
            environment[key] = value;
        var silo = await SiloProcess.StartAsync(clusterId, Path.Combine(workDirectory, name), environment, httpPort: httpPort, waitUntilReady: false);
        silos.Add(silo);
        var exitCode = await silo.WaitForExitAsync(TimeSpan.FromSeconds(60));
        output.WriteLine($"exit code {exitCode}:\n{silo.Output}");
        return (exitCode, silo.Output);
    }

    private static void AssertNoStackTrace(string text)
    {
        Assert.DoesNotContain("   at ", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_settings_are_named_one_line_each_in_both_spellings_with_their_values()
    {
        var (exitCode, text) = await RunUntilExitAsync("bad", new() { ["Users__CommandsPerMinute"] = "0", ["Users__QuestionsPerMinute"] = "-3" });
        Assert.Equal(2, exitCode);
        Assert.Contains("Users:CommandsPerMinute (Users__CommandsPerMinute) = '0': must be between 1 and 10000", text);
        Assert.Contains("Users:QuestionsPerMinute (Users__QuestionsPerMinute) = '-3': must be between 1 and 10000", text);
        Assert.DoesNotContain("UserGrainOptions", text);
        AssertNoStackTrace(text);

        (exitCode, text) = await RunUntilExitAsync("unreadable", new() { ["Users__CommandsPerMinute"] = "lots" });
        Assert.Equal(2, exitCode);
        Assert.Contains("Users:CommandsPerMinute (Users__CommandsPerMinute) = 'lots': not a valid whole number", text);
        AssertNoStackTrace(text);
    }

    [Fact]
    public async Task A_busy_port_is_named_with_its_setting()
    {
        using var squatter = new TcpListener(IPAddress.Loopback, 0);
        squatter.Start();
        var port = ((IPEndPoint)squatter.LocalEndpoint).Port;
        var (exitCode, text) = await RunUntilExitAsync("busy", [], httpPort: port);
        Assert.Equal(2, exitCode);
        Assert.Contains($"Port {port} (Http:Port, Http__Port) is already in use", text);
        AssertNoStackTrace(text);
    }

    [Fact]
    public async Task A_Redis_that_never_answers_is_waited_for_then_named_in_one_line()
    {
        var nothing = TestPorts.Free();
        var clock = Stopwatch.StartNew();
        var (exitCode, text) = await RunUntilExitAsync("no-redis", new() { ["ENGRAM_REDIS"] = $"127.0.0.1:{nothing}", ["Redis__StartupWait"] = "00:00:04" });
        Assert.Equal(2, exitCode);
        Assert.True(clock.Elapsed > TimeSpan.FromSeconds(4), $"gave up after {clock.Elapsed}");
        Assert.Contains($"Redis at 127.0.0.1:{nothing} is not reachable", text);
        Assert.Contains("retrying in", text); // the wait was logged
        Assert.Contains("ENGRAM_REDIS (Redis:ConnectionString)", text);
        Assert.DoesNotContain("Membership failed to start", text);
        AssertNoStackTrace(text);
    }

    [Fact]
    public async Task A_silo_started_before_Redis_waits_for_it_and_then_joins()
    {
        var port = TestPorts.Free();
        var silo = await SiloProcess.StartAsync(clusterId, Path.Combine(workDirectory, "early"),
            new Dictionary<string, string> { ["ENGRAM_REDIS"] = $"127.0.0.1:{port}" }, waitUntilReady: false);
        silos.Add(silo);
        await Task.Delay(TimeSpan.FromSeconds(4)); // Redis is still "starting"
        Assert.False(silo.HasExited, silo.Output);

        // Redis comes up on that port (a forwarder to the tests' Redis) and the silo carries on by itself.
        await using var forwarder = TcpForwarder.Start(port, redis.Port > 0 ? redis.Port : int.Parse(redis.ConnectionString.Split(':')[^1]));
        await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
        Assert.Contains("is not reachable", silo.Output);
        Assert.Contains("answers (after", silo.Output);
    }

    /// <summary>Stands for a Redis that starts late: listens on <paramref name="port"/> and relays to the real one.</summary>
    private sealed class TcpForwarder : IAsyncDisposable
    {
        private readonly TcpListener listener;
        private readonly CancellationTokenSource stop = new();
        private readonly Task accepting;

        private TcpForwarder(int port, int target)
        {
            listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            accepting = AcceptAsync(target);
        }

        public static TcpForwarder Start(int port, int target) => new(port, target);

        private async Task AcceptAsync(int target)
        {
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    var client = await listener.AcceptTcpClientAsync(stop.Token);
                    _ = RelayAsync(client, target);
                }
            }
            catch (OperationCanceledException) { }
            catch (SocketException) { }
        }

        private async Task RelayAsync(TcpClient client, int target)
        {
            using (client)
            using (var upstream = new TcpClient())
            {
                try
                {
                    await upstream.ConnectAsync(IPAddress.Loopback, target, stop.Token);
                    var a = client.GetStream().CopyToAsync(upstream.GetStream(), stop.Token);
                    var b = upstream.GetStream().CopyToAsync(client.GetStream(), stop.Token);
                    await Task.WhenAny(a, b);
                }
                catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException) { }
            }
        }

        public async ValueTask DisposeAsync()
        {
            await stop.CancelAsync();
            listener.Stop();
            await accepting;
        }
    }
}
