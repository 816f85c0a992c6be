using Engram.Abstractions.Users;

namespace Engram.Abstractions.Alerts;

/// <summary>One armed alert in a symbol's index.</summary>
[GenerateSerializer, Immutable]
public readonly record struct AlertEntry(
    [property: Id(0)] decimal Threshold,
    [property: Id(1)] long UserId,
    [property: Id(2)] int AlertId,
    [property: Id(3)] AlertCondition Condition,
    [property: Id(4)] DateTimeOffset? ExpiresAt = null);

/// <summary>
/// Watches one symbol (key <c>BTCUSDT</c>) for every user's alerts on it: keeps the sorted index,
/// polls the price while anything is armed, and tells each owner about a crossing. One activation
/// in the cluster means one feed per symbol; a reminder brings it back on another silo when its
/// silo dies.
/// </summary>
public interface IPriceWatchGrain : IAlertWatch
{
    Task AddAsync(AlertEntry entry);
    Task RemoveAsync(AlertEntry entry);

    /// <summary>Makes this symbol's entries for <paramref name="userId"/> exactly <paramref name="armed"/> (self-healing).</summary>
    Task SyncUserAsync(long userId, IReadOnlyList<AlertEntry> armed);

    /// <summary>A price from a feed (or a test): evaluated at once.</summary>
    Task OnPriceAsync(decimal price, DateTimeOffset at);

    Task<PriceWatchStatus> GetStatusAsync();
}

[GenerateSerializer, Immutable]
public sealed record PriceWatchStatus(
    [property: Id(0)] int Armed,
    [property: Id(1)] int Firing,
    [property: Id(2)] int WaitingToRearm,
    [property: Id(3)] decimal? LastPrice,
    [property: Id(4)] DateTimeOffset? LastPriceAt,
    [property: Id(5)] bool Watching = false);
