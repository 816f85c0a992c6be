using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Engram.TestServers;

/// <summary>Options for <see cref="BinanceServer"/>; every instance is independent.</summary>
public sealed record BinanceServerOptions
{
    /// <summary>Holds <c>binance_{SYMBOL}_{interval}.csv</c> (<c>open_time_ms,open,high,low,close,volume</c>) and <see cref="ExchangeInfoFile"/>.</summary>
    public required string DataDirectory { get; init; }

    /// <summary>Relative to <see cref="DataDirectory"/>: the recorded <c>/api/v3/exchangeInfo</c> body served as is.</summary>
    public string ExchangeInfoFile { get; init; } = Path.Combine("binance-api", "recorded_exchangeInfo_slice_2023-08-13.json");

    /// <summary>0 (default) lets the OS pick a free port.</summary>
    public int Port { get; init; }
}

/// <summary>
/// A real HTTP stand-in for the Binance public spot REST endpoints Engram uses: <c>exchangeInfo</c> (recorded),
/// <c>klines</c> (from the real candle CSVs, aggregated from a finer file when no file has the interval),
/// <c>ticker/price</c> and <c>ticker/24hr</c>, whose current price a test scripts with <see cref="SetPrice"/>.
/// Fields the CSVs do not carry (quote volume, trade counts, taker volumes) are "0".
/// </summary>
public sealed class BinanceServer : IAsyncDisposable
{
    private const int DefaultKlines = 500;
    private const int MaxKlines = 1000;

    private static readonly Dictionary<string, long> Intervals = new(StringComparer.Ordinal)
    {
        ["1m"] = 60_000, ["3m"] = 180_000, ["5m"] = 300_000, ["15m"] = 900_000, ["30m"] = 1_800_000,
        ["1h"] = 3_600_000, ["2h"] = 7_200_000, ["4h"] = 14_400_000, ["6h"] = 21_600_000, ["8h"] = 28_800_000,
        ["12h"] = 43_200_000, ["1d"] = 86_400_000, ["1w"] = 604_800_000,
    };

    // Binance weeks open on Monday 00:00 UTC; the Unix epoch was a Thursday.
    private const long FirstMondayMs = 4 * 86_400_000L;

    private readonly ConcurrentDictionary<string, decimal> _prices = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Symbol, string Interval), Lazy<Kline[]>> _series = new();
    private readonly ConcurrentDictionary<string, int> _requests = new(StringComparer.Ordinal);
    private readonly string _exchangeInfo;
    private readonly HashSet<string> _listed;
    private WebApplication? _app;

    private BinanceServer(BinanceServerOptions options)
    {
        Options = options;
        _exchangeInfo = File.ReadAllText(Path.Combine(options.DataDirectory, options.ExchangeInfoFile));
        _listed = (JsonNode.Parse(_exchangeInfo)?["symbols"]?.AsArray() ?? [])
            .Select(s => s?["symbol"]?.GetValue<string>() ?? "").Where(s => s.Length > 0).ToHashSet(StringComparer.Ordinal);
    }

    public BinanceServerOptions Options { get; }

    /// <summary>e.g. <c>http://127.0.0.1:40123</c>; pass it as <c>MarketData:BinanceBaseUrl</c> (<c>BINANCE_BASE_URL</c>).</summary>
    public string BaseUrl { get; private set; } = "";

    public static async Task<BinanceServer> StartAsync(BinanceServerOptions options, CancellationToken cancellationToken = default)
    {
        var server = new BinanceServer(options);
        (server._app, server.BaseUrl) = await LoopbackHost.StartAsync(options.Port, app =>
        {
            app.MapGet("/api/v3/exchangeInfo", context => server.Serve(context, "exchangeInfo", () => (200, server._exchangeInfo)));
            app.MapGet("/api/v3/ticker/price", context => server.Serve(context, "ticker/price", () => server.TickerPrice(context.Request.Query)));
            app.MapGet("/api/v3/ticker/24hr", context => server.Serve(context, "ticker/24hr", () => server.Ticker24h(context.Request.Query)));
            app.MapGet("/api/v3/klines", context => server.Serve(context, "klines", () => server.Klines(context.Request.Query)));
            app.MapFallback(context => server.Serve(context, "other", () => Error(404, -1000, "Not found.")));
        }, cancellationToken).ConfigureAwait(false);
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
            await LoopbackHost.StopAsync(_app).ConfigureAwait(false);
        _app = null;
    }

    // ---------------------------------------------------------------- scripting and inspection

    /// <summary>The price <c>ticker/price</c> and <c>ticker/24hr</c> (lastPrice) report from now on.</summary>
    public void SetPrice(string symbol, decimal price)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(price);
        _prices[symbol] = price;
    }

    /// <summary>The scripted price, else the last 1h close of the CSV; null for a symbol with neither.</summary>
    public decimal? CurrentPrice(string symbol) =>
        _prices.TryGetValue(symbol, out var scripted) ? scripted
        : Series(symbol, "1h") is { Length: > 0 } hourly ? hourly[^1].Close : null;

    /// <summary>
    /// The exchange's "now" for <c>klines</c>: from here on only candles closed by then are served, as if the CSV
    /// ended there; moving it forward makes the next candles appear, as time does on the real exchange. Null serves all.
    /// </summary>
    public DateTimeOffset? MarketTime
    {
        get => Interlocked.Read(ref _marketTimeMs) is var ms && ms == long.MaxValue ? null : DateTimeOffset.FromUnixTimeMilliseconds(ms);
        set => Interlocked.Exchange(ref _marketTimeMs, value?.ToUnixTimeMilliseconds() ?? long.MaxValue);
    }

    private long _marketTimeMs = long.MaxValue;

    /// <summary>Requests answered per endpoint ("klines", "ticker/price", "ticker/24hr", "exchangeInfo", "other").</summary>
    public IReadOnlyDictionary<string, int> RequestCounts => new Dictionary<string, int>(_requests);

    // ---------------------------------------------------------------- endpoints

    private (int Status, int RetryAfterSeconds, int Left) _refusal;
    private readonly ConcurrentQueue<(string Endpoint, DateTimeOffset At)> _log = new();

    /// <summary>The next <paramref name="times"/> requests get <paramref name="status"/> (429, or 418 for an IP ban) with Retry-After, as Binance answers a client over its weight.</summary>
    public void RateLimit(int status, int retryAfterSeconds, int times = 1)
    {
        lock (_log)
            _refusal = (status, retryAfterSeconds, times);
    }

    /// <summary>Every request answered, with when it arrived.</summary>
    public IReadOnlyList<(string Endpoint, DateTimeOffset At)> RequestLog => _log.ToArray();

    private async Task Serve(HttpContext context, string endpoint, Func<(int Status, string Body)> answer)
    {
        _requests.AddOrUpdate(endpoint, 1, (_, n) => n + 1);
        _log.Enqueue((endpoint, DateTimeOffset.UtcNow));
        int? refuse = null;
        lock (_log)
        {
            if (_refusal.Left > 0)
            {
                _refusal.Left--;
                refuse = _refusal.Status;
                context.Response.Headers.RetryAfter = _refusal.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            }
        }
        var (status, body) = refuse is { } code
            ? Error(code, -1003, code == 418 ? "Way too many requests; IP banned." : "Too many requests; current limit of IP is 6000 request weight per 1 MINUTE.")
            : answer();
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json;charset=UTF-8";
        await context.Response.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>
    /// One symbol (<c>symbol=</c>), several (<c>symbols=["A","B"]</c>: all must be listed, else -1121 for the whole
    /// request) or, with neither, every scripted price.
    /// </summary>
    private (int, string) TickerPrice(IQueryCollection query)
    {
        if (query.ContainsKey("symbols"))
        {
            string[] wanted;
            try
            {
                wanted = System.Text.Json.JsonSerializer.Deserialize<string[]>(query["symbols"].ToString()) ?? [];
            }
            catch (System.Text.Json.JsonException)
            {
                return Error(400, -1100, "Illegal characters found in parameter 'symbols'.");
            }
            if (wanted.Length is 0 or > 100)
                return Error(400, -1102, "Param 'symbols' must have between 1 and 100 symbols.");
            var rows = new JsonArray();
            foreach (var wantedSymbol in wanted.Distinct(StringComparer.Ordinal))
            {
                if (CurrentPrice(wantedSymbol) is not { } p)
                    return InvalidSymbol();
                rows.Add(new JsonObject { ["symbol"] = wantedSymbol, ["price"] = Money(p) });
            }
            return (200, rows.ToJsonString());
        }
        if (!query.ContainsKey("symbol"))
            return (200, new JsonArray(_prices.Select(p => (JsonNode)new JsonObject { ["symbol"] = p.Key, ["price"] = Money(p.Value) }).ToArray()).ToJsonString());
        if (RequireSymbol(query, out var symbol) is { } error)
            return error;
        return CurrentPrice(symbol) is { } price
            ? (200, new JsonObject { ["symbol"] = symbol, ["price"] = Money(price) }.ToJsonString())
            : InvalidSymbol();
    }

    /// <summary>The rolling 24 h statistics, taken from the CSV's last 24 hourly candles with the current price as the last trade.</summary>
    private (int, string) Ticker24h(IQueryCollection query)
    {
        if (RequireSymbol(query, out var symbol) is { } error)
            return error;
        if (CurrentPrice(symbol) is not { } last)
            return InvalidSymbol();
        var day = Series(symbol, "1h") is { Length: > 0 } hourly ? hourly[Math.Max(0, hourly.Length - 24)..] : [];
        var open = day.Length > 0 ? day[0].Open : last;
        var high = day.Select(k => k.High).Append(last).Max();
        var low = day.Select(k => k.Low).Append(last).Min();
        var volume = day.Sum(k => k.Volume);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var change = last - open;
        var body = new JsonObject
        {
            ["symbol"] = symbol,
            ["priceChange"] = Money(change),
            ["priceChangePercent"] = (open == 0 ? 0 : Math.Round(change / open * 100, 3)).ToString("0.000", CultureInfo.InvariantCulture),
            ["weightedAvgPrice"] = Money(last),
            ["prevClosePrice"] = Money(open),
            ["lastPrice"] = Money(last),
            ["lastQty"] = "0.00000000",
            ["bidPrice"] = Money(last),
            ["bidQty"] = "0.00000000",
            ["askPrice"] = Money(last),
            ["askQty"] = "0.00000000",
            ["openPrice"] = Money(open),
            ["highPrice"] = Money(high),
            ["lowPrice"] = Money(low),
            ["volume"] = Money(volume),
            ["quoteVolume"] = "0.00000000",
            ["openTime"] = now - 86_400_000,
            ["closeTime"] = now,
            ["firstId"] = -1,
            ["lastId"] = -1,
            ["count"] = 0,
        };
        return (200, body.ToJsonString());
    }

    /// <summary>
    /// Binance's selection rules: with startTime, the first <c>limit</c> candles opening at or after it (and not after
    /// endTime); with only endTime, the last <c>limit</c> opening at or before it; with neither, the latest <c>limit</c>.
    /// </summary>
    private (int, string) Klines(IQueryCollection query)
    {
        if (RequireSymbol(query, out var symbol) is { } error)
            return error;
        var interval = query["interval"].ToString();
        if (interval.Length == 0)
            return Error(400, -1102, "Mandatory parameter 'interval' was not sent, was empty/null, or malformed.");
        if (!Intervals.TryGetValue(interval, out var intervalMs))
            return Error(400, -1120, "Invalid interval.");
        if (!_listed.Contains(symbol))
            return InvalidSymbol();
        if (!TryLong(query, "limit", out var limit) || !TryLong(query, "startTime", out var start) || !TryLong(query, "endTime", out var end))
            return Error(400, -1100, "Illegal characters found in a parameter.");
        limit ??= DefaultKlines;
        if (limit is < 1 or > MaxKlines)
            return Error(400, -1130, "Data sent for parameter 'limit' is not valid.");

        var rows = Series(symbol, interval);
        var marketTime = Interlocked.Read(ref _marketTimeMs);
        if (marketTime != long.MaxValue)
            rows = rows[..LowerBound(rows, marketTime - intervalMs + 1)]; // candles closed by the market time
        int from, to; // [from, to)
        if (start is { } s)
        {
            from = LowerBound(rows, s);
            to = end is { } e ? UpperBound(rows, e) : rows.Length;
            to = Math.Max(from, Math.Min(to, from + (int)limit.Value));
        }
        else
        {
            to = end is { } e ? UpperBound(rows, e) : rows.Length;
            from = Math.Max(0, to - (int)limit.Value);
        }

        var array = new JsonArray();
        for (var i = from; i < to; i++)
        {
            var k = rows[i];
            array.Add(new JsonArray(k.OpenTime, Plain(k.Open), Plain(k.High), Plain(k.Low), Plain(k.Close), Plain(k.Volume),
                k.OpenTime + intervalMs - 1, "0", 0, "0", "0", "0"));
        }
        return (200, array.ToJsonString());
    }

    private (int, string)? RequireSymbol(IQueryCollection query, out string symbol)
    {
        symbol = query["symbol"].ToString();
        return symbol.Length == 0 ? Error(400, -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.") : null;
    }

    private static (int, string) InvalidSymbol() => Error(400, -1121, "Invalid symbol.");

    private static (int, string) Error(int status, int code, string message) =>
        (status, new JsonObject { ["code"] = code, ["msg"] = message }.ToJsonString());

    private static bool TryLong(IQueryCollection query, string name, out long? value)
    {
        value = null;
        var text = query[name].ToString();
        if (text.Length == 0)
            return true;
        if (!long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed))
            return false;
        value = parsed;
        return true;
    }

    private static int LowerBound(Kline[] rows, long openTime)
    {
        int lo = 0, hi = rows.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) / 2;
            if (rows[mid].OpenTime < openTime) lo = mid + 1; else hi = mid;
        }
        return lo;
    }

    private static int UpperBound(Kline[] rows, long openTime) => openTime == long.MaxValue ? rows.Length : LowerBound(rows, openTime + 1);

    // ---------------------------------------------------------------- candles

    private readonly record struct Kline(long OpenTime, decimal Open, decimal High, decimal Low, decimal Close, decimal Volume);

    /// <summary>The candles of a symbol and interval: its own CSV, else aggregated from the coarsest CSV that divides the interval.</summary>
    private Kline[] Series(string symbol, string interval) =>
        _series.GetOrAdd((symbol, interval), key => new Lazy<Kline[]>(() => Load(key.Symbol, key.Interval))).Value;

    private Kline[] Load(string symbol, string interval)
    {
        var file = CsvPath(symbol, interval);
        if (File.Exists(file))
            return ReadCsv(file);
        var target = Intervals[interval];
        var source = Intervals.Where(i => i.Value < target && target % i.Value == 0 && File.Exists(CsvPath(symbol, i.Key)))
            .OrderByDescending(i => i.Value).Select(i => i.Key).FirstOrDefault();
        return source is null ? [] : Aggregate(Series(symbol, source), interval == "1w" ? FirstMondayMs : 0, target);
    }

    private string CsvPath(string symbol, string interval) => Path.Combine(Options.DataDirectory, $"binance_{symbol}_{interval}.csv");

    private static Kline[] ReadCsv(string path)
    {
        var rows = new List<Kline>();
        foreach (var line in File.ReadLines(path).Skip(1))
        {
            var f = line.Split(',');
            if (f.Length < 6)
                continue;
            rows.Add(new Kline(long.Parse(f[0], CultureInfo.InvariantCulture), D(f[1]), D(f[2]), D(f[3]), D(f[4]), D(f[5])));
        }
        return rows.ToArray();

        static decimal D(string s) => decimal.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture);
    }

    private static Kline[] Aggregate(Kline[] source, long alignMs, long intervalMs) =>
        source.GroupBy(k => k.OpenTime - ((k.OpenTime - alignMs) % intervalMs + intervalMs) % intervalMs)
            .Select(g => new Kline(g.Key, g.First().Open, g.Max(k => k.High), g.Min(k => k.Low), g.Last().Close, g.Sum(k => k.Volume)))
            .ToArray();

    private static string Money(decimal value) => value.ToString("0.00000000", CultureInfo.InvariantCulture);

    /// <summary>As the CSVs hold them: no trailing zeros.</summary>
    private static string Plain(decimal value) => value.ToString("0.############################", CultureInfo.InvariantCulture);
}
