using Engram.FunctionalTests.Infrastructure;
using Engram.Grains.Users;
using Engram.Silo.Hosting;
using Engram.Silo.Storage;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace Engram.FunctionalTests.Grains;

/// <summary>
/// An in-process Orleans cluster whose grain storage is the real Redis of <see cref="RedisServer"/>,
/// wired by the silo's own <see cref="EngramCluster.AddEngramGrainStorage"/>.
/// </summary>
public static class UserGrainCluster
{
    public static async Task<InProcessTestCluster> StartAsync(RedisServer redis, string serviceId, short silos = 1)
    {
        var builder = new InProcessTestClusterBuilder(silos);
        builder.Options.ServiceId = serviceId;
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddEngramGrainStorage(new RedisEndpoint(redis.ConnectionString, Embedded: false));
            silo.Services.AddSingleton(TimeProvider.System);
            silo.Services.Configure<UserGrainOptions>(o => o.MaxActiveAlerts = 5);
        });
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }
}
