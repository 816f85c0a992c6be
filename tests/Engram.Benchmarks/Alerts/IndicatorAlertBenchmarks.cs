using BenchmarkDotNet.Attributes;
using Engram.Abstractions.Alerts;
using Engram.Abstractions.Users;
using Engram.Benchmarks.Infrastructure;
using Engram.Grains.Alerts;
using Engram.Trading.MarketData;

namespace Engram.Benchmarks.Alerts;

/// <summary>
/// 100,000 indicator alerts over 1,000 pairs (100 each, on five series: RSI 14, EMA 50, EMA 200, volume, 24h change),
/// evaluated at one candle close: each pair's book computes its distinct series over the 500-candle window once and
/// checks every alert. The candles are real BTC hourly windows, a different one per pair. The candle fetch (the
/// cache grain, shared with the tools) is not in it.
/// <code>dotnet run -c Release --project tests/Engram.Benchmarks -- --filter '*IndicatorAlert*'</code>
/// </summary>
[MemoryDiagnoser]
public class IndicatorAlertBenchmarks
{
    private const int Pairs = 1_000;
    private const int AlertsPerPair = 100;
    private static readonly string[] Lines = ["rsi14", "ema50", "ema200", "volume20", "change24"];

    private CandleColumns[] windows = null!;
    private IndicatorAlertBook[] books = null!;

    [GlobalSetup]
    public void LoadCandles()
    {
        var hourly = BenchmarkData.Candles("binance_BTCUSDT_1h.csv");
        windows = Enumerable.Range(0, Pairs).Select(p => new CandleColumns(hourly[(p * 7)..(p * 7 + 500)])).ToArray();
    }

    [IterationSetup]
    public void Arm()
    {
        // Rebuilt before each iteration: a crossing takes its alert out of the book.
        var random = new Random(11);
        books = new IndicatorAlertBook[Pairs];
        for (var p = 0; p < Pairs; p++)
        {
            var book = new IndicatorAlertBook(Timeframe.H1);
            for (var a = 0; a < AlertsPerPair; a++)
            {
                var line = Lines[a % Lines.Length];
                var (condition, level) = line switch
                {
                    "rsi14" => (a % 2 == 0 ? AlertCondition.Above : AlertCondition.Below, (decimal)random.Next(20, 81)),
                    "volume20" => (AlertCondition.Above, (decimal)random.Next(2, 6)),
                    "change24" => (a % 2 == 0 ? AlertCondition.Above : AlertCondition.Below, (decimal)random.Next(-8, 9)),
                    _ => ((AlertCondition)(a % 3), 0m),
                };
                book.Add(new IndicatorAlertEntry(p * 1_000L + a, a, line, condition, level, DateTimeOffset.UnixEpoch));
            }
            books[p] = book;
        }
    }

    [Benchmark(Description = "100,000 alerts / 1,000 pairs at one close")]
    public int EvaluateOneClose()
    {
        var crossed = 0;
        for (var p = 0; p < Pairs; p++)
            crossed += books[p].Evaluate(windows[p], windows[p].Count - 1).Count;
        return crossed;
    }
}
