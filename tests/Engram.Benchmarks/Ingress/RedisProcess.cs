using System.Diagnostics;
using System.Globalization;
using StackExchange.Redis;

namespace Engram.Benchmarks.Ingress;

/// <summary>
/// A <c>redis-server</c> of its own on a free loopback port, configured as the functional tests'
/// one (append-only file, fsync every second, no RDB snapshots), removed with its data at the end.
/// </summary>
public sealed class RedisProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly string directory;

    private RedisProcess(Process process, string directory, int port, ConnectionMultiplexer connection)
    {
        this.process = process;
        this.directory = directory;
        Port = port;
        Connection = connection;
    }

    public int Port { get; }
    public int Pid => process.Id;
    public string ConnectionString => $"127.0.0.1:{Port}";

    /// <summary>The driver's own connection, for statistics (not used by Engram).</summary>
    public ConnectionMultiplexer Connection { get; }

    public static async Task<RedisProcess> StartAsync(string binary = "/usr/bin/redis-server")
    {
        if (!File.Exists(binary))
            throw new FileNotFoundException("redis-server is needed (apt-get install redis-server)", binary);
        var port = LoadTools.FreePort();
        var directory = Directory.CreateTempSubdirectory("engram-load-redis-").FullName;
        var process = Process.Start(new ProcessStartInfo(binary,
            ["--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes", "--dir", directory])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            try
            {
                var connection = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{port},allowAdmin=true");
                await connection.GetDatabase().PingAsync();
                return new RedisProcess(process, directory, port, connection);
            }
            catch (RedisConnectionException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    /// <summary>Zeroes the command statistics (CONFIG RESETSTAT).</summary>
    public Task ResetStatsAsync() => Connection.GetServer(Connection.GetEndPoints()[0]).ConfigResetStatisticsAsync();

    /// <summary>Calls and total µs per command since the last reset (INFO commandstats).</summary>
    public async Task<IReadOnlyList<(string Command, long Calls, double Usec)>> CommandStatsAsync()
    {
        var info = await Connection.GetServer(Connection.GetEndPoints()[0]).InfoAsync("commandstats");
        var stats = new List<(string, long, double)>();
        foreach (var pair in info.SelectMany(g => g))
        {
            // cmdstat_evalsha -> calls=12,usec=345,usec_per_call=...
            var fields = pair.Value.Split(',').Select(f => f.Split('=')).Where(f => f.Length == 2).ToDictionary(f => f[0], f => f[1]);
            stats.Add((pair.Key.Replace("cmdstat_", "", StringComparison.Ordinal),
                long.Parse(fields["calls"], CultureInfo.InvariantCulture), double.Parse(fields["usec"], CultureInfo.InvariantCulture)));
        }
        return stats.OrderByDescending(s => s.Item2).ToList();
    }

    public async ValueTask DisposeAsync()
    {
        await Connection.DisposeAsync();
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        process.Dispose();
        try { Directory.Delete(directory, recursive: true); } catch (IOException) { }
    }
}
