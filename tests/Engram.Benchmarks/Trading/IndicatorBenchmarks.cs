using BenchmarkDotNet.Attributes;
using Engram.Benchmarks.Infrastructure;
using Engram.Trading.Indicators;

namespace Engram.Benchmarks.Trading;

/// <summary>Indicator series over 45k closes into preallocated buffers: these should allocate nothing.</summary>
[MemoryDiagnoser]
public class IndicatorBenchmarks
{
    private double[] _close = [];
    private double[] _high = [];
    private double[] _low = [];
    private double[] _a = [];
    private double[] _b = [];
    private double[] _c = [];
    private Engram.Trading.MarketData.Candle[] _candles = [];

    [GlobalSetup]
    public void Setup()
    {
        _candles = BenchmarkData.Candles("binance_BTCUSDT_1h.csv");
        _close = _candles.Select(c => c.Close).ToArray();
        _high = _candles.Select(c => c.High).ToArray();
        _low = _candles.Select(c => c.Low).ToArray();
        _a = new double[_close.Length];
        _b = new double[_close.Length];
        _c = new double[_close.Length];
    }

    [Benchmark]
    public double Ema200()
    {
        TechnicalIndicators.Ema(_close, 200, _a);
        return _a[^1];
    }

    [Benchmark]
    public double Rsi14()
    {
        TechnicalIndicators.Rsi(_close, _a, 14);
        return _a[^1];
    }

    [Benchmark]
    public double Macd()
    {
        TechnicalIndicators.Macd(_close, _a, _b, _c);
        return _c[^1];
    }

    [Benchmark]
    public double Bollinger20()
    {
        TechnicalIndicators.BollingerBands(_close, _a, _b, _c);
        return _b[^1];
    }

    [Benchmark]
    public double Atr14()
    {
        TechnicalIndicators.Atr(_high, _low, _close, _a);
        return _a[^1];
    }

    /// <summary>Every series the tools use, arrays included: the fixed cost of one replay.</summary>
    [Benchmark]
    public int AllSeries() => new IndicatorSeries(_candles).Count;
}
