namespace Engram.Trading.MarketData;

/// <summary>Source of market data. Failures surface as <see cref="MarketDataException"/>.</summary>
public interface IMarketDataProvider
{
    /// <summary>Up to <paramref name="limit"/> most recent closed candles, oldest first.</summary>
    Task<IReadOnlyList<Candle>> GetCandlesAsync(string symbol, Timeframe timeframe, int limit, CancellationToken cancellationToken = default);

    Task<double> GetPriceAsync(string symbol, CancellationToken cancellationToken = default);

    /// <summary>
    /// The current prices of several symbols, asked for together (one exchange request per hundred symbols); a symbol
    /// the exchange does not price is missing from the result rather than failing the others.
    /// </summary>
    Task<IReadOnlyDictionary<string, double>> GetPricesAsync(IReadOnlyCollection<string> symbols, CancellationToken cancellationToken = default);

    Task<Ticker24h> Get24hTickerAsync(string symbol, CancellationToken cancellationToken = default);

    /// <summary>Every listed symbol, whatever its status.</summary>
    Task<IReadOnlyList<SymbolInfo>> GetSymbolsAsync(CancellationToken cancellationToken = default);
}
