using Engram.Silo.Configuration;
using Garnet;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Engram.Silo.Storage;

/// <summary>The Redis endpoint every provider of this silo uses (external, or the embedded Garnet).</summary>
public sealed record RedisEndpoint(string ConnectionString, bool Embedded)
{
    public ConfigurationOptions ToConfigurationOptions()
    {
        var options = ConfigurationOptions.Parse(ConnectionString);
        // Keep retrying in the background while Redis restarts instead of failing the silo.
        options.AbortOnConnectFail = false;
        return options;
    }

    /// <summary>For logs: the host and port only, never a password.</summary>
    public string Describe() =>
        string.Join(",", ConfigurationOptions.Parse(ConnectionString).EndPoints.Select(e => e.ToString())) + (Embedded ? " (embedded Garnet)" : "");
}

public static partial class EngramStorage
{
    /// <summary>
    /// Resolves where Redis is. With <c>ENGRAM_REDIS</c> set, that server is used and nothing is
    /// started. Without it, an in-process Garnet server starts now on a loopback port, with its
    /// data under <c>Redis:DataDirectory</c>, so a first run needs no setup and keeps its data.
    /// It must start before the silo is built, because the Orleans providers connect at start-up.
    /// </summary>
    public static RedisEndpoint AddEngramStorage(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(RedisOptions.SectionName).Get<RedisOptions>() ?? new RedisOptions();
        builder.Services.AddOptions<RedisOptions>().BindConfiguration(RedisOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();

        if (!options.UsesEmbeddedServer)
        {
            var external = new RedisEndpoint(options.ConnectionString!, Embedded: false);
            builder.Services.AddSingleton(external);
            // Registered before Orleans: the silo joins the cluster only once Redis answers.
            builder.Services.AddHostedService<RedisReadiness>();
            return external;
        }

        var garnet = EmbeddedGarnet.Start(options);
        var endpoint = new RedisEndpoint($"127.0.0.1:{options.EmbeddedPort}", Embedded: true);
        builder.Services.AddSingleton(endpoint);
        builder.Services.AddSingleton(garnet);
        // Registered before Orleans, so it stops after the silo has left the cluster.
        builder.Services.AddHostedService(sp => sp.GetRequiredService<EmbeddedGarnet>());
        return endpoint;
    }
}

/// <summary>An in-process Garnet (Redis-compatible) server for the zero-configuration default.</summary>
public sealed class EmbeddedGarnet : IHostedService, IDisposable
{
    private readonly GarnetServer server;

    private EmbeddedGarnet(GarnetServer server, string dataDirectory)
    {
        this.server = server;
        DataDirectory = dataDirectory;
    }

    public string DataDirectory { get; }

    public static EmbeddedGarnet Start(RedisOptions options)
    {
        var dataDirectory = Path.GetFullPath(options.DataDirectory);
        Directory.CreateDirectory(dataDirectory);
        StartupFailure.EnsurePortFree("127.0.0.1", options.EmbeddedPort, "Redis:EmbeddedPort");

        string[] args =
        [
            "--bind", "127.0.0.1",
            "--port", options.EmbeddedPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            // Orleans' Redis providers run Lua scripts; without Lua the silo hangs while joining.
            "--lua",
            // The default native device needs a newer glibc and libaio than Debian 12 has.
            "--device-type", "RandomAccess",
            // Append-only file + recovery: every write survives a restart of the process.
            "--aof",
            "--recover",
            "--checkpointdir", Path.Combine(dataDirectory, "checkpoints"),
            "-m", options.EmbeddedMemory,
        ];
        var server = new GarnetServer(args);
        server.Start();
        return new EmbeddedGarnet(server, dataDirectory);
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose() => server.Dispose();
}

/// <summary>
/// Holds the start of the silo until the external Redis answers a PING: started before Redis (compose, systemd) or
/// during a Redis restart, the silo says so and waits with a backoff (1, 2, 4 … 15 s) for up to
/// <see cref="RedisOptions.StartupWait"/>, then gives up with one line naming the setting, instead of Orleans'
/// "Membership failed to start" and a stack trace after 5 s.
/// </summary>
internal sealed partial class RedisReadiness(RedisEndpoint endpoint, IOptions<RedisOptions> options, ILogger<RedisReadiness> logger) : IHostedLifecycleService
{
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(15);

    /// <summary>Runs before any service's StartAsync (Orleans' included), in registration order.</summary>
    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        var wait = options.Value.StartupWait;
        var deadline = DateTime.UtcNow + wait;
        var delay = TimeSpan.FromSeconds(1);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var probe = endpoint.ToConfigurationOptions();
                probe.AbortOnConnectFail = true;
                probe.ConnectRetry = 1;
                probe.ConnectTimeout = 2_000;
                await using var connection = await ConnectionMultiplexer.ConnectAsync(probe);
                await connection.GetDatabase().PingAsync();
                if (attempt > 1)
                    LogReachable(endpoint.Describe(), attempt);
                return;
            }
            catch (RedisConnectionException ex) when (ex.FailureType == ConnectionFailureType.AuthenticationFailure)
            {
                throw new StartupException($"Redis at {endpoint.Describe()} refused the credentials: check the password in ENGRAM_REDIS (Redis:ConnectionString)", ex);
            }
            catch (RedisConnectionException ex)
            {
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero)
                    throw new StartupException(
                        $"Redis at {endpoint.Describe()} is not reachable ({ex.FailureType}) after {wait.TotalSeconds:0} s: start it, or point ENGRAM_REDIS (Redis:ConnectionString) at one that runs; Redis:StartupWait sets how long to wait", ex);
                var next = delay < left ? delay : left;
                LogUnreachable(endpoint.Describe(), ex.FailureType.ToString(), next.TotalSeconds, attempt, wait.TotalSeconds);
                await Task.Delay(next, cancellationToken);
                delay = delay * 2 < MaxDelay ? delay * 2 : MaxDelay;
            }
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis at {Redis} is not reachable ({Failure}); retrying in {Delay:0} s (attempt {Attempt}, waiting up to {Wait:0} s)")]
    private partial void LogUnreachable(string redis, string failure, double delay, int attempt, double wait);

    [LoggerMessage(Level = LogLevel.Information, Message = "Redis at {Redis} answers (after {Attempts} attempts); starting the silo")]
    private partial void LogReachable(string redis, int attempts);
}
