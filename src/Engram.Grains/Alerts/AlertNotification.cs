using System.Globalization;
using Engram.Abstractions.Alerts;
using Engram.Abstractions.Conversation;
using Engram.Abstractions.Users;
using Engram.Grains.Users;

namespace Engram.Grains.Alerts;

/// <summary>The message a crossing sends: what happened, the price, the time, and buttons for what users do next.</summary>
public static class AlertNotification
{
    /// <summary>One message for the alerts of one user that crossed on one move: one line each, the buttons of the first.</summary>
    public static ChatReply For(IReadOnlyList<(PriceAlert Alert, AlertFired Fired)> fired)
    {
        if (fired.Count == 1)
            return For(fired[0].Alert, fired[0].Fired);
        var lines = fired.Select(f => "• " + Headline(f.Alert, f.Fired) + Paused(f.Alert));
        var first = For(fired[0].Alert, fired[0].Fired);
        return new ChatReply($"🔔 {fired.Count} of your alerts fired:\n" + string.Join("\n", lines),
            ReplyKind.Notice, [.. first.Buttons!.Take(2), new("My alerts", "/alerts")]);
    }

    public static ChatReply For(PriceAlert alert, AlertFired fired)
    {
        if (alert.Indicator is { } spec && fired.Reading is { } reading)
            return ForIndicator(alert, spec, reading);
        var pretty = UserAccount.Pretty(alert.Symbol);
        var word = alert.Condition == AlertCondition.Above ? "above" : "below";
        var text = $"🔔 {pretty} is {word} {Money(alert.Threshold)}: {Money(fired.Price)} at {fired.At.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC.\n" +
            $"Alert #{alert.Id}, set {alert.CreatedAt.UtcDateTime:yyyy-MM-dd HH:mm} UTC" +
            (alert.CreationPrice is { } from ? $" when it was {Money(from)}" : "") + ".";
        if (alert.Paused)
            text += Paused(alert);
        else if (alert.Repeat)
            text += $"\nIt repeats: armed again after {Duration(alert.Cooldown ?? TimeSpan.FromHours(1))} once the price is back {(alert.Condition == AlertCondition.Above ? "below" : "above")} {Money(alert.Threshold)}.";
        var baseAsset = alert.Symbol.EndsWith("USDT", StringComparison.Ordinal) ? alert.Symbol[..^4] : alert.Symbol;
        var threshold = alert.Threshold.ToString("0.########", CultureInfo.InvariantCulture);
        IReadOnlyList<ReplyButton> buttons = alert.Repeat && !alert.Paused
            ? [new($"Analyze {baseAsset}", $"/analyze {baseAsset}"), new("Stop it", $"/delalert {alert.Id}")]
            : [new("Set again", $"/alert {baseAsset} {word} {threshold}{RepeatWords(alert)}"), new($"Analyze {baseAsset}", $"/analyze {baseAsset}")];
        return new ChatReply(text, ReplyKind.Notice, buttons);
    }

    /// <summary>
    /// An indicator alert names the value that crossed, the one before, and the close, and offers the chart and the
    /// analysis on its timeframe.
    /// </summary>
    private static ChatReply ForIndicator(PriceAlert alert, IndicatorSpec spec, IndicatorReading reading)
    {
        var text = $"🔔 {Headline(alert, new AlertFired(alert.Id, alert.Symbol, alert.Condition, alert.Threshold, (decimal)reading.Close, reading.CloseTime, reading))}\n" +
            $"Alert #{alert.Id}, set {alert.CreatedAt.UtcDateTime:yyyy-MM-dd HH:mm} UTC.";
        if (alert.Paused)
            text += Paused(alert);
        else if (alert.Repeat)
            text += $"\nIt repeats: it fires at the next crossing after a {Duration(alert.Cooldown ?? TimeSpan.FromHours(1))} cooldown.";
        var baseAsset = BaseAsset(alert.Symbol);
        var tf = spec.Timeframe;
        List<ReplyButton> buttons = [new($"📈 Chart {baseAsset} {tf}", $"/chart {baseAsset} {tf}"), new($"Analyze {baseAsset} {tf}", $"/analyze {baseAsset} {tf}")];
        buttons.Add(alert.Repeat && !alert.Paused
            ? new("Stop it", $"/delalert {alert.Id}")
            : new("Set again", IndicatorAlerts.Command(baseAsset, spec, alert.Condition, alert.Threshold) + RepeatWords(alert)));
        return new ChatReply(text, ReplyKind.Notice, buttons);
    }

    /// <summary>What crossed, in one line: "BTC/USDT is above 25,000.00: 25,010.00 at …" or "BTC/USDT RSI(14) 4h crossed above 70: 72.4 at the … close (was 68.1)".</summary>
    private static string Headline(PriceAlert alert, AlertFired fired)
    {
        var pretty = UserAccount.Pretty(alert.Symbol);
        if (alert.Indicator is not { } spec || fired.Reading is not { } reading)
            return $"{pretty} is {(alert.Condition == AlertCondition.Above ? "above" : "below")} {Money(alert.Threshold)}: {Money(fired.Price)} at {fired.At.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC.";
        var line = IndicatorAlerts.LineOf(spec);
        var tf = IndicatorAlerts.TimeframeOf(spec);
        var close = $"{reading.CloseTime.UtcDateTime:yyyy-MM-dd HH:mm} UTC close";
        return line.IsAverage
            ? $"{pretty} {IndicatorAlerts.Describe(spec, alert.Condition, 0).Replace("crosses", "crossed", StringComparison.Ordinal)}: closed at {line.FormatValue(reading.Close)} " +
              $"against the average's {line.FormatValue(reading.Value)} at the {close}."
            : $"{pretty} {line.Name(tf)} crossed {(alert.Condition == AlertCondition.Above ? "above" : "below")} {IndicatorAlerts.FormatLevel(line, alert.Threshold)}: " +
              $"{line.FormatValue(reading.Value)} at the {close} (was {line.FormatValue(reading.Previous)}); {pretty} closed at {Money((decimal)reading.Close)}.";
    }

    private static string Paused(PriceAlert alert) => alert.Paused
        ? $"\n⏸ Paused: it fired more than {(alert.RecentFires?.Count ?? 1) - 1} times in the last hour. Set it again when you want it back."
        : "";

    private static string RepeatWords(PriceAlert alert) =>
        alert.Repeat ? $" repeat {Duration(alert.Cooldown ?? TimeSpan.FromHours(1))}" : "";

    private static string BaseAsset(string symbol) => symbol.EndsWith("USDT", StringComparison.Ordinal) ? symbol[..^4] : symbol;

    public static string Money(decimal v) => v >= 1000 ? v.ToString("#,0.00", CultureInfo.InvariantCulture)
        : v >= 1 ? v.ToString("#,0.####", CultureInfo.InvariantCulture) : v.ToString("0.########", CultureInfo.InvariantCulture);

    public static string Duration(TimeSpan d) => d.TotalDays >= 1 && d.TotalDays == Math.Floor(d.TotalDays) ? $"{d.TotalDays:0}d"
        : d.TotalHours >= 1 && d.TotalHours == Math.Floor(d.TotalHours) ? $"{d.TotalHours:0}h" : $"{d.TotalMinutes:0}m";
}
