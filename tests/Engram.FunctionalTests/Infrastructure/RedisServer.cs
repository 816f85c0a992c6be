using System.Diagnostics;
using Garnet;
using StackExchange.Redis;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Engram.FunctionalTests.Infrastructure;

/// <summary>
/// The Redis the functional tests run against, never silently skipped:
/// <list type="number">
/// <item><c>ENGRAM_TEST_REDIS</c> (a connection string) when CI or a developer provides one;</item>
/// <item>else a <c>redis-server</c> process started here when the binary is installed;</item>
/// <item>else an in-process Garnet server (the same one the silo embeds).</item>
/// </list>
/// Which one was used is reported as a diagnostic message in the test output.
/// </summary>
public sealed class RedisServer : IAsyncLifetime
{
    private readonly IMessageSink sink;
    private Process? process;
    private GarnetServer? garnet;
    private string? workDirectory;

    public RedisServer(IMessageSink sink) => this.sink = sink;

    public string ConnectionString { get; private set; } = "";
    public string Kind { get; private set; } = "";
    public int Port { get; private set; }

    public async Task InitializeAsync()
    {
        var configured = Environment.GetEnvironmentVariable("ENGRAM_TEST_REDIS");
        if (!string.IsNullOrWhiteSpace(configured))
        {
            ConnectionString = configured;
            Kind = "external Redis from ENGRAM_TEST_REDIS";
        }
        else if (FindOnPath("redis-server") is { } redisServer)
        {
            Port = TestPorts.Free();
            workDirectory = Directory.CreateTempSubdirectory("engram-redis-").FullName;
            process = Process.Start(new ProcessStartInfo(redisServer,
                $"--port {Port} --bind 127.0.0.1 --save \"\" --appendonly yes --dir {workDirectory}")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
            ConnectionString = $"127.0.0.1:{Port}";
            Kind = $"redis-server process started by the tests ({redisServer})";
        }
        else
        {
            Port = TestPorts.Free();
            workDirectory = Directory.CreateTempSubdirectory("engram-garnet-").FullName;
            garnet = new GarnetServer(["--bind", "127.0.0.1", "--port", Port.ToString(), "--lua", "--device-type", "RandomAccess",
                "--aof", "--checkpointdir", workDirectory, "-m", "128m"]);
            garnet.Start();
            ConnectionString = $"127.0.0.1:{Port}";
            Kind = "embedded Garnet (no redis-server binary found)";
        }

        await WaitUntilReachableAsync();
        sink.OnMessage(new DiagnosticMessage($"Engram functional tests use {Kind} at {ConnectionString}"));
    }

    private async Task WaitUntilReachableAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            try
            {
                using var connection = await ConnectionMultiplexer.ConnectAsync(ConnectionString);
                await connection.GetDatabase().PingAsync();
                return;
            }
            catch (RedisConnectionException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    public Task DisposeAsync()
    {
        if (process is { HasExited: false })
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(5000);
        }
        process?.Dispose();
        garnet?.Dispose();
        if (workDirectory is not null)
            try { Directory.Delete(workDirectory, recursive: true); } catch (IOException) { }
        return Task.CompletedTask;
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);
}

[CollectionDefinition(Name)]
public sealed class RedisCollection : ICollectionFixture<RedisServer>
{
    public const string Name = "redis";
}
