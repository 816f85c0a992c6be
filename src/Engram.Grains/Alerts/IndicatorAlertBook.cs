using Engram.Abstractions.Alerts;
using Engram.Abstractions.Users;
using Engram.Trading.Indicators;
using Engram.Trading.MarketData;

namespace Engram.Grains.Alerts;

/// <summary>An indicator alert that crossed at one close, with the reading that made it.</summary>
public sealed record IndicatorCrossing(IndicatorAlertEntry Entry, IndicatorReading Reading);

/// <summary>
/// The armed indicator alerts of one pair and timeframe, grouped by series: at a close each distinct series
/// (RSI 14, EMA 200…) is computed once for every alert on it, and each alert costs two comparisons.
/// An alert fires when its condition turns true between two consecutive closes (a crossing, however large
/// the step), at a close after it was armed; a level already crossed when it was set waits for the next crossing.
/// </summary>
public sealed class IndicatorAlertBook(Timeframe timeframe)
{
    private readonly Dictionary<string, List<IndicatorAlertEntry>> byLine = new(StringComparer.Ordinal);

    public int Count { get; private set; }

    /// <summary>Series computed so far (the shared work: one per distinct series per evaluation).</summary>
    public long SeriesComputed { get; private set; }

    public IEnumerable<IndicatorAlertEntry> Entries => byLine.Values.SelectMany(e => e);

    /// <summary>Adds an alert, or replaces the entry with the same user and alert id (a re-arm moves its start).</summary>
    public bool Add(IndicatorAlertEntry entry)
    {
        if (Find(entry.UserId, entry.AlertId) is { } existing)
        {
            if (existing == entry)
                return false;
            Remove(entry.UserId, entry.AlertId);
        }
        if (!byLine.TryGetValue(entry.Line, out var list))
            byLine[entry.Line] = list = [];
        list.Add(entry);
        Count++;
        return true;
    }

    public bool Remove(long userId, int alertId)
    {
        foreach (var (line, list) in byLine)
        {
            var index = list.FindIndex(e => e.UserId == userId && e.AlertId == alertId);
            if (index < 0)
                continue;
            list.RemoveAt(index);
            Count--;
            if (list.Count == 0)
                byLine.Remove(line);
            return true;
        }
        return false;
    }

    public IndicatorAlertEntry? Find(long userId, int alertId) =>
        Entries.FirstOrDefault(e => e.UserId == userId && e.AlertId == alertId);

    public int RemoveExpired(DateTimeOffset now)
    {
        var removed = 0;
        foreach (var (line, list) in byLine.ToList())
        {
            removed += list.RemoveAll(e => e.ExpiresAt <= now);
            if (list.Count == 0)
                byLine.Remove(line);
        }
        Count -= removed;
        return removed;
    }

    /// <summary>
    /// Evaluates the closes of <paramref name="candles"/> from index <paramref name="from"/> on, in order. Each alert
    /// fires at most once (at its first crossing) and leaves the book; the owner decides whether it comes back.
    /// </summary>
    public List<IndicatorCrossing> Evaluate(CandleColumns candles, int from)
    {
        var crossings = new List<IndicatorCrossing>();
        from = Math.Max(from, 1); // a crossing needs the close before
        if (from >= candles.Count)
            return crossings;
        var duration = (long)timeframe.Duration.TotalMilliseconds;
        foreach (var (code, list) in byLine.ToList())
        {
            if (!IndicatorLine.TryParse(code, out var line))
                continue;
            var series = line.Compute(candles.Close, candles.Volume);
            SeriesComputed++;
            for (var k = list.Count - 1; k >= 0; k--)
            {
                var entry = list[k];
                for (var i = from; i < candles.Count; i++)
                {
                    var closeMs = candles.OpenTimeMs[i] + duration;
                    if (closeMs <= entry.ArmedAt.ToUnixTimeMilliseconds() || !Crossed(line, entry, candles.Close, series, i))
                        continue;
                    crossings.Add(new IndicatorCrossing(entry, new IndicatorReading(series[i], series[i - 1], candles.Close[i],
                        DateTimeOffset.FromUnixTimeMilliseconds(closeMs))));
                    list.RemoveAt(k);
                    Count--;
                    break;
                }
            }
            if (list.Count == 0)
                byLine.Remove(code);
        }
        return crossings;
    }

    /// <summary>Whether the condition turned true at close <paramref name="i"/> (for "crosses", whether the side changed).</summary>
    public static bool Crossed(IndicatorLine line, IndicatorAlertEntry entry, ReadOnlySpan<double> close, ReadOnlySpan<double> series, int i)
    {
        if (double.IsNaN(series[i]) || double.IsNaN(series[i - 1]))
            return false;
        if (line.IsAverage)
        {
            bool above = close[i] > series[i], wasAbove = close[i - 1] > series[i - 1];
            return entry.Condition switch
            {
                AlertCondition.Above => above && !wasAbove,
                AlertCondition.Below => close[i] < series[i] && close[i - 1] >= series[i - 1],
                _ => above != wasAbove,
            };
        }
        var level = (double)entry.Level;
        return entry.Condition == AlertCondition.Above
            ? series[i] >= level && series[i - 1] < level
            : series[i] <= level && series[i - 1] > level;
    }

    /// <summary>Whether the condition holds at the last close (for "/alerts" and for a level already crossed when set).</summary>
    public static bool Holds(IndicatorLine line, AlertCondition condition, decimal level, double close, double value) =>
        line.IsAverage
            ? condition == AlertCondition.Above ? close > value : condition == AlertCondition.Below && close < value
            : condition == AlertCondition.Above ? value >= (double)level : value <= (double)level;
}

/// <summary>Candles as columns, the way the indicator code reads them.</summary>
public sealed class CandleColumns
{
    public CandleColumns(IReadOnlyList<Candle> candles)
    {
        Count = candles.Count;
        OpenTimeMs = new long[Count];
        Close = new double[Count];
        Volume = new double[Count];
        for (var i = 0; i < Count; i++)
        {
            OpenTimeMs[i] = candles[i].OpenTimeMs;
            Close[i] = candles[i].Close;
            Volume[i] = candles[i].Volume;
        }
    }

    public int Count { get; }
    public long[] OpenTimeMs { get; }
    public double[] Close { get; }
    public double[] Volume { get; }

    /// <summary>The first index whose candle opened after <paramref name="openMs"/>, at most <paramref name="maxCloses"/> from the end.</summary>
    public int FirstAfter(long? openMs, int maxCloses)
    {
        var from = Math.Max(0, Count - maxCloses);
        if (openMs is not { } after)
            return Count - 1; // a new watch evaluates the latest close only
        var i = Array.BinarySearch(OpenTimeMs, after);
        var next = i >= 0 ? i + 1 : ~i;
        return Math.Max(from, next);
    }
}
