using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;

namespace Engram.Telegram;

public enum IngressMode
{
    /// <summary>One silo of the cluster at a time calls getUpdates (under a Redis lease).</summary>
    Polling = 0,
    /// <summary>Telegram POSTs updates to /telegram/webhook on any silo behind a load balancer.</summary>
    Webhook = 1,
}

/// <summary>Section <c>telegram</c>. Nothing here runs unless <see cref="BotToken"/> is set.</summary>
public sealed class TelegramOptions : IValidatableObject
{
    public const string SectionName = "telegram";

    /// <summary>The bot token (<c>TELEGRAM_BOT_TOKEN</c>). A secret: never logged, never shown.</summary>
    [ConfigurationKeyName("bot_token")] public string? BotToken { get; set; }

    /// <summary>A self-hosted Bot API server or a local stand-in (<c>TELEGRAM_API_BASE_URL</c>).</summary>
    [ConfigurationKeyName("api_base_url")] public string? ApiBaseUrl { get; set; }

    public IngressMode Mode { get; set; } = IngressMode.Polling;

    /// <summary>Public HTTPS URL Telegram posts to in webhook mode, e.g. https://bot.example.com/telegram/webhook.</summary>
    [ConfigurationKeyName("webhook_url")] public string? WebhookUrl { get; set; }

    /// <summary>Shared secret Telegram sends in X-Telegram-Bot-Api-Secret-Token (1-256 of A-Z a-z 0-9 _ -).</summary>
    [ConfigurationKeyName("webhook_secret"), RegularExpression("^[A-Za-z0-9_-]{1,256}$", ErrorMessage = "telegram:webhook_secret may use only A-Z, a-z, 0-9, _ and -")]
    public string? WebhookSecret { get; set; }

    /// <summary>Comma-separated user ids (<c>ENGRAM_ALLOWED_USERS</c>); empty = everyone.</summary>
    [ConfigurationKeyName("allowed_users")] public string? AllowedUsers { get; set; }

    /// <summary>Seconds one getUpdates call waits for updates (long polling).</summary>
    [Range(0, 50)] public int PollTimeoutSeconds { get; set; } = 25;

    /// <summary>Someone not on the allow-list is told so once in this period (the cluster remembers it for this long).</summary>
    public TimeSpan RefusalRepeatAfter { get; set; } = TimeSpan.FromDays(1);

    /// <summary>How long the poller lease lives without renewal: a dead poller is replaced after about this long.</summary>
    public TimeSpan PollerLeaseTtl { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Telegram's limits: about 1 message/s per chat, 20/min per group, 30/s for the whole bot (shared by the silos).
    /// 0 switches a limit off: only for benchmarks against a local Bot API stand-in, never against Telegram.
    /// </summary>
    [Range(0, 100)] public double MessagesPerSecondPerChat { get; set; } = 1;
    [Range(1, 1000)] public int ChatBurst { get; set; } = 3;
    [Range(0, 1000)] public int MessagesPerMinutePerGroup { get; set; } = 20;
    [Range(0, 100_000)] public int MessagesPerSecondOverall { get; set; } = 30;

    /// <summary>Updates this silo handles at once; more wait for room (the brake on ingress).</summary>
    [Range(1, 10_000)] public int MaxUpdatesInFlight { get; set; } = 64;

    /// <summary>Updates that may wait for room on this silo; past it, the webhook answers 503 at once.</summary>
    [Range(0, 100_000)] public int MaxUpdatesWaiting { get; set; } = 1_000;

    /// <summary>How long a webhook request waits for room before it is answered 503 (Telegram retries it later).</summary>
    public TimeSpan WebhookHold { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The most concurrent webhook requests Telegram is asked to send (setWebhook max_connections, 1–100).</summary>
    [Range(1, 100)] public int WebhookMaxConnections { get; set; } = 40;

    /// <summary>429 retries of one message before it is left in the outbox for later.</summary>
    [Range(0, 20)] public int MaxRetriesOn429 { get; set; } = 5;

    public bool Enabled => !string.IsNullOrWhiteSpace(BotToken);

    public IReadOnlySet<long> AllowedUserIds =>
        (AllowedUsers ?? "").Split([',', ' ', ';'], StringSplitOptions.RemoveEmptyEntries)
            .Select(id => long.TryParse(id, out var value) ? value : throw new FormatException($"telegram:allowed_users: '{id}' is not a user id"))
            .ToHashSet();

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!Enabled)
            yield break;
        if (Mode == IngressMode.Webhook && (string.IsNullOrWhiteSpace(WebhookUrl) || string.IsNullOrWhiteSpace(WebhookSecret)))
            yield return new ValidationResult("telegram: webhook mode needs telegram:webhook_url and telegram:webhook_secret", [nameof(WebhookUrl)]);
        if (!string.IsNullOrWhiteSpace(ApiBaseUrl) && !Uri.TryCreate(ApiBaseUrl, UriKind.Absolute, out _))
            yield return new ValidationResult("telegram:api_base_url (TELEGRAM_API_BASE_URL) must be an absolute URL", [nameof(ApiBaseUrl)]);
        if (WebhookHold <= TimeSpan.Zero || WebhookHold > TimeSpan.FromSeconds(30))
            yield return new ValidationResult("telegram:WebhookHold must be between 0 and 30 seconds (Telegram gives up on a slow webhook)", [nameof(WebhookHold)]);
        if (PollerLeaseTtl < TimeSpan.FromSeconds(2))
            yield return new ValidationResult("telegram:PollerLeaseTtl must be at least 2 seconds", [nameof(PollerLeaseTtl)]);
        if (RefusalRepeatAfter < TimeSpan.FromMinutes(1))
            yield return new ValidationResult("telegram:RefusalRepeatAfter must be at least a minute", [nameof(RefusalRepeatAfter)]);
        string? bad = null;
        try { _ = AllowedUserIds; } catch (FormatException ex) { bad = ex.Message; }
        if (bad is not null)
            yield return new ValidationResult(bad, [nameof(AllowedUsers)]);
    }
}
