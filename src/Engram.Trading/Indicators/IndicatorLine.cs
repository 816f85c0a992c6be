using System.Globalization;
using System.Text.RegularExpressions;
using Engram.Trading.MarketData;

namespace Engram.Trading.Indicators;

public enum IndicatorLineKind
{
    /// <summary>RSI with Wilder smoothing, 0–100.</summary>
    Rsi = 0,
    /// <summary>An exponential moving average of the close; alerts watch the close crossing it.</summary>
    Ema = 1,
    /// <summary>A simple moving average of the close; alerts watch the close crossing it.</summary>
    Sma = 2,
    /// <summary>A candle's volume over the average of the <c>Period</c> candles before it (2 = twice the usual).</summary>
    VolumeRatio = 3,
    /// <summary>The close's change in percent over the last <c>Period</c> candles.</summary>
    Change = 4,
}

/// <summary>
/// One indicator series an alert can watch, computed over candles by the same <see cref="TechnicalIndicators"/>
/// the tools use. Its <see cref="Code"/> (<c>rsi14</c>, <c>ema200</c>, <c>volume20</c>, <c>change24</c>) is what alerts store.
/// </summary>
public readonly partial record struct IndicatorLine(IndicatorLineKind Kind, int Period)
{
    public const int VolumeAveragePeriod = 20;

    /// <summary>How many closed candles an alert's series is computed over: the window <c>analyze_market</c> reads, so both quote the same RSI and EMAs.</summary>
    public const int Window = 500;

    /// <summary>The longest average or change an alert may watch: it must warm up well inside <see cref="Window"/>.</summary>
    public const int MaxPeriod = 200;

    public string Code => Kind switch
    {
        IndicatorLineKind.Rsi => $"rsi{Period}",
        IndicatorLineKind.Ema => $"ema{Period}",
        IndicatorLineKind.Sma => $"sma{Period}",
        IndicatorLineKind.VolumeRatio => $"volume{Period}",
        _ => $"change{Period}",
    };

    /// <summary>True for a moving average: an alert on it watches the close crossing the line, not a level.</summary>
    public bool IsAverage => Kind is IndicatorLineKind.Ema or IndicatorLineKind.Sma;

    /// <summary>For people: "RSI(14) 4h", "EMA 200 (1d)", "1h volume vs its 20-candle average", "24h change".</summary>
    public string Name(Timeframe timeframe) => Kind switch
    {
        IndicatorLineKind.Rsi => $"RSI({Period}) {timeframe.Code}",
        IndicatorLineKind.Ema => $"EMA {Period} ({timeframe.Code})",
        IndicatorLineKind.Sma => $"SMA {Period} ({timeframe.Code})",
        IndicatorLineKind.VolumeRatio => $"{timeframe.Code} volume vs its {Period}-candle average",
        _ => $"{ChangeSpan(timeframe)} change",
    };

    /// <summary>A reading as people write it: RSI 71.3, volume 2.4x, change +5.2%, an average as a price.</summary>
    public string FormatValue(double value) => Kind switch
    {
        IndicatorLineKind.Rsi => value.ToString("0.0", CultureInfo.InvariantCulture),
        IndicatorLineKind.VolumeRatio => value.ToString("0.0#", CultureInfo.InvariantCulture) + "x",
        IndicatorLineKind.Change => value.ToString("+0.0#;-0.0#;0", CultureInfo.InvariantCulture) + "%",
        _ => Tools.ToolText.FormatPrice(value),
    };

    /// <summary>The span a change alert covers, e.g. 24 one-hour candles → "24h".</summary>
    public string ChangeSpan(Timeframe timeframe)
    {
        var span = timeframe.Duration * Period;
        return span.TotalDays > 2 && span.TotalDays % 1 == 0 ? $"{span.TotalDays:0}d"
            : span.TotalHours >= 1 && span.TotalHours % 1 == 0 ? $"{span.TotalHours:0}h" : $"{span.TotalMinutes:0}m";
    }

    /// <summary>
    /// The series at every candle (NaN while it warms up). For an average it is the average itself; the alert
    /// compares the close with it.
    /// </summary>
    public double[] Compute(ReadOnlySpan<double> close, ReadOnlySpan<double> volume)
    {
        var output = new double[close.Length];
        if (close.Length == 0)
            return output;
        switch (Kind)
        {
            case IndicatorLineKind.Rsi:
                TechnicalIndicators.Rsi(close, output, Period);
                break;
            case IndicatorLineKind.Ema:
                TechnicalIndicators.Ema(close, Period, output);
                break;
            case IndicatorLineKind.Sma:
                TechnicalIndicators.Sma(close, Period, output);
                break;
            case IndicatorLineKind.VolumeRatio:
                // The average of the candles before this one: a spike does not dilute its own baseline.
                var average = new double[volume.Length];
                TechnicalIndicators.Sma(volume, Period, average);
                output[0] = double.NaN;
                for (var i = 1; i < volume.Length; i++)
                    output[i] = average[i - 1] > 0 ? volume[i] / average[i - 1] : double.NaN;
                break;
            default:
                for (var i = 0; i < close.Length; i++)
                    output[i] = i >= Period && close[i - Period] > 0 ? (close[i] / close[i - Period] - 1) * 100 : double.NaN;
                break;
        }
        return output;
    }

    /// <summary>
    /// The indicator word of an alert: <c>rsi</c> (14), <c>rsi7</c>, <c>ema200</c>, <c>sma50</c>, <c>ma50</c> (simple),
    /// <c>volume</c>. A change is given by its span instead (<see cref="TryChange"/>).
    /// </summary>
    public static bool TryParse(string? word, out IndicatorLine line)
    {
        line = default;
        var match = WordPattern().Match(word?.Trim().ToLowerInvariant() ?? "");
        if (!match.Success)
            return false;
        var name = match.Groups[1].Value;
        var hasPeriod = int.TryParse(match.Groups[2].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var period);
        (IndicatorLineKind Kind, int Period, int Min, int Max)? found = name switch
        {
            "rsi" => (IndicatorLineKind.Rsi, hasPeriod ? period : IndicatorSeries.RsiPeriod, 2, 50),
            "ema" when hasPeriod => (IndicatorLineKind.Ema, period, 2, MaxPeriod),
            "sma" or "ma" when hasPeriod => (IndicatorLineKind.Sma, period, 2, MaxPeriod),
            "volume" or "vol" => (IndicatorLineKind.VolumeRatio, hasPeriod ? period : VolumeAveragePeriod, 2, MaxPeriod),
            "change" when hasPeriod => (IndicatorLineKind.Change, period, 1, MaxPeriod),
            _ => null,
        };
        if (found is not { } f || f.Period < f.Min || f.Period > f.Max)
            return false;
        line = new IndicatorLine(f.Kind, f.Period);
        return true;
    }

    /// <summary>
    /// A change over a span (<c>24h</c>, <c>4h</c>, <c>30m</c>, <c>7d</c>): counted in hourly candles when the span is whole
    /// hours, else in 5-minute or 1-minute candles, so it is checked at every close of those.
    /// </summary>
    public static bool TryChange(TimeSpan span, out IndicatorLine line, out Timeframe timeframe)
    {
        foreach (var tf in new[] { Timeframe.H1, Timeframe.M5, Timeframe.M1 })
        {
            if (span.Ticks % tf.Duration.Ticks == 0 && span / tf.Duration is var n && n >= 1 && n <= MaxPeriod)
            {
                line = new IndicatorLine(IndicatorLineKind.Change, (int)n);
                timeframe = tf;
                return true;
            }
        }
        line = default;
        timeframe = default;
        return false;
    }

    /// <summary>What is wrong with an alert on this line (<paramref name="side"/> above, below or crosses), or null.</summary>
    public string? AlertProblem(string side, decimal level)
    {
        if (IsAverage)
            return side is not ("above" or "below" or "crosses") ? "Say crosses, crosses above or crosses below, e.g. /alert SOL crosses ema200 1d"
                : level == 0 ? null : "A moving-average alert has no level: /alert SOL crosses ema200 1d";
        if (side is not ("above" or "below"))
            return "Say above or below for this one, e.g. /alert BTC rsi 4h above 70";
        return Kind switch
        {
            IndicatorLineKind.Rsi when level is <= 0 or >= 100 => "An RSI level is between 0 and 100, e.g. /alert BTC rsi 4h above 70",
            IndicatorLineKind.VolumeRatio when level is <= 0 or > 1000 => "A volume level is a multiple of the average, e.g. /alert BTC volume 1h above 2x",
            IndicatorLineKind.Change when level is 0 or <= -100 or > 10_000 => "A change is a percentage, e.g. /alert BTC change 24h above 5%",
            _ => null,
        };
    }

    /// <summary>The <c>/alert</c> command for an alert on this line; the command parser reads it back.</summary>
    public string AlertCommand(string baseAsset, Timeframe timeframe, string side, decimal level)
    {
        var number = level.ToString("0.########", CultureInfo.InvariantCulture);
        return Kind switch
        {
            _ when IsAverage => side == "crosses" ? $"/alert {baseAsset} crosses {Code} {timeframe.Code}" : $"/alert {baseAsset} crosses {side} {Code} {timeframe.Code}",
            IndicatorLineKind.Rsi => $"/alert {baseAsset} {(Period == IndicatorSeries.RsiPeriod ? "rsi" : Code)} {timeframe.Code} {side} {number}",
            IndicatorLineKind.VolumeRatio => $"/alert {baseAsset} {(Period == VolumeAveragePeriod ? "volume" : Code)} {timeframe.Code} {side} {number}x",
            _ => $"/alert {baseAsset} change {ChangeSpan(timeframe)} {side} {number}%",
        };
    }

    /// <summary>A span as alerts write it: 30m, 4h, 24h, 7d.</summary>
    public static bool TryParseSpan(string? text, out TimeSpan span)
    {
        span = default;
        var match = SpanPattern().Match(text?.Trim().ToLowerInvariant() ?? "");
        if (!match.Success || !int.TryParse(match.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n <= 0 || n > 10_000)
            return false;
        span = match.Groups[2].Value switch { "m" => TimeSpan.FromMinutes(n), "h" => TimeSpan.FromHours(n), "d" => TimeSpan.FromDays(n), _ => TimeSpan.FromDays(7 * n) };
        return true;
    }

    [GeneratedRegex(@"^([0-9]+)(m|h|d|w)$")]
    private static partial Regex SpanPattern();

    [GeneratedRegex(@"^([a-z]+)([0-9]{0,4})$")]
    private static partial Regex WordPattern();
}
