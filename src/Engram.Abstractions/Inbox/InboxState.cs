namespace Engram.Abstractions.Inbox;

[GenerateSerializer]
public sealed class InboxState
{
    /// <summary>Accepted, not yet handled, in arrival order.</summary>
    [Id(0)] public List<InboundUpdate> Pending { get; set; } = [];

    /// <summary>Recently completed update ids, so a redelivery after completion is recognised.</summary>
    [Id(1)] public List<long> Completed { get; set; } = [];
}
