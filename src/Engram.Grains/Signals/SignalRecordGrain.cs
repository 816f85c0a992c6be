using System.Collections.Concurrent;
using Engram.Abstractions.Signals;
using Engram.Grains.Market;
using Engram.Trading.MarketData;
using Engram.Trading.Tools;
using Microsoft.Extensions.Logging;

namespace Engram.Grains.Signals;

[GenerateSerializer]
public sealed class SignalRecordState
{
    /// <summary>Signals inside their horizon, oldest first.</summary>
    [Id(0)] public List<GivenSignal> Open { get; set; } = [];

    [Id(1)] public int TargetHits { get; set; }

    [Id(2)] public int StopHits { get; set; }

    [Id(3)] public int Expired { get; set; }

    /// <summary>Candle close of the first signal recorded.</summary>
    [Id(4)] public DateTimeOffset? Since { get; set; }

    /// <summary>Candle close of the newest signal recorded: a signal for it or an older candle is not recorded again.</summary>
    [Id(5)] public DateTimeOffset LastRecorded { get; set; }
}

public enum SignalOutcome
{
    Target,
    Stop,
    Expired,

    /// <summary>The candles right after the signal are no longer served; it cannot be scored honestly.</summary>
    Unscorable,
}

/// <summary>
/// One pair and timeframe's live record (key <c>BTCUSDT/1h</c>). One activation in the cluster is what keeps a
/// candle's signal from being counted twice by two silos; the state is durable, so the record survives restarts.
/// While signals are open a reminder scores them even if nobody asks for the pair again.
/// </summary>
internal sealed partial class SignalRecordGrain(
    [PersistentState(stateName: "signalrecord", storageName: StorageNames.Signals)] IPersistentState<SignalRecordState> record,
    IMarketDataProvider market,
    TimeProvider clock,
    ILogger<SignalRecordGrain> logger) : Grain, ISignalRecordGrain, IRemindable
{
    private const string ScoreReminder = "score-signals";

    /// <summary>Open signals kept at most; one per candle, so only a very short timeframe with a long outage reaches it.</summary>
    public const int MaxOpen = 500;

    /// <summary>The exchange serves at most this many candles per request.</summary>
    private const int MaxCandles = 1000;

    /// <summary>An outcome changes only when a candle closes; the candle cache refreshes no faster than this either.</summary>
    private static readonly TimeSpan ScoreAtMostEvery = TimeSpan.FromSeconds(5);

    private bool reminderRegistered;
    private DateTimeOffset lastScored = DateTimeOffset.MinValue;
    private DateTimeOffset lastFailureLogged = DateTimeOffset.MinValue;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // The reminder outlives the activation; registering again is how a moved grain knows it has one.
        if (record.State.Open.Count > 0)
            await KeepReminderAsync();
    }

    public async Task<LiveRecordView> RecordAsync(GivenSignal signal)
    {
        var state = record.State;
        var changed = false;
        if (signal.CandleCloseTime > state.LastRecorded)
        {
            state.Open.Add(signal);
            state.LastRecorded = signal.CandleCloseTime;
            state.Since ??= signal.CandleCloseTime;
            if (state.Open.Count > MaxOpen)
            {
                LogDroppedOpen(this.GetPrimaryKeyString(), state.Open[0].CandleCloseTime);
                state.Open.RemoveAt(0);
            }
            changed = true;
        }
        await ScoreAndKeepAsync(changed);
        return View;
    }

    public async Task<LiveRecordView> GetAsync()
    {
        await ScoreAndKeepAsync(changed: false);
        return View;
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != ScoreReminder)
            return;
        reminderRegistered = true; // it ticked, so it exists: an activation with nothing open must remove it
        await ScoreAndKeepAsync(changed: false);
    }

    /// <summary>Scores what the candles now decide, writes once if anything changed, and keeps the reminder to what is open.</summary>
    private async Task ScoreAndKeepAsync(bool changed)
    {
        if (await ScoreAsync() | changed)
            await record.WriteStateAsync();
        await KeepReminderAsync();
    }

    private LiveRecordView View => new(record.State.TargetHits, record.State.StopHits, record.State.Expired, record.State.Open.Count, record.State.Since);

    /// <summary>Scores every open signal the candles now decide; true when anything changed.</summary>
    private async Task<bool> ScoreAsync()
    {
        var open = record.State.Open;
        var now = clock.GetUtcNow();
        if (open.Count == 0 || now - lastScored < ScoreAtMostEvery)
            return false;
        lastScored = now;
        var (symbol, timeframe) = MarketKey.Parse(this.GetPrimaryKeyString());
        IReadOnlyList<Candle> candles;
        try
        {
            candles = await market.GetCandlesAsync(symbol, timeframe, CandlesToCover(open, timeframe));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Scored at the next ask or reminder; nothing is lost by waiting.
            if (now - lastFailureLogged >= TimeSpan.FromMinutes(1))
            {
                lastFailureLogged = now;
                LogScoringFailed(this.GetPrimaryKeyString(), ex.GetType().Name, ex.Message);
            }
            return false;
        }

        var changed = false;
        foreach (var signal in open.ToList())
        {
            var outcome = SignalScoring.Outcome(signal, candles);
            if (outcome is null)
                continue;
            switch (outcome)
            {
                case SignalOutcome.Target:
                    record.State.TargetHits++;
                    break;
                case SignalOutcome.Stop:
                    record.State.StopHits++;
                    break;
                case SignalOutcome.Expired:
                    record.State.Expired++;
                    break;
                default:
                    LogUnscorable(this.GetPrimaryKeyString(), signal.CandleCloseTime);
                    break;
            }
            open.Remove(signal);
            changed = true;
        }
        return changed;
    }

    /// <summary>Candles back to the oldest open signal (by the wall clock), within what one request serves.</summary>
    private int CandlesToCover(List<GivenSignal> open, Timeframe timeframe)
    {
        var behind = (clock.GetUtcNow() - open[0].CandleCloseTime) / timeframe.Duration;
        var horizon = open.Max(s => s.HorizonCandles);
        return (int)Math.Clamp(Math.Ceiling(behind) + 2, horizon + 2, MaxCandles);
    }

    private async Task KeepReminderAsync()
    {
        var wanted = record.State.Open.Count > 0;
        if (wanted == reminderRegistered)
            return;
        if (wanted)
        {
            var (_, timeframe) = MarketKey.Parse(this.GetPrimaryKeyString());
            // Every candle close is when an outcome can change; checked at most hourly and at least every minute.
            var period = TimeSpan.FromTicks(Math.Clamp(timeframe.Duration.Ticks, TimeSpan.FromMinutes(1).Ticks, TimeSpan.FromHours(1).Ticks));
            await this.RegisterOrUpdateReminder(ScoreReminder, period, period);
        }
        else if (await this.GetReminder(ScoreReminder) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }
        reminderRegistered = wanted;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Signal record {Key}: could not fetch candles to score open signals ({Error}: {Message}); trying again at the next ask or reminder (logged at most once a minute)")]
    private partial void LogScoringFailed(string key, string error, string message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Signal record {Key}: the signal of {CandleClose:u} can no longer be scored (its candles are older than the exchange serves); dropped uncounted")]
    private partial void LogUnscorable(string key, DateTimeOffset candleClose);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Signal record {Key}: more than 500 signals open; the one of {CandleClose:u} dropped uncounted")]
    private partial void LogDroppedOpen(string key, DateTimeOffset candleClose);
}

public static class SignalScoring
{
    /// <summary>
    /// How <paramref name="signal"/> played out in <paramref name="candles"/> (oldest first), or null while its horizon
    /// is still running. Walks the candles after its entry in order: for a BUY a low at or under the stop is a stop hit,
    /// else a high at or over the target a target hit (SELL mirrored). A candle that touches both counts as the stop,
    /// since candles do not say which came first.
    /// </summary>
    public static SignalOutcome? Outcome(GivenSignal signal, IReadOnlyList<Candle> candles)
    {
        var entryMs = signal.CandleCloseTime.ToUnixTimeMilliseconds();
        if (candles.Count == 0 || candles[^1].OpenTimeMs < entryMs)
            return null; // nothing after the signal yet
        if (candles[0].OpenTimeMs > entryMs)
            return SignalOutcome.Unscorable;

        var seen = 0;
        foreach (var candle in candles)
        {
            if (candle.OpenTimeMs < entryMs)
                continue;
            if (signal.Buy ? candle.Low <= signal.StopLoss : candle.High >= signal.StopLoss)
                return SignalOutcome.Stop;
            if (signal.Buy ? candle.High >= signal.TakeProfit : candle.Low <= signal.TakeProfit)
                return SignalOutcome.Target;
            if (++seen == signal.HorizonCandles)
                return SignalOutcome.Expired;
        }
        return null;
    }

}

/// <summary>
/// The silo's <see cref="ILiveTrackRecord"/>: one <see cref="ISignalRecordGrain"/> per pair and timeframe. The record
/// changes at most once a candle, so each silo reuses what the grain last said for a few seconds instead of asking
/// again for every signal of a busy pair — unless this signal is a candle the grain has not been told about.
/// </summary>
public sealed class GrainLiveTrackRecord(IGrainFactory grains, TimeProvider clock) : ILiveTrackRecord
{
    /// <summary>How long a silo reuses the grain's answer.</summary>
    public static readonly TimeSpan ReuseFor = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<string, (LiveRecord Record, DateTimeOffset RecordedUpTo, DateTimeOffset At)> recent = new(StringComparer.Ordinal);

    public async Task<LiveRecord> RecordAsync(TradingSignal signal, CancellationToken cancellationToken)
    {
        var key = MarketKey.Of(signal.Symbol, signal.Timeframe);
        var now = clock.GetUtcNow();
        var trade = signal is { Action: not SignalAction.Hold, Entry: not null, StopLoss: not null, TakeProfit: not null };
        if (recent.TryGetValue(key, out var last) && now - last.At < ReuseFor && (!trade || last.RecordedUpTo >= signal.LastCandleCloseTime))
            return last.Record;

        var grain = grains.GetGrain<ISignalRecordGrain>(key);
        var view = trade
            ? await grain.RecordAsync(new GivenSignal(signal.Action == SignalAction.Buy, signal.Entry!.Value, signal.StopLoss!.Value, signal.TakeProfit!.Value,
                signal.LastCandleCloseTime, signal.HorizonCandles)).WaitAsync(cancellationToken)
            : await grain.GetAsync().WaitAsync(cancellationToken);
        var record = LiveRecord.From(view.TargetHits, view.StopHits, view.Expired, view.Open, view.Since);
        recent[key] = (record, trade ? signal.LastCandleCloseTime : last.RecordedUpTo, now);
        return record;
    }
}
