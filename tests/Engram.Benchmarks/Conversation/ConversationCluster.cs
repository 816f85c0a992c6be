using System.Text.Json.Serialization;
using Engram.Agent;
using Engram.Grains;
using Engram.Grains.Conversation;
using Engram.Grains.Users;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Serialization;
using Orleans.Storage;
using Orleans.TestingHost;
using StackExchange.Redis;

namespace Engram.Benchmarks.Conversation;

/// <summary>
/// One in-process silo set up like the functional tests' <c>UserGrainCluster</c>: grain state in
/// the real Redis, market data from the real candles, the LLM at a scripted OpenAI-compatible
/// server. The storage wiring is a copy of the silo's <c>AddEngramGrainStorage</c> (System.Text.Json
/// documents, enums by name) because the benchmark cannot reference the silo's executable.
/// </summary>
public static class ConversationCluster
{
    public static async Task<InProcessTestCluster> StartAsync(string redis, string llmEndpoint, IDictionary<string, string?> settings,
        Action<IServiceCollection>? configureServices = null)
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.Options.ServiceId = "conversation-load-" + Guid.NewGuid().ToString("N")[..8];
        builder.ConfigureSilo((_, silo) =>
        {
            var values = new Dictionary<string, string?>
            {
                ["MarketData:Provider"] = "Csv",
                ["MarketData:CsvDirectory"] = Ingress.LoadTools.SharedData,
                ["llm:endpoint"] = llmEndpoint,
                ["lmstudio:timeout"] = "30",
                ["lmstudio:max_retries"] = "0",
            };
            foreach (var (key, value) in settings)
                values[key] = value;
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();

            var serializerOptions = new SystemTextJsonGrainStorageSerializerOptions();
            serializerOptions.JsonSerializerOptions.Converters.Add(new JsonStringEnumConverter());
            var serializer = new SystemTextJsonGrainStorageSerializer(Options.Create(serializerOptions));
            foreach (var name in new[] { StorageNames.Users, StorageNames.Market, StorageNames.Signals })
            {
                silo.AddRedisGrainStorage(name, o =>
                {
                    o.ConfigurationOptions = ConfigurationOptions.Parse(redis);
                    o.GrainStorageSerializer = serializer;
                });
            }
            silo.UseInMemoryReminderService();
            silo.ConfigureRecoveryReminders();
            silo.Services.AddSingleton(TimeProvider.System);
            configureServices?.Invoke(silo.Services);
            silo.Services.AddOptions<UserGrainOptions>().Bind(configuration.GetSection(UserGrainOptions.SectionName));
            silo.Services.AddOptions<LmStudioOptions>().Bind(configuration.GetSection(LmStudioOptions.SectionName));
            silo.Services.AddOptions<LlmOptions>().Bind(configuration.GetSection(LlmOptions.SectionName));
            silo.Services.AddEngramConversation(configuration);
        });
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }
}
