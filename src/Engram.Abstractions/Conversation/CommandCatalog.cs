namespace Engram.Abstractions.Conversation;

/// <summary>One command: what it does, how to call it, an example. Drives /help, usage errors and Telegram's command menu.</summary>
public sealed record CommandInfo(string Name, string Usage, string Example, string Description);

public static class CommandCatalog
{
    public static readonly IReadOnlyList<CommandInfo> All =
    [
        new("start", "/start", "/start", "Welcome and what Engram can do"),
        new("help", "/help", "/help", "Every command with an example"),
        new("status", "/status", "/status", "Engram's health: AI model, cluster, your alerts"),
        new("analyze", "/analyze <pair> [timeframe]", "/analyze BTC/USDT 4h", "Technical analysis with AI commentary"),
        new("chart", "/chart <pair> [timeframe]", "/chart BTC 4h", "Candlestick chart with EMA, Bollinger, volume, RSI and your alerts"),
        new("signal", "/signal <pair> [timeframe]", "/signal ETH 1h", "BUY/SELL/HOLD with stop-loss, take-profit and its track record"),
        new("risk", "/risk <pair> <size>", "/risk BTC 0.5", "Volatility, VaR and a suggested position size"),
        new("alert", "/alert <pair> above|below <price> | +5% | rsi 4h above 70 | crosses ema200 1d | volume 1h above 2x | change 24h above 5% [repeat 1h] [for 7d]",
            "/alert BTC above 100000", "Set a price or indicator alert (once, repeating, or until a date)"),
        new("alerts", "/alerts", "/alerts", "Your active alerts"),
        new("delalert", "/delalert <id>", "/delalert 3", "Delete an alert"),
        new("watch", "/watch <pair> [pair…]", "/watch BTC ETH SOL", "Add pairs to your watchlist"),
        new("unwatch", "/unwatch <pair>", "/unwatch ETH", "Remove a pair from your watchlist"),
        new("watchlist", "/watchlist", "/watchlist", "Your watched pairs: price, 24h change, RSI, trend, signal"),
        new("digest", "/digest <HH:MM> [time zone] | every <N>h [time zone] | off", "/digest 08:00 Europe/Berlin", "A scheduled summary of your watchlist and portfolio"),
        new("portfolio", "/portfolio [chart]", "/portfolio", "Your positions and P&L (chart: allocation and P&L as an image)"),
        new("buy", "/buy <pair> <amount> [price]", "/buy BTC 0.1 65000", "Record a purchase (no price = current price)"),
        new("sell", "/sell <pair> <amount> [price]", "/sell BTC 0.05", "Record a sale (no price = current price)"),
        new("format", "/format clean|detailed|raw", "/format detailed", "How answers are shown"),
        new("reset", "/reset", "/reset", "Forget our conversation history"),
    ];

    public static CommandInfo? Find(string name) => All.FirstOrDefault(c => c.Name == name);

    /// <summary>The nearest command name by edit distance, if it is close enough to be a typo.</summary>
    public static CommandInfo? Closest(string name)
    {
        var best = All.Select(c => (Command: c, Distance: Levenshtein(name, c.Name))).MinBy(x => x.Distance);
        return best.Distance <= Math.Max(2, name.Length / 3) ? best.Command : All.FirstOrDefault(c => c.Name.StartsWith(name, StringComparison.Ordinal) && name.Length >= 2);
    }

    public static string UsageOf(string name) => Find(name) is { } c ? $"Usage: {c.Usage}\nExample: {c.Example}" : "";

    private static int Levenshtein(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++) previous[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}

/// <summary>A message split into a command and its arguments, or a free-text question.</summary>
public sealed record ParsedMessage(string? Command, IReadOnlyList<string> Args, string Text)
{
    public bool IsCommand => Command is not null;

    /// <summary>
    /// "/analyze@EngramBot BTC 4h" → analyze [BTC, 4h]. The @bot suffix is how Telegram addresses a
    /// command in a group; names are case-insensitive.
    /// </summary>
    public static ParsedMessage Parse(string text)
    {
        var trimmed = (text ?? "").Trim();
        if (!trimmed.StartsWith('/') || trimmed.Length == 1)
            return new ParsedMessage(null, [], trimmed);
        var parts = trimmed[1..].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        var name = parts[0];
        var at = name.IndexOf('@');
        if (at >= 0)
            name = name[..at];
        return new ParsedMessage(name.ToLowerInvariant(), parts[1..], trimmed);
    }
}
