using System.Diagnostics.CodeAnalysis;

namespace Engram.Trading.MarketData;

/// <summary>A candle interval supported by Engram; <see cref="Code"/> is the Binance interval string.</summary>
public readonly record struct Timeframe
{
    public static readonly Timeframe M1 = new("1m", TimeSpan.FromMinutes(1));
    public static readonly Timeframe M5 = new("5m", TimeSpan.FromMinutes(5));
    public static readonly Timeframe M15 = new("15m", TimeSpan.FromMinutes(15));
    public static readonly Timeframe M30 = new("30m", TimeSpan.FromMinutes(30));
    public static readonly Timeframe H1 = new("1h", TimeSpan.FromHours(1));
    public static readonly Timeframe H4 = new("4h", TimeSpan.FromHours(4));
    public static readonly Timeframe D1 = new("1d", TimeSpan.FromDays(1));
    public static readonly Timeframe W1 = new("1w", TimeSpan.FromDays(7));

    public static IReadOnlyList<Timeframe> All { get; } = [M1, M5, M15, M30, H1, H4, D1, W1];

    /// <summary>"1m, 5m, 15m, 30m, 1h, 4h, 1d, 1w" for error messages.</summary>
    public static string ValidList { get; } = string.Join(", ", All.Select(t => t.Code));

    private Timeframe(string code, TimeSpan duration)
    {
        Code = code;
        Duration = duration;
    }

    public string Code { get; }

    public TimeSpan Duration { get; }

    /// <summary>Candles per year; crypto trades around the clock, so a year is 365 full days.</summary>
    public double PeriodsPerYear => TimeSpan.FromDays(365).TotalSeconds / Duration.TotalSeconds;

    /// <summary>Candles per day (fractional for 1w).</summary>
    public double PeriodsPerDay => TimeSpan.FromDays(1).TotalSeconds / Duration.TotalSeconds;

    public override string ToString() => Code ?? "";

    /// <summary>Parses "1h", "4H", "60m", "1 hour", "hourly", "daily", "1D", "weekly"…</summary>
    public static bool TryParse(string? text, out Timeframe timeframe)
    {
        timeframe = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var key = new string(text.Where(c => !char.IsWhiteSpace(c)).ToArray()).ToLowerInvariant();
        Timeframe? found = key switch
        {
            "1m" or "1min" or "1minute" or "m1" => M1,
            "5m" or "5min" or "5mins" or "5minutes" or "m5" => M5,
            "15m" or "15min" or "15mins" or "15minutes" or "m15" => M15,
            "30m" or "30min" or "30mins" or "30minutes" or "m30" or "halfhour" => M30,
            "1h" or "60m" or "1hr" or "1hour" or "h1" or "hourly" or "hour" => H1,
            "4h" or "240m" or "4hr" or "4hrs" or "4hours" or "h4" => H4,
            "1d" or "24h" or "1day" or "d1" or "daily" or "day" => D1,
            "1w" or "7d" or "1week" or "w1" or "weekly" or "week" => W1,
            _ => null,
        };
        if (found is { } tf)
        {
            timeframe = tf;
            return true;
        }

        return false;
    }

    /// <exception cref="ArgumentException">With a message that lists the valid timeframes.</exception>
    public static Timeframe Parse(string? text) =>
        TryParse(text, out var tf)
            ? tf
            : throw new ArgumentException(UnknownMessage(text), nameof(text));

    public static string UnknownMessage(string? text) =>
        $"Unknown timeframe '{text}'. Use one of: {ValidList}.";

    /// <summary>Finds a timeframe inside free text such as "swing trade on the 4h chart".</summary>
    public static bool TryFind(string? text, [NotNullWhen(true)] out Timeframe? timeframe)
    {
        timeframe = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var words = text.ToLowerInvariant().Split([' ', ',', ';', '.', '(', ')', '/'], StringSplitOptions.RemoveEmptyEntries);
        for (var i = 0; i < words.Length; i++)
        {
            // Two-word forms first ("4 hours", "15 min").
            if (i + 1 < words.Length && TryParse(words[i] + words[i + 1], out var two) && char.IsDigit(words[i][0]))
            {
                timeframe = two;
                return true;
            }

            if (TryParse(words[i], out var one))
            {
                timeframe = one;
                return true;
            }
        }

        return false;
    }
}
