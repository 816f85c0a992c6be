using Engram.Trading.Indicators;
using Engram.Trading.MarketData;

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

    /// <summary>Score and action only, without the explanations: the replay's inner loop.</summary>
    public static SignalAction Decide(IndicatorSeries s, int i, out int score)
    {
        score = Vote(s, i, null);
        return Action(score, s.Rsi[i]);
    }

    /// <summary>Score, action and the rules that voted, for the user.</summary>
    public static SignalAction Explain(IndicatorSeries s, int i, List<FiredRule> fired, out int score)
    {
        score = Vote(s, i, fired);
        return Action(score, s.Rsi[i]);
    }

    private static SignalAction Action(int score, double rsi) =>
        score >= BuyThreshold && rsi < Overbought ? SignalAction.Buy
        : score <= -BuyThreshold && rsi > Oversold ? SignalAction.Sell
        : SignalAction.Hold;

    private static int Vote(IndicatorSeries s, int i, List<FiredRule>? fired)
    {
        if (i < FirstIndex || i >= s.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(i), $"Signal rules need index {FirstIndex}..{s.Count - 1}, got {i}.");
        }

        var close = s.Close[i];
        var score = 0;

        var ema50 = s.Ema50[i];
        var ema200 = s.Ema200[i];
        if (close > ema50 && ema50 > ema200)
        {
            score += Fire(fired, "trend", +1, "close above EMA50 above EMA200 (uptrend)");
        }
        else if (close < ema50 && ema50 < ema200)
        {
            score += Fire(fired, "trend", -1, "close below EMA50 below EMA200 (downtrend)");
        }

        var ema20 = s.Ema20[i];
        var ema20Before = s.Ema20[i - TradingTools.SlopeLookback];
        if (ema20 > ema20Before && close > ema20)
        {
            score += Fire(fired, "ema20", +1, "EMA20 rising with the close above it");
        }
        else if (ema20 < ema20Before && close < ema20)
        {
            score += Fire(fired, "ema20", -1, "EMA20 falling with the close below it");
        }

        var hist = s.MacdHistogram[i];
        var histBefore = s.MacdHistogram[i - 1];
        if (hist > 0 && hist > histBefore)
        {
            score += Fire(fired, "macd", +1, "MACD histogram positive and rising");
        }
        else if (hist < 0 && hist < histBefore)
        {
            score += Fire(fired, "macd", -1, "MACD histogram negative and falling");
        }

        var rsi = s.Rsi[i];
        if (rsi < Oversold)
        {
            score += Fire(fired, "rsi", +1, $"RSI {rsi:0.0} oversold (< {Oversold})");
        }
        else if (rsi > Overbought)
        {
            score += Fire(fired, "rsi", -1, $"RSI {rsi:0.0} overbought (> {Overbought})");
        }

        if (close < s.BollingerLower[i])
        {
            score += Fire(fired, "bollinger", +1, "close below the lower Bollinger band");
        }
        else if (close > s.BollingerUpper[i])
        {
            score += Fire(fired, "bollinger", -1, "close above the upper Bollinger band");
        }

        return score;
    }

    private static int Fire(List<FiredRule>? fired, string rule, int vote, string detail)
    {
        fired?.Add(new FiredRule(rule, vote, detail));
        return vote;
    }
}
