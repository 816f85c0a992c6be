using Engram.Abstractions.Conversation;

namespace Engram.Abstractions.Delivery;

/// <summary>What became of a message handed to the transport.</summary>
public enum DeliveryOutcome
{
    Delivered = 0,
    /// <summary>The user blocked the bot (Telegram 403): stop sending until they write again.</summary>
    RecipientBlocked = 1,
    /// <summary>The transport refused this message for good (other 4xx): drop it, with a log line.</summary>
    Rejected = 2,
    /// <summary>Transient failure (network, 5xx, rate limit exhausted): keep it and try later.</summary>
    RetryLater = 3,
}

/// <summary>One message for the transport: whose it is, where it goes, and the update it answers (if any).</summary>
public sealed record OutgoingMessage(
    long UserId,
    long ChatId,
    ChatReply Reply,
    /// <summary>For button presses: the callback query to answer along with the reply.</summary>
    string? CallbackQueryId = null,
    /// <summary>The update this answers, or null for a notification (an alert).</summary>
    long? UpdateId = null);

/// <summary>
/// Sends messages to users on this silo's transport (Telegram, the terminal, or nothing when no
/// token is set). Implementations respect the transport's limits; the caller keeps the message until Delivered.
/// </summary>
public interface IMessenger
{
    /// <summary>False when no transport is configured: outboxes then keep their messages.</summary>
    bool IsEnabled { get; }

    Task<DeliveryOutcome> SendAsync(OutgoingMessage message, CancellationToken cancellationToken);

    /// <summary>Shows "typing…" in the chat until disposed (renewed every few seconds).</summary>
    IAsyncDisposable BeginTyping(long chatId);

    /// <summary>
    /// A message that shows an answer while the model is still writing it. The final, checked text later replaces it
    /// (a reply with <see cref="ChatReply.EditMessageId"/> = <see cref="IAnswerDraft.MessageId"/>). A transport
    /// that cannot edit shows nothing until the final text.
    /// </summary>
    IAnswerDraft BeginDraft(long chatId) => NoDraft.Instance;
}

/// <summary>An answer growing in one message; disposing it stops the updates (the final text comes as a reply).</summary>
public interface IAnswerDraft : IAsyncDisposable
{
    /// <summary>The text so far; the transport shows the latest at its own pace (at most once a second per chat).</summary>
    void Show(string textSoFar);

    /// <summary>The message the draft is shown in, once it has been sent; null if nothing was shown.</summary>
    long? MessageId { get; }
}

/// <summary>The draft of a transport that shows only final texts.</summary>
public sealed class NoDraft : IAnswerDraft
{
    public static readonly NoDraft Instance = new();

    public long? MessageId => null;

    public void Show(string textSoFar)
    {
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>The messenger when no transport is configured: nothing is sent, nothing is lost.</summary>
public sealed class NoTransportMessenger : IMessenger
{
    public bool IsEnabled => false;

    public Task<DeliveryOutcome> SendAsync(OutgoingMessage message, CancellationToken cancellationToken) =>
        Task.FromResult(DeliveryOutcome.RetryLater);

    public IAsyncDisposable BeginTyping(long chatId) => NoTyping.Instance;
}

/// <summary>A "typing…" indicator that shows nothing.</summary>
public sealed class NoTyping : IAsyncDisposable
{
    public static readonly NoTyping Instance = new();
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
