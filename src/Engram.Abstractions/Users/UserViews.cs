namespace Engram.Abstractions.Users;

/// <summary>The settings in force for a user: their own choices over the deployment defaults.</summary>
[GenerateSerializer, Immutable]
public sealed record EffectiveSettings(
    [property: Id(0)] ResponseFormat ResponseFormat,
    [property: Id(1)] string DefaultTimeframe,
    [property: Id(2)] RiskTolerance RiskTolerance);

/// <summary>A snapshot of the user's portfolio, for display and for the LLM's user-scoped tools.</summary>
[GenerateSerializer, Immutable]
public sealed record PortfolioView(
    [property: Id(0)] IReadOnlyList<PositionView> Positions,
    [property: Id(1)] decimal RealizedPnl,
    [property: Id(2)] IReadOnlyList<Transaction> RecentTransactions);

[GenerateSerializer, Immutable]
public sealed record PositionView(
    [property: Id(0)] string Symbol,
    [property: Id(1)] decimal Amount,
    [property: Id(2)] decimal AverageCost)
{
    public decimal CostBasis => Amount * AverageCost;
}

/// <summary>What a buy or sell did: the position after it and the P&amp;L it realised.</summary>
[GenerateSerializer, Immutable]
public sealed record TradeReceipt(
    [property: Id(0)] Transaction Transaction,
    [property: Id(1)] PositionView PositionAfter,
    [property: Id(2)] decimal TotalRealizedPnl);

/// <summary>A request to set a price alert, already normalised (symbol like BTCUSDT).</summary>
[GenerateSerializer, Immutable]
public sealed record AlertRequest(
    [property: Id(0)] string Symbol,
    [property: Id(1)] AlertCondition Condition,
    [property: Id(2)] decimal Threshold,
    [property: Id(3)] decimal? CurrentPrice,
    [property: Id(4)] bool Repeat = false,
    [property: Id(5)] TimeSpan? Cooldown = null,
    [property: Id(6)] DateTimeOffset? ExpiresAt = null,
    [property: Id(7)] decimal? RelativePercent = null,
    [property: Id(8)] Alerts.IndicatorSpec? Indicator = null);

/// <summary>A crossing seen by a symbol's price watch, sent to the alert's owner.</summary>
[GenerateSerializer, Immutable]
public sealed record AlertFired(
    [property: Id(0)] int AlertId,
    [property: Id(1)] string Symbol,
    [property: Id(2)] AlertCondition Condition,
    [property: Id(3)] decimal Threshold,
    [property: Id(4)] decimal Price,
    [property: Id(5)] DateTimeOffset At,
    [property: Id(6)] Alerts.IndicatorReading? Reading = null);

/// <summary>What the owner did with a crossing.</summary>
public enum AlertFiredOutcome
{
    /// <summary>Notified; a one-shot alert is done.</summary>
    Notified = 0,
    /// <summary>Notified; re-arm after the cooldown once the price is back across.</summary>
    NotifiedRearm = 1,
    /// <summary>The alert no longer exists (deleted, expired): drop it from the index.</summary>
    Gone = 2,
    /// <summary>Notified, and paused for firing too often: drop it from the index.</summary>
    NotifiedPaused = 3,
}

[GenerateSerializer, Immutable]
public sealed record AlertFiredResult(
    [property: Id(0)] AlertFiredOutcome Outcome,
    [property: Id(1)] DateTimeOffset? RearmNotBefore = null);

/// <summary>An immutable copy of an alert for callers outside the grain.</summary>
[GenerateSerializer, Immutable]
public sealed record AlertView(
    [property: Id(0)] int Id,
    [property: Id(1)] string Symbol,
    [property: Id(2)] AlertCondition Condition,
    [property: Id(3)] decimal Threshold,
    [property: Id(4)] DateTimeOffset CreatedAt,
    [property: Id(5)] decimal? CreationPrice,
    [property: Id(6)] bool Triggered,
    [property: Id(7)] DateTimeOffset? TriggeredAt,
    [property: Id(8)] bool Repeat = false,
    [property: Id(9)] TimeSpan? Cooldown = null,
    [property: Id(10)] DateTimeOffset? ExpiresAt = null,
    [property: Id(11)] decimal? RelativePercent = null,
    [property: Id(12)] int TimesTriggered = 0,
    [property: Id(13)] Alerts.IndicatorSpec? Indicator = null,
    [property: Id(14)] bool Paused = false);
