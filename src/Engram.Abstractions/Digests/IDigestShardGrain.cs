namespace Engram.Abstractions.Digests;

/// <summary>
/// The digest schedules of one share of the users (key = user id mod <see cref="Count"/>): who is due when. One
/// reminder per shard brings it back after a crash; there is no reminder per user. The user grain owns the schedule
/// and the record of which slot it last sent, so a slot sent twice to it (a crash, a retry) is delivered once.
/// </summary>
public interface IDigestShardGrain : IGrainWithIntegerKey
{
    public const int Count = 64;

    /// <summary>
    /// The user's next slot (null: no digest any more). <paramref name="durable"/> stores it before returning (a
    /// user's command); otherwise it is stored with the shard's next write (a rescheduling after a digest, which
    /// the user grain repeats if it is lost).
    /// </summary>
    Task ScheduleAsync(long userId, DateTimeOffset? slot, bool durable);

    Task<DigestShardStatus> GetStatusAsync();
}

[GenerateSerializer, Immutable]
public sealed record DigestShardStatus(
    [property: Id(0)] int Scheduled,
    [property: Id(1)] int InFlight,
    [property: Id(2)] DateTimeOffset? NextDue,
    [property: Id(3)] long Sent);
