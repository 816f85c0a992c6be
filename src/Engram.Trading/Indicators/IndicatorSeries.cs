using Engram.Trading.MarketData;

namespace Engram.Trading.Indicators;

/// <summary>
/// Every indicator the tools use, computed once over a candle history (struct-of-arrays). Because each series is
/// causal, the value at index i is what a trader would have seen at the close of candle i: the signal replay
/// reads these arrays at each i without look-ahead.
/// </summary>
public sealed class IndicatorSeries
{
    public const int EmaFast = 20;
    public const int EmaMedium = 50;
    public const int EmaSlow = 200;
    public const int RsiPeriod = 14;
    public const int AtrPeriod = 14;
    public const int BollingerPeriod = 20;
    public const double BollingerK = 2;

    /// <summary>First index where every series is defined (EMA200 is the last to warm up).</summary>
    public const int WarmUp = EmaSlow - 1;

    public IndicatorSeries(IReadOnlyList<Candle> candles)
    {
        Count = candles.Count;
        OpenTimeMs = new long[Count];
        High = new double[Count];
        Low = new double[Count];
        Close = new double[Count];
        Volume = new double[Count];
        for (var i = 0; i < Count; i++)
        {
            var c = candles[i];
            OpenTimeMs[i] = c.OpenTimeMs;
            High[i] = c.High;
            Low[i] = c.Low;
            Close[i] = c.Close;
            Volume[i] = c.Volume;
        }

        Ema20 = new double[Count];
        Ema50 = new double[Count];
        Ema200 = new double[Count];
        Rsi = new double[Count];
        MacdLine = new double[Count];
        MacdSignal = new double[Count];
        MacdHistogram = new double[Count];
        BollingerMiddle = new double[Count];
        BollingerUpper = new double[Count];
        BollingerLower = new double[Count];
        Atr = new double[Count];
        TechnicalIndicators.Ema(Close, EmaFast, Ema20);
        TechnicalIndicators.Ema(Close, EmaMedium, Ema50);
        TechnicalIndicators.Ema(Close, EmaSlow, Ema200);
        TechnicalIndicators.Rsi(Close, Rsi, RsiPeriod);
        TechnicalIndicators.Macd(Close, MacdLine, MacdSignal, MacdHistogram);
        TechnicalIndicators.BollingerBands(Close, BollingerMiddle, BollingerUpper, BollingerLower, BollingerPeriod, BollingerK);
        TechnicalIndicators.Atr(High, Low, Close, Atr, AtrPeriod);
    }

    public int Count { get; }
    public long[] OpenTimeMs { get; }
    public double[] High { get; }
    public double[] Low { get; }
    public double[] Close { get; }
    public double[] Volume { get; }
    public double[] Ema20 { get; }
    public double[] Ema50 { get; }
    public double[] Ema200 { get; }
    public double[] Rsi { get; }
    public double[] MacdLine { get; }
    public double[] MacdSignal { get; }
    public double[] MacdHistogram { get; }
    public double[] BollingerMiddle { get; }
    public double[] BollingerUpper { get; }
    public double[] BollingerLower { get; }
    public double[] Atr { get; }
}
