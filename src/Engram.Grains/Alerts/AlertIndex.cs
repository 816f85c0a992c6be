using Engram.Abstractions.Alerts;
using Engram.Abstractions.Users;

namespace Engram.Grains.Alerts;

/// <summary>
/// The armed alerts of one symbol, kept sorted by threshold so that a price tick finds the crossed
/// ones with a binary search: O(log n + k) for k crossings, not a scan. "Above" alerts are sorted
/// descending and "below" alerts ascending, so the crossed ones are always at the end of their list
/// and are removed without shifting the rest.
/// </summary>
public sealed class AlertIndex
{
    private readonly List<AlertEntry> above = []; // fire when price >= threshold; highest first
    private readonly List<AlertEntry> below = []; // fire when price <= threshold; lowest first

    public int Count => above.Count + below.Count;

    public IEnumerable<AlertEntry> Entries => above.Concat(below);

    /// <summary>True when nothing can cross at <paramref name="price"/>: two comparisons, the common case.</summary>
    public bool NothingCrosses(decimal price) =>
        (above.Count == 0 || above[^1].Threshold > price) && (below.Count == 0 || below[^1].Threshold < price);

    /// <summary>Adds an alert (idempotent: the same user and alert id is kept once).</summary>
    public bool Add(AlertEntry entry)
    {
        if (Contains(entry))
            return false;
        var list = ListFor(entry.Condition);
        list.Insert(InsertionPoint(list, entry.Threshold, entry.Condition), entry);
        if (entry.ExpiresAt is { } expires && (earliestExpiry is not { } earliest || expires < earliest))
            earliestExpiry = expires;
        return true;
    }

    public bool Remove(long userId, int alertId, AlertCondition condition, decimal threshold)
    {
        var list = ListFor(condition);
        var index = FindIndex(list, userId, alertId, condition, threshold);
        if (index < 0)
            return false;
        list.RemoveAt(index);
        return true;
    }

    public bool Contains(AlertEntry entry) => FindIndex(ListFor(entry.Condition), entry.UserId, entry.AlertId, entry.Condition, entry.Threshold) >= 0;

    /// <summary>Removes the alerts whose lifetime ended at or before <paramref name="now"/>; returns how many.</summary>
    public int RemoveExpired(DateTimeOffset now)
    {
        if (earliestExpiry is not { } earliest || earliest > now)
            return 0; // the common case: nothing to scan
        var removed = above.RemoveAll(e => e.ExpiresAt <= now) + below.RemoveAll(e => e.ExpiresAt <= now);
        earliestExpiry = Entries.Min(e => e.ExpiresAt);
        return removed;
    }

    /// <summary>The soonest expiry among the entries (null: none expires); entries leaving early only make it conservative.</summary>
    private DateTimeOffset? earliestExpiry;

    /// <summary>Removes and returns every alert the price crosses (price at or beyond its threshold).</summary>
    public List<AlertEntry> TakeCrossed(decimal price)
    {
        var crossed = new List<AlertEntry>();
        TakeTail(above, e => e.Threshold <= price, crossed);
        TakeTail(below, e => e.Threshold >= price, crossed);
        return crossed;
    }

    private static void TakeTail(List<AlertEntry> list, Func<AlertEntry, bool> isCrossed, List<AlertEntry> into)
    {
        // The list is ordered so that crossed entries form a suffix: binary search its start.
        int lo = 0, hi = list.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (isCrossed(list[mid])) hi = mid; else lo = mid + 1;
        }
        if (lo == list.Count)
            return;
        into.AddRange(list.Skip(lo));
        list.RemoveRange(lo, list.Count - lo);
    }

    private List<AlertEntry> ListFor(AlertCondition condition) => condition == AlertCondition.Above ? above : below;

    /// <summary>Above: descending thresholds; below: ascending. Equal thresholds keep insertion order.</summary>
    private static int InsertionPoint(List<AlertEntry> list, decimal threshold, AlertCondition condition)
    {
        int lo = 0, hi = list.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            var before = condition == AlertCondition.Above ? list[mid].Threshold >= threshold : list[mid].Threshold <= threshold;
            if (before) lo = mid + 1; else hi = mid;
        }
        return lo;
    }

    private static int FindIndex(List<AlertEntry> list, long userId, int alertId, AlertCondition condition, decimal threshold)
    {
        // Start at the first entry with this threshold and walk the (usually tiny) run of equal ones.
        int lo = 0, hi = list.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            var before = condition == AlertCondition.Above ? list[mid].Threshold > threshold : list[mid].Threshold < threshold;
            if (before) lo = mid + 1; else hi = mid;
        }
        for (var i = lo; i < list.Count && list[i].Threshold == threshold; i++)
        {
            if (list[i].UserId == userId && list[i].AlertId == alertId)
                return i;
        }
        return -1;
    }
}
