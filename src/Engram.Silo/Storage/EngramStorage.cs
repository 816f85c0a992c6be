using System.Net;
using System.Net.Sockets;
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
        EnsurePortFree(options.EmbeddedPort);

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

    private static void EnsurePortFree(int port)
    {
        try
        {
            using var probe = new TcpListener(IPAddress.Loopback, port);
            probe.Start();
            probe.Stop();
        }
        catch (SocketException)
        {
            throw new InvalidOperationException(
                $"Port {port} for the embedded Redis store is already in use. Set Redis__EmbeddedPort to a free port, " +
                "or point ENGRAM_REDIS at a shared Redis server (needed anyway to run several silos as one cluster).");
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose() => server.Dispose();
}
