using Engram.Abstractions.Common;
using Engram.Abstractions.Conversation;
using Orleans.Concurrency;

namespace Engram.Abstractions.Users;

/// <summary>
/// One grain per Telegram user (key = Telegram user id). It is the single owner of the user's
/// alerts, portfolio, settings and chat history; every change is persisted before the call returns.
/// </summary>
public interface IUserGrain : IGrainWithIntegerKey
{
    /// <summary>
    /// Handles one message (a command or a question) and returns the replies. Questions go to the
    /// LLM, so this may take as long as the LLM timeout plus a wait in the queue.
    /// </summary>
    [ResponseTimeout("00:05:00")]
    Task<IReadOnlyList<ChatReply>> HandleMessageAsync(IncomingMessage message);

    /// <summary>
    /// Handles what the user's inbox holds, oldest first, then delivers the outbox. One-way: the
    /// inbox pokes it and moves on; calls queue on this grain, so updates are handled in order.
    /// </summary>
    [OneWay]
    Task ProcessInboxAsync();

    /// <summary>Sends what the outbox holds (after a failure, a restart, or a new notification).</summary>
    Task DeliverOutboxAsync();

    // Alerts
    Task<OperationResult<AlertView>> AddAlertAsync(AlertRequest request);
    Task<IReadOnlyList<AlertView>> GetAlertsAsync(bool includeTriggered = false);
    Task<OperationResult<AlertView>> RemoveAlertAsync(int alertId);

    /// <summary>
    /// A price watch saw one of this user's alerts cross. Marks it and puts the notification in the
    /// outbox in one write. Idempotent for the same crossing. Interleaves with a long-running turn
    /// (an LLM answer) so alerts are never delayed by a conversation.
    /// </summary>
    [AlwaysInterleave]
    Task<AlertFiredResult> OnAlertFiredAsync(AlertFired fired);

    // Portfolio
    Task<OperationResult<TradeReceipt>> BuyAsync(string symbol, decimal amount, decimal price);
    Task<OperationResult<TradeReceipt>> SellAsync(string symbol, decimal amount, decimal price);
    Task<PortfolioView> GetPortfolioAsync();

    // Settings
    Task<EffectiveSettings> GetSettingsAsync();
    Task<EffectiveSettings> SetResponseFormatAsync(ResponseFormat format);
    Task<OperationResult<EffectiveSettings>> SetDefaultTimeframeAsync(string timeframe);
    Task<EffectiveSettings> SetRiskToleranceAsync(RiskTolerance tolerance);

    // Conversation history (context for the LLM)
    Task<IReadOnlyList<ChatTurn>> GetHistoryAsync();
    Task AppendExchangeAsync(string question, string answer);
    Task ResetHistoryAsync();

    // Telegram de-duplication: true the first time an update id is seen, false on redelivery.
    Task<bool> TryMarkUpdateProcessedAsync(long updateId);
}
