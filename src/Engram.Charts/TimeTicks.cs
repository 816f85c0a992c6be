using Engram.Trading.MarketData;

namespace Engram.Charts;

/// <summary>
/// Time labels for a candle axis where x is the candle index (so exchange outages leave no empty gap).
/// A tick goes on each candle whose open time falls on a round boundary (every 6 h, every day, each month…),
/// with the step chosen so that at most <c>maxLabels</c> fit. Day changes are labelled with the date, other
/// intraday ticks with the time, as trading charts do.
/// </summary>
internal static class TimeTicks
{
    private static readonly TimeSpan[] IntradaySteps =
    [
        TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(15), TimeSpan.FromMinutes(30),
        TimeSpan.FromHours(1), TimeSpan.FromHours(2), TimeSpan.FromHours(3), TimeSpan.FromHours(6), TimeSpan.FromHours(12),
        TimeSpan.FromDays(1), TimeSpan.FromDays(2), TimeSpan.FromDays(3), TimeSpan.FromDays(7),
    ];

    private static readonly int[] MonthSteps = [1, 2, 3, 6, 12];

    public static (double[] Positions, string[] Labels) Build(ReadOnlySpan<long> openTimesMs, Timeframe timeframe, int maxLabels)
    {
        if (openTimesMs.Length == 0)
        {
            return ([], []);
        }

        maxLabels = Math.Max(2, maxLabels);
        var span = TimeSpan.FromMilliseconds(openTimesMs[^1] - openTimesMs[0]) + timeframe.Duration;
        foreach (var step in IntradaySteps)
        {
            if (step < timeframe.Duration || span / step > maxLabels)
            {
                continue;
            }

            return Fixed(openTimesMs, step);
        }

        foreach (var months in MonthSteps)
        {
            if (span.TotalDays / (30.44 * months) <= maxLabels)
            {
                return Monthly(openTimesMs, months);
            }
        }

        return Monthly(openTimesMs, 12 * (int)Math.Ceiling(span.TotalDays / 365.25 / maxLabels));
    }

    private static (double[], string[]) Fixed(ReadOnlySpan<long> openTimesMs, TimeSpan step)
    {
        var stepMs = (long)step.TotalMilliseconds;
        // Weeks start on Monday; the Unix epoch was a Thursday.
        var offsetMs = step == TimeSpan.FromDays(7) ? (long)TimeSpan.FromDays(4).TotalMilliseconds : 0;
        var positions = new List<double>();
        var labels = new List<string>();
        for (var i = 0; i < openTimesMs.Length; i++)
        {
            if ((openTimesMs[i] - offsetMs) % stepMs != 0)
            {
                continue;
            }

            var time = DateTimeOffset.FromUnixTimeMilliseconds(openTimesMs[i]).UtcDateTime;
            var label = step < TimeSpan.FromDays(1) && time.TimeOfDay != TimeSpan.Zero
                ? time.Format("HH:mm")
                : time.Month == 1 && time.Day == 1 ? time.Format("yyyy") : time.Format("d MMM");
            positions.Add(i);
            labels.Add(label);
        }

        return (positions.ToArray(), labels.ToArray());
    }

    private static (double[], string[]) Monthly(ReadOnlySpan<long> openTimesMs, int months)
    {
        var positions = new List<double>();
        var labels = new List<string>();
        var previous = DateTimeOffset.FromUnixTimeMilliseconds(openTimesMs[0]).UtcDateTime;
        for (var i = 1; i < openTimesMs.Length; i++)
        {
            var time = DateTimeOffset.FromUnixTimeMilliseconds(openTimesMs[i]).UtcDateTime;
            if (time.Month != previous.Month && (time.Month - 1) % Math.Min(months, 12) == 0
                && (months <= 12 || time.Year % (months / 12) == 0))
            {
                positions.Add(i);
                labels.Add(time.Month == 1 ? time.Format("yyyy") : time.Format("MMM"));
            }

            previous = time;
        }

        return (positions.ToArray(), labels.ToArray());
    }
}
