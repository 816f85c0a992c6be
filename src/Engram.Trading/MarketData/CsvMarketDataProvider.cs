using System.Collections.Concurrent;
using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Engram.Trading.MarketData;

/// <summary>
/// Serves candles from <c>binance_SYMBOL_TF.csv</c> files (<c>open_time_ms,open,high,low,close,volume</c>, ascending):
/// offline runs, demos and tests. Each symbol's files are read once into one coherent "world" kept in memory:
/// every series is cut at the same instant (<see cref="NowFor"/>), the price and 24h ticker are the last close of
/// the finest series in it, and timeframes without a file (4h, 1w…) are aggregated from one that has a file.
/// </summary>
public sealed partial class CsvMarketDataProvider : IMarketDataProvider
{
    private static readonly string[] KnownQuotes = ["USDT", "USDC", "FDUSD", "BUSD", "TUSD", "BTC", "ETH", "BNB", "EUR", "TRY"];

    /// <summary>Monday 1970-01-05 00:00 UTC: the epoch was a Thursday, and weekly candles open on Mondays as Binance's do.</summary>
    private const long WeekAlignMs = 4 * 86_400_000L;

    private readonly string _directory;
    private readonly ConcurrentDictionary<string, Lazy<World>> _worlds = new(StringComparer.Ordinal);

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
        var all = Series(symbol, timeframe);
        var count = Math.Min(limit, all.Length);
        return Task.FromResult<IReadOnlyList<Candle>>(new ArraySegment<Candle>(all, all.Length - count, count));
    }

    public Task<double> GetPriceAsync(string symbol, CancellationToken cancellationToken = default) =>
        Task.FromResult(Base(symbol).Candles[^1].Close);

    public Task<IReadOnlyDictionary<string, double>> GetPricesAsync(IReadOnlyCollection<string> symbols, CancellationToken cancellationToken = default)
    {
        var prices = new Dictionary<string, double>();
        foreach (var symbol in symbols.Distinct())
        {
            if (TryWorldOf(symbol) is { IsEmpty: false } world)
            {
                prices[symbol] = world.BaseCandles[^1].Close;
            }
        }

        return Task.FromResult<IReadOnlyDictionary<string, double>>(prices);
    }

    public Task<Ticker24h> Get24hTickerAsync(string symbol, CancellationToken cancellationToken = default)
    {
        var (timeframe, candles) = Base(symbol);
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

    /// <summary>
    /// Timeframes the symbol's world can serve, finest first: its files that reach into the world and those
    /// aggregated from them. Empty for a symbol without files.
    /// </summary>
    public IReadOnlyList<Timeframe> TimeframesFor(string symbol) => TryWorldOf(symbol)?.Timeframes ?? [];

    /// <summary>
    /// The instant the symbol's world stands at: the earliest last close among its files. Every series ends at or
    /// before it (a 1d series at the last midnight before it) and the price is the close of the finest series there.
    /// </summary>
    /// <exception cref="MarketDataException"><see cref="MarketDataErrorKind.InvalidSymbol"/> without files for the symbol.</exception>
    public DateTimeOffset NowFor(string symbol)
    {
        var world = WorldOf(symbol);
        return world.IsEmpty
            ? throw new MarketDataException(MarketDataErrorKind.NoData, $"No candles for {symbol}.")
            : DateTimeOffset.FromUnixTimeMilliseconds(world.NowMs);
    }

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

    private Candle[] Series(string symbol, Timeframe timeframe)
    {
        var world = WorldOf(symbol);
        if (world.Series.TryGetValue(timeframe, out var candles))
        {
            return candles;
        }

        throw world.IsEmpty
            ? new MarketDataException(MarketDataErrorKind.NoData, $"No {timeframe} candles for {symbol}.")
            : new MarketDataException(MarketDataErrorKind.NoData,
                $"No {timeframe} data for {symbol.ToUpperInvariant()}; available timeframes: {string.Join(", ", world.Timeframes.Select(t => t.Code))}.");
    }

    /// <summary>The finest series of the world: the one the price and the 24h ticker come from.</summary>
    private (Timeframe Timeframe, Candle[] Candles) Base(string symbol)
    {
        var world = WorldOf(symbol);
        return world.IsEmpty
            ? throw new MarketDataException(MarketDataErrorKind.NoData, $"No candles for {symbol}.")
            : (world.BaseTimeframe, world.BaseCandles);
    }

    private World WorldOf(string symbol) =>
        TryWorldOf(symbol) ?? throw new MarketDataException(MarketDataErrorKind.InvalidSymbol, $"No market data for the symbol '{symbol}'.");

    /// <summary>The symbol's world, built on first use; null when no file names the symbol.</summary>
    private World? TryWorldOf(string symbol)
    {
        if (string.IsNullOrWhiteSpace(symbol))
        {
            return null;
        }

        var key = symbol.ToUpperInvariant();
        if (!_worlds.TryGetValue(key, out var lazy))
        {
            // Unknown symbols are not cached, so a file added later is picked up.
            var files = Files().Where(f => f.Symbol.Equals(key, StringComparison.Ordinal)).Select(f => f.Timeframe).ToList();
            if (files.Count == 0)
            {
                return null;
            }

            lazy = _worlds.GetOrAdd(key, k => new Lazy<World>(() => Build(k, files)));
        }

        try
        {
            return lazy.Value;
        }
        catch
        {
            // A broken file is reported again on the next call rather than remembered.
            _worlds.TryRemove(new KeyValuePair<string, Lazy<World>>(key, lazy));
            throw;
        }
    }

    /// <summary>
    /// Reads every file of the symbol and cuts them all at one "now": the EARLIEST last close among the files.
    /// It is the one instant every file reaches, so each series kept is complete up to it and none lags behind the
    /// price. The latest end instead (BTC's 1d file, 2026-03) is what mixed periods before: a 2026 ticker over 1h
    /// candles that stop in 2022. The finest file's end would let a 16-hour 1m fragment (2025-08) define the world and
    /// throw away years of 1h history. With the earliest end, fragments that start after it (the 2025 1m/5m files
    /// beside 1h files ending 2022-10-11) hold no candle at or before it and drop out, so the finest series with a long
    /// history (1h) becomes the base. The cost: one stale file pulls its symbol back to its end, which every chart's
    /// dates show at once.
    /// </summary>
    private World Build(string symbol, IReadOnlyList<Timeframe> timeframes)
    {
        var files = timeframes
            .Select(tf => (Timeframe: tf, Candles: ParseFile(Path.Combine(_directory, $"binance_{symbol}_{tf.Code}.csv"))))
            .Where(f => f.Candles.Length > 0)
            .ToList();
        if (files.Count == 0)
        {
            return World.Empty;
        }

        var nowMs = files.Min(f => CloseMs(f.Candles[^1], f.Timeframe));
        var own = new Dictionary<Timeframe, Candle[]>();
        foreach (var (tf, candles) in files)
        {
            var cut = CutAt(candles, tf, nowMs);
            if (cut.Length > 0)
            {
                own[tf] = cut;
            }
        }

        // The file that ends at now keeps every candle, so own is never empty.
        var series = new Dictionary<Timeframe, Candle[]>(own);
        foreach (var target in Timeframe.All)
        {
            if (series.ContainsKey(target))
            {
                continue;
            }

            // The coarsest file that divides the target: fewest candles to fold, and an exchange's own coarse candles
            // (the gap-free 1d files) are kept over a rebuild from a finer series with maintenance gaps. For 4h the
            // only divisor is 1h; 1w comes from 1d.
            var sources = own.Keys
                .Where(s => s.Duration < target.Duration && target.Duration.Ticks % s.Duration.Ticks == 0)
                .OrderByDescending(s => s.Duration)
                .ToList();
            if (sources.Count == 0)
            {
                continue;
            }

            var derived = Aggregate(own[sources[0]], sources[0], target);
            if (derived.Length > 0)
            {
                series[target] = derived;
            }
        }

        var baseTimeframe = own.Keys.MinBy(t => t.Duration);
        return new World(nowMs, baseTimeframe, own[baseTimeframe], series, series.Keys.OrderBy(t => t.Duration).ToList());
    }

    /// <summary>The candles that closed at or before <paramref name="nowMs"/>.</summary>
    private static Candle[] CutAt(Candle[] candles, Timeframe timeframe, long nowMs)
    {
        var n = candles.Length;
        while (n > 0 && CloseMs(candles[n - 1], timeframe) > nowMs)
        {
            n--;
        }

        return n == candles.Length ? candles : candles[..n];
    }

    /// <summary>
    /// Folds <paramref name="source"/> into <paramref name="target"/> candles. A bucket opens at
    /// floor(openTime / target) * target (weeks from Monday 00:00 UTC); open = first, high = max, low = min,
    /// close = last, volume = sum. A bucket is complete, and kept, when its end is at or before the source's last
    /// close. Buckets are not required to hold target/source candles: Binance's maintenance gaps leave some short,
    /// as Binance's own klines over those hours are, and a bucket the data has no candle for is absent, as on Binance.
    /// Only the bucket still forming at the end is dropped.
    /// </summary>
    internal static Candle[] Aggregate(Candle[] source, Timeframe sourceTimeframe, Timeframe target)
    {
        if (source.Length == 0)
        {
            return [];
        }

        var targetMs = (long)target.Duration.TotalMilliseconds;
        var alignMs = target.Duration == Timeframe.W1.Duration ? WeekAlignMs : 0;
        var lastCloseMs = CloseMs(source[^1], sourceTimeframe);
        var result = new List<Candle>(source.Length / Math.Max(1, (int)(targetMs / (long)sourceTimeframe.Duration.TotalMilliseconds)) + 1);
        var i = 0;
        while (i < source.Length)
        {
            var first = source[i];
            var start = first.OpenTimeMs - Mod(first.OpenTimeMs - alignMs, targetMs);
            var end = start + targetMs;
            if (end > lastCloseMs)
            {
                break; // still forming at the end of the data, and so is every later bucket
            }

            double high = first.High, low = first.Low, close = first.Close, volume = first.Volume;
            for (i++; i < source.Length && source[i].OpenTimeMs < end; i++)
            {
                var c = source[i];
                high = Math.Max(high, c.High);
                low = Math.Min(low, c.Low);
                close = c.Close;
                volume += c.Volume;
            }

            result.Add(new Candle(start, first.Open, high, low, close, volume));
        }

        return result.ToArray();

        static long Mod(long value, long modulus) => ((value % modulus) + modulus) % modulus;
    }

    private static long CloseMs(Candle candle, Timeframe timeframe) => candle.OpenTimeMs + (long)timeframe.Duration.TotalMilliseconds;

    /// <summary>One symbol's candles, every series cut at <see cref="NowMs"/>.</summary>
    private sealed record World(
        long NowMs,
        Timeframe BaseTimeframe,
        Candle[] BaseCandles,
        IReadOnlyDictionary<Timeframe, Candle[]> Series,
        IReadOnlyList<Timeframe> Timeframes)
    {
        public static World Empty { get; } = new(0, default, [], new Dictionary<Timeframe, Candle[]>(), []);

        public bool IsEmpty => BaseCandles.Length == 0;
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
