using Engram.Abstractions.Users;
using Engram.Grains.Digests;

namespace Engram.UnitTests.Digests;

public class DigestSlotsTests
{
    private static DateTimeOffset Utc(string text) => DateTimeOffset.Parse(text + "Z", System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void A_daily_slot_follows_the_zone_across_summer_time()
    {
        var berlin = new DigestSchedule { DailyAtMinute = 8 * 60, TimeZone = "Europe/Berlin" };
        Assert.Equal(Utc("2026-03-28T07:00:00"), DigestSlots.Next(berlin, Utc("2026-03-28T06:00:00"))); // CET, UTC+1
        Assert.Equal(Utc("2026-03-29T06:00:00"), DigestSlots.Next(berlin, Utc("2026-03-28T07:00:00"))); // the clocks went forward that night
        Assert.Equal(Utc("2026-10-25T07:00:00"), DigestSlots.Next(berlin, Utc("2026-10-24T06:00:00"))); // and back
        var tokyo = new DigestSchedule { DailyAtMinute = 23 * 60 + 30, TimeZone = "Asia/Tokyo" };
        Assert.Equal(Utc("2026-12-02T14:30:00"), DigestSlots.Next(tokyo, Utc("2026-12-02T10:00:00")));
    }

    [Fact]
    public void A_time_the_clocks_skip_is_taken_forward_and_a_repeated_one_counts_once()
    {
        // 02:30 does not exist in Berlin on 29 March 2026 (02:00 → 03:00), and happens twice on 25 October.
        var skipped = new DigestSchedule { DailyAtMinute = 2 * 60 + 30, TimeZone = "Europe/Berlin" };
        Assert.Equal(Utc("2026-03-29T01:30:00"), DigestSlots.Next(skipped, Utc("2026-03-28T12:00:00")));
        var first = DigestSlots.Next(skipped, Utc("2026-10-24T12:00:00"));
        var after = DigestSlots.Next(skipped, first);
        Assert.Equal(TimeSpan.FromHours(25), after - first); // 02:30 on the 25th once, then 02:30 on the 26th
    }

    [Fact]
    public void Every_n_hours_counts_from_local_midnight()
    {
        var every4 = new DigestSchedule { EveryHours = 4 };
        Assert.Equal(Utc("2026-12-02T08:00:00"), DigestSlots.Next(every4, Utc("2026-12-02T07:59:59")));
        Assert.Equal(Utc("2026-12-02T12:00:00"), DigestSlots.Next(every4, Utc("2026-12-02T08:00:00")));
        Assert.Equal(Utc("2026-12-03T00:00:00"), DigestSlots.Next(every4, Utc("2026-12-02T20:00:00")));
        var newYork = new DigestSchedule { EveryHours = 6, TimeZone = "America/New_York" };
        Assert.Equal(Utc("2026-12-02T11:00:00"), DigestSlots.Next(newYork, Utc("2026-12-02T06:00:00"))); // 06:00 EST
    }

    [Fact]
    public void Zones_are_found_by_their_iana_name_whatever_the_case_and_nothing_else()
    {
        Assert.Equal("Europe/Berlin", DigestSlots.Zone("europe/berlin")!.Id);
        Assert.Equal("UTC", DigestSlots.Zone("UTC")!.Id);
        Assert.Null(DigestSlots.Zone("Mars/Olympus"));
        Assert.Null(DigestSlots.Zone("CEST+1"));
    }

    [Fact]
    public void A_hundred_thousand_users_due_at_one_slot_are_spread_evenly_over_the_window()
    {
        var window = TimeSpan.FromMinutes(5);
        var offsets = Enumerable.Range(0, 100_000).Select(i => DigestSlots.Spread(100_000_000L + i, window)).ToList();
        Assert.All(offsets, o => Assert.InRange(o, TimeSpan.Zero, window - TimeSpan.FromTicks(1)));
        // Thirty 10-second buckets: each holds close to a thirtieth (3,333); none is a hot spot.
        var buckets = offsets.GroupBy(o => (int)(o.TotalSeconds / 10)).Select(g => g.Count()).ToList();
        Assert.Equal(30, buckets.Count);
        Assert.All(buckets, n => Assert.InRange(n, 3_000, 3_700));
        // The busiest second carries well under 1% of them.
        Assert.True(offsets.GroupBy(o => (int)o.TotalSeconds).Max(g => g.Count()) < 500);
        Assert.Equal(DigestSlots.Spread(42, window), DigestSlots.Spread(42, window)); // fixed per user
    }
}
