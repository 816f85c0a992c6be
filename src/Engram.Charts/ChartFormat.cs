using System.Globalization;

namespace Engram.Charts;

/// <summary>Number and time text for labels. Invariant culture: the bot answers in English.</summary>
internal static class ChartFormat
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>
    /// Decimals that show a price to about 5 significant digits, never fewer than 2:
    /// 19,123.45 · 1.2345 · 0.34567 · 0.000012345.
    /// </summary>
    public static int PriceDecimals(double price)
    {
        if (!double.IsFinite(price) || price == 0)
        {
            return 2;
        }

        var magnitude = (int)Math.Floor(Math.Log10(Math.Abs(price)));
        return Math.Clamp(4 - magnitude, 2, 8);
    }

    public static string Price(double price) => Price(price, PriceDecimals(price));

    public static string Price(double price, int decimals) => price.ToString("N" + decimals, Invariant);

    /// <summary>Decimals needed to tell ticks <paramref name="step"/> apart (100 → 0, 2.5 → 1, 0.005 → 3).</summary>
    public static int StepDecimals(double step)
    {
        if (!double.IsFinite(step) || step <= 0)
        {
            return 2;
        }

        var decimals = 0;
        while (decimals < 10 && Math.Abs(step * Math.Pow(10, decimals) - Math.Round(step * Math.Pow(10, decimals))) > 1e-6)
        {
            decimals++;
        }

        return decimals;
    }

    /// <summary>1234 → 1.23K, 5600000 → 5.6M.</summary>
    public static string Compact(double value)
    {
        var abs = Math.Abs(value);
        return abs switch
        {
            >= 1e9 => (value / 1e9).ToString("0.##", Invariant) + "B",
            >= 1e6 => (value / 1e6).ToString("0.##", Invariant) + "M",
            >= 1e3 => (value / 1e3).ToString("0.##", Invariant) + "K",
            _ => value.ToString("0.##", Invariant),
        };
    }

    /// <summary>Money with a sign: +1,234.56 / −78.90 (true minus sign, easier to read on a phone).</summary>
    public static string Signed(double value, int decimals = 2) =>
        (value >= 0 ? "+" : "\u2212") + Math.Abs(value).ToString("N" + decimals, Invariant);

    public static string SignedPercent(double fraction) =>
        (fraction >= 0 ? "+" : "\u2212") + Math.Abs(fraction * 100).ToString("0.00", Invariant) + "%";

    public static string Percent(double fraction) => (fraction * 100).ToString("0.0", Invariant) + "%";

    public static string Utc(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", Invariant);

    public static string Format(this DateTime time, string format) => time.ToString(format, Invariant);

    /// <summary>
    /// "Nice" axis ticks (1, 2, 2.5, 5 × 10^k) covering [min, max] with about <paramref name="target"/> steps.
    /// </summary>
    public static (double Step, double[] Ticks) NiceTicks(double min, double max, int target)
    {
        var range = max - min;
        if (!(range > 0) || target < 1)
        {
            return (1, [min]);
        }

        var rough = range / target;
        var power = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        var step = new[] { 1, 2, 2.5, 5, 10 }.Select(m => m * power).First(s => s >= rough);
        var first = Math.Ceiling(min / step) * step;
        var ticks = new List<double>();
        for (var v = first; v <= max + step * 1e-9; v += step)
        {
            ticks.Add(Math.Round(v / step) * step);
        }

        return (step, ticks.ToArray());
    }
}
