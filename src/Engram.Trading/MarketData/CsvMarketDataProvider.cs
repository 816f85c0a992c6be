using System.Collections.Concurrent;
using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Engram.Trading.MarketData;

/// <summary>
/// Serves candles from <c>binance_SYMBOL_TF.csv</c> files (<c>open_time_ms,open,high,low,close,volume</c>, ascending):
/// offline runs, demos and tests. Each file is parsed once and kept in memory.
/// </summary>
public sealed partial class CsvMarketDataProvider : IMarketDataProvider
{
    private static readonly string[] KnownQuotes = ["USDT", "USDC", "FDUSD", "BUSD", "TUSD", "BTC", "ETH", "BNB", "EUR", "TRY"];

    private readonly string _directory;
    private readonly ConcurrentDictionary<string, Lazy<Candle[]>> _cache = new(StringComparer.OrdinalIgnoreCase);

    public CsvMarketDataProvider(IOptions<MarketDataOptions> options)
        : this(options.Value.CsvDirectory ?? throw new InvalidOperationException("MarketData:CsvDirectory is not set."))
    {
    }

    public CsvMarketDataProvider(string directory)
    {
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"CSV market data directory '{directory}' does not exist.");
        }

        _directory = directory;
    }

    public Task<IReadOnlyList<Candle>> GetCandlesAsync(string symbol, Timeframe timeframe, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var all = Load(symbol, timeframe);
        var count = Math.Min(limit, all.Length);
        return Task.FromResult<IReadOnlyList<Candle>>(new ArraySegment<Candle>(all, all.Length - count, count));
    }

    public Task<double> GetPriceAsync(string symbol, CancellationToken cancellationToken = default)
    {
        var (_, candles) = Latest(symbol);
        return Task.FromResult(candles[^1].Close);
    }

    public Task<IReadOnlyDictionary<string, double>> GetPricesAsync(IReadOnlyCollection<string> symbols, CancellationToken cancellationToken = default)
    {
        IReadOnlyDictionary<string, double> prices = symbols.Distinct().Where(s => TimeframesFor(s).Count > 0)
            .ToDictionary(s => s, s => Latest(s).Candles[^1].Close);
        return Task.FromResult(prices);
    }

    public Task<Ticker24h> Get24hTickerAsync(string symbol, CancellationToken cancellationToken = default)
    {
        var (timeframe, candles) = Latest(symbol);
        return Task.FromResult(Ticker24h.FromCandles(symbol.ToUpperInvariant(), candles, timeframe));
    }

    public Task<IReadOnlyList<SymbolInfo>> GetSymbolsAsync(CancellationToken cancellationToken = default)
    {
        var symbols = Files()
            .Select(f => f.Symbol)
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .Select(s =>
            {
                var quote = KnownQuotes.FirstOrDefault(q => s.EndsWith(q, StringComparison.Ordinal) && s.Length > q.Length) ?? "";
                return new SymbolInfo(s, s[..^quote.Length], quote, "TRADING");
            })
            .ToList();
        return Task.FromResult<IReadOnlyList<SymbolInfo>>(symbols);
    }

    /// <summary>Timeframes with a file for <paramref name="symbol"/>.</summary>
    public IReadOnlyList<Timeframe> TimeframesFor(string symbol) =>
        Files().Where(f => f.Symbol.Equals(symbol, StringComparison.OrdinalIgnoreCase)).Select(f => f.Timeframe).ToList();

    /// <summary>Parses one CSV file; exposed for tests and benchmarks that need the full history.</summary>
    public static Candle[] ParseFile(string path)
    {
        var candles = new List<Candle>(capacity: 50_000);
        using var reader = new StreamReader(path);
        var header = reader.ReadLine();
        if (header is null || !header.StartsWith("open_time_ms,", StringComparison.Ordinal))
        {
            throw new MarketDataException(MarketDataErrorKind.BadResponse, $"'{Path.GetFileName(path)}' is not an Engram candle CSV (header '{header}').");
        }

        var lineNumber = 1;
        Span<Range> parts = stackalloc Range[7];
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            var span = line.AsSpan().Trim();
            if (span.IsEmpty)
            {
                continue;
            }

            if (span.Split(parts, ',') != 6
                || !long.TryParse(span[parts[0]], NumberStyles.Integer, CultureInfo.InvariantCulture, out var t)
                || !TryParse(span[parts[1]], out var o) || !TryParse(span[parts[2]], out var h)
                || !TryParse(span[parts[3]], out var l) || !TryParse(span[parts[4]], out var c)
                || !TryParse(span[parts[5]], out var v)
                || (candles.Count > 0 && t <= candles[^1].OpenTimeMs))
            {
                throw new MarketDataException(MarketDataErrorKind.BadResponse, $"'{Path.GetFileName(path)}' line {lineNumber} is not a valid candle row.");
            }

            candles.Add(new Candle(t, o, h, l, c, v));
        }

        return candles.ToArray();
    }

    private static bool TryParse(ReadOnlySpan<char> s, out double value) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value) && value >= 0;

    private Candle[] Load(string symbol, Timeframe timeframe)
    {
        var path = Path.Combine(_directory, $"binance_{symbol.ToUpperInvariant()}_{timeframe.Code}.csv");
        var lazy = _cache.GetOrAdd(path, p => new Lazy<Candle[]>(() => ParseFile(p)));
        try
        {
            var candles = lazy.Value;
            return candles.Length > 0
                ? candles
                : throw new MarketDataException(MarketDataErrorKind.NoData, $"No {timeframe} candles for {symbol}.");
        }
        catch (FileNotFoundException)
        {
            _cache.TryRemove(path, out _);
            var available = TimeframesFor(symbol);
            throw available.Count == 0
                ? new MarketDataException(MarketDataErrorKind.InvalidSymbol, $"No market data for the symbol '{symbol}'.")
                : new MarketDataException(MarketDataErrorKind.NoData,
                    $"No {timeframe} data for {symbol.ToUpperInvariant()}; available timeframes: {string.Join(", ", available.Select(t => t.Code))}.");
        }
    }

    /// <summary>The symbol's file with the most recent data (finest timeframe on a tie) stands in for "now".</summary>
    private (Timeframe Timeframe, Candle[] Candles) Latest(string symbol)
    {
        var best = TimeframesFor(symbol)
            .Select(tf => (Timeframe: tf, Candles: Load(symbol, tf)))
            .OrderByDescending(x => x.Candles[^1].OpenTimeMs + (long)x.Timeframe.Duration.TotalMilliseconds)
            .ThenBy(x => x.Timeframe.Duration)
            .FirstOrDefault();
        return best.Candles is null
            ? throw new MarketDataException(MarketDataErrorKind.InvalidSymbol, $"No market data for the symbol '{symbol}'.")
            : best;
    }

    private IEnumerable<(string Symbol, Timeframe Timeframe)> Files()
    {
        foreach (var path in Directory.EnumerateFiles(_directory, "binance_*.csv"))
        {
            var m = FileName().Match(Path.GetFileName(path));
            if (m.Success && Timeframe.TryParse(m.Groups[2].Value, out var tf))
            {
                yield return (m.Groups[1].Value, tf);
            }
        }
    }

    [GeneratedRegex("^binance_([A-Z0-9]+)_(1m|5m|15m|30m|1h|4h|1d|1w)\\.csv$")]
    private static partial Regex FileName();
}
