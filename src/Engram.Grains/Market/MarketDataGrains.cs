using Engram.Trading.MarketData;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Engram.Grains.Market;

/// <summary>
/// The latest closed candles of one (symbol, timeframe), key <c>BTCUSDT/1h</c>. One activation in
/// the cluster serves every user on every silo; it is not reentrant, so concurrent callers queue
/// behind the first, whose exchange call fills the cache for all of them.
/// </summary>
public interface ICandleCacheGrain : IGrainWithStringKey
{
    Task<IReadOnlyList<Candle>> GetCandlesAsync(int limit);
}

/// <summary>Price and 24 h ticker of one symbol, key <c>BTCUSDT</c>, cached for a few seconds.</summary>
public interface IQuoteCacheGrain : IGrainWithStringKey
{
    Task<double> GetPriceAsync();
    Task<Ticker24h> GetTicker24hAsync();
}

/// <summary>The provider that really talks to the exchange (or the CSV files); the grains sit in front of it.</summary>
public interface IExchangeMarketData
{
    IMarketDataProvider Provider { get; }
}

public sealed record ExchangeMarketData(IMarketDataProvider Provider) : IExchangeMarketData;

internal sealed partial class CandleCacheGrain(IExchangeMarketData exchange, TimeProvider clock, ILogger<CandleCacheGrain> logger) : Grain, ICandleCacheGrain
{
    /// <summary>Even when a candle may have closed, ask the exchange at most this often (static CSV data, clock skew).</summary>
    private static readonly TimeSpan MinimumRefresh = TimeSpan.FromSeconds(5);

    private IReadOnlyList<Candle> candles = [];
    private DateTimeOffset fetchedAt = DateTimeOffset.MinValue;
    private int fetchedLimit;

    public async Task<IReadOnlyList<Candle>> GetCandlesAsync(int limit)
    {
        var (symbol, timeframe) = MarketKey.Parse(this.GetPrimaryKeyString());
        var now = clock.GetUtcNow();
        if (limit > fetchedLimit || !IsFresh(timeframe, now))
        {
            var wanted = Math.Max(limit, fetchedLimit);
            candles = await exchange.Provider.GetCandlesAsync(symbol, timeframe, wanted);
            fetchedAt = now;
            fetchedLimit = wanted;
            LogFetched(symbol, timeframe.Code, candles.Count);
        }
        return candles.Count <= limit ? candles : candles.Skip(candles.Count - limit).ToArray();
    }

    /// <summary>Fresh until the candle after the last closed one can have closed.</summary>
    private bool IsFresh(Timeframe timeframe, DateTimeOffset now)
    {
        if (candles.Count == 0)
            return false;
        if (now - fetchedAt < MinimumRefresh)
            return true;
        var nextClose = candles[^1].OpenTime + timeframe.Duration + timeframe.Duration;
        return now < nextClose;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Fetched {Count} {Timeframe} candles of {Symbol} from the exchange")]
    private partial void LogFetched(string symbol, string timeframe, int count);
}

internal sealed class QuoteCacheGrain(IExchangeMarketData exchange, TimeProvider clock) : Grain, IQuoteCacheGrain
{
    private static readonly TimeSpan PriceTtl = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan TickerTtl = TimeSpan.FromSeconds(30);

    private (double Value, DateTimeOffset At) price;
    private (Ticker24h? Value, DateTimeOffset At) ticker;

    public async Task<double> GetPriceAsync()
    {
        var now = clock.GetUtcNow();
        if (price.At == default || now - price.At > PriceTtl)
            price = (await exchange.Provider.GetPriceAsync(this.GetPrimaryKeyString()), now);
        return price.Value;
    }

    public async Task<Ticker24h> GetTicker24hAsync()
    {
        var now = clock.GetUtcNow();
        if (ticker.Value is null || now - ticker.At > TickerTtl)
            ticker = (await exchange.Provider.Get24hTickerAsync(this.GetPrimaryKeyString()), now);
        return ticker.Value!;
    }
}

/// <summary>The key of a grain per pair and timeframe (candle cache, signal record): <c>BTCUSDT/1h</c>.</summary>
public static class MarketKey
{
    public static string Of(string symbol, string timeframe) => $"{symbol}/{timeframe}";

    public static (string Symbol, Timeframe Timeframe) Parse(string key)
    {
        var slash = key.IndexOf('/');
        return (key[..slash], Timeframe.Parse(key[(slash + 1)..]));
    }
}

/// <summary>
/// What the trading tools use inside the silo: candles and quotes through the cache grains (one
/// exchange request shared by the cluster), the symbol list straight from the exchange provider
/// (the normaliser caches it for hours).
/// </summary>
public sealed class CachedMarketDataProvider(IGrainFactory grains, IExchangeMarketData exchange) : IMarketDataProvider
{
    public Task<IReadOnlyList<Candle>> GetCandlesAsync(string symbol, Timeframe timeframe, int limit, CancellationToken cancellationToken = default) =>
        grains.GetGrain<ICandleCacheGrain>(MarketKey.Of(symbol, timeframe.Code)).GetCandlesAsync(limit).WaitAsync(cancellationToken);

    public Task<double> GetPriceAsync(string symbol, CancellationToken cancellationToken = default) =>
        grains.GetGrain<IQuoteCacheGrain>(symbol).GetPriceAsync().WaitAsync(cancellationToken);

    /// <summary>One symbol through its cache grain; several in one exchange request (a portfolio, an alert list).</summary>
    public async Task<IReadOnlyDictionary<string, double>> GetPricesAsync(IReadOnlyCollection<string> symbols, CancellationToken cancellationToken = default) =>
        symbols.Distinct().ToList() is [var only]
            ? new Dictionary<string, double> { [only] = await GetPriceAsync(only, cancellationToken) }
            : await exchange.Provider.GetPricesAsync(symbols, cancellationToken);

    public Task<Ticker24h> Get24hTickerAsync(string symbol, CancellationToken cancellationToken = default) =>
        grains.GetGrain<IQuoteCacheGrain>(symbol).GetTicker24hAsync().WaitAsync(cancellationToken);

    public Task<IReadOnlyList<SymbolInfo>> GetSymbolsAsync(CancellationToken cancellationToken = default) =>
        exchange.Provider.GetSymbolsAsync(cancellationToken);
}

public static class MarketDataGrainRegistration
{
    /// <summary>
    /// Market data for the silo: the configured exchange provider behind the cache grains, and
    /// <see cref="IMarketDataProvider"/> (what the tools see) resolved to the cached one.
    /// </summary>
    public static IServiceCollection AddCachedMarketData(this IServiceCollection services, Microsoft.Extensions.Configuration.IConfiguration configuration)
    {
        services.AddSingleton<IMarketDataProvider, CachedMarketDataProvider>();
        services.AddEngramMarketData(configuration); // TryAdd: keeps the cached provider as IMarketDataProvider
        services.TryAddSingleton<IExchangeMarketData>(sp =>
        {
            var options = sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<MarketDataOptions>>().Value;
            return new ExchangeMarketData(options.Provider == MarketDataProviderKind.Csv
                ? sp.GetRequiredService<CsvMarketDataProvider>()
                : sp.GetRequiredService<BinanceMarketDataProvider>());
        });
        return services;
    }
}
