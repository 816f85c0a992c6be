using Engram.Abstractions.Users;

namespace Engram.Abstractions.Alerts;

/// <summary>What an indicator alert watches: a series code (<c>rsi14</c>, <c>ema200</c>, <c>volume20</c>, <c>change24</c>) on one timeframe's candles.</summary>
[GenerateSerializer, Immutable]
public sealed record IndicatorSpec(
    [property: Id(0)] string Line,
    [property: Id(1)] string Timeframe);

/// <summary>The reading that made an indicator alert fire, at one candle's close.</summary>
[GenerateSerializer, Immutable]
public sealed record IndicatorReading(
    [property: Id(0)] double Value,
    [property: Id(1)] double Previous,
    [property: Id(2)] double Close,
    [property: Id(3)] DateTimeOffset CloseTime);

/// <summary>
/// One armed indicator alert in its pair and timeframe's watch: it fires at closes after <c>ArmedAt</c>.
/// <c>FromNextEvaluation</c> (a user just set it): the next evaluation moves <c>ArmedAt</c> back to its latest close
/// if that is earlier, so the exchange's time, not the silo's clock, decides which closes are new, and a watch that
/// was idle or cut off for a week does not fire the new alert on last week's crossings.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record IndicatorAlertEntry(
    [property: Id(0)] long UserId,
    [property: Id(1)] int AlertId,
    [property: Id(2)] string Line,
    [property: Id(3)] AlertCondition Condition,
    [property: Id(4)] decimal Level,
    [property: Id(5)] DateTimeOffset ArmedAt,
    [property: Id(6)] DateTimeOffset? ExpiresAt = null,
    [property: Id(7)] bool FromNextEvaluation = false);

/// <summary>
/// Watches one pair and timeframe (key <c>BTCUSDT/4h</c>) for every user's indicator alerts on it. At each candle
/// close it computes each distinct series once, for all of them, and tells the owners whose alert crossed. One
/// activation in the cluster; a reminder brings it back on another silo when its silo dies.
/// </summary>
public interface IIndicatorWatchGrain : IAlertWatch
{
    Task AddAsync(IndicatorAlertEntry entry);
    Task RemoveAsync(long userId, int alertId);

    /// <summary>Makes this watch's entries for <paramref name="userId"/> exactly <paramref name="armed"/> (self-healing).</summary>
    Task SyncUserAsync(long userId, IReadOnlyList<IndicatorAlertEntry> armed);

    /// <summary>Looks for closes not evaluated yet and evaluates them (its timer does this on its own).</summary>
    Task CheckAsync();

    Task<IndicatorWatchStatus> GetStatusAsync();
}

[GenerateSerializer, Immutable]
public sealed record IndicatorWatchStatus(
    [property: Id(0)] int Armed,
    [property: Id(1)] int Firing,
    [property: Id(2)] int WaitingToRearm,
    [property: Id(3)] DateTimeOffset? LastEvaluatedClose,
    [property: Id(4)] long ClosesEvaluated,
    [property: Id(5)] bool Watching,
    [property: Id(6)] long SeriesComputed);
