using Engram.FunctionalTests.Grains;
using Engram.FunctionalTests.Infrastructure;
using Engram.Telegram;
using Engram.TestServers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace Engram.FunctionalTests.Telegram;

/// <summary>
/// A silo that carries the conversation over the Bot API (long polling) to a stand-in Telegram
/// server, with the scripted LLM, real Redis and real candles. The real Telegram.Bot client is used.
/// </summary>
public sealed class TelegramFixture(IMessageSink sink) : IAsyncLifetime
{
    public const string AllowedUser = "";
    private readonly RedisServer redis = new(sink);

    public BotApiServer Telegram { get; private set; } = null!;
    public OpenAiServer Llm { get; private set; } = null!;
    public InProcessTestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await redis.InitializeAsync();
        Telegram = await BotApiServer.StartAsync();
        Llm = await OpenAiServer.StartAsync();
        var settings = new Dictionary<string, string?>
        {
            ["telegram:bot_token"] = Telegram.Token,
            ["telegram:api_base_url"] = Telegram.BaseUrl,
            ["telegram:PollTimeoutSeconds"] = "2",
            ["telegram:PollerLeaseTtl"] = "00:00:03",
            ["lmstudio:timeout"] = "5",
            // Telegram's real limits (1/s per chat, 30/s overall) would make these tests slow; they are tested on their own.
            ["telegram:MessagesPerSecondPerChat"] = "50",
            ["telegram:ChatBurst"] = "50",
            ["telegram:MessagesPerSecondOverall"] = "1000",
            // The fuzz test sends 20 questions per user at once; the rate limit has its own test.
            ["Users:QuestionsPerMinute"] = "1000",
        };
        Cluster = await UserGrainCluster.StartAsync(redis, "telegram-" + Guid.NewGuid().ToString("N")[..8], llmEndpoint: Llm.BaseUrl + "/v1",
            settings: settings,
            configureServices: services =>
            {
                services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(redis.ConnectionString));
                services.AddEngramTelegram(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
            });
    }

    public async Task DisposeAsync()
    {
        await Cluster.DisposeAsync();
        await Telegram.DisposeAsync();
        await Llm.DisposeAsync();
        await redis.DisposeAsync();
    }
}
