using Engram.Trading.MarketData;

namespace Engram.Grains.Market;

// Engram.Trading has no Orleans in it, so its types cross grain boundaries through surrogates.

[GenerateSerializer]
public struct CandleSurrogate
{
    [Id(0)] public long OpenTimeMs;
    [Id(1)] public double Open;
    [Id(2)] public double High;
    [Id(3)] public double Low;
    [Id(4)] public double Close;
    [Id(5)] public double Volume;
}

[RegisterConverter]
public sealed class CandleSurrogateConverter : IConverter<Candle, CandleSurrogate>
{
    public Candle ConvertFromSurrogate(in CandleSurrogate s) => new(s.OpenTimeMs, s.Open, s.High, s.Low, s.Close, s.Volume);

    public CandleSurrogate ConvertToSurrogate(in Candle c) => new()
    {
        OpenTimeMs = c.OpenTimeMs, Open = c.Open, High = c.High, Low = c.Low, Close = c.Close, Volume = c.Volume,
    };
}

[GenerateSerializer]
public struct TickerSurrogate
{
    [Id(0)] public string Symbol;
    [Id(1)] public double LastPrice;
    [Id(2)] public double OpenPrice;
    [Id(3)] public double HighPrice;
    [Id(4)] public double LowPrice;
    [Id(5)] public double PriceChangePercent;
    [Id(6)] public double Volume;
    [Id(7)] public double QuoteVolume;
    [Id(8)] public DateTimeOffset OpenTime;
    [Id(9)] public DateTimeOffset CloseTime;
}

[RegisterConverter]
public sealed class TickerSurrogateConverter : IConverter<Ticker24h, TickerSurrogate>
{
    public Ticker24h ConvertFromSurrogate(in TickerSurrogate s) =>
        new(s.Symbol, s.LastPrice, s.OpenPrice, s.HighPrice, s.LowPrice, s.PriceChangePercent, s.Volume, s.QuoteVolume, s.OpenTime, s.CloseTime);

    public TickerSurrogate ConvertToSurrogate(in Ticker24h t) => new()
    {
        Symbol = t.Symbol, LastPrice = t.LastPrice, OpenPrice = t.OpenPrice, HighPrice = t.HighPrice, LowPrice = t.LowPrice,
        PriceChangePercent = t.PriceChangePercent, Volume = t.Volume, QuoteVolume = t.QuoteVolume, OpenTime = t.OpenTime, CloseTime = t.CloseTime,
    };
}
