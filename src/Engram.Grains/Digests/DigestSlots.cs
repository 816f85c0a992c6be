using System.ComponentModel.DataAnnotations;
using Engram.Abstractions.Users;
using NodaTime;

namespace Engram.Grains.Digests;

/// <summary>Section <c>Digests</c>.</summary>
public sealed class DigestOptions
{
    public const string SectionName = "Digests";

    /// <summary>Users due at the same slot are spread over this window (100,000 at 08:00 must not hit one second).</summary>
    public TimeSpan SpreadWindow { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often a shard looks for users due.</summary>
    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>A digest due longer ago than this (a long outage) is skipped, not sent late: the next slot is news, this one is not.</summary>
    public TimeSpan MaxLateness { get; set; } = TimeSpan.FromHours(3);

    /// <summary>
    /// Digests the whole cluster asks for per second (its 64 shards share it), so they go at the pace Telegram takes them
    /// and leave room in its 30 a second for alerts and replies: 100,000 digests at 20 a second take 83 minutes, which no
    /// window can shorten. 0: not paced (a benchmark against a sender without limits).
    /// </summary>
    [Range(0, 10_000)] public double MaxPerSecond { get; set; } = 20;

    /// <summary>Symbols one watchlist may hold: every digest prices and analyses each of them.</summary>
    [Range(1, 100)] public int MaxWatched { get; set; } = 20;
}

/// <summary>
/// When digests fall due, by the user's IANA time zone (NodaTime's embedded tz database, so the host's own zone files
/// do not matter): daily at a local time, or every N hours from local midnight. A local time a DST change skips or
/// repeats is taken leniently: the skipped hour moves forward, a repeated one counts once.
/// </summary>
public static class DigestSlots
{
    public static readonly IReadOnlyList<int> EveryHours = [1, 2, 3, 4, 6, 8, 12, 24];

    /// <summary>The zone by its IANA name, matched without regard to case ("europe/berlin" is Europe/Berlin).</summary>
    public static DateTimeZone? Zone(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
            return null;
        var provider = DateTimeZoneProviders.Tzdb;
        if (provider.GetZoneOrNull(name.Trim()) is { } exact)
            return exact;
        var id = provider.Ids.FirstOrDefault(i => string.Equals(i, name.Trim(), StringComparison.OrdinalIgnoreCase));
        return id is null ? null : provider[id];
    }

    /// <summary>The first slot strictly after <paramref name="after"/>.</summary>
    public static DateTimeOffset Next(DigestSchedule schedule, DateTimeOffset after)
    {
        var zone = Zone(schedule.TimeZone) ?? DateTimeZone.Utc;
        var instant = Instant.FromDateTimeOffset(after);
        var date = instant.InZone(zone).Date.PlusDays(-1); // from the day before: a slot late last night may still be ahead in UTC terms
        for (var day = 0; day < 4; day++, date = date.PlusDays(1))
        {
            foreach (var minute in MinutesOfDay(schedule))
            {
                var slot = zone.AtLeniently(date.AtMidnight().PlusMinutes(minute)).ToInstant();
                if (slot > instant)
                    return slot.ToDateTimeOffset();
            }
        }
        throw new InvalidOperationException("No digest slot within four days.");
    }

    private static IEnumerable<int> MinutesOfDay(DigestSchedule schedule)
    {
        if (schedule.DailyAtMinute is { } minute)
            return [minute];
        var every = schedule.EveryHours ?? 24;
        return Enumerable.Range(0, 24 / every).Select(k => k * every * 60);
    }

    /// <summary>
    /// Where in the window this user's digest goes: fixed per user (a hash of the id, so the same user is always at
    /// the same offset) and uniform over users.
    /// </summary>
    public static TimeSpan Spread(long userId, TimeSpan window)
    {
        if (window <= TimeSpan.Zero)
            return TimeSpan.Zero;
        // SplitMix64's finaliser: consecutive ids land far apart.
        var z = unchecked((ulong)userId + 0x9E3779B97F4A7C15UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        z ^= z >> 31;
        return TimeSpan.FromTicks((long)(z % (ulong)window.Ticks));
    }

    /// <summary>"daily at 08:00 Europe/Berlin" or "every 4h (UTC)".</summary>
    public static string Describe(DigestSchedule schedule) => schedule.DailyAtMinute is { } minute
        ? $"daily at {minute / 60:00}:{minute % 60:00} {schedule.TimeZone}"
        : $"every {schedule.EveryHours}h from midnight {schedule.TimeZone}";
}
