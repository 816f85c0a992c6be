using Engram.Abstractions.Delivery;
using Engram.FunctionalTests.Alerts;
using Engram.FunctionalTests.Grains;
using Engram.FunctionalTests.Infrastructure;
using Engram.TestServers;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using Xunit.Abstractions;

namespace Engram.FunctionalTests.Conversation;

/// <summary>A cluster whose LLM is a scripted OpenAI-compatible server over real HTTP, with real Redis and real candles.</summary>
public sealed class ConversationFixture(IMessageSink sink) : IAsyncLifetime
{
    private readonly RedisServer redis = new(sink);

    public OpenAiServer Llm { get; private set; } = null!;
    public InProcessTestCluster Cluster { get; private set; } = null!;
    public RecordingMessenger Messenger { get; } = new();
    public ChatDriver Chat { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await redis.InitializeAsync();
        Llm = await OpenAiServer.StartAsync();
        Cluster = await UserGrainCluster.StartAsync(redis, "conversation-" + Guid.NewGuid().ToString("N")[..8], llmEndpoint: Llm.BaseUrl + "/v1",
            settings: new Dictionary<string, string?>
            {
                ["lmstudio:timeout"] = "3",
                ["lmstudio:max_retries"] = "0",
                ["llm:MaxConcurrentRequests"] = "2",
                ["llm:QueueTimeout"] = "60",
            },
            configureServices: services => services.AddSingleton<IMessenger>(Messenger));
        Chat = new ChatDriver(Cluster.Client, Messenger);
    }

    public async Task DisposeAsync()
    {
        await Cluster.DisposeAsync();
        await Llm.DisposeAsync();
        await redis.DisposeAsync();
    }
}
