using System.Diagnostics;
using StackExchange.Redis;

namespace Engram.ChaosTests.Infrastructure;

/// <summary>
/// A <c>redis-server</c> process owned by the test, so it can be stopped and started again on the
/// same port with the same <c>--dir</c> and append-only file: what survives is what Redis persisted.
/// Without the binary, a Garnet server in the test process (the one the silo embeds), stopped and
/// started again on the same port and checkpoint directory with <c>--aof --recover</c>.
/// Not <c>ENGRAM_TEST_REDIS</c>: a shared server cannot be restarted by one test.
/// </summary>
public sealed class RedisProcess : IAsyncDisposable
{
    private readonly string? binary;
    private readonly string logFile;
    private Process? process;
    private Garnet.GarnetServer? garnet;

    private RedisProcess(string? binary, int port, string directory, string logFile)
    {
        this.binary = binary;
        Port = port;
        Directory = directory;
        this.logFile = logFile;
    }

    public int Port { get; }
    public string Directory { get; }
    public string ConnectionString => $"127.0.0.1:{Port}";
    public int? Pid => process is { HasExited: false } p ? p.Id : null;

    /// <summary>What the run uses, for its log: a redis-server process or the in-process Garnet.</summary>
    public string Kind => binary is null ? "embedded Garnet (no redis-server binary found)" : $"redis-server process ({binary})";

    public static async Task<RedisProcess> StartAsync(string directory, string logFile)
    {
        var binary = ChaosPaths.FindOnPath("redis-server");
        var redis = new RedisProcess(binary, ChaosPaths.FreePort(), System.IO.Directory.CreateDirectory(directory).FullName, logFile);
        await redis.StartProcessAsync();
        return redis;
    }

    /// <summary>Starts the server again on the same port and directory and waits until it answers PING (AOF loaded).</summary>
    public Task StartAgainAsync() => StartProcessAsync();

    private async Task StartProcessAsync()
    {
        if (binary is null)
        {
            garnet = new Garnet.GarnetServer(["--bind", "127.0.0.1", "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--lua", "--device-type", "RandomAccess", "--aof", "--recover", "--checkpointdir", Directory, "-m", "256m"]);
            garnet.Start();
            await WaitUntilReachableAsync(TimeSpan.FromSeconds(20));
            return;
        }
        // The append-only file is the durability Engram relies on; SIGTERM (below) makes Redis fsync it before exiting.
        var start = new ProcessStartInfo(binary,
            $"--port {Port} --bind 127.0.0.1 --dir {Directory} --appendonly yes --appendfsync everysec --save \"\" --logfile \"{logFile}\"")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        process = Process.Start(start)!;
        await WaitUntilReachableAsync(TimeSpan.FromSeconds(20));
    }

    /// <summary>SIGTERM, as systemd would stop it: Redis finishes the AOF and exits; clients see the connection drop.</summary>
    public async Task StopAsync()
    {
        if (garnet is not null)
        {
            garnet.Dispose();
            garnet = null;
            return;
        }
        if (process is not { HasExited: false } running)
            return;
        using (var term = Process.Start("kill", ["-TERM", running.Id.ToString()]))
            await term.WaitForExitAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            await running.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            running.Kill();
            await running.WaitForExitAsync();
        }
        running.Dispose();
        process = null;
    }

    private async Task WaitUntilReachableAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                using var connection = await ConnectionMultiplexer.ConnectAsync(ConnectionString + ",connectTimeout=1000");
                await connection.GetDatabase().PingAsync();
                return;
            }
            catch (Exception ex) when (ex is RedisConnectionException or RedisServerException && DateTime.UtcNow < deadline)
            {
                // Not listening yet, or still loading the append-only file.
                if (process is { HasExited: true } dead)
                    throw new InvalidOperationException($"redis-server exited with code {dead.ExitCode}; see {logFile}");
                await Task.Delay(100);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (process is { HasExited: false } running)
        {
            running.Kill();
            await running.WaitForExitAsync();
        }
        process?.Dispose();
        garnet?.Dispose();
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}
