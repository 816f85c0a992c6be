using Microsoft.Extensions.Configuration;

namespace Engram.Trading.Tools;

/// <summary>Configuration section <c>trading</c> (the seed's shape: <c>default_timeframe</c>, <c>risk_tolerance</c>): the tools' defaults.</summary>
public sealed class TradingOptions
{
    public const string SectionName = "trading";

    /// <summary>Timeframe when the user gives none, or a context we do not recognise.</summary>
    [ConfigurationKeyName("default_timeframe")]
    public string DefaultTimeframe { get; set; } = "1h";

    /// <summary>Candles fetched for analyze_market and generate_signal.</summary>
    public int AnalysisCandles { get; set; } = 500;

    /// <summary>Candles fetched for the get_confidence_score replay (the CSV provider can serve more).</summary>
    public int ConfidenceCandles { get; set; } = 1000;

    /// <summary>Daily candles used by assess_risk for volatility, VaR and drawdown.</summary>
    public int RiskCandles { get; set; } = 500;

    /// <summary>Percent of equity put at risk per trade for the "low" tolerance.</summary>
    public double LowRiskPercent { get; set; } = 0.5;

    public double MediumRiskPercent { get; set; } = 1.0;

    public double HighRiskPercent { get; set; } = 2.0;

    /// <summary>low | medium | high.</summary>
    [ConfigurationKeyName("risk_tolerance")]
    public string DefaultRiskTolerance { get; set; } = "medium";

    internal IEnumerable<string> Validate()
    {
        if (!MarketData.Timeframe.TryParse(DefaultTimeframe, out _))
        {
            yield return $"trading:default_timeframe: {MarketData.Timeframe.UnknownMessage(DefaultTimeframe)}";
        }

        if (AnalysisCandles is < TradingTools.MinimumCandles or > 1000)
        {
            yield return $"Trading:AnalysisCandles must be between {TradingTools.MinimumCandles} and 1000.";
        }

        if (ConfidenceCandles < TradingTools.MinimumCandles)
        {
            yield return $"Trading:ConfidenceCandles must be at least {TradingTools.MinimumCandles}.";
        }

        if (RiskCandles < 30)
        {
            yield return "Trading:RiskCandles must be at least 30.";
        }

        if (!(LowRiskPercent > 0 && LowRiskPercent <= MediumRiskPercent && MediumRiskPercent <= HighRiskPercent && HighRiskPercent <= 100))
        {
            yield return "Trading risk percents must satisfy 0 < Low <= Medium <= High <= 100.";
        }

        if (!RiskToleranceParser.TryParse(DefaultRiskTolerance, out _))
        {
            yield return "trading:risk_tolerance must be low, medium or high.";
        }
    }
}
