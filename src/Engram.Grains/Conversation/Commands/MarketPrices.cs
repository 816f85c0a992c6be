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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Price of {Symbol} unavailable: {Reason}")]
    private partial void LogPriceUnavailable(string symbol, string reason);
}
