using Microsoft.Extensions.Options;

namespace Engram.Trading.MarketData;

/// <summary>What the user typed, mapped to an exchange symbol.</summary>
/// <param name="Note">Set when we changed the meaning, e.g. a USD quote mapped to USDT.</param>
public sealed record ParsedSymbol(string Symbol, string BaseAsset, string QuoteAsset, string? Note);

/// <summary>Outcome of <see cref="SymbolNormalizer.ResolveAsync"/>: a listed symbol, or a refusal with suggestions.</summary>
/// <param name="Unverified">The exchange's list could not be had (nor any earlier copy): the symbol is only well-formed.</param>
public sealed record SymbolResolution(ParsedSymbol? Symbol, string? Error, IReadOnlyList<string> Suggestions, bool Unverified = false)
{
    public bool IsSuccess => Symbol is not null;

    /// <summary>Good enough to store something for it (an alert, a trade): listed and trading, as checked against the list.</summary>
    public bool IsVerified => IsSuccess && !Unverified;
}

/// <summary>
/// Turns "BTC", "btc/usd", "BTC-USDT", "bitcoin" into "BTCUSDT" and checks it against the exchange's list.
/// The symbol list is cached (it changes a few times a week; the live one is megabytes).
/// </summary>
public sealed class SymbolNormalizer(IMarketDataProvider provider, IOptions<MarketDataOptions> options, TimeProvider timeProvider)
{
    public const string DefaultQuote = "USDT";

    private static readonly string[] Quotes = ["USDT", "USDC", "FDUSD", "BUSD", "TUSD", "USD", "BTC", "ETH", "BNB", "EUR", "TRY"];

    /// <summary>Common names and aliases users type, lower case, spaces removed.</summary>
    private static readonly Dictionary<string, string> Names = new(StringComparer.Ordinal)
    {
        ["bitcoin"] = "BTC", ["xbt"] = "BTC",
        ["ethereum"] = "ETH", ["ether"] = "ETH",
        ["solana"] = "SOL",
        ["ripple"] = "XRP",
        ["binancecoin"] = "BNB", ["binance"] = "BNB",
        ["cardano"] = "ADA",
        ["dogecoin"] = "DOGE", ["doge"] = "DOGE",
        ["polkadot"] = "DOT",
        ["litecoin"] = "LTC",
        ["tron"] = "TRX",
        ["chainlink"] = "LINK",
        ["avalanche"] = "AVAX",
        ["polygon"] = "POL", ["matic"] = "POL",
        ["shibainu"] = "SHIB", ["shiba"] = "SHIB",
        ["toncoin"] = "TON",
        ["stellar"] = "XLM",
        ["uniswap"] = "UNI",
        ["cosmos"] = "ATOM",
        ["bitcoincash"] = "BCH",
        ["ethereumclassic"] = "ETC",
        ["monero"] = "XMR",
        ["pepe"] = "PEPE",
        ["sui"] = "SUI",
        ["aptos"] = "APT",
        ["arbitrum"] = "ARB",
        ["optimism"] = "OP",
        ["near"] = "NEAR", ["nearprotocol"] = "NEAR",
        ["filecoin"] = "FIL",
        ["internetcomputer"] = "ICP",
    };

    private readonly SemaphoreSlim _refresh = new(1, 1);
    private volatile SymbolCache? _cache;

    /// <summary>
    /// Parses without asking the exchange. USD quotes become USDT (Binance spot has no USD book) and the note says so.
    /// Returns null when the text cannot be a symbol at all.
    /// </summary>
    public static ParsedSymbol? Parse(string? input)
    {
        if (string.IsNullOrWhiteSpace(input))
        {
            return null;
        }

        var text = input.Trim().ToLowerInvariant();
        string baseAsset, quote;
        var parts = text.Split(['/', '-', '_', ':', ' '], StringSplitOptions.RemoveEmptyEntries);
        var joined = string.Concat(parts);
        if (Names.TryGetValue(joined, out var named))
        {
            (baseAsset, quote) = (named, DefaultQuote);
        }
        else if (parts.Length == 2 && !Names.ContainsKey(parts[1]))
        {
            (baseAsset, quote) = (Alias(parts[0]), parts[1].ToUpperInvariant());
        }
        else if (parts.Length >= 2 && Names.TryGetValue(string.Concat(parts[..^1]), out var namedBase) && Quotes.Contains(parts[^1].ToUpperInvariant()))
        {
            (baseAsset, quote) = (namedBase, parts[^1].ToUpperInvariant());
        }
        else if (parts.Length == 1)
        {
            var upper = joined.ToUpperInvariant();
            var q = Quotes.FirstOrDefault(q => upper.Length > q.Length + 1 && upper.EndsWith(q, StringComparison.Ordinal));
            (baseAsset, quote) = q is null ? (upper, DefaultQuote) : (Alias(upper[..^q.Length].ToLowerInvariant()), q);
        }
        else
        {
            return null;
        }

        if (!IsAlphanumeric(baseAsset) || !IsAlphanumeric(quote) || baseAsset.Length > 12 || quote.Length > 6)
        {
            return null;
        }

        string? note = null;
        if (quote == "USD")
        {
            quote = DefaultQuote;
            note = $"Binance spot has no {baseAsset}/USD market; using {baseAsset}{quote} (USDT tracks the US dollar).";
        }

        return new ParsedSymbol(baseAsset + quote, baseAsset, quote, note);
    }

    /// <summary>Parses and checks the symbol is listed and trading; otherwise refuses with close matches.</summary>
    public async Task<SymbolResolution> ResolveAsync(string? input, CancellationToken cancellationToken = default)
    {
        var parsed = Parse(input);
        if (parsed is null)
        {
            return new SymbolResolution(null, $"'{input}' does not look like a trading pair. Try 'BTC', 'ETH/USDT' or 'solana'.", []);
        }

        IReadOnlyDictionary<string, SymbolInfo> symbols;
        try
        {
            symbols = await GetSymbolsAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (MarketDataException)
        {
            // No list has ever been fetched: a read may go ahead (the candle request still refuses an
            // unknown symbol), but the caller must not store anything for an unchecked symbol.
            return new SymbolResolution(parsed, null, [], Unverified: true);
        }

        if (symbols.TryGetValue(parsed.Symbol, out var info))
        {
            return info.IsTrading
                ? new SymbolResolution(parsed with { BaseAsset = info.BaseAsset, QuoteAsset = info.QuoteAsset }, null, [])
                : new SymbolResolution(null, $"{info.Symbol} is listed but not trading right now (status {info.Status}).", Suggest(parsed, symbols.Values));
        }

        var suggestions = Suggest(parsed, symbols.Values);
        var hint = suggestions.Count > 0 ? $" Did you mean {string.Join(", ", suggestions)}?" : "";
        return new SymbolResolution(null, $"Unknown trading pair '{input}' ({parsed.Symbol} is not listed).{hint}", suggestions);
    }

    /// <summary>Closest trading symbols: same base asset first, then by edit distance to what was asked.</summary>
    internal static IReadOnlyList<string> Suggest(ParsedSymbol parsed, IEnumerable<SymbolInfo> symbols) =>
        symbols
            .Where(s => s.IsTrading)
            .Select(s => (s.Symbol, Score: Score(parsed, s)))
            .Where(x => x.Score <= 3)
            .OrderBy(x => x.Score)
            .ThenBy(x => x.Symbol, StringComparer.Ordinal)
            .Take(3)
            .Select(x => x.Symbol)
            .ToList();

    private static int Score(ParsedSymbol parsed, SymbolInfo s)
    {
        if (s.BaseAsset == parsed.BaseAsset)
        {
            return s.QuoteAsset == DefaultQuote ? 0 : 1;
        }

        var distance = Levenshtein(parsed.BaseAsset, s.BaseAsset);
        // Prefer the default quote among equally close bases.
        var quotePenalty = s.QuoteAsset == parsed.QuoteAsset ? 0 : 2;
        var prefixBonus = s.BaseAsset.StartsWith(parsed.BaseAsset, StringComparison.Ordinal) || parsed.BaseAsset.StartsWith(s.BaseAsset, StringComparison.Ordinal) ? -1 : 0;
        return distance + quotePenalty + prefixBonus + 1;
    }

    internal static int Levenshtein(string a, string b)
    {
        Span<int> prev = stackalloc int[b.Length + 1];
        Span<int> cur = stackalloc int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            prev[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            cur[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                cur[j] = Math.Min(Math.Min(cur[j - 1], prev[j]) + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }

            cur.CopyTo(prev);
        }

        return prev[b.Length];
    }

    private async Task<IReadOnlyDictionary<string, SymbolInfo>> GetSymbolsAsync(CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        if (_cache is { } fresh && fresh.ExpiresAt > now)
        {
            return fresh.Symbols;
        }

        await _refresh.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_cache is { } again && again.ExpiresAt > now)
            {
                return again.Symbols;
            }

            IReadOnlyList<SymbolInfo> list;
            try
            {
                list = await provider.GetSymbolsAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (MarketDataException) when (_cache is { } stale)
            {
                // The exchange is unreachable: keep checking against the last good list, and ask again
                // in a little while rather than on every message.
                _cache = stale with { ExpiresAt = now + StaleRetryAfter };
                return stale.Symbols;
            }
            var symbols = list.GroupBy(s => s.Symbol, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
            _cache = new SymbolCache(symbols, now + options.Value.SymbolListCacheDuration);
            return symbols;
        }
        finally
        {
            _refresh.Release();
        }
    }

    private static readonly TimeSpan StaleRetryAfter = TimeSpan.FromSeconds(30);

    private static string Alias(string lower) => Names.TryGetValue(lower, out var s) ? s : lower.ToUpperInvariant();

    private static bool IsAlphanumeric(string s) => s.Length > 0 && s.All(char.IsAsciiLetterOrDigit);

    private sealed record SymbolCache(IReadOnlyDictionary<string, SymbolInfo> Symbols, DateTimeOffset ExpiresAt);
}
