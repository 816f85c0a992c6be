using Engram.Abstractions.Common;
using Engram.Abstractions.Conversation;
using Engram.Abstractions.Inbox;
using Orleans.Concurrency;

namespace Engram.Abstractions.Users;

/// <summary>What <see cref="IUserGrain.AcceptAsync"/> did with an update.</summary>
public enum UpdateOutcome
{
    /// <summary>Handled: its effect and replies are stored, and the replies were handed to the transport.</summary>
    Answered = 0,
    /// <summary>A question: stored and handed to the LLM worker; the answer follows in a later turn.</summary>
    Thinking = 1,
    /// <summary>Seen before (a redelivery): nothing ran again; replies still unsent were sent.</summary>
    Duplicate = 2,
}

/// <summary>
/// One grain per Telegram user (key = Telegram user id). It is the single owner of the user's
/// alerts, portfolio, settings and chat history. Every turn is short and non-reentrant: Orleans
/// runs one at a time, so nothing in it needs a lock.
/// </summary>
public interface IUserGrain : IGrainWithIntegerKey
{
    /// <summary>
    /// Handles one update with one state write: a command's effect, the processed marker and its
    /// replies (or, for a question, the question waiting for the LLM) together. Returns once that
    /// write is durable and the replies were handed to the transport, so the caller may confirm the
    /// update to Telegram. Idempotent by update id.
    /// </summary>
    Task<UpdateOutcome> AcceptAsync(InboundUpdate update);

    /// <summary>The LLM worker's answer to a question this grain handed it (ignored if already answered).</summary>
    Task OnAnswerAsync(long updateId, LlmAnswer answer);

    /// <summary>Sends what the outbox holds (after a notification, a failure or a restart). One-way: queued as its own turn.</summary>
    [OneWay]
    Task DeliverOutboxAsync();

    /// <summary>Picks up work a dead silo left: the next question for the LLM, the outbox. One-way, idempotent.</summary>
    [OneWay]
    Task RecoverAsync();

    /// <summary>
    /// A watch saw this user's alerts cross (several on one move: one message). Marks them and sends the
    /// notification through the outbox, then stores both in one write (the notification only if it could
    /// not go yet, for the recovery reminder to send). Returns after that write, a result per crossing in
    /// order. Idempotent for the same crossings.
    /// </summary>
    Task<IReadOnlyList<AlertFiredResult>> OnAlertsFiredAsync(IReadOnlyList<AlertFired> fired);

    /// <summary>
    /// The digest shard says this user's <paramref name="slot"/> is due. Builds and stores the digest with the slot
    /// marked in one write, unless the slot was already sent; then tells the shard the next slot. One-way.
    /// </summary>
    [OneWay]
    Task DigestDueAsync(DateTimeOffset slot);

    // Direct operations (tests, tools and operators; the conversation changes the same state in its own turn)
    Task<OperationResult<AlertView>> AddAlertAsync(AlertRequest request);
    Task<IReadOnlyList<AlertView>> GetAlertsAsync(bool includeTriggered = false);
    Task<OperationResult<AlertView>> RemoveAlertAsync(int alertId);
    Task<OperationResult<TradeReceipt>> BuyAsync(string symbol, decimal amount, decimal price);
    Task<OperationResult<TradeReceipt>> SellAsync(string symbol, decimal amount, decimal price);
    Task<PortfolioView> GetPortfolioAsync();
    Task<EffectiveSettings> GetSettingsAsync();
    Task<IReadOnlyList<ChatTurn>> GetHistoryAsync();

    /// <summary>Questions handed to the LLM worker and not answered yet.</summary>
    Task<int> CountPendingQuestionsAsync();
}
