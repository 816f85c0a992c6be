using System.Text.Json.Serialization;
using static Engram.Trading.Tools.ToolText;

namespace Engram.Trading.Tools;

// Figures in these records are already rounded (prices to 8 significant digits, percentages to 2 dp) by
// TradingTools, so the JSON, the summary and a grain all show the same numbers.

/// <summary>Result of analyze_market.</summary>
public sealed record MarketAnalysis(
    string Symbol,
    string Timeframe,
    DateTimeOffset LastCandleOpenTime,
    DateTimeOffset LastCandleCloseTime,
    double Price,
    TrendReading Trend,
    MomentumReading Momentum,
    VolatilityReading Volatility,
    KeyLevels Levels,
    DayStats Day,
    VolumeReading VolumeTrend,
    int CandlesUsed,
    IReadOnlyList<string> Notes) : IToolResult
{
    [JsonPropertyOrder(1000)]
    public string Disclaimer => ToolText.Disclaimer;

    public string ToJson() => Serialize(this);

    public string ToSummary() => WithDisclaimer([
        $"{Symbol} {Timeframe}: {FormatPrice(Price)} at the close of {FormatTime(LastCandleCloseTime)}",
        $"Trend: {Trend.Direction} (price {Side(Trend.PriceVsEma20Pct)} EMA20, {Side(Trend.PriceVsEma50Pct)} EMA50, {Side(Trend.PriceVsEma200Pct)} EMA200; EMA20 {FormatPct(Trend.Ema20SlopePct, true)} over {TradingTools.SlopeLookback} candles)",
        $"Momentum: RSI {Momentum.Rsi:0.0} ({Momentum.RsiZone}), MACD histogram {Momentum.MacdHistogram:+0.####;-0.####;0} ({Momentum.MacdBias}, {(Momentum.HistogramRising ? "rising" : "falling")})",
        $"Volatility: ATR {FormatPct(Volatility.AtrPct)} of price, Bollinger width {FormatPct(Volatility.BollingerWidthPct)}, realised {FormatPct(Volatility.RealisedVolAnnualPct)} a year",
        $"Levels: support {Join(Levels.Support)}; resistance {Join(Levels.Resistance)}",
        $"24h: {FormatPct(Day.ChangePct, true)}, range {FormatPrice(Day.Low)}–{FormatPrice(Day.High)}, volume {FormatNumber(Day.Volume)} ({VolumeTrend.Trend})",
        .. Notes,
    ]);

    private static string Side(double pct) => pct >= 0 ? "above" : "below";

    private static string Join(IReadOnlyList<double> levels) =>
        levels.Count == 0 ? "none in view" : string.Join(" / ", levels.Select(FormatPrice));
}

/// <param name="Direction">up, down or sideways (see TradingTools.TrendDirection).</param>
/// <param name="Ema20SlopePct">Change of EMA20 over the last <see cref="TradingTools.SlopeLookback"/> candles.</param>
public sealed record TrendReading(
    string Direction, double Ema20, double Ema50, double Ema200,
    double PriceVsEma20Pct, double PriceVsEma50Pct, double PriceVsEma200Pct, double Ema20SlopePct);

/// <param name="RsiZone">oversold (&lt;30), neutral, overbought (&gt;70).</param>
/// <param name="MacdBias">bullish when the histogram is positive.</param>
public sealed record MomentumReading(
    double Rsi, string RsiZone, double MacdLine, double MacdSignal, double MacdHistogram, string MacdBias, bool HistogramRising);

/// <param name="BollingerWidthPct">(upper − lower) / middle.</param>
/// <param name="PercentB">Where the close sits in the bands: 0 = lower, 1 = upper.</param>
public sealed record VolatilityReading(
    double Atr, double AtrPct, double BollingerUpper, double BollingerMiddle, double BollingerLower,
    double BollingerWidthPct, double PercentB, double RealisedVolAnnualPct);

/// <summary>Nearest swing lows below and swing highs above the price, nearest first.</summary>
public sealed record KeyLevels(IReadOnlyList<double> Support, IReadOnlyList<double> Resistance);

/// <param name="Source">"exchange" (24h ticker) or "candles" (computed from the candles served).</param>
public sealed record DayStats(double ChangePct, double High, double Low, double Volume, double QuoteVolume, string Source);

/// <param name="Ratio">Mean volume of the last 5 candles over the last 20.</param>
public sealed record VolumeReading(double Ratio, string Trend);

public enum SignalAction
{
    [JsonStringEnumMemberName("BUY")] Buy,
    [JsonStringEnumMemberName("SELL")] Sell,
    [JsonStringEnumMemberName("HOLD")] Hold,
}

/// <summary>One rule of <see cref="SignalRules"/> with the figures it read: +1 bullish, −1 bearish, 0 no vote.</summary>
/// <param name="Values">The indicator values the rule compared, by name (e.g. <c>rsi14</c>, <c>ema50</c>).</param>
/// <param name="Condition">When the rule votes, with its thresholds.</param>
public sealed record RuleReading(string Rule, int Vote, IReadOnlyDictionary<string, double> Values, string Condition, string Detail);

/// <summary>How this pair's own past answered the same signal: get_confidence_score's figures, carried by the signal.</summary>
public sealed record Backtest(
    int Cases,
    int Favourable,
    double HitRatePct,
    double WilsonLowerBoundPct,
    double AverageOutcomePct,
    ConfidenceGrade Grade,
    string Assessment,
    string OutcomeDefinition,
    int CandlesExamined)
{
    public static Backtest From(ConfidenceReport report) => new(report.Cases, report.Favourable, report.HitRatePct,
        report.WilsonLowerBoundPct, report.AverageOutcomePct, report.Grade, report.Assessment, report.OutcomeDefinition, report.CandlesExamined);
}

/// <summary>Result of generate_signal.</summary>
/// <param name="Price">The close of the last closed candle, at <paramref name="LastCandleCloseTime"/>.</param>
/// <param name="Score">Sum of the rule votes; BUY at ≥ +2, SELL at ≤ −2 (see <see cref="SignalRules"/>).</param>
/// <param name="Entry">The price a BUY or SELL is entered at; null for HOLD.</param>
/// <param name="StopLoss">Entry ∓ 2 ATR; null for HOLD.</param>
/// <param name="TakeProfit">Entry ± 3 ATR; null for HOLD.</param>
/// <param name="HorizonCandles">Candles the signal is meant to play out over; the backtest uses the same.</param>
/// <param name="Rules">All five rules, each with its figures, threshold and vote.</param>
/// <param name="Backtest">The same signal replayed over the pair's history.</param>
/// <param name="LiveRecord">How Engram's own BUY/SELL signals on this pair and timeframe did; null without a record (pure tools) or when it could not be read.</param>
public sealed record TradingSignal(
    string Symbol,
    string Timeframe,
    SignalAction Action,
    int Score,
    double Price,
    DateTimeOffset LastCandleCloseTime,
    double? Entry,
    double? StopLoss,
    double? TakeProfit,
    double Atr,
    int HorizonCandles,
    string Horizon,
    IReadOnlyList<RuleReading> Rules,
    Backtest? Backtest,
    IReadOnlyList<string> Notes,
    LiveRecord? LiveRecord = null) : IToolResult
{
    /// <summary>Stop and target distances in ATR, for a reader checking the levels.</summary>
    public double StopAtr => SignalRules.StopAtr;

    public double TargetAtr => SignalRules.TargetAtr;

    [JsonPropertyOrder(1000)]
    public string Disclaimer => ToolText.Disclaimer;

    public string ToJson() => Serialize(this);

    public string ToSummary() => WithDisclaimer([
        $"{Symbol} {Timeframe}: {Action.ToString().ToUpperInvariant()} (score {Score:+0;-0;0}); price {FormatPrice(Price)} at the close of {FormatTime(LastCandleCloseTime)}",
        Entry is { } entry && StopLoss is { } sl && TakeProfit is { } tp
            ? $"Entry {FormatPrice(entry)}, stop-loss {FormatPrice(sl)}, take-profit {FormatPrice(tp)} (2 and 3 ATR; ATR {FormatPrice(Atr)})"
            : "",
        $"Horizon: {Horizon}",
        string.Join('\n', Rules.Select(Describe)),
        Backtest is { } b
            ? b.Cases == 0
                ? $"Backtest: {b.Assessment}"
                : $"Backtest: {b.Favourable} of {b.Cases} past {Action.ToString().ToUpperInvariant()} signals favourable ({FormatPct(b.HitRatePct)}; 95% lower bound {FormatPct(b.WilsonLowerBoundPct)}), {b.Grade.ToString().ToLowerInvariant()} confidence"
            : "",
        LiveRecord?.Describe($"{Symbol} {Timeframe}") ?? "",
        .. Notes,
    ]);

    /// <summary>"• rsi 0: neutral, between 30 and 70 (no vote) — RSI(14) 42.44".</summary>
    private static string Describe(RuleReading rule) =>
        $"• {rule.Rule} {rule.Vote:+0;-0;0}: {rule.Detail} — "
        + string.Join(", ", rule.Values.Where(v => Labels.ContainsKey(v.Key)).Select(v => $"{Labels[v.Key]} {FormatValue(v.Key, v.Value)}"));

    /// <summary>How each rule value reads in a summary; thresholds are in the detail already.</summary>
    private static readonly Dictionary<string, string> Labels = new(StringComparer.Ordinal)
    {
        ["close"] = "close",
        ["ema20"] = "EMA20",
        ["ema20FiveCandlesAgo"] = "EMA20 5 candles ago",
        ["ema50"] = "EMA50",
        ["ema200"] = "EMA200",
        ["histogram"] = "histogram",
        ["previousHistogram"] = "previous",
        ["rsi14"] = "RSI(14)",
        ["lowerBand"] = "lower band",
        ["upperBand"] = "upper band",
    };

    private static string FormatValue(string key, double value) =>
        key.StartsWith("rsi", StringComparison.Ordinal) ? value.ToString("0.0#", System.Globalization.CultureInfo.InvariantCulture)
        : key.Contains("istogram", StringComparison.Ordinal) ? value.ToString("+0.####;-0.####;0", System.Globalization.CultureInfo.InvariantCulture)
        : FormatPrice(value);
}

public enum ConfidenceGrade
{
    Low,
    Moderate,
    High,
}

/// <summary>Result of get_confidence_score: how the same signal did in this pair's own past.</summary>
/// <param name="Cases">Past non-overlapping occurrences of the signal with a full horizon after them.</param>
/// <param name="HitRatePct">Share of cases followed by a favourable move (see <paramref name="OutcomeDefinition"/>).</param>
/// <param name="WilsonLowerBoundPct">95% Wilson score lower bound of the hit rate.</param>
/// <param name="AverageOutcomePct">Mean outcome per case, in the signal's favour (a SELL gains when price falls).</param>
/// <param name="WorstOutcomePct">Worst single case.</param>
public sealed record ConfidenceReport(
    string Symbol,
    string Timeframe,
    SignalAction Action,
    int HorizonCandles,
    int Cases,
    int Favourable,
    double HitRatePct,
    double WilsonLowerBoundPct,
    double AverageOutcomePct,
    double WorstOutcomePct,
    double BestOutcomePct,
    ConfidenceGrade Grade,
    string Assessment,
    string OutcomeDefinition,
    DateTimeOffset HistoryFrom,
    DateTimeOffset HistoryTo,
    int CandlesExamined) : IToolResult
{
    [JsonPropertyOrder(1000)]
    public string Disclaimer => ToolText.Disclaimer;

    public string ToJson() => Serialize(this);

    public string ToSummary() => WithDisclaimer([
        $"{Symbol} {Timeframe} {Action.ToString().ToUpperInvariant()}: {Assessment}",
        Cases == 0 ? "" : $"{Favourable} of {Cases} past cases favourable ({FormatPct(HitRatePct)}; 95% lower bound {FormatPct(WilsonLowerBoundPct)}) over {HorizonCandles} candles",
        Cases == 0 ? "" : $"Average outcome {FormatPct(AverageOutcomePct, true)}, worst {FormatPct(WorstOutcomePct, true)}, best {FormatPct(BestOutcomePct, true)}",
        $"History: {FormatTime(HistoryFrom)} to {FormatTime(HistoryTo)} ({CandlesExamined} candles)",
    ]);
}

public enum RiskTolerance
{
    Low,
    Medium,
    High,
}

/// <summary>Result of assess_risk. Money figures are in <see cref="QuoteAsset"/>.</summary>
/// <param name="DailyVolatilityPct">Sample stdev of daily log returns.</param>
/// <param name="ValueAtRisk95">One-day 95% historical VaR of the position (a loss, positive).</param>
/// <param name="ExpectedShortfall95">Mean one-day loss on the days beyond the VaR.</param>
/// <param name="MaxDrawdownPct">Largest peak-to-trough fall of the close over the window.</param>
/// <param name="StopDistancePct">2 × daily ATR(14) as a share of price.</param>
/// <param name="RiskPerTradePct">Equity put at risk per trade for <see cref="Tolerance"/>.</param>
/// <param name="MaxPositionPctOfEquity">Position that loses exactly RiskPerTradePct at the stop.</param>
/// <param name="EquityNeeded">Equity for which this position fits the risk budget.</param>
/// <param name="SuggestedPositionValue">Only when the user gave their equity.</param>
public sealed record RiskAssessment(
    string Symbol,
    string BaseAsset,
    string QuoteAsset,
    double Price,
    double PositionUnits,
    double PositionValue,
    double DailyVolatilityPct,
    double AnnualisedVolatilityPct,
    double ValueAtRisk95,
    double ValueAtRisk95Pct,
    double ExpectedShortfall95,
    double ExpectedShortfall95Pct,
    double MaxDrawdownPct,
    DateTimeOffset DrawdownPeakTime,
    DateTimeOffset DrawdownTroughTime,
    double DailyAtr,
    double StopDistancePct,
    double StopPrice,
    RiskTolerance Tolerance,
    double RiskPerTradePct,
    double MaxPositionPctOfEquity,
    double EquityNeeded,
    double? SuggestedPositionValue,
    double? SuggestedPositionUnits,
    int DaysUsed,
    DateTimeOffset HistoryFrom,
    DateTimeOffset HistoryTo,
    IReadOnlyList<string> Notes) : IToolResult
{
    [JsonPropertyOrder(1000)]
    public string Disclaimer => ToolText.Disclaimer;

    public string ToJson() => Serialize(this);

    public string ToSummary() => WithDisclaimer([
        $"{Symbol}: {FormatNumber(PositionUnits)} {BaseAsset} ≈ {FormatNumber(PositionValue)} {QuoteAsset} at {FormatPrice(Price)}",
        $"Daily volatility {FormatPct(DailyVolatilityPct)} ({FormatPct(AnnualisedVolatilityPct)} a year)",
        $"1-day 95% VaR {FormatNumber(ValueAtRisk95)} {QuoteAsset} ({FormatPct(ValueAtRisk95Pct)}); expected shortfall {FormatNumber(ExpectedShortfall95)} {QuoteAsset} ({FormatPct(ExpectedShortfall95Pct)})",
        $"Max drawdown over {DaysUsed} days: {FormatPct(MaxDrawdownPct)} ({FormatTime(DrawdownPeakTime)[..10]} to {FormatTime(DrawdownTroughTime)[..10]})",
        $"ATR stop: {FormatPct(StopDistancePct)} away, at {FormatPrice(StopPrice)}",
        $"{Tolerance} risk ({FormatPct(RiskPerTradePct)} of equity per trade): keep the position at most {FormatPct(MaxPositionPctOfEquity)} of equity"
            + (SuggestedPositionValue is { } v && SuggestedPositionUnits is { } u
                ? $", i.e. {FormatNumber(v)} {QuoteAsset} ({FormatNumber(u)} {BaseAsset})"
                : $"; this position fits an equity of {FormatNumber(EquityNeeded)} {QuoteAsset} or more"),
        .. Notes,
    ]);
}

/// <summary>Result of propose_alert: an alert the user may set with one tap. Nothing is created by the tool.</summary>
/// <param name="Command">What the user's button sends: the same /alert a user could type.</param>
public sealed record AlertProposal(
    string Symbol,
    string Condition,
    double Price,
    double CurrentPrice,
    double DistancePct,
    string Command,
    string ButtonLabel) : IToolResult
{
    public string Status => "proposed: nothing is set until the user taps the button under your answer";

    [JsonPropertyOrder(1000)]
    public string Disclaimer => ToolText.Disclaimer;

    public string ToJson() => Serialize(this);

    public string ToSummary() => WithDisclaimer([
        $"Proposed alert: {Symbol} {Condition} {FormatPrice(Price)} (now {FormatPrice(CurrentPrice)}, {FormatPct(DistancePct, true)} away). Tap \"{ButtonLabel}\" to set it.",
    ]);
}

/// <summary>An indicator alert proposed to the user: the line, the level, its value at the last close, and the command its button sends.</summary>
public sealed record IndicatorAlertProposal(
    string Symbol,
    string Indicator,
    string Timeframe,
    string Condition,
    double? Level,
    double? CurrentValue,
    double? LastClose,
    DateTimeOffset? LastCandleCloseTime,
    string Command,
    string ButtonLabel) : IToolResult
{
    public string Status => "proposed: nothing is set until the user taps the button under your answer";

    [JsonPropertyOrder(1000)]
    public string Disclaimer => ToolText.Disclaimer;

    public string ToJson() => Serialize(this);

    public string ToSummary() => WithDisclaimer([
        $"Proposed alert: {Symbol} {(Level is { } l ? $"{Indicator} {Condition} {l.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture)}" : $"{Condition} {Indicator}")}, " +
        $"checked at every {Timeframe} close" + (CurrentValue is { } v ? $" (now {v.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture)} at the {(LastCandleCloseTime is { } t ? FormatTime(t) : "last")} close)" : "") +
        $". Tap \"{ButtonLabel}\" to set it.",
    ]);
}
