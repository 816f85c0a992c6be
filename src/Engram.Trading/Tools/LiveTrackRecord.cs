namespace Engram.Trading.Tools;

/// <summary>
/// Where generate_signal records each BUY/SELL it gives and reads how the earlier ones did. The silo backs it with
/// one grain per pair and timeframe (durable, shared by all users); the pure tools run without one.
/// </summary>
public interface ILiveTrackRecord
{
    /// <summary>Records a BUY/SELL (once per candle) and returns the record; for HOLD only reads it.</summary>
    Task<LiveRecord> RecordAsync(TradingSignal signal, CancellationToken cancellationToken);
}

/// <summary>How Engram's own BUY/SELL signals on this pair and timeframe have played out since <paramref name="Since"/>.</summary>
/// <param name="Scored">Signals whose horizon has run or whose stop or target was reached.</param>
/// <param name="HitRatePct">Share of scored signals that reached their take-profit before the stop.</param>
/// <param name="WilsonLowerBoundPct">95% Wilson score lower bound of that rate.</param>
/// <param name="Open">Signals still inside their horizon.</param>
public sealed record LiveRecord(
    int Scored,
    int TargetHits,
    int StopHits,
    int Expired,
    int Open,
    double HitRatePct,
    double WilsonLowerBoundPct,
    DateTimeOffset? Since)
{
    public string OutcomeDefinition => "target = take-profit reached before the stop-loss within the horizon, from the real candles after the signal";

    public static LiveRecord From(int targetHits, int stopHits, int expired, int open, DateTimeOffset? since)
    {
        var scored = targetHits + stopHits + expired;
        return new LiveRecord(scored, targetHits, stopHits, expired, open,
            scored == 0 ? 0 : ToolText.Pct(100.0 * targetHits / scored),
            ToolText.Pct(100 * TradingTools.WilsonLowerBound(targetHits, scored)), since);
    }

    public string Describe(string pair) =>
        Scored == 0
            ? $"Live record: no {pair} signal scored yet{(Open > 0 ? $" ({Open} still open)" : "")}"
            : $"Live record since {ToolText.FormatTime(Since!.Value)[..10]}: {TargetHits} of {Scored} BUY/SELL signals reached the target "
              + $"({ToolText.FormatPct(HitRatePct)}; 95% lower bound {ToolText.FormatPct(WilsonLowerBoundPct)}), {StopHits} hit the stop, {Expired} ran out of time"
              + (Open > 0 ? $"; {Open} still open" : "");
}
