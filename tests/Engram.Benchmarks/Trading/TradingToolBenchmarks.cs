using BenchmarkDotNet.Attributes;
using Engram.Benchmarks.Infrastructure;
using Engram.Trading.MarketData;
using Engram.Trading.Tools;

namespace Engram.Benchmarks.Trading;

/// <summary>The four tools on 1,000 candles, as the service runs them once the data is fetched.</summary>
[MemoryDiagnoser]
public class TradingToolBenchmarks
{
    private Candle[] _hourly = [];
    private Candle[] _daily = [];
    private ParsedSymbol _btc = null!;

    [GlobalSetup]
    public void Setup()
    {
        _hourly = BenchmarkData.LastCandles("binance_BTCUSDT_1h.csv", 1_000);
        _daily = BenchmarkData.LastCandles("binance_BTCUSDT_1d.csv", 1_000);
        _btc = SymbolNormalizer.Parse("BTC")!;
    }

    [Benchmark]
    public string AnalyzeMarket() => TradingTools.AnalyzeMarket("BTCUSDT", Timeframe.H1, _hourly).ToJson();

    [Benchmark]
    public string GenerateSignal() => TradingTools.GenerateSignal("BTCUSDT", Timeframe.H1, _hourly).ToJson();

    [Benchmark]
    public string ScoreConfidence() => TradingTools.ScoreConfidence("BTCUSDT", Timeframe.H1, _hourly, SignalAction.Buy).ToJson();

    [Benchmark]
    public string AssessRisk() =>
        TradingTools.AssessRisk(_btc, _daily, new PositionSize(0.5, false), RiskTolerance.Medium, 1.0, equity: 100_000).ToJson();
}
