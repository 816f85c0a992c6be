using Engram.Abstractions.Users;
using Engram.Charts;
using Engram.Trading.MarketData;

namespace Engram.Grains.Conversation.Commands;

/// <summary>A pair's chart with the user's alert levels, rendered on the thread pool so the grain's scheduler is never blocked.</summary>
public sealed class PriceCharts(IMarketDataProvider market, IChartRenderer charts)
{
    public async Task<ChartResult> RenderAsync(UserSession session, string symbol, Timeframe timeframe)
    {
        IReadOnlyList<Candle> candles;
        try
        {
            candles = await market.GetCandlesAsync(symbol, timeframe, 150);
        }
        catch (MarketDataException ex)
        {
            return ChartResult.Failure(ChartErrorKind.InvalidRequest, ex.Message);
        }
        var alerts = session.Alerts.Where(a => a.Symbol == symbol)
            .Select(a => new AlertLevel($"#{a.Id} {(a.Condition == AlertCondition.Above ? "above" : "below")}", (double)a.Threshold)).ToList();
        return await Task.Run(() => charts.RenderPriceChart(new PriceChartRequest(symbol, timeframe, candles, alerts)));
    }
}
