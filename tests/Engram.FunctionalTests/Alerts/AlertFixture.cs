using System.Collections.Concurrent;
using Engram.Abstractions.Conversation;
using Engram.Abstractions.Delivery;
using Engram.FunctionalTests.Grains;
using Engram.FunctionalTests.Infrastructure;
using Engram.Grains.Alerts;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using Xunit.Abstractions;

namespace Engram.FunctionalTests.Alerts;

/// <summary>Prices set by the test, read by the price watches exactly as they read the exchange.</summary>
public sealed class ScriptedPrices : IAlertPriceSource
{
    private readonly ConcurrentDictionary<string, decimal> prices = new();

    public void Set(string symbol, decimal price) => prices[symbol] = price;

    /// <summary>Calls of <see cref="GetPricesAsync"/>: one per fallback poll, whatever the number of symbols.</summary>
    public int Requests => Volatile.Read(ref requests);

    private int requests;

    public Task<IReadOnlyDictionary<string, decimal>> GetPricesAsync(IReadOnlyCollection<string> symbols, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref requests);
        IReadOnlyDictionary<string, decimal> found = symbols.Where(prices.ContainsKey).ToDictionary(s => s, s => prices[s]);
        return Task.FromResult(found);
    }
}

/// <summary>A transport that records what it was asked to send.</summary>
public sealed class RecordingMessenger : IMessenger
{
    public ConcurrentQueue<(long UserId, long ChatId, ChatReply Reply, DateTimeOffset At, long? UpdateId)> Sent { get; } = new();

    public bool IsEnabled => true;

    /// <summary>While true every send fails as a transport outage would (RetryLater), and nothing is recorded.</summary>
    public bool Failing { get; set; }

    public Task<DeliveryOutcome> SendAsync(OutgoingMessage message, CancellationToken cancellationToken)
    {
        if (Failing)
            return Task.FromResult(DeliveryOutcome.RetryLater);
        Sent.Enqueue((message.UserId, message.ChatId, message.Reply, DateTimeOffset.UtcNow, message.UpdateId));
        return Task.FromResult(DeliveryOutcome.Delivered);
    }

    public IAsyncDisposable BeginTyping(long chatId) => NoTyping.Instance;

    public IReadOnlyList<ChatReply> To(long userId) => Sent.Where(s => s.UserId == userId).Select(s => s.Reply).ToList();

    /// <summary>What was sent in answer to one update.</summary>
    public IReadOnlyList<ChatReply> ForUpdate(long updateId) => Sent.Where(s => s.UpdateId == updateId).Select(s => s.Reply).ToList();
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
