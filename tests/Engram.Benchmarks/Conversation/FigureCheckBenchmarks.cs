using BenchmarkDotNet.Attributes;
using Engram.Abstractions.Conversation;
using Engram.Abstractions.Users;
using Engram.Agent;
using Engram.Benchmarks.Infrastructure;
using Engram.Trading.MarketData;
using Engram.Trading.Tools;

namespace Engram.Benchmarks.Conversation;

/// <summary>
/// Checking an answer's figures: the work added to every model answer. Real tool results (analyze_market and
/// generate_signal on 1,000 BTC hourly candles) and an answer of the usual length quoting a dozen figures.
/// </summary>
[MemoryDiagnoser, MedianColumn]
public class FigureCheckBenchmarks
{
    private IReadOnlyList<ToolInvocation> tools = [];
    private UserContext user = null!;
    private string answer = "";

    [GlobalSetup]
    public void Setup()
    {
        var candles = BenchmarkData.LastCandles("binance_BTCUSDT_1h.csv", 1_000);
        var analysis = TradingTools.AnalyzeMarket("BTCUSDT", Timeframe.H1, candles[500..]);
        var signal = TradingTools.GenerateSignal("BTCUSDT", Timeframe.H1, candles, signalCandles: 500);
        tools =
        [
            new ToolInvocation("analyze_market", """{"pair":"BTC"}""", analysis.ToJson(), analysis.ToSummary(), 3, false),
            new ToolInvocation("generate_signal", """{"pair":"BTC"}""", signal.ToJson(), signal.ToSummary(), 3, false),
        ];
        user = new UserContext(new PortfolioView([new PositionView("BTCUSDT", 0.5m, 18_500m)], 0, []), [],
            new EffectiveSettings(ResponseFormat.Clean, "1h", Engram.Abstractions.Users.RiskTolerance.Medium));
        var rsi = signal.Rules.Single(r => r.Rule == "rsi").Values["rsi14"];
        answer = $"""
            Bitcoin closed at {analysis.Price:N2} on the 1h chart (as of 2022-10-11 11:00 UTC), below its EMA 200 at {analysis.Trend.Ema200:N2}
            and its EMA50 at {analysis.Trend.Ema50:N2}, so the trend reads {analysis.Trend.Direction}.
            1. Momentum: RSI is {rsi:0.0}, MACD histogram {analysis.Momentum.MacdHistogram:0.##}.
            2. Volatility: ATR is {analysis.Volatility.AtrPct:0.##}% of price; Bollinger bands {analysis.Volatility.BollingerLower:N0}–{analysis.Volatility.BollingerUpper:N0}.
            3. 24h: {analysis.Day.ChangePct:+0.##;-0.##}% on volume of {analysis.Day.Volume / 1000:0.#}K.
            The signal is {signal.Action} with a score of {signal.Score}; past cases were favourable {signal.Backtest!.HitRatePct:0}% of the time.
            Your 0.5 BTC at 18,500 is worth about 9,550 now — a level I would watch is 21,000.
            Not financial advice.
            """;
        // The benchmark measures a realistic check only if it finds what a reader would: two invented figures.
        var figures = FigureCheck.Check(answer, tools, user, "should I buy bitcoin now?");
        var unverified = string.Join(", ", figures.Where(f => !f.Verified).Select(f => f.Text));
        if (unverified != "9,550, 21,000")
            throw new InvalidOperationException($"Expected 9,550 and 21,000 unverified, got [{unverified}] of {figures.Count}: {string.Join(" ", figures.Select(f => f.Text))}");
        Console.WriteLine($"// {figures.Count} figures, unverified: {unverified}");
    }

    [Benchmark]
    public int Check() => FigureCheck.Check(answer, tools, user, "should I buy bitcoin now?").Count;
}
