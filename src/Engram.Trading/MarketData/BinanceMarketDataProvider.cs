using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Polly.Timeout;

namespace Engram.Trading.MarketData;

/// <summary>
/// Binance public spot REST (no API key). The <see cref="HttpClient"/> comes from IHttpClientFactory with the
/// resilience pipeline from <see cref="MarketDataServiceCollectionExtensions.AddEngramMarketData"/>: by the time a
/// response reaches this class, retries are done, so any failure here is final and becomes a
/// <see cref="MarketDataException"/> with a message fit for the user.
/// </summary>
public sealed partial class BinanceMarketDataProvider(
    HttpClient http,
    TimeProvider timeProvider,
    ILogger<BinanceMarketDataProvider> logger) : IMarketDataProvider
{
    /// <summary>Binance caps one klines call at 1000 rows.</summary>
    public const int MaxKlinesPerRequest = 1000;

    /// <summary>Older history is fetched page by page; this bounds a single call's cost.</summary>
    public const int MaxCandles = 5 * MaxKlinesPerRequest;

    public async Task<IReadOnlyList<Candle>> GetCandlesAsync(string symbol, Timeframe timeframe, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        limit = Math.Min(limit, MaxCandles);
        var nowMs = timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        var candles = new List<Candle>(limit);
        long? endTime = null;
        while (candles.Count < limit)
        {
            // The newest page may end with the still-open candle, which is dropped: ask for one more.
            var batch = Math.Min(MaxKlinesPerRequest, limit - candles.Count + (endTime is null ? 1 : 0));
            var query = $"/api/v3/klines?symbol={Uri.EscapeDataString(symbol)}&interval={timeframe.Code}&limit={batch}"
                + (endTime is { } end ? $"&endTime={end}" : "");
            using var doc = await GetJsonAsync(query, symbol, cancellationToken).ConfigureAwait(false);
            var (page, rows) = ParseKlines(doc.RootElement, nowMs);
            if (page.Count > 0 && candles.Count > 0 && page[^1].OpenTimeMs >= candles[0].OpenTimeMs)
            {
                throw BadResponse("klines pages overlap");
            }

            candles.InsertRange(0, page);
            if (rows < batch || page.Count == 0)
            {
                break;
            }

            endTime = page[0].OpenTimeMs - 1;
        }

        return candles.Count > limit ? candles.GetRange(candles.Count - limit, limit) : candles;
    }

    public async Task<double> GetPriceAsync(string symbol, CancellationToken cancellationToken = default)
    {
        using var doc = await GetJsonAsync($"/api/v3/ticker/price?symbol={Uri.EscapeDataString(symbol)}", symbol, cancellationToken).ConfigureAwait(false);
        return Read(() => ParsePositive(doc.RootElement.GetProperty("price")));
    }

    /// <summary>Binance takes at most this many symbols in one <c>ticker/price?symbols=</c> request (keeps the URL short too).</summary>
    public const int MaxSymbolsPerPriceRequest = 100;

    /// <summary>
    /// <c>ticker/price?symbols=[...]</c>, weight 4 whatever the count. One unknown symbol fails the whole request
    /// (-1121), so that batch is asked again without <c>symbols</c> (every price, also weight 4) and filtered.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, double>> GetPricesAsync(IReadOnlyCollection<string> symbols, CancellationToken cancellationToken = default)
    {
        var prices = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var batch in symbols.Distinct(StringComparer.Ordinal).Chunk(MaxSymbolsPerPriceRequest))
        {
            var list = "[" + string.Join(",", batch.Select(s => "\"" + s + "\"")) + "]";
            JsonDocument doc;
            try
            {
                doc = await GetJsonAsync($"/api/v3/ticker/price?symbols={Uri.EscapeDataString(list)}", null, cancellationToken).ConfigureAwait(false);
            }
            catch (MarketDataException ex) when (ex.Kind == MarketDataErrorKind.InvalidSymbol)
            {
                doc = await GetJsonAsync("/api/v3/ticker/price", null, cancellationToken).ConfigureAwait(false);
            }
            using (doc)
            {
                var wanted = batch.ToHashSet(StringComparer.Ordinal);
                Read(() =>
                {
                    foreach (var row in doc.RootElement.EnumerateArray())
                    {
                        var symbol = RequiredString(row, "symbol");
                        if (wanted.Contains(symbol))
                            prices[symbol] = ParsePositive(row.GetProperty("price"));
                    }
                    return prices;
                });
            }
        }
        return prices;
    }

    public async Task<Ticker24h> Get24hTickerAsync(string symbol, CancellationToken cancellationToken = default)
    {
        using var doc = await GetJsonAsync($"/api/v3/ticker/24hr?symbol={Uri.EscapeDataString(symbol)}", symbol, cancellationToken).ConfigureAwait(false);
        return Read(() =>
        {
            var r = doc.RootElement;
            return new Ticker24h(
                r.GetProperty("symbol").GetString() ?? symbol,
                ParsePositive(r.GetProperty("lastPrice")),
                ParseNonNegative(r.GetProperty("openPrice")),
                ParseNonNegative(r.GetProperty("highPrice")),
                ParseNonNegative(r.GetProperty("lowPrice")),
                ParseFinite(r.GetProperty("priceChangePercent")),
                ParseNonNegative(r.GetProperty("volume")),
                ParseNonNegative(r.GetProperty("quoteVolume")),
                DateTimeOffset.FromUnixTimeMilliseconds(r.GetProperty("openTime").GetInt64()),
                DateTimeOffset.FromUnixTimeMilliseconds(r.GetProperty("closeTime").GetInt64()));
        });
    }

    public async Task<IReadOnlyList<SymbolInfo>> GetSymbolsAsync(CancellationToken cancellationToken = default)
    {
        using var doc = await GetJsonAsync("/api/v3/exchangeInfo", null, cancellationToken).ConfigureAwait(false);
        return Read(() =>
        {
            var symbols = new List<SymbolInfo>();
            foreach (var s in doc.RootElement.GetProperty("symbols").EnumerateArray())
            {
                symbols.Add(new SymbolInfo(
                    RequiredString(s, "symbol"), RequiredString(s, "baseAsset"), RequiredString(s, "quoteAsset"), RequiredString(s, "status")));
            }

            return (IReadOnlyList<SymbolInfo>)symbols;
        });
    }

    /// <summary>Parses a klines array and drops candles that are still open (closeTime in the future).</summary>
    internal static (List<Candle> Candles, int Rows) ParseKlines(JsonElement root, long nowMs) => Read(() =>
    {
        var candles = new List<Candle>(root.GetArrayLength());
        var rows = 0;
        foreach (var k in root.EnumerateArray())
        {
            rows++;
            if (k.GetArrayLength() < 7)
            {
                throw new FormatException("kline row has fewer than 7 fields");
            }

            var closeTime = k[6].GetInt64();
            if (closeTime > nowMs)
            {
                continue;
            }

            var candle = new Candle(k[0].GetInt64(), ParsePositive(k[1]), ParsePositive(k[2]), ParsePositive(k[3]), ParsePositive(k[4]), ParseNonNegative(k[5]));
            if (candles.Count > 0 && candle.OpenTimeMs <= candles[^1].OpenTimeMs)
            {
                throw new FormatException("klines are not in ascending time order");
            }

            if (candle.High < candle.Low)
            {
                throw new FormatException("kline high below low");
            }

            candles.Add(candle);
        }

        return (candles, rows);
    });

    private async Task<JsonDocument> GetJsonAsync(string pathAndQuery, string? symbol, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await http.GetAsync(pathAndQuery, cancellationToken).ConfigureAwait(false);
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw MapError(response.StatusCode, body, symbol);
            }

            try
            {
                return JsonDocument.Parse(body);
            }
            catch (JsonException ex)
            {
                LogBadBody(logger, pathAndQuery, ex.Message);
                throw BadResponse("malformed JSON", ex);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ex is TimeoutRejectedException or TaskCanceledException)
        {
            // TimeoutRejectedException: the resilience total timeout; TaskCanceledException: HttpClient.Timeout backstop.
            throw new MarketDataException(MarketDataErrorKind.Timeout, "Binance did not answer in time. Please try again in a moment.", ex);
        }
        catch (ExchangeCoolingDownException ex)
        {
            // Not logged per call: the cooldown logged once when it started.
            throw new MarketDataException(MarketDataErrorKind.RateLimited,
                $"Binance asked Engram to slow down; market data is back in about {Math.Ceiling(ex.Remaining.TotalSeconds):0} s.", ex);
        }
        catch (HttpRequestException ex)
        {
            LogNetworkError(logger, pathAndQuery, ex.Message);
            throw new MarketDataException(MarketDataErrorKind.Unavailable, "Binance could not be reached. Please try again in a moment.", ex);
        }
    }

    private MarketDataException MapError(HttpStatusCode status, byte[] body, string? symbol)
    {
        int? code = null;
        string? msg = null;
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind == JsonValueKind.Object)
            {
                if (doc.RootElement.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.Number)
                {
                    code = c.GetInt32();
                }

                if (doc.RootElement.TryGetProperty("msg", out var m) && m.ValueKind == JsonValueKind.String)
                {
                    msg = m.GetString();
                }
            }
        }
        catch (JsonException)
        {
            // Gateways answer 5xx with HTML; the status code alone says enough.
        }

        LogHttpError(logger, (int)status, code, msg);
        var statusCode = (int)status;
        return (code, statusCode) switch
        {
            (-1121, _) => new MarketDataException(MarketDataErrorKind.InvalidSymbol, $"Binance does not list the symbol '{symbol}'.") { ExchangeCode = code },
            (_, 429 or 418) => new MarketDataException(MarketDataErrorKind.RateLimited, "Binance is rate-limiting requests right now. Please try again in a minute.") { ExchangeCode = code },
            (_, >= 500) => new MarketDataException(MarketDataErrorKind.Unavailable, $"Binance is unavailable right now (HTTP {statusCode}). Please try again shortly.") { ExchangeCode = code },
            _ => new MarketDataException(MarketDataErrorKind.BadRequest, $"Binance refused the request (HTTP {statusCode}{(msg is null ? "" : $": {msg}")}).") { ExchangeCode = code },
        };
    }

    /// <summary>Turns any shape or number problem in a 200 body into a BadResponse, never a wrong figure.</summary>
    private static T Read<T>(Func<T> read)
    {
        try
        {
            return read();
        }
        catch (Exception ex) when (ex is KeyNotFoundException or InvalidOperationException or FormatException or IndexOutOfRangeException or OverflowException or JsonException)
        {
            throw BadResponse(ex.Message, ex);
        }
    }

    private static MarketDataException BadResponse(string detail, Exception? inner = null) =>
        new(MarketDataErrorKind.BadResponse, $"Binance sent a response Engram could not read ({detail}). Please try again later.", inner);

    private static string RequiredString(JsonElement e, string name) =>
        e.GetProperty(name).GetString() is { Length: > 0 } s ? s : throw new FormatException($"'{name}' is empty");

    private static double ParseFinite(JsonElement e)
    {
        // Binance sends decimals as strings; accept bare numbers too.
        var value = e.ValueKind == JsonValueKind.Number
            ? e.GetDouble()
            : double.Parse(e.GetString() ?? throw new FormatException("null number"), NumberStyles.Float, CultureInfo.InvariantCulture);
        return double.IsFinite(value) ? value : throw new FormatException("non-finite number");
    }

    private static double ParseNonNegative(JsonElement e) =>
        ParseFinite(e) is var v && v >= 0 ? v : throw new FormatException("negative number");

    private static double ParsePositive(JsonElement e) =>
        ParseFinite(e) is var v && v > 0 ? v : throw new FormatException("price not positive");

    [LoggerMessage(Level = LogLevel.Warning, Message = "Binance HTTP {Status}, code {Code}: {Msg}")]
    private static partial void LogHttpError(ILogger logger, int status, int? code, string? msg);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Binance {Request} returned malformed JSON: {Error}")]
    private static partial void LogBadBody(ILogger logger, string request, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Binance {Request} failed: {Error}")]
    private static partial void LogNetworkError(ILogger logger, string request, string error);
}
