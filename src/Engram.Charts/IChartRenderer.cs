namespace Engram.Charts;

/// <summary>Draws chat charts as PNG. Implementations are thread-safe: one instance serves every caller.</summary>
public interface IChartRenderer
{
    ChartResult RenderPriceChart(PriceChartRequest request);

    ChartResult RenderPortfolioChart(PortfolioChartRequest request);
}
