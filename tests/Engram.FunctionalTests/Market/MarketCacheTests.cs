using Engram.FunctionalTests.Grains;
using Engram.FunctionalTests.Infrastructure;
using Engram.Grains.Market;
using Engram.Trading.MarketData;
using Engram.Trading.Tools;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Engram.FunctionalTests.Market;

/// <summary>The candle and quote cache grains share one exchange request among every caller in the cluster.</summary>
[Collection(RedisCollection.Name)]
public sealed class MarketCacheTests(RedisServer redis)
{
    /// <summary>The real CSV provider, counting what reaches it (what would reach the exchange).</summary>
    private sealed class CountingExchange(IMarketDataProvider inner) : IMarketDataProvider
    {
        public int Candles, Prices, Tickers;

        public Task<IReadOnlyList<Candle>> GetCandlesAsync(string symbol, Timeframe timeframe, int limit, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref Candles);
            return inner.GetCandlesAsync(symbol, timeframe, limit, cancellationToken);
        }

        public Task<double> GetPriceAsync(string symbol, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref Prices);
            return inner.GetPriceAsync(symbol, cancellationToken);
        }

        public Task<IReadOnlyDictionary<string, double>> GetPricesAsync(IReadOnlyCollection<string> symbols, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref Prices);
            return inner.GetPricesAsync(symbols, cancellationToken);
        }

        public Task<Ticker24h> Get24hTickerAsync(string symbol, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref Tickers);
            return inner.Get24hTickerAsync(symbol, cancellationToken);
        }

        public Task<IReadOnlyList<SymbolInfo>> GetSymbolsAsync(CancellationToken cancellationToken = default) => inner.GetSymbolsAsync(cancellationToken);
    }

    [Fact]
    public async Task A_thousand_concurrent_analyses_of_one_pair_make_one_exchange_request()
    {
        CountingExchange? exchange = null;
        await using var cluster = await UserGrainCluster.StartAsync(redis, "cache-" + Guid.NewGuid().ToString("N")[..8], silos: 2,
            configureServices: services => services.AddSingleton<IExchangeMarketData>(sp =>
            {
                // One counter shared by both silos, as one exchange would be.
                exchange ??= new CountingExchange(new CsvMarketDataProvider(sp.GetRequiredService<IOptions<MarketDataOptions>>()));
                return new ExchangeMarketData(exchange);
            }));

        var tools = cluster.Silos.Select(s => ((Orleans.TestingHost.InProcessSiloHandle)s).ServiceProvider.GetRequiredService<TradingToolService>()).ToList();
        var results = await Task.WhenAll(Enumerable.Range(0, 1000).Select(i => tools[i % tools.Count].AnalyzeMarketAsync("BTC/USDT", "1h")));

        Assert.All(results, r => Assert.True(r.IsSuccess, r.Error?.Message));
        Assert.Single(results.Select(r => r.Value!.Price).Distinct());
        Assert.Equal(1, exchange!.Candles);
        Assert.Equal(1, exchange.Tickers);
    }
}
