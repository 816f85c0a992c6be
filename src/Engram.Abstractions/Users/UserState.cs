namespace Engram.Abstractions.Users;

/// <summary>
/// Everything Engram keeps for one Telegram user, persisted in Redis as one JSON document.
/// Ids are explicit and must never be renumbered once shipped.
/// </summary>
[GenerateSerializer]
public sealed class UserState
{
    /// <summary>Price alerts, active and triggered, in creation order.</summary>
    [Id(0)] public List<PriceAlert> Alerts { get; set; } = [];

    /// <summary>The next alert id to hand out; ids are never reused for this user.</summary>
    [Id(1)] public int NextAlertId { get; set; } = 1;

    /// <summary>Open positions by symbol (e.g. BTCUSDT).</summary>
    [Id(2)] public Dictionary<string, Position> Positions { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Buy and sell entries, oldest first (bounded, see UserGrainOptions).</summary>
    [Id(3)] public List<Transaction> Transactions { get; set; } = [];

    /// <summary>Profit and loss realised by sells, average-cost method, in the quote currency.</summary>
    [Id(4)] public decimal RealizedPnl { get; set; }

    [Id(5)] public UserSettings Settings { get; set; } = new();

    /// <summary>Recent conversation turns sent to the LLM as context (bounded).</summary>
    [Id(6)] public List<ChatTurn> History { get; set; } = [];

    /// <summary>The last Telegram update ids handled, so a redelivered update is dropped.</summary>
    [Id(7)] public List<long> ProcessedUpdateIds { get; set; } = [];

    /// <summary>When the user first talked to Engram.</summary>
    [Id(8)] public DateTimeOffset? CreatedAt { get; set; }

    /// <summary>False once Telegram said the user blocked the bot; nothing is sent until they return.</summary>
    [Id(9)] public bool Active { get; set; } = true;

    /// <summary>
    /// Replies and notifications written but not yet delivered. They are persisted in the same
    /// write that records their cause. A sent reply to an update leaves with the next write (the
    /// update's redelivery is what resends it after a crash); a sent notification is removed at once.
    /// </summary>
    [Id(10)] public List<OutboxMessage> Outbox { get; set; } = [];

    [Id(11)] public long NextOutboxId { get; set; } = 1;

    /// <summary>Questions handed to the LLM worker and not yet answered, oldest first.</summary>
    [Id(12)] public List<PendingQuestion> PendingQuestions { get; set; } = [];

    /// <summary>Symbols the user watches (BTCUSDT), in the order added; the digest lists them.</summary>
    [Id(13)] public List<string> Watchlist { get; set; } = [];

    /// <summary>The scheduled digest, or null for none.</summary>
    [Id(14)] public DigestSchedule? Digest { get; set; }
}

/// <summary>When the user gets a digest: daily at a local time in a time zone, or every N hours.</summary>
[GenerateSerializer]
public sealed class DigestSchedule
{
    /// <summary>Minutes after local midnight of a daily digest (08:00 = 480); null for an "every N hours" one.</summary>
    [Id(0)] public int? DailyAtMinute { get; set; }
    /// <summary>Hours between digests of an "every" schedule (slots at local midnight + k × N).</summary>
    [Id(1)] public int? EveryHours { get; set; }
    /// <summary>IANA time zone name (Europe/Berlin); UTC when the user gave none.</summary>
    [Id(2)] public string TimeZone { get; set; } = "UTC";
    /// <summary>The last slot a digest was stored for: a slot at or before it is never sent again.</summary>
    [Id(3)] public DateTimeOffset? LastSlot { get; set; }
    /// <summary>The portfolio's value in the last digest, for "change since the last digest".</summary>
    [Id(4)] public decimal? LastPortfolioValue { get; set; }
    /// <summary>The digest shard confirmed it holds this schedule; until then the user grain keeps telling it (its recovery reminder ticks).</summary>
    [Id(5)] public bool ShardConfirmed { get; set; }
}

/// <summary>A question waiting for the LLM worker's answer; asked again if the answer never comes (a crash).</summary>
[GenerateSerializer]
public sealed class PendingQuestion
{
    [Id(0)] public long UpdateId { get; set; }
    [Id(1)] public long ChatId { get; set; }
    /// <summary>What the model is asked (the user's words, or a request to comment on a command's result).</summary>
    [Id(2)] public string Question { get; set; } = "";
    /// <summary>Tool results a command computed; the model only comments on them.</summary>
    [Id(3)] public List<Conversation.ToolInvocation>? Precomputed { get; set; }
    /// <summary>A command's own summary, shown above the model's comment (/analyze).</summary>
    [Id(4)] public string? Lead { get; set; }
    /// <summary>Whether the exchange joins the chat history (a free-text question does; /analyze does not).</summary>
    [Id(5)] public bool Remember { get; set; }
    /// <summary>A chart to attach to the answer in the detailed format: symbol and timeframe.</summary>
    [Id(6)] public string? ChartSymbol { get; set; }
    [Id(7)] public string? ChartTimeframe { get; set; }
    [Id(8)] public DateTimeOffset AskedAt { get; set; }
}

[GenerateSerializer]
public sealed class OutboxMessage
{
    [Id(0)] public long Id { get; set; }
    [Id(1)] public long ChatId { get; set; }
    [Id(2)] public string Text { get; set; } = "";
    [Id(3)] public Conversation.ReplyKind Kind { get; set; }
    [Id(4)] public List<Conversation.ReplyButton>? Buttons { get; set; }
    [Id(5)] public DateTimeOffset CreatedAt { get; set; }
    /// <summary>The update this answers, or null for a notification (e.g. an alert).</summary>
    [Id(6)] public long? UpdateId { get; set; }
    [Id(7)] public int Attempts { get; set; }
    /// <summary>For button presses: the callback query to answer along with the reply.</summary>
    [Id(8)] public string? CallbackQueryId { get; set; }
    /// <summary>A PNG to send as a photo with <see cref="Text"/> as its caption.</summary>
    [Id(9)] public byte[]? Photo { get; set; }
    /// <summary>
    /// Sent by the grain on activation and by its recovery reminder: notifications, answers and
    /// replies whose first send failed. Other replies are resent only when their update is redelivered
    /// (after a crash, a stored reply without this flag may already have been sent).
    /// </summary>
    [Id(10)] public bool DeliverOnRecovery { get; set; }
    /// <summary>A streamed draft of this answer in the chat, which the text replaces.</summary>
    [Id(11)] public long? EditMessageId { get; set; }
}

[GenerateSerializer]
public sealed class PriceAlert
{
    [Id(0)] public int Id { get; set; }
    [Id(1)] public string Symbol { get; set; } = "";
    [Id(2)] public AlertCondition Condition { get; set; }
    [Id(3)] public decimal Threshold { get; set; }
    [Id(4)] public DateTimeOffset CreatedAt { get; set; }
    /// <summary>The market price when the alert was set, if it was known.</summary>
    [Id(5)] public decimal? CreationPrice { get; set; }
    [Id(6)] public bool Triggered { get; set; }
    [Id(7)] public DateTimeOffset? TriggeredAt { get; set; }
    /// <summary>The price that crossed the threshold (the last one, for a repeating alert).</summary>
    [Id(8)] public decimal? TriggerPrice { get; set; }
    /// <summary>Fires again after <see cref="Cooldown"/> once the price has moved back across.</summary>
    [Id(9)] public bool Repeat { get; set; }
    [Id(10)] public TimeSpan? Cooldown { get; set; }
    /// <summary>After this the alert is gone without firing.</summary>
    [Id(11)] public DateTimeOffset? ExpiresAt { get; set; }
    /// <summary>Set as a percentage move (e.g. +5%) from <see cref="CreationPrice"/>.</summary>
    [Id(12)] public decimal? RelativePercent { get; set; }
    [Id(13)] public int TimesTriggered { get; set; }
    /// <summary>Set for an indicator alert (RSI, a moving average, volume, change), checked at each candle close; null for a price alert.</summary>
    [Id(14)] public Alerts.IndicatorSpec? Indicator { get; set; }
    /// <summary>When a repeating alert fired in the last hour: past the limit it is paused.</summary>
    [Id(15)] public List<DateTimeOffset>? RecentFires { get; set; }
    /// <summary>Stopped because it fired too often; listed as paused until set again.</summary>
    [Id(16)] public bool Paused { get; set; }
}

public enum AlertCondition
{
    Above = 0,
    Below = 1,
    /// <summary>The close crossing a moving average either way (indicator alerts only).</summary>
    Crosses = 2,
}

[GenerateSerializer]
public sealed class Position
{
    [Id(0)] public decimal Amount { get; set; }
    /// <summary>Average cost per unit of what is still held.</summary>
    [Id(1)] public decimal AverageCost { get; set; }
}

[GenerateSerializer]
public sealed class Transaction
{
    [Id(0)] public TradeSide Side { get; set; }
    [Id(1)] public string Symbol { get; set; } = "";
    [Id(2)] public decimal Amount { get; set; }
    [Id(3)] public decimal Price { get; set; }
    [Id(4)] public DateTimeOffset Time { get; set; }
    /// <summary>For sells: the P&amp;L realised against the average cost at the time.</summary>
    [Id(5)] public decimal RealizedPnl { get; set; }
}

public enum TradeSide
{
    Buy = 0,
    Sell = 1,
}

[GenerateSerializer]
public sealed class UserSettings
{
    /// <summary>Null until the user picks one: the deployment default applies.</summary>
    [Id(0)] public ResponseFormat? ResponseFormat { get; set; }
    [Id(1)] public string? DefaultTimeframe { get; set; }
    [Id(2)] public RiskTolerance? RiskTolerance { get; set; }
}

public enum ResponseFormat
{
    Clean = 0,
    Detailed = 1,
    Raw = 2,
}

public enum RiskTolerance
{
    Low = 0,
    Medium = 1,
    High = 2,
}

[GenerateSerializer]
public sealed class ChatTurn
{
    [Id(0)] public ChatRole Role { get; set; }
    [Id(1)] public string Text { get; set; } = "";
    [Id(2)] public DateTimeOffset At { get; set; }
}

public enum ChatRole
{
    User = 0,
    Assistant = 1,
}
