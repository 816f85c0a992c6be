using System.Globalization;
using Engram.Abstractions.Conversation;
using Engram.Abstractions.Users;
using Engram.Grains.Users;

namespace Engram.Grains.Alerts;

/// <summary>The message a crossing sends: what happened, the price, the time, and buttons for what users do next.</summary>
public static class AlertNotification
{
    public static ChatReply For(PriceAlert alert, AlertFired fired)
    {
        var pretty = UserAccount.Pretty(alert.Symbol);
        var word = alert.Condition == AlertCondition.Above ? "above" : "below";
        var text = $"🔔 {pretty} is {word} {Money(alert.Threshold)}: {Money(fired.Price)} at {fired.At.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC.\n" +
            $"Alert #{alert.Id}, set {alert.CreatedAt.UtcDateTime:yyyy-MM-dd HH:mm} UTC" +
            (alert.CreationPrice is { } from ? $" when it was {Money(from)}" : "") + ".";
        if (alert.Repeat)
            text += $"\nIt repeats: armed again after {Duration(alert.Cooldown ?? TimeSpan.FromHours(1))} once the price is back {(alert.Condition == AlertCondition.Above ? "below" : "above")} {Money(alert.Threshold)}.";
        var baseAsset = alert.Symbol.EndsWith("USDT", StringComparison.Ordinal) ? alert.Symbol[..^4] : alert.Symbol;
        var threshold = alert.Threshold.ToString("0.########", CultureInfo.InvariantCulture);
        IReadOnlyList<ReplyButton> buttons = alert.Repeat
            ? [new($"Analyze {baseAsset}", $"/analyze {baseAsset}"), new("Stop it", $"/delalert {alert.Id}")]
            : [new("Set again", $"/alert {baseAsset} {word} {threshold}"), new($"Analyze {baseAsset}", $"/analyze {baseAsset}")];
        return new ChatReply(text, ReplyKind.Notice, buttons);
    }

    public static string Money(decimal v) => v >= 1000 ? v.ToString("#,0.00", CultureInfo.InvariantCulture)
        : v >= 1 ? v.ToString("#,0.####", CultureInfo.InvariantCulture) : v.ToString("0.########", CultureInfo.InvariantCulture);

    public static string Duration(TimeSpan d) => d.TotalDays >= 1 && d.TotalDays == Math.Floor(d.TotalDays) ? $"{d.TotalDays:0}d"
        : d.TotalHours >= 1 && d.TotalHours == Math.Floor(d.TotalHours) ? $"{d.TotalHours:0}h" : $"{d.TotalMinutes:0}m";
}
