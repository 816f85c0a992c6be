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
        // Every element is written below; skipping the zeroing matters for 45k-candle histories (LOH arrays).
        OpenTimeMs = GC.AllocateUninitializedArray<long>(Count);
        High = Buffer();
        Low = Buffer();
        Close = Buffer();
        Volume = Buffer();
        for (var i = 0; i < Count; i++)
        {
            var c = candles[i];
            OpenTimeMs[i] = c.OpenTimeMs;
            High[i] = c.High;
            Low[i] = c.Low;
            Close[i] = c.Close;
            Volume[i] = c.Volume;
        }

        Ema20 = Buffer();
        Ema50 = Buffer();
        Ema200 = Buffer();
        Rsi = Buffer();
        MacdLine = Buffer();
        MacdSignal = Buffer();
        MacdHistogram = Buffer();
        BollingerMiddle = Buffer();
        BollingerUpper = Buffer();
        BollingerLower = Buffer();
        Atr = Buffer();
        TechnicalIndicators.Ema(Close, EmaFast, Ema20);
        TechnicalIndicators.Ema(Close, EmaMedium, Ema50);
        TechnicalIndicators.Ema(Close, EmaSlow, Ema200);
        TechnicalIndicators.Rsi(Close, Rsi, RsiPeriod);
        TechnicalIndicators.Macd(Close, MacdLine, MacdSignal, MacdHistogram);
        TechnicalIndicators.BollingerBands(Close, BollingerMiddle, BollingerUpper, BollingerLower, BollingerPeriod, BollingerK);
        TechnicalIndicators.Atr(High, Low, Close, Atr, AtrPeriod);
    }

    public int Count { get; }

    private double[] Buffer() => GC.AllocateUninitializedArray<double>(Count);
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
