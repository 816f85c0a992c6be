using System.Collections.Concurrent;
using Engram.Abstractions.Conversation;
using Engram.FunctionalTests.Grains;
using Engram.FunctionalTests.Infrastructure;
using Engram.Grains.Alerts;
using Engram.Grains.Delivery;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using Xunit.Abstractions;

namespace Engram.FunctionalTests.Alerts;

/// <summary>Prices set by the test, read by the price watches exactly as they read the exchange.</summary>
public sealed class ScriptedPrices : IAlertPriceSource
{
    private readonly ConcurrentDictionary<string, decimal> prices = new();

    public void Set(string symbol, decimal price) => prices[symbol] = price;

    public Task<decimal?> GetPriceAsync(string symbol, CancellationToken cancellationToken) =>
        Task.FromResult(prices.TryGetValue(symbol, out var p) ? p : (decimal?)null);
}

/// <summary>A transport that records what it was asked to send.</summary>
public sealed class RecordingMessenger : IMessenger
{
    public ConcurrentQueue<(long UserId, long ChatId, ChatReply Reply, DateTimeOffset At)> Sent { get; } = new();

    public bool IsEnabled => true;

    public Task<DeliveryOutcome> SendAsync(long userId, long chatId, ChatReply reply, string? callbackQueryId, CancellationToken cancellationToken)
    {
        Sent.Enqueue((userId, chatId, reply, DateTimeOffset.UtcNow));
        return Task.FromResult(DeliveryOutcome.Delivered);
    }

    public IAsyncDisposable BeginTyping(long chatId) => new NoTransportMessenger().BeginTyping(chatId);

    public IReadOnlyList<ChatReply> To(long userId) => Sent.Where(s => s.UserId == userId).Select(s => s.Reply).ToList();
}

public sealed class AlertFixture(IMessageSink sink) : IAsyncLifetime
{
    private readonly RedisServer redis = new(sink);

    public ScriptedPrices Prices { get; } = new();
    public RecordingMessenger Messenger { get; } = new();
    public InProcessTestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await redis.InitializeAsync();
        Cluster = await UserGrainCluster.StartAsync(redis, "alerts-" + Guid.NewGuid().ToString("N")[..8],
            settings: new Dictionary<string, string?> { ["Alerts:PollInterval"] = "00:00:00.200", ["Users:MaxActiveAlerts"] = "1000" },
            configureServices: services =>
            {
                services.AddSingleton<IAlertPriceSource>(Prices);
                services.AddSingleton<IMessenger>(Messenger);
            });
    }

    public async Task DisposeAsync()
    {
        await Cluster.DisposeAsync();
        await redis.DisposeAsync();
    }
}
