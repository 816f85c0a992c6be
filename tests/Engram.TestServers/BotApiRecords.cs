using System.Text.Json.Nodes;

namespace Engram.TestServers;

/// <summary>Options for <see cref="BotApiServer"/>; every instance is independent.</summary>
public sealed record BotApiServerOptions
{
    /// <summary>The only token the server accepts; anything else gets 401. The part before ':' is the bot's user id.</summary>
    public string Token { get; init; } = "7000000001:AAEngramTestTokenForTheFakeBotApi0001";

    /// <summary>0 (default) lets the OS pick a free port; a fixed port is for pointing a running bot at the server.</summary>
    public int Port { get; init; }

    /// <summary>
    /// Also listen on 127.0.0.2 … 127.0.0.(1+N), same port: a test gives each client (e.g. each silo
    /// process) its own address, and every message records which address it came in on.
    /// </summary>
    public int LoopbackAliases { get; init; }

    public string BotUsername { get; init; } = "engram_test_bot";

    public string BotFirstName { get; init; } = "Engram";

    /// <summary>Who gets the 409 when two getUpdates overlap.</summary>
    public PollConflictMode PollConflict { get; init; } = PollConflictMode.TerminateOlder;

    /// <summary>Longest long-poll hold in seconds, whatever the client asks for (Telegram caps at 50).</summary>
    public int MaxLongPollSeconds { get; init; } = 50;

    /// <summary>Reject a bare '&amp;' in HTML text (see <see cref="TelegramHtml.Parse"/>).</summary>
    public bool StrictHtmlAmpersand { get; init; } = true;

    /// <summary>Deliver queued updates to the webhook as soon as they are queued (otherwise call DeliverToWebhookAsync).</summary>
    public bool AutoDeliverWebhook { get; init; }

    /// <summary>Attempts per update before the server gives up on it, as Telegram does after "a reasonable amount".</summary>
    public int WebhookMaxAttempts { get; init; } = 3;

    public TimeSpan WebhookRetryDelay { get; init; } = TimeSpan.FromMilliseconds(50);

    public TimeSpan WebhookTimeout { get; init; } = TimeSpan.FromSeconds(5);
}

public enum PollConflictMode
{
    /// <summary>Telegram's behaviour: the newer getUpdates wins and the held one returns 409 "terminated by other getUpdates request".</summary>
    TerminateOlder,

    /// <summary>The held poll keeps going and the newcomer gets the 409 at once.</summary>
    RejectNewer,
}

/// <summary>A sendMessage the bot made. <see cref="Text"/> is as sent (with markup); <see cref="PlainText"/> is what the user sees.</summary>
public sealed record SentMessage(
    long ChatId,
    int MessageId,
    string Text,
    string PlainText,
    string? ParseMode,
    string? ReplyMarkupJson,
    int? ReplyToMessageId,
    DateTimeOffset ReceivedAt,
    string? Via = null);

public sealed record EditedMessage(
    long ChatId,
    int MessageId,
    string? Text,
    string? ParseMode,
    string? ReplyMarkupJson,
    DateTimeOffset ReceivedAt);

public sealed record ChatActionRecord(long ChatId, string Action, DateTimeOffset ReceivedAt);

public sealed record AnsweredCallback(string CallbackQueryId, string? Text, bool ShowAlert, string? Url, DateTimeOffset ReceivedAt);

public sealed record BotCommandRecord(string Command, string Description);

/// <summary>A sendPhoto; <see cref="Bytes"/> is null when the photo was sent by file_id or URL.</summary>
public sealed record SentPhoto(
    long ChatId,
    int MessageId,
    byte[]? Bytes,
    string? FileName,
    string? FileIdOrUrl,
    string? Caption,
    string? ParseMode,
    DateTimeOffset ReceivedAt);

public sealed record DeletedMessage(long ChatId, int MessageId, DateTimeOffset ReceivedAt);

/// <summary>One Bot API call as the server answered it. <see cref="Source"/> is "http" or "webhook-reply".</summary>
public sealed record BotApiRequest(
    string Method,
    string HttpMethod,
    string ParametersJson,
    int StatusCode,
    DateTimeOffset ReceivedAt,
    DateTimeOffset CompletedAt,
    string Source = "http");

/// <summary>One POST of an update to the webhook. <see cref="StatusCode"/> is null when the request itself failed.</summary>
public sealed record WebhookDelivery(
    int UpdateId,
    int Attempt,
    int? StatusCode,
    string? Error,
    string? SecretTokenSent,
    DateTimeOffset At);

/// <summary>What DeliverToWebhookAsync did: updates accepted (2xx) and updates dropped after the last attempt.</summary>
public sealed record WebhookDeliveryResult(IReadOnlyList<int> Delivered, IReadOnlyList<int> Abandoned);

/// <summary>The webhook as setWebhook stored it.</summary>
public sealed record WebhookRegistration(string Url, string? SecretToken, int MaxConnections, JsonArray? AllowedUpdates);
