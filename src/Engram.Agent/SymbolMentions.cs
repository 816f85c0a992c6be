using System.Text.RegularExpressions;
using Engram.Trading.MarketData;

namespace Engram.Agent;

/// <summary>Finds the pairs a free-text question names ("bitcoin", "ETH", "SOL/USDT"), for answers built without the model.</summary>
public static partial class SymbolMentions
{
    // Upper-case words that are not tickers in a trading question.
    private static readonly HashSet<string> NotTickers = ["I", "A", "AI", "OK", "USD", "USDT", "BUY", "SELL", "HOLD", "RSI", "MACD", "EMA", "SMA", "ATR", "TP", "SL", "PNL", "ETF", "CEO", "US", "UK", "EU", "NOW", "IS", "IT"];

    public static IEnumerable<string> Find(string text)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (Match match in Word().Matches(text))
        {
            var word = match.Value;
            var parsed = SymbolNormalizer.Parse(word);
            if (parsed is null)
                continue;
            var named = !string.Equals(parsed.BaseAsset, word, StringComparison.OrdinalIgnoreCase) && !word.Contains('/') && !word.Contains('-')
                && !word.EndsWith("usdt", StringComparison.OrdinalIgnoreCase) && !word.EndsWith("usd", StringComparison.OrdinalIgnoreCase);
            var ticker = word.Length is >= 2 and <= 6 && word.All(char.IsUpper) && !NotTickers.Contains(word);
            var pairLike = word.Contains('/') || word.Contains('-') || word.EndsWith("usdt", StringComparison.OrdinalIgnoreCase);
            if ((named || ticker || pairLike) && seen.Add(parsed.Symbol))
                yield return word;
        }
    }

    [GeneratedRegex(@"[A-Za-z0-9]+(?:[/-][A-Za-z]+)?")]
    private static partial Regex Word();
}
