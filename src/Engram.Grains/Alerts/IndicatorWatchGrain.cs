using Engram.Abstractions.Alerts;
using Engram.Abstractions.Users;
using Engram.Grains.Market;
using Engram.Trading.Indicators;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Engram.Grains.Alerts;

[GenerateSerializer]
public sealed class IndicatorWatchState
{
    /// <summary>Armed alerts (a repeating one waiting out its cooldown is armed from a later time).</summary>
    [Id(0)] public List<IndicatorAlertEntry> Armed { get; set; } = [];

    /// <summary>Crossed but not yet acknowledged by their owners: sent again until they are.</summary>
    [Id(1)] public List<FiringIndicatorAlert> Firing { get; set; } = [];

    /// <summary>The open time of the last candle evaluated: each close is evaluated once.</summary>
    [Id(2)] public long? LastEvaluatedOpenMs { get; set; }
}

[GenerateSerializer]
public sealed record FiringIndicatorAlert([property: Id(0)] IndicatorAlertEntry Entry, [property: Id(1)] AlertFired Fired);

/// <summary>
/// Every turn is short and not reentrant: a check evaluates the new closes, stores the crossings in the same write
/// that moves the evaluated close on, and hands them to the dispatcher without waiting for the owners.
/// </summary>
internal sealed partial class IndicatorWatchGrain(
    [PersistentState(stateName: "indicatorwatch", storageName: StorageNames.Market)] IPersistentState<IndicatorWatchState> watch,
    IOptions<AlertOptions> options,
    Telemetry.EngramMetrics metrics,
    TimeProvider clock,
    ILogger<IndicatorWatchGrain> logger) : Grain, IIndicatorWatchGrain, IRemindable
{
    /// <summary>After a long outage only this many closes are caught up: older crossings are history, not news.</summary>
    private const int MaxCatchUp = 48;

    /// <summary>A crossing not acknowledged this long after its dispatch (lost, or its owner failing over) is dispatched again: past an owner's send budget and write.</summary>
    private static readonly TimeSpan DispatchAgainAfter = TimeSpan.FromSeconds(30);

    private IndicatorAlertBook book = null!;
    private Trading.MarketData.Timeframe timeframe;
    private IGrainTimer? checking;
    /// <summary>When each firing crossing was last dispatched (this activation's; after a crash all go again).</summary>
    private readonly Dictionary<(long UserId, int AlertId), DateTimeOffset> dispatched = [];
    private long closesEvaluated;
    private DateTimeOffset lastFetched = DateTimeOffset.MinValue;
    private bool marketFailureLogged;

    private string Key => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        timeframe = MarketKey.Parse(Key).Timeframe;
        book = new IndicatorAlertBook(timeframe);
        foreach (var entry in watch.State.Armed)
            book.Add(entry);
        await UpdateWatchingAsync();
    }

    public async Task AddAsync(IndicatorAlertEntry entry)
    {
        if (book.Add(Arming(entry)))
            await PersistAsync();
        await UpdateWatchingAsync();
    }

    public async Task RemoveAsync(long userId, int alertId)
    {
        var removed = book.Remove(userId, alertId) | watch.State.Firing.RemoveAll(f => f.Entry.UserId == userId && f.Entry.AlertId == alertId) > 0;
        if (removed)
            await PersistAsync();
        await UpdateWatchingAsync();
    }

    public async Task SyncUserAsync(long userId, IReadOnlyList<IndicatorAlertEntry> armed)
    {
        var changed = false;
        var wanted = armed.Select(e => e.AlertId).ToHashSet();
        foreach (var stale in book.Entries.Where(e => e.UserId == userId && !wanted.Contains(e.AlertId)).ToList())
            changed |= book.Remove(stale.UserId, stale.AlertId);
        var firing = watch.State.Firing.Where(f => f.Entry.UserId == userId).Select(f => f.Entry.AlertId).ToHashSet();
        // A re-armed entry keeps its later start; only missing ones are added.
        foreach (var entry in armed.Where(e => !firing.Contains(e.AlertId) && book.Find(e.UserId, e.AlertId) is null))
            changed |= book.Add(Arming(entry));
        if (changed)
        {
            LogHealed(Key, userId);
            await PersistAsync();
        }
        await UpdateWatchingAsync();
    }

    public Task<IndicatorWatchStatus> GetStatusAsync()
    {
        var last = watch.State.LastEvaluatedOpenMs;
        var duration = MarketKey.Parse(Key).Timeframe.Duration;
        var lastClose = last is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) + duration : (DateTimeOffset?)null;
        var waiting = book.Entries.Count(e => lastClose is { } c && e.ArmedAt > c);
        return Task.FromResult(new IndicatorWatchStatus(book.Count, watch.State.Firing.Count, waiting, lastClose, closesEvaluated,
            checking is not null, book.SeriesComputed));
    }

    public Task ReceiveReminder(string reminderName, TickStatus status) => UpdateWatchingAsync();

    /// <summary>New closes are evaluated once each; crossings leave the book and enter Firing in one write, then go to their owners.</summary>
    public async Task CheckAsync()
    {
        if (book.RemoveExpired(clock.GetUtcNow()) > 0)
            await PersistAsync();
        if (book.Count > 0 && await CandlesAsync() is { Count: >= 2 } candles)
        {
            var from = candles.FirstAfter(watch.State.LastEvaluatedOpenMs, MaxCatchUp);
            if (from < candles.Count)
            {
                var latestClose = DateTimeOffset.FromUnixTimeMilliseconds(candles.OpenTimeMs[^1]) + timeframe.Duration;
                foreach (var entry in book.Entries.Where(e => e.FromNextEvaluation).ToList())
                    book.Add(entry with { ArmedAt = entry.ArmedAt < latestClose ? entry.ArmedAt : latestClose, FromNextEvaluation = false });
                var crossings = book.Evaluate(candles, from);
                closesEvaluated += candles.Count - Math.Max(from, 1);
                var firing = crossings.Select(c => new FiringIndicatorAlert(c.Entry, FiredOf(c))).ToList();
                watch.State.Firing.AddRange(firing);
                watch.State.LastEvaluatedOpenMs = candles.OpenTimeMs[^1];
                await PersistAsync();
                if (firing.Count > 0)
                    Dispatch(firing);
            }
        }
        var now = clock.GetUtcNow();
        var stalled = watch.State.Firing.Where(f => !dispatched.TryGetValue((f.Entry.UserId, f.Entry.AlertId), out var at) || now - at > DispatchAgainAfter).ToList();
        if (stalled.Count > 0)
            Dispatch(stalled);
        await UpdateWatchingAsync();
    }

    public async Task AcknowledgeAsync(IReadOnlyList<OwnerAnswer> answers)
    {
        var changed = false;
        foreach (var answer in answers)
        {
            var index = watch.State.Firing.FindIndex(f => f.Entry.UserId == answer.UserId && f.Fired == answer.Fired);
            if (index < 0)
                continue; // acknowledged already (a dispatch sent twice)
            var entry = watch.State.Firing[index].Entry;
            watch.State.Firing.RemoveAt(index);
            dispatched.Remove((entry.UserId, entry.AlertId));
            changed = true;
            if (answer.Result.Outcome != AlertFiredOutcome.Gone)
                metrics.AlertTriggered();
            // A repeating alert comes back armed from the end of its cooldown: it fires at the next crossing after that.
            if (answer.Result.Outcome == AlertFiredOutcome.NotifiedRearm)
                book.Add(entry with { ArmedAt = answer.Result.RearmNotBefore ?? answer.Fired.At });
            LogFired(Key, answer.UserId, entry.AlertId, entry.Line, answer.Result.Outcome.ToString());
        }
        if (changed)
            await PersistAsync();
        await UpdateWatchingAsync();
    }

    /// <summary>
    /// An alert set now counts from the closes after the last one this watch knows, in the market's time. When the
    /// watch is not current (idle, new, or cut off from the exchange), the next evaluation decides from its latest close.
    /// </summary>
    private IndicatorAlertEntry Arming(IndicatorAlertEntry entry)
    {
        var current = clock.GetUtcNow() - lastFetched < 3 * options.Value.IndicatorCheckInterval;
        if (!current || watch.State.LastEvaluatedOpenMs is not { } last)
            return entry with { FromNextEvaluation = true };
        var lastClose = DateTimeOffset.FromUnixTimeMilliseconds(last) + timeframe.Duration;
        return entry with { ArmedAt = entry.ArmedAt < lastClose ? entry.ArmedAt : lastClose, FromNextEvaluation = false };
    }

    private AlertFired FiredOf(IndicatorCrossing crossing) =>
        new(crossing.Entry.AlertId, MarketKey.Parse(Key).Symbol, crossing.Entry.Condition, crossing.Entry.Level,
            (decimal)crossing.Reading.Close, crossing.Reading.CloseTime, crossing.Reading);

    private void Dispatch(IReadOnlyList<FiringIndicatorAlert> firing)
    {
        var now = clock.GetUtcNow();
        foreach (var f in firing)
            dispatched[(f.Entry.UserId, f.Entry.AlertId)] = now;
        GrainFactory.GetGrain<IAlertDispatchGrain>(0)
            .DispatchAsync(this.AsReference<IIndicatorWatchGrain>(), firing.Select(f => new OwnerAlert(f.Entry.UserId, f.Fired)).ToList())
            .Ignore();
    }

    private async Task<CandleColumns?> CandlesAsync()
    {
        try
        {
            var candles = await GrainFactory.GetGrain<ICandleCacheGrain>(Key).GetCandlesAsync(IndicatorLine.Window);
            marketFailureLogged = false;
            lastFetched = clock.GetUtcNow();
            return new CandleColumns(candles);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The exchange is away: the closes wait and are caught up when it is back. Logged once per outage.
            if (!marketFailureLogged)
                LogMarketFailed(Key, ex.GetType().Name);
            marketFailureLogged = true;
            return null;
        }
    }

    /// <summary>Checks while anything is armed or firing; a reminder revives the watch after a crash. With nothing left all stop.</summary>
    private async Task UpdateWatchingAsync()
    {
        var busy = book.Count > 0 || watch.State.Firing.Count > 0;
        if (busy && checking is null)
        {
            var every = options.Value.IndicatorCheckInterval;
            checking = this.RegisterGrainTimer(_ => CheckAsync(), new GrainTimerCreationOptions(TimeSpan.Zero, every));
            await this.RegisterOrUpdateReminder(RecoveryReminders.IndicatorWatch, RecoveryReminders.Period, RecoveryReminders.Period);
        }
        else if (!busy && checking is not null)
        {
            checking.Dispose();
            checking = null;
            if (await this.GetReminder(RecoveryReminders.IndicatorWatch) is { } reminder)
                await this.UnregisterReminder(reminder);
        }
    }

    private Task PersistAsync()
    {
        watch.State.Armed = book.Entries.ToList();
        return watch.WriteStateAsync();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Indicator alert {AlertId} ({Line}) of user {UserId} on {Key} crossed: {Outcome}")]
    private partial void LogFired(string key, long userId, int alertId, string line, string outcome);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Indicator watch {Key} could not get candles ({Error}); its closes are caught up when they come")]
    private partial void LogMarketFailed(string key, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Indicator watch {Key} re-synced with user {UserId}")]
    private partial void LogHealed(string key, long userId);
}
