using System.Globalization;
using System.Text.RegularExpressions;

namespace Engram.Trading.Tools;

/// <summary>A position given either in units of the base asset or as a value in the quote currency.</summary>
public readonly partial record struct PositionSize(double Amount, bool IsQuoteValue)
{
    public double UnitsAt(double price) => IsQuoteValue ? Amount / price : Amount;

    public double ValueAt(double price) => IsQuoteValue ? Amount : Amount * price;

    /// <summary>
    /// Reads "0.5", "0.5 BTC", "0.5 bitcoin" (asset units) or "$1000", "1000$", "1,000 USDT", "1.5k usd"
    /// (quote value). Units must name the pair's base or quote asset (USD, USDT, USDC count as quote for a
    /// USD-stablecoin pair).
    /// </summary>
    public static bool TryParse(string? text, string baseAsset, string quoteAsset, out PositionSize size, out string error)
    {
        size = default;
        var example = $"Try '0.5 {baseAsset}' (amount of the asset) or '$1000' / '1000 {quoteAsset}' (value).";
        error = $"Could not read the position size '{text}'. {example}";
        if (string.IsNullOrWhiteSpace(text))
        {
            error = $"Please give a position size. {example}";
            return false;
        }

        var m = Pattern().Match(text.Trim());
        if (!m.Success || !TryNumber(m.Groups["num"].Value, out var amount))
        {
            return false;
        }

        amount *= m.Groups["mult"].Value.ToLowerInvariant() switch
        {
            "k" => 1_000,
            "m" => 1_000_000,
            _ => 1,
        };
        if (!(amount > 0) || !double.IsFinite(amount))
        {
            error = $"The position size must be a positive amount. {example}";
            return false;
        }

        var dollar = m.Groups["pre"].Success || m.Groups["post"].Success;
        var unit = m.Groups["unit"].Value.ToUpperInvariant();
        bool isQuote;
        if (unit.Length == 0)
        {
            isQuote = dollar;
        }
        else if (dollar)
        {
            return false;
        }
        else if (unit == quoteAsset || (IsUsd(unit) && IsUsd(quoteAsset)))
        {
            isQuote = true;
        }
        else if (unit == baseAsset || Engram.Trading.MarketData.SymbolNormalizer.Parse(unit)?.BaseAsset == baseAsset)
        {
            isQuote = false;
        }
        else
        {
            error = $"'{m.Groups["unit"].Value}' is neither {baseAsset} nor {quoteAsset}. {example}";
            return false;
        }

        if (dollar && !IsUsd(quoteAsset))
        {
            error = $"'$' values need a USD-stablecoin pair; this pair is quoted in {quoteAsset}. {example}";
            return false;
        }

        size = new PositionSize(amount, isQuote);
        error = "";
        return true;
    }

    private static bool IsUsd(string asset) => asset is "USD" or "USDT" or "USDC" or "FDUSD" or "BUSD" or "TUSD" or "DOLLAR" or "DOLLARS";

    private static bool TryNumber(string s, out double value)
    {
        // "1,000" and "1,000,000.5" use commas for thousands; a lone "0,5" is a decimal comma.
        if (ThousandsPattern().IsMatch(s))
        {
            s = s.Replace(",", "", StringComparison.Ordinal);
        }
        else
        {
            s = s.Replace(',', '.');
        }

        return double.TryParse(s, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out value);
    }

    [GeneratedRegex(@"^(?<pre>\$)?\s*(?<num>[0-9][0-9,]*(?:\.[0-9]+)?|\.[0-9]+)\s*(?<mult>[kKmM](?![a-zA-Z]))?\s*(?<post>\$)?\s*(?<unit>[A-Za-z]{2,12})?$")]
    private static partial Regex Pattern();

    [GeneratedRegex(@"^[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?$")]
    private static partial Regex ThousandsPattern();
}

public static class RiskToleranceParser
{
    /// <summary>low / medium / high, plus a few natural synonyms ("conservative", "aggressive").</summary>
    public static bool TryParse(string? text, out RiskTolerance tolerance)
    {
        tolerance = RiskTolerance.Medium;
        switch (text?.Trim().ToLowerInvariant())
        {
            case "low" or "conservative" or "cautious" or "safe":
                tolerance = RiskTolerance.Low;
                return true;
            case "medium" or "moderate" or "normal" or "balanced" or "mid":
                tolerance = RiskTolerance.Medium;
                return true;
            case "high" or "aggressive" or "risky":
                tolerance = RiskTolerance.High;
                return true;
            default:
                return false;
        }
    }
}
