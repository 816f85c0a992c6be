namespace Engram.Abstractions.Signals;

/// <summary>
/// The live track record of Engram's own BUY/SELL signals on one pair and timeframe (key <c>BTCUSDT/1h</c>),
/// shared by every user: each signal is recorded once per candle, whoever asked and on whichever silo, and
/// scored from the real candles that follow it — target reached, stop hit, or neither within its horizon.
/// </summary>
public interface ISignalRecordGrain : IGrainWithStringKey
{
    /// <summary>Records <paramref name="signal"/> unless this candle's signal already is, then returns the record.</summary>
    Task<LiveRecordView> RecordAsync(GivenSignal signal);

    /// <summary>The record as it stands, after scoring the signals whose outcome the candles now show.</summary>
    Task<LiveRecordView> GetAsync();
}

/// <summary>A BUY or SELL as it was given: entered at the close of its candle, with its stop, target and horizon.</summary>
[GenerateSerializer, Immutable]
public sealed record GivenSignal(
    [property: Id(0)] bool Buy,
    [property: Id(1)] double Entry,
    [property: Id(2)] double StopLoss,
    [property: Id(3)] double TakeProfit,
    [property: Id(4)] DateTimeOffset CandleCloseTime,
    [property: Id(5)] int HorizonCandles);

/// <param name="TargetHits">Signals whose take-profit was reached before their stop within the horizon.</param>
/// <param name="StopHits">Signals whose stop-loss was hit first (a candle touching both counts as the stop).</param>
/// <param name="Expired">Signals that reached neither within their horizon.</param>
/// <param name="Open">Signals still inside their horizon.</param>
/// <param name="Since">Candle close of the first signal recorded.</param>
[GenerateSerializer, Immutable]
public sealed record LiveRecordView(
    [property: Id(0)] int TargetHits,
    [property: Id(1)] int StopHits,
    [property: Id(2)] int Expired,
    [property: Id(3)] int Open,
    [property: Id(4)] DateTimeOffset? Since)
{
    public int Scored => TargetHits + StopHits + Expired;
}
