using Engram.Trading.MarketData;
using Microsoft.Extensions.Logging;

namespace Engram.Grains.Conversation.Commands;

/// <summary>The current price for a reply, or null (logged) when the exchange cannot give one.</summary>
public sealed partial class MarketPrices(IMarketDataProvider market, ILogger<MarketPrices> logger)
{
    public async Task<decimal?> TryPriceAsync(string symbol)
    {
        try
        {
            var price = await market.GetPriceAsync(symbol);
            return double.IsFinite(price) && price > 0 ? (decimal)price : null;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogPriceUnavailable(symbol, ex.GetType().Name);
            return null;
        }
    }

    /// <summary>Several prices in one exchange request; a symbol without one is missing (all are, when the exchange fails).</summary>
    public async Task<IReadOnlyDictionary<string, decimal>> TryPricesAsync(IReadOnlyCollection<string> symbols)
    {
        if (symbols.Count == 0)
            return new Dictionary<string, decimal>();
        try
        {
            var prices = await market.GetPricesAsync(symbols);
            return prices.Where(p => double.IsFinite(p.Value) && p.Value > 0).ToDictionary(p => p.Key, p => (decimal)p.Value);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogPriceUnavailable(string.Join(",", symbols.Take(5)), ex.GetType().Name);
            return new Dictionary<string, decimal>();
        }
    }

    /// <summary>An indicator alert's series at the last close (the candles come through the cache its watch reads), or null.</summary>
    public async Task<(double Value, double Close, DateTimeOffset CloseTime)?> TryIndicatorAsync(string symbol, Abstractions.Alerts.IndicatorSpec spec)
    {
        try
        {
            var candles = await market.GetCandlesAsync(symbol, Timeframe.Parse(spec.Timeframe), Trading.Indicators.IndicatorLine.Window);
            return Alerts.IndicatorAlerts.Current(spec, candles);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogPriceUnavailable($"{symbol} {spec.Line} {spec.Timeframe}", ex.GetType().Name);
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Price of {Symbol} unavailable: {Reason}")]
    private partial void LogPriceUnavailable(string symbol, string reason);
}
