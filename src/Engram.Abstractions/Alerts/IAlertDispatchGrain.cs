using Engram.Abstractions.Users;
using Orleans.Concurrency;

namespace Engram.Abstractions.Alerts;

/// <summary>A crossing on its way to the alert's owner.</summary>
[GenerateSerializer, Immutable]
public sealed record OwnerAlert(
    [property: Id(0)] long UserId,
    [property: Id(1)] AlertFired Fired);

/// <summary>What an owner did with a crossing, sent back to the watch that saw it.</summary>
[GenerateSerializer, Immutable]
public sealed record OwnerAnswer(
    [property: Id(0)] long UserId,
    [property: Id(1)] AlertFired Fired,
    [property: Id(2)] AlertFiredResult Result);

/// <summary>A watch whose crossings the dispatcher carries to their owners.</summary>
public interface IAlertWatch : IGrainWithStringKey
{
    /// <summary>What the owners did with the crossings of one dispatch: settled ones leave the watch's firing list.</summary>
    [OneWay]
    Task AcknowledgeAsync(IReadOnlyList<OwnerAnswer> answers);
}

/// <summary>
/// Carries a watch's crossings to their owners' grains, several alerts of one owner in one call (one message), and
/// acknowledges back. It exists so a watch never waits on a user grain inside its own turn: a user grain setting an
/// alert (waiting on the watch) while the watch tells it about another cannot deadlock.
/// </summary>
public interface IAlertDispatchGrain : IGrainWithIntegerKey
{
    [OneWay]
    Task DispatchAsync(IAlertWatch watch, IReadOnlyList<OwnerAlert> alerts);
}
