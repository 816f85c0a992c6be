using System.Globalization;
using Engram.Abstractions.Alerts;
using Engram.Abstractions.Users;
using Engram.Grains.Market;
using Engram.Trading.Indicators;
using Engram.Trading.MarketData;

namespace Engram.Grains.Alerts;

/// <summary>How an indicator alert is checked, described and written as a command, in one place.</summary>
public static class IndicatorAlerts
{
    public static IndicatorLine LineOf(IndicatorSpec spec) =>
        IndicatorLine.TryParse(spec.Line, out var line) ? line : throw new ArgumentException($"Unknown indicator '{spec.Line}'.", nameof(spec));

    public static Timeframe TimeframeOf(IndicatorSpec spec) => Timeframe.Parse(spec.Timeframe);

    /// <summary>The watch that evaluates it: one per pair and timeframe.</summary>
    public static string WatchKey(string symbol, IndicatorSpec spec) => MarketKey.Of(symbol, spec.Timeframe);

    public static IndicatorAlertEntry EntryOf(long userId, PriceAlert alert) =>
        new(userId, alert.Id, alert.Indicator!.Line, alert.Condition, alert.Threshold, alert.CreatedAt, alert.ExpiresAt);

    /// <summary>What is wrong with an indicator alert, or null when it can be set.</summary>
    public static string? Problem(IndicatorSpec spec, AlertCondition condition, decimal level)
    {
        if (!IndicatorLine.TryParse(spec.Line, out var line) || !Timeframe.TryParse(spec.Timeframe, out _))
            return $"I don't know the indicator '{spec.Line}' on '{spec.Timeframe}'.";
        return line.AlertProblem(SideWord(condition), level);
    }

    public static string SideWord(AlertCondition condition) =>
        condition switch { AlertCondition.Above => "above", AlertCondition.Below => "below", _ => "crosses" };

    /// <summary>"RSI(14) 4h above 70", "crosses EMA 200 (1d)", "1h volume above 2x its 20-candle average", "24h change above +5%".</summary>
    public static string Describe(IndicatorSpec spec, AlertCondition condition, decimal level)
    {
        var line = LineOf(spec);
        var tf = TimeframeOf(spec);
        var word = condition == AlertCondition.Above ? "above" : "below";
        return line.Kind switch
        {
            _ when line.IsAverage => condition == AlertCondition.Crosses ? $"crosses {line.Name(tf)}" : $"crosses {word} {line.Name(tf)}",
            IndicatorLineKind.VolumeRatio => $"{tf.Code} volume {word} {FormatLevel(line, level)} its {line.Period}-candle average",
            _ => $"{line.Name(tf)} {word} {FormatLevel(line, level)}",
        };
    }

    /// <summary>A level as the user wrote it: 70, 2x, +5%.</summary>
    public static string FormatLevel(IndicatorLine line, decimal level) => line.Kind switch
    {
        IndicatorLineKind.VolumeRatio => level.ToString("0.##", CultureInfo.InvariantCulture) + "x",
        IndicatorLineKind.Change => level.ToString("+0.##;-0.##", CultureInfo.InvariantCulture) + "%",
        _ => level.ToString("0.##", CultureInfo.InvariantCulture),
    };

    /// <summary>The <c>/alert</c> command that sets it again (buttons, and what <c>propose_alert</c> offers); <see cref="Conversation.AlertCommand.Parse"/> reads it back.</summary>
    public static string Command(string baseAsset, IndicatorSpec spec, AlertCondition condition, decimal level) =>
        LineOf(spec).AlertCommand(baseAsset, TimeframeOf(spec), SideWord(condition), level);

    /// <summary>The value at the last close of <paramref name="candles"/>, and the close; null while the series warms up.</summary>
    public static (double Value, double Close, DateTimeOffset CloseTime)? Current(IndicatorSpec spec, IReadOnlyList<Candle> candles)
    {
        if (candles.Count < 2)
            return null;
        var columns = new CandleColumns(candles);
        var series = LineOf(spec).Compute(columns.Close, columns.Volume);
        return double.IsNaN(series[^1]) ? null
            : (series[^1], columns.Close[^1], candles[^1].OpenTime + TimeframeOf(spec).Duration);
    }
}
