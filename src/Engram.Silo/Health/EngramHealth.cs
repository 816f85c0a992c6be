using Engram.Silo.Configuration;
using Engram.Silo.Hosting;
using Engram.Silo.Storage;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Engram.Silo.Health;

public static class EngramHealth
{
    private const string ReadyTag = "ready";

    /// <summary>
    /// Liveness (the process answers) and readiness (this silo is an active member of the
    /// cluster and Redis answers a PING), for load balancers and container health checks.
    /// </summary>
    public static WebApplicationBuilder AddEngramHealth(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<IConnectionMultiplexer>(sp =>
            ConnectionMultiplexer.Connect(sp.GetRequiredService<RedisEndpoint>().ToConfigurationOptions()));
        builder.Services.AddSingleton<Engram.Grains.Operations.IOperationalStatus, Operations.SiloOperationalStatus>();
        builder.Services.AddHealthChecks()
            .AddCheck<ClusterMembershipHealthCheck>("cluster", tags: [ReadyTag])
            .AddCheck<RedisHealthCheck>("redis", tags: [ReadyTag]);
        return builder;
    }

    public static WebApplication MapEngramHealth(this WebApplication app)
    {
        // On the public listener too: a load balancer in front of the webhook checks there. They say
        // Healthy or Unhealthy and nothing more.
        var http = app.Listeners();
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false }).ServedOn(http.Port, http.EffectiveOperatorPort);
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains(ReadyTag) }).ServedOn(http.Port, http.EffectiveOperatorPort);
        return app;
    }
}

internal sealed class ClusterMembershipHealthCheck(IClusterMembershipService membership, ILocalSiloDetails local) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var status = membership.CurrentSnapshot.GetSiloStatus(local.SiloAddress);
        return Task.FromResult(status == SiloStatus.Active
            ? HealthCheckResult.Healthy($"silo {local.SiloAddress} is active")
            : HealthCheckResult.Unhealthy($"silo {local.SiloAddress} is {status}"));
    }
}

internal sealed class RedisHealthCheck(IConnectionMultiplexer redis) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var latency = await redis.GetDatabase().PingAsync().WaitAsync(TimeSpan.FromSeconds(2), cancellationToken);
            return HealthCheckResult.Healthy($"redis ping {latency.TotalMilliseconds:F1} ms");
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy("redis unreachable: " + ex.GetType().Name);
        }
    }
}
