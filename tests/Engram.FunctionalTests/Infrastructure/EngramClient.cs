using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using StackExchange.Redis;

namespace Engram.FunctionalTests.Infrastructure;

/// <summary>An Orleans client that finds the silos' gateways through Redis membership, as any client of the cluster would.</summary>
public sealed class EngramClient : IAsyncDisposable
{
    private readonly IHost host;

    private EngramClient(IHost host) => this.host = host;

    public IClusterClient Cluster => host.Services.GetRequiredService<IClusterClient>();

    /// <param name="certificate">The cluster's TLS certificate, when its silos require one (Cluster:TlsCertificatePath).</param>
    public static async Task<EngramClient> ConnectAsync(string redisConnectionString, string clusterId, System.Security.Cryptography.X509Certificates.X509Certificate2? certificate = null)
    {
        var host = Host.CreateDefaultBuilder()
            .ConfigureLogging(l => l.SetMinimumLevel(LogLevel.Warning))
            .UseOrleansClient(client =>
            {
                client.UseRedisClustering(o => o.ConfigurationOptions = ConfigurationOptions.Parse(redisConnectionString));
                client.Configure<ClusterOptions>(o =>
                {
                    o.ClusterId = clusterId;
                    o.ServiceId = clusterId;
                });
                // Fail fast against a dead silo so the test's retry loop (not a 30 s timeout) decides.
                client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(5));
                client.Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = TimeSpan.FromSeconds(1));
                if (certificate is not null)
                    client.UseTls(certificate, tls => Engram.Silo.Hosting.ClusterEndpoints.RequireSameCertificate(tls, certificate));
            })
            .Build();
        await host.StartAsync();
        return new EngramClient(host);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await host.StopAsync(cts.Token);
        }
        catch (Exception) { /* the cluster may already be gone */ }
        host.Dispose();
    }
}
