namespace Engram.Abstractions.Inbox;

/// <summary>
/// One update from a transport (Telegram or the terminal), reduced to what the conversation needs.
/// The transport hands it to the sender's <c>IUserGrain.AcceptAsync</c> and confirms it to Telegram
/// only once that returns: until then Telegram keeps it (and redelivers it after a crash).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record InboundUpdate(
    /// <summary>Telegram's update_id: unique and increasing per bot; the de-duplication key.</summary>
    [property: Id(0)] long UpdateId,
    /// <summary>The sender: whose grain handles it.</summary>
    [property: Id(1)] long UserId,
    /// <summary>Where replies go: the private chat or the group it was sent in.</summary>
    [property: Id(2)] long ChatId,
    [property: Id(3)] InboundKind Kind,
    /// <summary>The message text, or the command a button stands for.</summary>
    [property: Id(4)] string Text,
    [property: Id(5)] bool IsGroup = false,
    /// <summary>For button presses: the callback query to answer.</summary>
    [property: Id(6)] string? CallbackQueryId = null,
    [property: Id(7)] DateTimeOffset ReceivedAt = default);

public enum InboundKind
{
    Text = 0,
    Button = 1,
    /// <summary>A sticker, photo, voice note…: answered with a polite "text only".</summary>
    Unsupported = 2,
}
