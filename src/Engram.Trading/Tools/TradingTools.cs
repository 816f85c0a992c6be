using Engram.Trading.Indicators;
using Engram.Trading.MarketData;
using static Engram.Trading.Tools.ToolText;

namespace Engram.Trading.Tools;

/// <summary>
/// The four tools as pure functions of candles: no I/O, deterministic, so they can be tested and benchmarked
/// directly. <see cref="TradingToolService"/> adds symbol resolution and fetching.
/// </summary>
public static class TradingTools
{
    /// <summary>EMA200 warm-up plus the slope look-back and a little room for swing levels.</summary>
    public const int MinimumCandles = 250;

    /// <summary>Candles over which the EMA20 slope is measured.</summary>
    public const int SlopeLookback = 5;

    /// <summary>Candles searched for swing levels, and the bars each side that make a swing.</summary>
    public const int LevelWindow = 150;
    public const int SwingStrength = 3;

    private const double Z95 = 1.959963984540054;

    /// <summary>analyze_market over closed candles (oldest first).</summary>
    /// <param name="ticker">The exchange's 24h ticker; ignored when it does not line up with the candles.</param>
    public static MarketAnalysis AnalyzeMarket(string symbol, Timeframe timeframe, IReadOnlyList<Candle> candles,
        Ticker24h? ticker = null, IEnumerable<string>? notes = null)
    {
        RequireHistory(candles, MinimumCandles, timeframe);
        var s = new IndicatorSeries(candles);
        var i = s.Count - 1;
        var close = s.Close[i];
        var last = candles[i];
        var closeTime = last.OpenTime + timeframe.Duration;

        var slope = (s.Ema20[i] / s.Ema20[i - SlopeLookback] - 1) * 100;
        var trend = new TrendReading(
            TrendDirection(close, s.Ema20[i], s.Ema50[i], s.Ema200[i], slope),
            Price(s.Ema20[i]), Price(s.Ema50[i]), Price(s.Ema200[i]),
            Pct((close / s.Ema20[i] - 1) * 100), Pct((close / s.Ema50[i] - 1) * 100), Pct((close / s.Ema200[i] - 1) * 100),
            Pct(slope));

        var rsi = s.Rsi[i];
        var hist = s.MacdHistogram[i];
        var momentum = new MomentumReading(
            Pct(rsi),
            rsi < SignalRules.Oversold ? "oversold" : rsi > SignalRules.Overbought ? "overbought" : "neutral",
            Price(s.MacdLine[i]), Price(s.MacdSignal[i]), Price(hist),
            hist > 0 ? "bullish" : hist < 0 ? "bearish" : "flat",
            hist > s.MacdHistogram[i - 1]);

        var (upper, middle, lower) = (s.BollingerUpper[i], s.BollingerMiddle[i], s.BollingerLower[i]);
        var volatility = new VolatilityReading(
            Price(s.Atr[i]), Pct(s.Atr[i] / close * 100),
            Price(upper), Price(middle), Price(lower),
            Pct((upper - lower) / middle * 100),
            upper > lower ? Pct((close - lower) / (upper - lower)) : 0.5,
            Pct(TechnicalIndicators.RealisedVolatility(s.Close, timeframe.PeriodsPerYear, window: Math.Min(s.Count - 1, RealisedVolWindow(timeframe))) * 100));

        var ratio = TechnicalIndicators.VolumeTrend(s.Volume);
        var volume = new VolumeReading(
            double.IsNaN(ratio) ? 1 : Pct(ratio),
            double.IsNaN(ratio) ? "no volume" : ratio > 1.2 ? "rising" : ratio < 0.8 ? "falling" : "steady");

        var allNotes = notes?.ToList() ?? [];
        var day = DayStatsFor(symbol, timeframe, candles, ticker, closeTime, allNotes);
        return new MarketAnalysis(symbol, timeframe.Code, last.OpenTime, closeTime, Price(close), trend, momentum, volatility,
            Levels(s, close), day, volume, s.Count, allNotes);
    }

    /// <summary>
    /// generate_signal at the last closed candle (see <see cref="SignalRules"/>), with the same signal's backtest over
    /// all of <paramref name="candles"/>. The signal itself reads the last <paramref name="signalCandles"/> only, so
    /// its indicator values equal analyze_market's over the same window.
    /// </summary>
    public static TradingSignal GenerateSignal(string symbol, Timeframe timeframe, IReadOnlyList<Candle> candles,
        IEnumerable<string>? notes = null, int? signalCandles = null)
    {
        RequireHistory(candles, MinimumCandles, timeframe);
        var history = new IndicatorSeries(candles);
        var window = signalCandles is { } n && n >= MinimumCandles && n < candles.Count
            ? new IndicatorSeries(candles.Skip(candles.Count - n).ToList())
            : history;
        var signal = SignalAt(symbol, timeframe, window, window.Count - 1, notes);
        return signal with { Backtest = Backtest.From(ScoreConfidence(symbol, timeframe, history, signal.Action)) };
    }

    /// <summary>The signal as it would have been given at the close of candle <paramref name="i"/>, without a backtest.</summary>
    public static TradingSignal SignalAt(string symbol, Timeframe timeframe, IndicatorSeries s, int i, IEnumerable<string>? notes = null)
    {
        var rules = new List<RuleReading>(5);
        var action = SignalRules.Explain(s, i, rules, out var score);
        var close = s.Close[i];
        var atr = s.Atr[i];
        var direction = action switch { SignalAction.Buy => 1, SignalAction.Sell => -1, _ => 0 };
        var horizon = SignalRules.HorizonFor(timeframe);
        return new TradingSignal(
            symbol, timeframe.Code, action, score, Price(close),
            DateTimeOffset.FromUnixTimeMilliseconds(s.OpenTimeMs[i]) + timeframe.Duration,
            direction == 0 ? null : Price(close),
            direction == 0 ? null : Price(close - direction * SignalRules.StopAtr * atr),
            direction == 0 ? null : Price(close + direction * SignalRules.TargetAtr * atr),
            Price(atr), horizon, $"{horizon} candles of {timeframe.Code} (about {Describe(timeframe.Duration * horizon)})",
            rules, null, notes?.ToList() ?? []);
    }

    /// <summary>
    /// get_confidence_score: replays <see cref="SignalRules"/> walk-forward over the whole history. The indicator
    /// series are computed once and are causal, and the decision at i reads only indices ≤ i, so there is no
    /// look-ahead; the outcome at i is the close <paramref name="horizon"/> candles later. After a counted case the
    /// next one must start at least a horizon later, so one move is not counted many times.
    /// Favourable: BUY → the close rose; SELL → it fell; HOLD → it moved less than the 2-ATR stop distance
    /// (standing aside cost nothing).
    /// </summary>
    public static ConfidenceReport ScoreConfidence(string symbol, Timeframe timeframe, IReadOnlyList<Candle> candles,
        SignalAction action, int? horizon = null)
    {
        RequireHistory(candles, MinimumCandles, timeframe);
        return ScoreConfidence(symbol, timeframe, new IndicatorSeries(candles), action, horizon);
    }

    /// <summary>The replay over series already computed (e.g. shared with <see cref="SignalAt"/>).</summary>
    public static ConfidenceReport ScoreConfidence(string symbol, Timeframe timeframe, IndicatorSeries s, SignalAction action, int? horizon = null)
    {
        var h = horizon ?? SignalRules.HorizonFor(timeframe);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(h);
        if (s.Count < MinimumCandles)
        {
            throw new InsufficientHistoryException(s.Count, MinimumCandles, timeframe);
        }

        int cases = 0, favourable = 0;
        double sum = 0, worst = double.PositiveInfinity, best = double.NegativeInfinity;
        for (var i = SignalRules.FirstIndex; i + h < s.Count; i++)
        {
            if (SignalRules.Decide(s, i, out _) != action)
            {
                continue;
            }

            var move = s.Close[i + h] / s.Close[i] - 1;
            double outcome;
            bool good;
            switch (action)
            {
                case SignalAction.Buy:
                    outcome = move;
                    good = move > 0;
                    break;
                case SignalAction.Sell:
                    outcome = -move;
                    good = move < 0;
                    break;
                default:
                    // For HOLD the outcome is the size of the move missed (≤ 0).
                    outcome = -Math.Abs(move);
                    good = Math.Abs(move) < SignalRules.StopAtr * s.Atr[i] / s.Close[i];
                    break;
            }

            cases++;
            favourable += good ? 1 : 0;
            sum += outcome;
            worst = Math.Min(worst, outcome);
            best = Math.Max(best, outcome);
            i += h - 1;
        }

        var hitRate = cases == 0 ? 0 : (double)favourable / cases;
        var lower = WilsonLowerBound(favourable, cases);
        var (grade, text) = Grade(cases, hitRate, lower);
        var definition = action switch
        {
            SignalAction.Buy => $"favourable = close higher {h} candles later; outcome = % change",
            SignalAction.Sell => $"favourable = close lower {h} candles later; outcome = % fall",
            _ => $"favourable = close within 2 ATR {h} candles later; outcome = −|% change| (move missed)",
        };
        return new ConfidenceReport(symbol, timeframe.Code, action, h, cases, favourable,
            Pct(hitRate * 100), Pct(lower * 100),
            cases == 0 ? 0 : Pct(sum / cases * 100), cases == 0 ? 0 : Pct(worst * 100), cases == 0 ? 0 : Pct(best * 100),
            grade, text, definition,
            DateTimeOffset.FromUnixTimeMilliseconds(s.OpenTimeMs[0]),
            DateTimeOffset.FromUnixTimeMilliseconds(s.OpenTimeMs[^1]) + timeframe.Duration, s.Count);
    }

    /// <summary>95% Wilson score interval lower bound for <paramref name="successes"/> of <paramref name="n"/>.</summary>
    public static double WilsonLowerBound(int successes, int n)
    {
        if (n == 0)
        {
            return 0;
        }

        var p = (double)successes / n;
        var z2 = Z95 * Z95;
        var centre = p + z2 / (2 * n);
        var margin = Z95 * Math.Sqrt(p * (1 - p) / n + z2 / (4.0 * n * n));
        return Math.Max(0, (centre - margin) / (1 + z2 / n));
    }

    /// <summary>
    /// assess_risk from daily candles: one-day 95% historical VaR and expected shortfall of the position, daily
    /// volatility, max drawdown, a 2-ATR stop and the position that risks <paramref name="riskPerTradePct"/> of
    /// equity at that stop.
    /// </summary>
    /// <param name="price">Current price; defaults to the last close.</param>
    /// <param name="equity">The user's equity in the quote currency, if known.</param>
    public static RiskAssessment AssessRisk(ParsedSymbol symbol, IReadOnlyList<Candle> dailyCandles, PositionSize position,
        RiskTolerance tolerance, double riskPerTradePct, double? price = null, double? equity = null, IEnumerable<string>? notes = null)
    {
        const int minimumDays = 30;
        RequireHistory(dailyCandles, minimumDays, Timeframe.D1);
        var n = dailyCandles.Count;
        var close = new double[n];
        var high = new double[n];
        var low = new double[n];
        for (var k = 0; k < n; k++)
        {
            (close[k], high[k], low[k]) = (dailyCandles[k].Close, dailyCandles[k].High, dailyCandles[k].Low);
        }

        var p = price ?? close[^1];
        var units = position.UnitsAt(p);
        var value = position.ValueAt(p);

        var returns = new double[n];
        TechnicalIndicators.SimpleReturns(close, returns);
        var sorted = returns[1..];
        Array.Sort(sorted);
        // Empirical 5% quantile: the ⌈5%⌉-th worst day; ES averages that day and the worse ones.
        var tail = Math.Max(1, (int)Math.Ceiling(sorted.Length * 0.05));
        var var95 = -sorted[tail - 1];
        var es95 = -sorted.AsSpan(0, tail).ToArray().Average();

        var dailyVol = TechnicalIndicators.RealisedVolatility(close, 1);
        var (mdd, peak, trough) = MaxDrawdown(close);

        var atr = new double[n];
        TechnicalIndicators.Atr(high, low, close, atr);
        var stopPct = SignalRules.StopAtr * atr[^1] / p;
        var maxPositionFraction = riskPerTradePct / 100 / stopPct;

        return new RiskAssessment(
            symbol.Symbol, symbol.BaseAsset, symbol.QuoteAsset, Price(p), Significant(units, 8), Pct(value),
            Pct(dailyVol * 100), Pct(dailyVol * Math.Sqrt(365) * 100),
            Pct(Math.Max(0, var95) * value), Pct(Math.Max(0, var95) * 100),
            Pct(Math.Max(0, es95) * value), Pct(Math.Max(0, es95) * 100),
            Pct(mdd * 100), dailyCandles[peak].OpenTime, dailyCandles[trough].OpenTime,
            Price(atr[^1]), Pct(stopPct * 100), Price(p * (1 - stopPct)),
            tolerance, riskPerTradePct, Pct(maxPositionFraction * 100),
            Pct(value / maxPositionFraction),
            equity is { } e ? Pct(e * maxPositionFraction) : null,
            equity is { } e2 ? Significant(e2 * maxPositionFraction / p, 8) : null,
            n, dailyCandles[0].OpenTime, dailyCandles[^1].OpenTime + Timeframe.D1.Duration, notes?.ToList() ?? []);
    }

    /// <summary>Largest peak-to-trough fall (as a positive fraction) and where it happened.</summary>
    public static (double Drawdown, int Peak, int Trough) MaxDrawdown(ReadOnlySpan<double> close)
    {
        double worst = 0;
        int peak = 0, bestPeak = 0, bestTrough = 0;
        for (var i = 1; i < close.Length; i++)
        {
            if (close[i] > close[peak])
            {
                peak = i;
                continue;
            }

            var dd = 1 - close[i] / close[peak];
            if (dd > worst)
            {
                (worst, bestPeak, bestTrough) = (dd, peak, i);
            }
        }

        return (worst, bestPeak, bestTrough);
    }

    /// <summary>up: close above EMA50 above EMA200 and EMA20 rising; down: the mirror; otherwise sideways.</summary>
    internal static string TrendDirection(double close, double ema20, double ema50, double ema200, double ema20SlopePct) =>
        close > ema50 && ema50 > ema200 && ema20SlopePct > 0 ? "up"
        : close < ema50 && ema50 < ema200 && ema20SlopePct < 0 ? "down"
        : "sideways";

    private static KeyLevels Levels(IndicatorSeries s, double close)
    {
        var from = Math.Max(0, s.Count - LevelWindow);
        Span<double> highs = stackalloc double[32];
        Span<double> lows = stackalloc double[32];
        var (nh, nl) = TechnicalIndicators.SwingLevels(s.High.AsSpan(from), s.Low.AsSpan(from), SwingStrength, highs, lows);
        var resistance = Nearest(highs[..nh].ToArray().Where(x => x > close).Order(), close);
        var support = Nearest(lows[..nl].ToArray().Where(x => x < close).OrderDescending(), close);
        return new KeyLevels(support, resistance);
    }

    /// <summary>Up to three levels, nearest first, skipping ones within 0.25% of a level already taken.</summary>
    private static IReadOnlyList<double> Nearest(IEnumerable<double> ordered, double close)
    {
        var picked = new List<double>(3);
        foreach (var level in ordered)
        {
            if (picked.Count == 3)
            {
                break;
            }

            if (picked.Count == 0 || Math.Abs(level - picked[^1]) > close * 0.0025)
            {
                picked.Add(Price(level));
            }
        }

        return picked;
    }

    private static DayStats DayStatsFor(string symbol, Timeframe timeframe, IReadOnlyList<Candle> candles, Ticker24h? ticker,
        DateTimeOffset closeTime, List<string> notes)
    {
        // A live ticker runs to "now", at most one candle after the last closed one; anything further apart
        // (e.g. CSV files ending on different dates) would mix two moments, so compute from the candles instead.
        if (ticker is not null && (ticker.CloseTime - closeTime).Duration() <= timeframe.Duration + TimeSpan.FromMinutes(1))
        {
            return new DayStats(Pct(ticker.PriceChangePercent), Price(ticker.HighPrice), Price(ticker.LowPrice),
                Significant(ticker.Volume, 8), Pct(ticker.QuoteVolume), "exchange");
        }

        if (timeframe.Duration > TimeSpan.FromDays(1))
        {
            notes.Add($"24h figures come from the last {timeframe.Code} candle.");
        }

        var t = Ticker24h.FromCandles(symbol, candles, timeframe);
        return new DayStats(Pct(t.PriceChangePercent), Price(t.HighPrice), Price(t.LowPrice), Significant(t.Volume, 8), Pct(t.QuoteVolume), "candles");
    }

    /// <summary>
    /// Graded on the Wilson lower bound, so a rate only counts when the sample supports it: moderate means
    /// better than a coin flip at 95%, high means at least 60% at 95%. Under 20 cases is always low.
    /// </summary>
    private static (ConfidenceGrade, string) Grade(int cases, double hitRate, double lower)
    {
        var rate = (hitRate * 100).ToString("0", System.Globalization.CultureInfo.InvariantCulture) + "%";
        return cases < MinimumCases ? (ConfidenceGrade.Low, $"low confidence: only {cases} past case{(cases == 1 ? "" : "s")}")
            : lower >= 0.60 ? (ConfidenceGrade.High, $"high confidence: favourable in {rate} of {cases} past cases")
            : lower >= 0.50 ? (ConfidenceGrade.Moderate, $"moderate confidence: favourable in {rate} of {cases} past cases")
            : (ConfidenceGrade.Low, $"low confidence: favourable in only {rate} of {cases} past cases, no better than a coin flip");
    }

    /// <summary>Below this many past cases the grade is low whatever the rate.</summary>
    public const int MinimumCases = 20;

    /// <summary>About 30 days of candles (at least 20), capped to what is there.</summary>
    private static int RealisedVolWindow(Timeframe timeframe) => Math.Max(20, (int)(30 * timeframe.PeriodsPerDay));

    private static void RequireHistory(IReadOnlyList<Candle> candles, int minimum, Timeframe timeframe)
    {
        if (candles.Count < minimum)
        {
            throw new InsufficientHistoryException(candles.Count, minimum, timeframe);
        }
    }

    private static string Describe(TimeSpan span) =>
        span.TotalDays >= 2 ? $"{span.TotalDays:0.#} days" : span.TotalHours >= 2 ? $"{span.TotalHours:0.#} hours" : $"{span.TotalMinutes:0} minutes";
}

/// <summary>Thrown by <see cref="TradingTools"/> when there are too few candles; the service turns it into a ToolError.</summary>
public sealed class InsufficientHistoryException(int have, int need, Timeframe timeframe)
    : Exception($"Only {have} {timeframe} candles of history; these figures need at least {need}. Try a shorter timeframe.")
{
    public int Have { get; } = have;

    public int Need { get; } = need;
}
