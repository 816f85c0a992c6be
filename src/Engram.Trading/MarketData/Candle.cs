namespace Engram.Trading.MarketData;

/// <summary>One closed OHLCV candle. <see cref="Volume"/> is in the base asset (Binance kline field 5).</summary>
/// <param name="OpenTimeMs">Candle open time, UTC epoch milliseconds.</param>
public readonly record struct Candle(long OpenTimeMs, double Open, double High, double Low, double Close, double Volume)
{
    public DateTimeOffset OpenTime => DateTimeOffset.FromUnixTimeMilliseconds(OpenTimeMs);
}

/// <summary>Rolling 24-hour statistics for a symbol.</summary>
public sealed record Ticker24h(
    string Symbol,
    double LastPrice,
    double OpenPrice,
    double HighPrice,
    double LowPrice,
    double PriceChangePercent,
    double Volume,
    double QuoteVolume,
    DateTimeOffset OpenTime,
    DateTimeOffset CloseTime)
{
    /// <summary>
    /// Builds the ticker from candles covering the 24 hours before the last candle's close.
    /// Used by the CSV provider and when no live ticker is at hand; quote volume is approximated by volume × close.
    /// </summary>
    public static Ticker24h FromCandles(string symbol, IReadOnlyList<Candle> candles, Timeframe timeframe)
    {
        if (candles.Count == 0)
        {
            throw new MarketDataException(MarketDataErrorKind.NoData, $"No candles for {symbol}.");
        }

        var last = candles[^1];
        var closeMs = last.OpenTimeMs + (long)timeframe.Duration.TotalMilliseconds;
        var fromMs = closeMs - (long)TimeSpan.FromDays(1).TotalMilliseconds;
        var first = candles.Count - 1;
        while (first > 0 && candles[first - 1].OpenTimeMs >= fromMs)
        {
            first--;
        }

        double high = double.MinValue, low = double.MaxValue, volume = 0, quoteVolume = 0;
        for (var i = first; i < candles.Count; i++)
        {
            var c = candles[i];
            high = Math.Max(high, c.High);
            low = Math.Min(low, c.Low);
            volume += c.Volume;
            quoteVolume += c.Volume * c.Close;
        }

        var open = candles[first].Open;
        return new Ticker24h(symbol, last.Close, open, high, low, (last.Close - open) / open * 100, volume, quoteVolume,
            DateTimeOffset.FromUnixTimeMilliseconds(candles[first].OpenTimeMs), DateTimeOffset.FromUnixTimeMilliseconds(closeMs));
    }
}

/// <summary>A tradable pair as listed by the exchange (exchangeInfo).</summary>
public sealed record SymbolInfo(string Symbol, string BaseAsset, string QuoteAsset, string Status)
{
    public bool IsTrading => string.Equals(Status, "TRADING", StringComparison.OrdinalIgnoreCase);
}
