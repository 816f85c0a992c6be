using Engram.FunctionalTests.Infrastructure;
using Engram.Grains;
using Engram.Grains.Conversation;
using Engram.Grains.Users;
using Engram.Silo.Hosting;
using Engram.Silo.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace Engram.FunctionalTests.Grains;

/// <summary>
/// An in-process Orleans cluster whose grain storage is the real Redis of <see cref="RedisServer"/>,
/// wired by the silo's own <see cref="EngramCluster.AddEngramGrainStorage"/>, with market data
/// from the real candles in ../shared/data and the LLM at <paramref name="llmEndpoint"/>.
/// </summary>
public static class UserGrainCluster
{
    public static async Task<InProcessTestCluster> StartAsync(RedisServer redis, string serviceId, short silos = 1,
        string? llmEndpoint = null, IDictionary<string, string?>? settings = null, Action<IServiceCollection>? configureServices = null)
    {
        var builder = new InProcessTestClusterBuilder(silos);
        builder.Options.ServiceId = serviceId;
        builder.ConfigureSilo((_, silo) =>
        {
            var values = new Dictionary<string, string?>
            {
                ["MarketData:Provider"] = "Csv",
                ["MarketData:CsvDirectory"] = RepositoryPaths.SharedData,
                // Nothing listens there unless a test passes its scripted server.
                ["llm:endpoint"] = llmEndpoint ?? $"http://127.0.0.1:{TestPorts.Free()}/v1",
                ["lmstudio:timeout"] = "10",
                ["lmstudio:max_retries"] = "0",
            };
            foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
                values[key] = value;
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
            silo.AddEngramGrainStorage(new RedisEndpoint(redis.ConnectionString, Embedded: false));
            silo.UseInMemoryReminderService();
            silo.ConfigureRecoveryReminders();
            configureServices?.Invoke(silo.Services);
            silo.Services.AddSingleton(TimeProvider.System);
            silo.Services.AddOptions<UserGrainOptions>().Configure(o => o.MaxActiveAlerts = 5).Bind(configuration.GetSection(UserGrainOptions.SectionName));
            silo.Services.AddOptions<Engram.Agent.LmStudioOptions>().Bind(configuration.GetSection("lmstudio"));
            silo.Services.AddOptions<Engram.Agent.LlmOptions>().Bind(configuration.GetSection("llm"));
            silo.Services.AddEngramConversation(configuration);
        });
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }
}
