using Engram.Trading.MarketData;

namespace Engram.Charts;

/// <summary>Pixel size of a rendered chart.</summary>
public readonly record struct ChartSize(int Width, int Height)
{
    /// <summary>
    /// 1280×960 (4:3): Telegram shows photos up to 1280 px on the long side without downscaling, and 4:3 keeps
    /// the price panel tall enough on a phone held upright.
    /// </summary>
    public static ChartSize Telegram { get; } = new(1280, 960);

    /// <summary>Smallest size the layout stays legible at.</summary>
    public static ChartSize Minimum { get; } = new(480, 360);

    /// <summary>Largest size accepted (a 2560×2560 RGBA frame is 26 MB before encoding).</summary>
    public static ChartSize Maximum { get; } = new(2560, 2560);

    public override string ToString() => $"{Width}x{Height}";
}

/// <summary>A horizontal level drawn on the price chart, such as one of the user's active alerts.</summary>
/// <param name="Label">Short text shown beside the line, e.g. "Alert ≥ 70,000" or "TP".</param>
public readonly record struct AlertLevel(string Label, double Price);

/// <summary>
/// A candlestick chart with EMA 20/50, Bollinger Bands (20, 2), volume and RSI 14.
/// Indicators are computed over all of <see cref="Candles"/>, then the last <see cref="VisibleCandles"/> are drawn:
/// pass ~50 more candles than are shown so EMA 50 is defined across the whole view.
/// </summary>
/// <param name="Symbol">Pair as the exchange spells it, e.g. BTCUSDT.</param>
/// <param name="Candles">Closed candles in ascending open time.</param>
/// <param name="Alerts">Levels to draw as labelled horizontal lines (the user's active alerts); may be empty.</param>
public sealed record PriceChartRequest(
    string Symbol,
    Timeframe Timeframe,
    IReadOnlyList<Candle> Candles,
    IReadOnlyList<AlertLevel>? Alerts = null)
{
    /// <summary>How many of the most recent candles are drawn.</summary>
    public int VisibleCandles { get; init; } = 100;

    public ChartSize Size { get; init; } = ChartSize.Telegram;

    /// <summary>Source named in the subtitle, e.g. "Binance spot".</summary>
    public string? Source { get; init; } = "Binance";
}

/// <summary>One holding in the portfolio chart.</summary>
/// <param name="Symbol">Asset or pair shown as the label, e.g. BTC.</param>
/// <param name="Value">Current market value in the quote currency; must not be negative.</param>
/// <param name="Pnl">Unrealised profit (positive) or loss (negative) in the quote currency.</param>
public readonly record struct PortfolioPosition(string Symbol, double Value, double Pnl);

/// <summary>Allocation by current value and P&amp;L per position, in one image.</summary>
/// <param name="AsOf">Valuation time shown in the title (UTC).</param>
public sealed record PortfolioChartRequest(
    IReadOnlyList<PortfolioPosition> Positions,
    DateTimeOffset AsOf,
    string QuoteAsset = "USDT")
{
    public ChartSize Size { get; init; } = ChartSize.Telegram;

    /// <summary>Optional heading instead of "Portfolio".</summary>
    public string? Title { get; init; }
}
