using BenchmarkDotNet.Attributes;
using Engram.Benchmarks.Infrastructure;
using Engram.Trading.MarketData;
using Engram.Trading.Tools;

namespace Engram.Benchmarks.Trading;

/// <summary>get_confidence_score's walk-forward replay over the full 45k-candle BTC 1h history (budget: 50 ms).</summary>
[MemoryDiagnoser]
public class ConfidenceReplayBenchmarks
{
    private Candle[] _candles = [];

    [Params(SignalAction.Buy, SignalAction.Hold)]
    public SignalAction Action { get; set; }

    [GlobalSetup]
    public void Setup() => _candles = BenchmarkData.Candles("binance_BTCUSDT_1h.csv");

    [Benchmark]
    public int Replay45k() => TradingTools.ScoreConfidence("BTCUSDT", Timeframe.H1, _candles, Action).Cases;
}
