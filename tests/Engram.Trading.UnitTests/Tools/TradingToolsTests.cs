using System.Text.Json;
using Engram.Trading.Indicators;
using Engram.Trading.MarketData;
using Engram.Trading.Tools;
using Engram.Trading.UnitTests.Infrastructure;

namespace Engram.Trading.UnitTests.Tools;

/// <summary>The pure tools on real candles from shared/data.</summary>
public sealed class TradingToolsTests
{
    private const string BtcHourly = "binance_BTCUSDT_1h.csv";

    [Fact]
    public void Analysis_of_real_candles_is_sane_and_explains_itself()
    {
        var candles = SharedData.LastCandles(BtcHourly, 500);
        var a = TradingTools.AnalyzeMarket("BTCUSDT", Timeframe.H1, candles);

        var last = candles[^1];
        Assert.Equal(last.Close, a.Price);
        Assert.Equal(last.OpenTime, a.LastCandleOpenTime);
        Assert.Equal(last.OpenTime.AddHours(1), a.LastCandleCloseTime);
        double low = candles.Min(c => c.Low), high = candles.Max(c => c.High);
        Assert.InRange(a.Trend.Ema20, low, high);
        Assert.InRange(a.Trend.Ema200, low, high);
        Assert.Contains(a.Trend.Direction, new[] { "up", "down", "sideways" });
        Assert.InRange(a.Momentum.Rsi, 0, 100);
        Assert.InRange(a.Volatility.AtrPct, 0.01, 10);
        Assert.True(a.Volatility.BollingerLower < a.Volatility.BollingerMiddle && a.Volatility.BollingerMiddle < a.Volatility.BollingerUpper);
        Assert.All(a.Levels.Support, s => Assert.True(s < a.Price));
        Assert.All(a.Levels.Resistance, r => Assert.True(r > a.Price));
        Assert.True(a.Levels.Support.SequenceEqual(a.Levels.Support.OrderDescending()), "support nearest first");
        Assert.Equal("candles", a.Day.Source);

        // Values come from the same indicator code the golden tests check.
        var s = new IndicatorSeries(candles);
        Assert.Equal(ToolText.Price(s.Ema50[^1]), a.Trend.Ema50);
        Assert.Equal(ToolText.Pct(s.Rsi[^1]), a.Momentum.Rsi);
        Assert.Equal(ToolText.Price(s.Atr[^1]), a.Volatility.Atr);

        var json = JsonDocument.Parse(a.ToJson()).RootElement;
        Assert.Equal("BTCUSDT", json.GetProperty("symbol").GetString());
        Assert.Equal(a.Momentum.Rsi, json.GetProperty("momentum").GetProperty("rsi").GetDouble());
        Assert.Equal("disclaimer", json.EnumerateObject().Last().Name);
        Assert.Equal(ToolText.Disclaimer, json.GetProperty("disclaimer").GetString());
        Assert.EndsWith("\nNot financial advice.", a.ToSummary());
        Assert.Contains("BTCUSDT 1h", a.ToSummary());
    }

    [Fact]
    public void A_live_ticker_is_used_only_when_it_lines_up_with_the_candles()
    {
        var candles = SharedData.LastCandles(BtcHourly, 300);
        var close = candles[^1].OpenTime.AddHours(1);
        var aligned = new Ticker24h("BTCUSDT", 1, 1, 2, 0.5, -1.234, 100, 2000, close.AddDays(-1), close.AddMinutes(20));
        Assert.Equal("exchange", TradingTools.AnalyzeMarket("BTCUSDT", Timeframe.H1, candles, aligned).Day.Source);
        Assert.Equal(-1.23, TradingTools.AnalyzeMarket("BTCUSDT", Timeframe.H1, candles, aligned).Day.ChangePct);
        var stale = aligned with { CloseTime = close.AddDays(300) };
        Assert.Equal("candles", TradingTools.AnalyzeMarket("BTCUSDT", Timeframe.H1, candles, stale).Day.Source);
    }

    [Fact]
    public void Signals_are_deterministic_and_consistent_with_their_rules()
    {
        var candles = SharedData.LastCandles("binance_ETHUSDT_1d.csv", 500);
        var first = TradingTools.GenerateSignal("ETHUSDT", Timeframe.D1, candles);
        var second = TradingTools.GenerateSignal("ETHUSDT", Timeframe.D1, candles);
        Assert.Equal(first.ToJson(), second.ToJson());
        Assert.Equal(14, first.HorizonCandles);

        var s = new IndicatorSeries(SharedData.Candles(BtcHourly));
        var seen = new HashSet<SignalAction>();
        for (var i = SignalRules.FirstIndex; i < s.Count; i += 97)
        {
            var signal = TradingTools.SignalAt("BTCUSDT", Timeframe.H1, s, i);
            seen.Add(signal.Action);
            Assert.Equal(signal.Score, signal.Rules.Sum(r => r.Vote));
            Assert.Equal(signal.Action, SignalRules.Decide(s, i, out _));
            switch (signal.Action)
            {
                case SignalAction.Buy:
                    Assert.True(signal.Score >= 2);
                    Assert.True(signal.StopLoss < signal.Entry && signal.Entry < signal.TakeProfit);
                    Assert.Equal(signal.Entry!.Value - 2 * signal.Atr, signal.StopLoss!.Value, signal.Entry.Value * 1e-6);
                    break;
                case SignalAction.Sell:
                    Assert.True(signal.Score <= -2);
                    Assert.True(signal.TakeProfit < signal.Entry && signal.Entry < signal.StopLoss);
                    break;
                default:
                    Assert.Null(signal.Entry);
                    Assert.Null(signal.StopLoss);
                    Assert.Null(signal.TakeProfit);
                    break;
            }
        }

        Assert.Equal(3, seen.Count);
        Assert.Contains("\"action\":\"BUY\"", TradingTools.SignalAt("BTCUSDT", Timeframe.H1, s, FindAction(s, SignalAction.Buy)).ToJson());
    }

    [Fact]
    public void A_signal_names_its_price_every_rules_figures_and_its_backtest()
    {
        var candles = SharedData.LastCandles(BtcHourly, 1000);
        var signal = TradingTools.GenerateSignal("BTCUSDT", Timeframe.H1, candles, signalCandles: 500);
        var analysis = TradingTools.AnalyzeMarket("BTCUSDT", Timeframe.H1, candles.Skip(500).ToList());

        // The same window as analyze_market, so the two tools quote the same figures.
        Assert.Equal(analysis.Price, signal.Price);
        Assert.Equal(analysis.LastCandleCloseTime, signal.LastCandleCloseTime);
        Assert.Equal(["trend", "ema20", "macd", "rsi", "bollinger"], signal.Rules.Select(r => r.Rule));
        var rsi = signal.Rules.Single(r => r.Rule == "rsi");
        Assert.Equal(analysis.Momentum.Rsi, rsi.Values["rsi14"]);
        Assert.Equal(30, rsi.Values["oversoldBelow"]);
        Assert.Equal(70, rsi.Values["overboughtAbove"]);
        Assert.Contains("below 30", rsi.Condition);
        var trend = signal.Rules.Single(r => r.Rule == "trend");
        Assert.Equal(analysis.Trend.Ema50, trend.Values["ema50"]);
        Assert.Equal(analysis.Trend.Ema200, trend.Values["ema200"]);
        Assert.Equal(analysis.Volatility.BollingerUpper, signal.Rules.Single(r => r.Rule == "bollinger").Values["upperBand"]);
        Assert.Equal(signal.Score, signal.Rules.Sum(r => r.Vote));

        // The backtest is get_confidence_score over the whole fetch, for the signal's own action.
        var confidence = TradingTools.ScoreConfidence("BTCUSDT", Timeframe.H1, candles, signal.Action);
        Assert.NotNull(signal.Backtest);
        Assert.Equal(confidence.Cases, signal.Backtest.Cases);
        Assert.Equal(confidence.HitRatePct, signal.Backtest.HitRatePct);
        Assert.Equal(confidence.WilsonLowerBoundPct, signal.Backtest.WilsonLowerBoundPct);

        var json = signal.ToJson();
        Assert.Contains("\"price\":", json);
        Assert.Contains("\"rsi14\":", json);
        Assert.Contains("\"backtest\":{", json);
        var summary = signal.ToSummary();
        Assert.Contains("price ", summary);
        Assert.Contains("• rsi ", summary);
        Assert.Contains("RSI(14) " + rsi.Values["rsi14"].ToString("0.0#", System.Globalization.CultureInfo.InvariantCulture), summary);
        Assert.Contains("Backtest:", summary);
    }

    [Fact]
    public void Past_decisions_do_not_depend_on_future_candles()
    {
        var all = SharedData.Candles(BtcHourly);
        var cut = all.Length - 5_000;
        // Same past, a wildly different future: every decision up to the cut must be identical.
        var alteredFuture = all.Select((c, i) => i <= cut ? c : c with { Open = c.Open * 3, High = c.High * 3, Low = c.Low * 3, Close = c.Close * 3 }).ToArray();
        var full = new IndicatorSeries(all);
        var truncated = new IndicatorSeries(all[..(cut + 1)]);
        var altered = new IndicatorSeries(alteredFuture);
        for (var i = SignalRules.FirstIndex; i <= cut; i++)
        {
            var a = SignalRules.Decide(full, i, out var sa);
            var b = SignalRules.Decide(truncated, i, out var sb);
            var c = SignalRules.Decide(altered, i, out var sc);
            Assert.True(a == b && b == c && sa == sb && sb == sc, $"decision at {i} changed with future data");
        }

        // The changed future does change later decisions, so the check above could have failed.
        var later = Enumerable.Range(cut + 1, 4_000).Count(i => SignalRules.Decide(full, i, out var x) != SignalRules.Decide(altered, i, out var y) || x != y);
        Assert.True(later > 0);
    }

    [Fact]
    public void Confidence_replays_the_rules_over_history()
    {
        var candles = SharedData.Candles(BtcHourly);
        var report = TradingTools.ScoreConfidence("BTCUSDT", Timeframe.H1, candles, SignalAction.Buy);
        Assert.True(report.Cases > 100, $"{report.Cases} cases");
        Assert.InRange(report.Favourable, 1, report.Cases - 1);
        Assert.Equal(Math.Round(100.0 * report.Favourable / report.Cases, 2), report.HitRatePct);
        Assert.True(report.WilsonLowerBoundPct < report.HitRatePct);
        Assert.True(report.WorstOutcomePct < 0 && report.BestOutcomePct > 0);
        Assert.InRange(report.AverageOutcomePct, report.WorstOutcomePct, report.BestOutcomePct);
        Assert.Equal(24, report.HorizonCandles);
        Assert.Equal(candles.Length, report.CandlesExamined);
        // Cases never overlap, so there can be at most one per horizon.
        Assert.True(report.Cases <= (candles.Length - SignalRules.FirstIndex) / report.HorizonCandles + 1);

        // Recompute the hit rate independently from the decisions.
        var s = new IndicatorSeries(candles);
        int cases = 0, good = 0;
        for (var i = SignalRules.FirstIndex; i + 24 < s.Count; i++)
        {
            if (SignalRules.Decide(s, i, out _) == SignalAction.Buy)
            {
                cases++;
                good += s.Close[i + 24] > s.Close[i] ? 1 : 0;
                i += 23;
            }
        }

        Assert.Equal((cases, good), (report.Cases, report.Favourable));

        // A grade above low needs the 95% lower bound above a coin flip.
        Assert.Equal(report.WilsonLowerBoundPct >= 50 ? ConfidenceGrade.Moderate : ConfidenceGrade.Low,
            report.Grade == ConfidenceGrade.High ? ConfidenceGrade.Moderate : report.Grade);
        Assert.EndsWith("Not financial advice.", report.ToSummary());
    }

    [Fact]
    public void Few_past_cases_give_low_confidence()
    {
        var candles = SharedData.LastCandles("binance_SOLUSDT_1d.csv", 300);
        var report = TradingTools.ScoreConfidence("SOLUSDT", Timeframe.D1, candles, SignalAction.Sell);
        Assert.True(report.Cases < TradingTools.MinimumCases);
        Assert.Equal(ConfidenceGrade.Low, report.Grade);
        Assert.StartsWith($"low confidence: only {report.Cases} past case", report.Assessment);
    }

    // Its speed (15 ms for the whole history) is measured by ConfidenceReplayBenchmarks, not asserted here.
    [Fact]
    public void Confidence_replays_the_whole_45k_hourly_history_consistently()
    {
        var candles = SharedData.Candles(BtcHourly);
        Assert.True(candles.Length > 45_000);
        var report = TradingTools.ScoreConfidence("BTCUSDT", Timeframe.H1, candles, SignalAction.Sell);

        Assert.InRange(report.Cases, 1, candles.Length);
        Assert.InRange(report.Favourable, 0, report.Cases);
        Assert.Equal(100.0 * report.Favourable / report.Cases, report.HitRatePct, 1);
        Assert.True(report.WilsonLowerBoundPct <= report.HitRatePct);
        Assert.True(report.WorstOutcomePct <= report.AverageOutcomePct && report.AverageOutcomePct <= report.BestOutcomePct);
    }

    [Theory]
    [InlineData(8, 10, 0.4902)]
    [InlineData(50, 100, 0.4038)]
    [InlineData(0, 10, 0.0)]
    [InlineData(10, 10, 0.7225)]
    [InlineData(0, 0, 0.0)]
    public void Wilson_lower_bound(int successes, int n, double expected)
    {
        Assert.Equal(expected, TradingTools.WilsonLowerBound(successes, n), 4);
    }

    [Fact]
    public void Risk_on_real_daily_candles()
    {
        var candles = SharedData.LastCandles("binance_ETHUSDT_1d.csv", 500);
        var symbol = SymbolNormalizer.Parse("ETH")!;
        var risk = TradingTools.AssessRisk(symbol, candles, new PositionSize(2, false), RiskTolerance.Medium, 1.0, equity: 50_000);

        var price = candles[^1].Close;
        Assert.Equal(price, risk.Price);
        Assert.Equal(Math.Round(2 * price, 2), risk.PositionValue);
        Assert.InRange(risk.DailyVolatilityPct, 0.5, 15);
        Assert.True(risk.ValueAtRisk95 > 0);
        Assert.True(risk.ExpectedShortfall95 >= risk.ValueAtRisk95);
        // The percentage is rounded to 2 dp, so allow half a hundredth of a percent of the position.
        Assert.Equal(risk.ValueAtRisk95Pct / 100 * risk.PositionValue, risk.ValueAtRisk95, 0.00005 * risk.PositionValue + 0.01);
        Assert.InRange(risk.MaxDrawdownPct, 1, 100);
        Assert.True(risk.DrawdownPeakTime < risk.DrawdownTroughTime);
        Assert.Equal(risk.MaxPositionPctOfEquity, Math.Round(1.0 / risk.StopDistancePct * 100, 2), 0.05);
        Assert.Equal(50_000 * risk.MaxPositionPctOfEquity / 100, risk.SuggestedPositionValue!.Value, tolerance: 50_000 * 0.00005);
        Assert.EndsWith("Not financial advice.", risk.ToSummary());
    }

    [Fact]
    public void Var_and_expected_shortfall_are_the_empirical_tail()
    {
        // 40 days: 38 flat-ish days of +1%, then −10% and −20% days. 5% of 40 returns → the 2 worst.
        var closes = new List<double> { 100 };
        for (var i = 0; i < 37; i++)
        {
            closes.Add(closes[^1] * 1.01);
        }

        closes.Add(closes[^1] * 0.9);
        closes.Add(closes[^1] * 0.8);
        closes.Add(closes[^1] * 1.01);
        var candles = closes.Select((c, i) => new Candle(i * 86_400_000L, c, c * 1.01, c * 0.99, c, 1)).ToArray();
        var risk = TradingTools.AssessRisk(SymbolNormalizer.Parse("BTC")!, candles, new PositionSize(1000, true), RiskTolerance.Low, 0.5, price: 100);
        Assert.Equal(10, risk.ValueAtRisk95Pct); // the 2nd-worst day
        Assert.Equal(100, risk.ValueAtRisk95);
        Assert.Equal(15, risk.ExpectedShortfall95Pct); // mean of −10% and −20%
        Assert.Equal(28, risk.MaxDrawdownPct); // 1 − 0.9·0.8
        Assert.Equal(10, risk.PositionUnits);
    }

    [Fact]
    public void Max_drawdown()
    {
        var (dd, peak, trough) = TradingTools.MaxDrawdown([100, 120, 90, 130, 65, 70]);
        Assert.Equal(0.5, dd, 12);
        Assert.Equal((3, 4), (peak, trough));
        Assert.Equal(0, TradingTools.MaxDrawdown([1, 2, 3]).Drawdown);
    }

    [Fact]
    public void Too_little_history_is_refused()
    {
        var candles = SharedData.LastCandles(BtcHourly, 100);
        var ex = Assert.Throws<InsufficientHistoryException>(() => TradingTools.AnalyzeMarket("BTCUSDT", Timeframe.H1, candles));
        Assert.Equal((100, TradingTools.MinimumCandles), (ex.Have, ex.Need));
    }

    private static int FindAction(IndicatorSeries s, SignalAction action)
    {
        for (var i = s.Count - 1; i >= SignalRules.FirstIndex; i--)
        {
            if (SignalRules.Decide(s, i, out _) == action)
            {
                return i;
            }
        }

        throw new InvalidOperationException($"no {action} in history");
    }
}
