using System.Globalization;
using Engram.Abstractions.Conversation;
using Engram.Abstractions.Users;
using Engram.Grains.Users;
using Engram.Trading.Tools;

namespace Engram.Grains.Conversation;

/// <summary>The number, pair and error wording every command shares.</summary>
public static class ReplyText
{
    public const string Disclaimer = "Engram explains market data; it is not financial advice. Every figure comes from Engram's own calculations on exchange data.";

    public static string Pretty(string symbol) => UserAccount.Pretty(symbol);
    public static string Word(AlertCondition c) => c == AlertCondition.Above ? "above" : "below";
    public static string Number(decimal v) => UserAccount.Format(v);
    public static string Money(decimal v) => Alerts.AlertNotification.Money(v);
    public static string Signed(decimal v) => (v > 0 ? "+" : v < 0 ? "−" : "") + Money(Math.Abs(v));
    public static string Pct(decimal part, decimal whole) => whole == 0 ? "n/a" : (part / whole * 100).ToString("+0.##;−0.##;0", CultureInfo.InvariantCulture) + "%";
    public static string Distance(decimal price, decimal threshold) => (Math.Abs(threshold - price) / price * 100).ToString("0.##", CultureInfo.InvariantCulture) + "%";

    public static ChatReply Usage(string command, string? problem = null) =>
        ChatReply.Error((problem is null ? "" : problem + "\n") + CommandCatalog.UsageOf(command));

    public static ChatReply ToolError(ToolError error, string? command = null)
    {
        var text = error.Message;
        if (error.Suggestions.Count > 0 && error.Code == ToolErrorCode.UnknownSymbol)
            text += "\nDid you mean: " + string.Join(", ", error.Suggestions.Take(5)) + "?";
        if (command is not null && error.Code == ToolErrorCode.InvalidPositionSize)
            text += "\n" + CommandCatalog.UsageOf(command);
        return ChatReply.Error(text);
    }

    public static ChatReply UnknownPair(Engram.Trading.MarketData.SymbolResolution resolved) =>
        ToolError(new ToolError(ToolErrorCode.UnknownSymbol, resolved.Error ?? "Unknown pair.", resolved.Suggestions));

    /// <summary>For a change that would be stored: the exchange's pair list could not be checked.</summary>
    public static ChatReply PairNotChecked(string symbol) =>
        ChatReply.Error($"I can't reach the exchange's list of pairs right now, so I can't check {Pretty(symbol)}; nothing was changed. Please try again in a minute.");

    /// <summary>"100000", "100,000", "$100000", "1e5", "0.5": invariant culture; NaN and infinities cannot parse into decimal.</summary>
    public static bool TryParseAmount(string text, out decimal value)
    {
        var cleaned = text.Trim().TrimStart('$').Replace(",", "", StringComparison.Ordinal).Replace("_", "", StringComparison.Ordinal);
        var multiplier = 1m;
        if (cleaned.EndsWith('k') || cleaned.EndsWith('K')) { multiplier = 1_000m; cleaned = cleaned[..^1]; }
        else if (cleaned.EndsWith('m') || cleaned.EndsWith('M')) { multiplier = 1_000_000m; cleaned = cleaned[..^1]; }
        if (decimal.TryParse(cleaned, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && value < 1_000_000_000_000m)
        {
            value *= multiplier;
            return true;
        }
        value = 0;
        return false;
    }
}
