using Engram.Trading.Indicators;
using Engram.Trading.MarketData;
using static Engram.Trading.Tools.ToolText;

namespace Engram.Trading.Tools;

/// <summary>
/// The generate_signal rules, evaluated at one candle index from precomputed <see cref="IndicatorSeries"/>.
/// They read only indices ≤ i, so the same code gives today's signal and the walk-forward replay.
///
/// Five rules each vote +1 (bullish), −1 (bearish) or 0:
/// 1. trend:     close &gt; EMA50 &gt; EMA200 → +1; close &lt; EMA50 &lt; EMA200 → −1.
/// 2. ema20:     EMA20 higher than 5 candles ago and close &gt; EMA20 → +1; lower and close &lt; EMA20 → −1.
/// 3. macd:      histogram &gt; 0 and rising → +1; &lt; 0 and falling → −1.
/// 4. rsi:       RSI(14) &lt; 30 (oversold) → +1; &gt; 70 (overbought) → −1.
/// 5. bollinger: close below the lower band → +1; above the upper band → −1.
/// BUY when the score is ≥ +2 and RSI &lt; 70 (not chasing an overbought move);
/// SELL when the score is ≤ −2 and RSI &gt; 30; HOLD otherwise.
/// Stop-loss and take-profit sit 2 and 3 ATR(14) from the entry (the close), a 1 : 1.5 risk/reward.
/// </summary>
public static class SignalRules
{
    public const int BuyThreshold = 2;
    public const double StopAtr = 2;
    public const double TargetAtr = 3;
    public const double Oversold = 30;
    public const double Overbought = 70;

    /// <summary>First index at which every rule can be evaluated.</summary>
    public const int FirstIndex = IndicatorSeries.WarmUp + TradingTools.SlopeLookback;

    /// <summary>
    /// Candles a signal is given to play out, per timeframe: about a day for intraday charts, two weeks on 1d,
    /// a month on 1w.
    /// </summary>
    public static int HorizonFor(Timeframe timeframe) => timeframe.Code switch
    {
        "1m" => 60,
        "5m" => 48,
        "15m" => 32,
        "30m" => 24,
        "1h" => 24,
        "4h" => 18,
        "1d" => 14,
        _ => 4,
    };

    /// <summary>Score and action only, without the explanations: the replay's inner loop (no allocation).</summary>
    public static SignalAction Decide(IndicatorSeries s, int i, out int score)
    {
        score = Votes.At(s, i).Score;
        return Action(score, s.Rsi[i]);
    }

    /// <summary>Score, action and every rule with the figures it read and its threshold, for the user.</summary>
    public static SignalAction Explain(IndicatorSeries s, int i, List<RuleReading> readings, out int score)
    {
        var votes = Votes.At(s, i);
        score = votes.Score;
        var (close, ema20, ema20Before) = (s.Close[i], s.Ema20[i], s.Ema20[i - TradingTools.SlopeLookback]);
        var (hist, histBefore, rsi) = (s.MacdHistogram[i], s.MacdHistogram[i - 1], s.Rsi[i]);
        readings.Add(new RuleReading("trend", votes.Trend,
            new Dictionary<string, double> { ["close"] = Price(close), ["ema50"] = Price(s.Ema50[i]), ["ema200"] = Price(s.Ema200[i]) },
            "+1 when close > EMA50 > EMA200, −1 when close < EMA50 < EMA200",
            votes.Trend > 0 ? "close above EMA50 above EMA200 (uptrend)"
            : votes.Trend < 0 ? "close below EMA50 below EMA200 (downtrend)"
            : "close, EMA50 and EMA200 not in trend order (no vote)"));
        readings.Add(new RuleReading("ema20", votes.Ema20,
            new Dictionary<string, double> { ["close"] = Price(close), ["ema20"] = Price(ema20), ["ema20FiveCandlesAgo"] = Price(ema20Before) },
            $"+1 when EMA20 is higher than {TradingTools.SlopeLookback} candles ago and the close is above it, −1 for the mirror",
            votes.Ema20 > 0 ? "EMA20 rising with the close above it"
            : votes.Ema20 < 0 ? "EMA20 falling with the close below it"
            : "EMA20's slope and the close disagree (no vote)"));
        readings.Add(new RuleReading("macd", votes.Macd,
            new Dictionary<string, double> { ["histogram"] = Price(hist), ["previousHistogram"] = Price(histBefore) },
            "+1 when the MACD histogram is above 0 and rising, −1 when below 0 and falling",
            votes.Macd > 0 ? "MACD histogram positive and rising"
            : votes.Macd < 0 ? "MACD histogram negative and falling"
            : "MACD histogram not moving away from 0 (no vote)"));
        readings.Add(new RuleReading("rsi", votes.Rsi,
            new Dictionary<string, double> { ["rsi14"] = Pct(rsi), ["oversoldBelow"] = Oversold, ["overboughtAbove"] = Overbought },
            $"+1 when RSI(14) is below {Oversold} (oversold), −1 when above {Overbought} (overbought)",
            votes.Rsi > 0 ? $"oversold, below {Oversold}"
            : votes.Rsi < 0 ? $"overbought, above {Overbought}"
            : $"neutral, between {Oversold} and {Overbought} (no vote)"));
        readings.Add(new RuleReading("bollinger", votes.Bollinger,
            new Dictionary<string, double> { ["close"] = Price(close), ["lowerBand"] = Price(s.BollingerLower[i]), ["upperBand"] = Price(s.BollingerUpper[i]) },
            "+1 when the close is below the lower Bollinger band (20, 2), −1 when above the upper band",
            votes.Bollinger > 0 ? "close below the lower Bollinger band"
            : votes.Bollinger < 0 ? "close above the upper Bollinger band"
            : "close inside the Bollinger bands (no vote)"));
        return Action(score, rsi);
    }

    private static SignalAction Action(int score, double rsi) =>
        score >= BuyThreshold && rsi < Overbought ? SignalAction.Buy
        : score <= -BuyThreshold && rsi > Oversold ? SignalAction.Sell
        : SignalAction.Hold;

    /// <summary>The five votes at one candle; the one place the rules are written.</summary>
    private readonly record struct Votes(int Trend, int Ema20, int Macd, int Rsi, int Bollinger)
    {
        public int Score => Trend + Ema20 + Macd + Rsi + Bollinger;

        public static Votes At(IndicatorSeries s, int i)
        {
            if (i < FirstIndex || i >= s.Count)
            {
                throw new ArgumentOutOfRangeException(nameof(i), $"Signal rules need index {FirstIndex}..{s.Count - 1}, got {i}.");
            }

            var close = s.Close[i];
            var (ema50, ema200) = (s.Ema50[i], s.Ema200[i]);
            var (ema20, ema20Before) = (s.Ema20[i], s.Ema20[i - TradingTools.SlopeLookback]);
            var (hist, histBefore) = (s.MacdHistogram[i], s.MacdHistogram[i - 1]);
            var rsi = s.Rsi[i];
            return new Votes(
                Trend: close > ema50 && ema50 > ema200 ? +1 : close < ema50 && ema50 < ema200 ? -1 : 0,
                Ema20: ema20 > ema20Before && close > ema20 ? +1 : ema20 < ema20Before && close < ema20 ? -1 : 0,
                Macd: hist > 0 && hist > histBefore ? +1 : hist < 0 && hist < histBefore ? -1 : 0,
                Rsi: rsi < Oversold ? +1 : rsi > Overbought ? -1 : 0,
                Bollinger: close < s.BollingerLower[i] ? +1 : close > s.BollingerUpper[i] ? -1 : 0);
        }
    }
}
