using System.ComponentModel.DataAnnotations;
using Engram.Abstractions.Alerts;
using Engram.Abstractions.Users;
using Engram.Trading.MarketData;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Engram.Grains.Alerts;

[GenerateSerializer]
public sealed class PriceWatchState
{
    /// <summary>Armed alerts (the index is rebuilt from this on activation).</summary>
    [Id(0)] public List<AlertEntry> Armed { get; set; } = [];

    /// <summary>Crossed but not yet acknowledged by their owners: retried until they are.</summary>
    [Id(1)] public List<FiringAlert> Firing { get; set; } = [];

    /// <summary>Repeating alerts waiting for their cooldown and for the price to move back across.</summary>
    [Id(2)] public List<RearmingAlert> Rearming { get; set; } = [];
}

[GenerateSerializer]
public sealed record FiringAlert([property: Id(0)] AlertEntry Entry, [property: Id(1)] decimal Price, [property: Id(2)] DateTimeOffset At);

[GenerateSerializer]
public sealed record RearmingAlert([property: Id(0)] AlertEntry Entry, [property: Id(1)] DateTimeOffset NotBefore);

/// <summary>
/// Every turn is short and not reentrant: a tick stores the crossings in one write and hands them to the dispatcher,
/// which tells the owners and acknowledges back, so this grain never waits on a user grain (which may be waiting on
/// it to register an alert).
/// </summary>
internal sealed partial class PriceWatchGrain(
    [PersistentState(stateName: "pricewatch", storageName: StorageNames.Market)] IPersistentState<PriceWatchState> watch,
    IPriceFeed feed,
    IOptions<AlertOptions> options,
    Telemetry.EngramMetrics metrics,
    TimeProvider clock,
    ILogger<PriceWatchGrain> logger) : Grain, IPriceWatchGrain, IRemindable
{
    private const string KeepWatching = RecoveryReminders.PriceWatch;

    /// <summary>A crossing not acknowledged this long after its dispatch (lost, or its owner failing over) is dispatched again: past an owner's send budget and write.</summary>
    private static readonly TimeSpan DispatchAgainAfter = TimeSpan.FromSeconds(30);

    private readonly AlertIndex index = new();
    private IGrainTimer? upkeep;
    /// <summary>When each firing crossing was last dispatched (this activation's; after a crash all go again).</summary>
    private readonly Dictionary<(long UserId, int AlertId), DateTimeOffset> dispatched = [];
    private decimal? lastPrice;
    private DateTimeOffset? lastPriceAt;

    private string Symbol => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        foreach (var entry in watch.State.Armed)
            index.Add(entry);
        reportedArmed = index.Count;
        metrics.AlertsArmed(reportedArmed);
        await UpdateWatchingAsync();
    }

    public async Task AddAsync(AlertEntry entry)
    {
        if (index.Add(entry))
            await PersistAsync();
        await UpdateWatchingAsync();
    }

    public async Task RemoveAsync(AlertEntry entry)
    {
        var removed = index.Remove(entry.UserId, entry.AlertId, entry.Condition, entry.Threshold);
        removed |= watch.State.Rearming.RemoveAll(r => r.Entry.UserId == entry.UserId && r.Entry.AlertId == entry.AlertId) > 0;
        if (removed)
            await PersistAsync();
        await UpdateWatchingAsync();
    }

    public async Task SyncUserAsync(long userId, IReadOnlyList<AlertEntry> armed)
    {
        var changed = false;
        foreach (var stale in index.Entries.Where(e => e.UserId == userId && !armed.Contains(e)).ToList())
            changed |= index.Remove(stale.UserId, stale.AlertId, stale.Condition, stale.Threshold);
        var waiting = watch.State.Rearming.Select(r => r.Entry).ToHashSet();
        foreach (var entry in armed.Where(e => !waiting.Contains(e)))
            changed |= index.Add(entry);
        if (changed)
        {
            LogHealed(Symbol, userId);
            await PersistAsync();
        }
        await UpdateWatchingAsync();
    }

    public async Task OnPriceAsync(decimal price, DateTimeOffset at)
    {
        lastPrice = price;
        lastPriceAt = at;
        var changed = RemoveExpired(clock.GetUtcNow()) | Rearm(price, at);
        var crossed = index.NothingCrosses(price) ? [] : index.TakeCrossed(price).Select(entry => new FiringAlert(entry, price, at)).ToList();
        watch.State.Firing.AddRange(crossed);
        if (changed || crossed.Count > 0)
            await PersistAsync();
        if (crossed.Count > 0)
            Dispatch(crossed);
        await UpdateWatchingAsync();
    }

    public Task<PriceWatchStatus> GetStatusAsync() =>
        Task.FromResult(new PriceWatchStatus(index.Count, watch.State.Firing.Count, watch.State.Rearming.Count, lastPrice, lastPriceAt, upkeep is not null));

    public Task ReceiveReminder(string reminderName, TickStatus status) => UpdateWatchingAsync();

    public async Task AcknowledgeAsync(IReadOnlyList<OwnerAnswer> answers)
    {
        var changed = false;
        foreach (var answer in answers)
        {
            var index = watch.State.Firing.FindIndex(f => f.Entry.UserId == answer.UserId && f.Entry.AlertId == answer.Fired.AlertId && f.At == answer.Fired.At);
            if (index < 0)
                continue; // acknowledged already (a dispatch sent twice)
            var firing = watch.State.Firing[index];
            watch.State.Firing.RemoveAt(index);
            dispatched.Remove((firing.Entry.UserId, firing.Entry.AlertId));
            changed = true;
            if (answer.Result.Outcome != AlertFiredOutcome.Gone)
                metrics.AlertTriggered();
            if (answer.Result.Outcome == AlertFiredOutcome.NotifiedRearm)
                watch.State.Rearming.Add(new RearmingAlert(firing.Entry, answer.Result.RearmNotBefore ?? firing.At));
            LogFired(Symbol, answer.UserId, firing.Entry.AlertId, firing.Price, answer.Result.Outcome.ToString());
        }
        if (changed)
            await PersistAsync();
        await UpdateWatchingAsync();
    }

    /// <summary>Between prices: expired alerts leave, and crossings whose owners have not answered are sent again.</summary>
    private async Task UpkeepAsync(CancellationToken cancellationToken)
    {
        if (RemoveExpired(clock.GetUtcNow()))
            await PersistAsync();
        var now = clock.GetUtcNow();
        var stalled = watch.State.Firing.Where(f => !dispatched.TryGetValue((f.Entry.UserId, f.Entry.AlertId), out var at) || now - at > DispatchAgainAfter).ToList();
        if (stalled.Count > 0)
            Dispatch(stalled);
        await UpdateWatchingAsync();
    }

    /// <summary>An alert set "for 1m" is gone after a minute whether or not its owner is ever seen again.</summary>
    private bool RemoveExpired(DateTimeOffset now) =>
        index.RemoveExpired(now) + watch.State.Rearming.RemoveAll(r => r.Entry.ExpiresAt <= now) > 0;

    private bool Rearm(decimal price, DateTimeOffset at)
    {
        var band = options.Value.RearmBandPercent / 100m;
        var ready = watch.State.Rearming.Where(r => at >= r.NotBefore && (r.Entry.Condition == AlertCondition.Above
            ? price < r.Entry.Threshold * (1 - band)
            : price > r.Entry.Threshold * (1 + band))).ToList();
        foreach (var r in ready)
        {
            watch.State.Rearming.Remove(r);
            index.Add(r.Entry);
        }
        return ready.Count > 0;
    }

    /// <summary>Crossings go to the dispatcher, which groups each owner's into one call (one message).</summary>
    private void Dispatch(IReadOnlyList<FiringAlert> firing)
    {
        var now = clock.GetUtcNow();
        foreach (var f in firing)
            dispatched[(f.Entry.UserId, f.Entry.AlertId)] = now;
        GrainFactory.GetGrain<IAlertDispatchGrain>(0)
            .DispatchAsync(this.AsReference<IPriceWatchGrain>(), firing
                .Select(f => new OwnerAlert(f.Entry.UserId, new AlertFired(f.Entry.AlertId, Symbol, f.Entry.Condition, f.Entry.Threshold, f.Price, f.At)))
                .ToList())
            .Ignore();
    }

    /// <summary>
    /// Watches the price while anything is armed, waiting or firing; a reminder revives the watch after a crash. With
    /// nothing left (fired, deleted, expired) the feed, the timer and the reminder all stop.
    /// </summary>
    private async Task UpdateWatchingAsync()
    {
        var busy = index.Count > 0 || watch.State.Firing.Count > 0 || watch.State.Rearming.Count > 0;
        if (busy && upkeep is null)
        {
            feed.Watch(Symbol);
            upkeep = this.RegisterGrainTimer(UpkeepAsync, new GrainTimerCreationOptions(options.Value.PollInterval, options.Value.PollInterval));
            await this.RegisterOrUpdateReminder(KeepWatching, RecoveryReminders.Period, RecoveryReminders.Period);
        }
        else if (!busy && upkeep is not null)
        {
            upkeep.Dispose();
            upkeep = null;
            feed.Unwatch(Symbol);
            if (await this.GetReminder(KeepWatching) is { } reminder)
                await this.UnregisterReminder(reminder);
        }
    }

    private int reportedArmed;

    private Task PersistAsync()
    {
        metrics.AlertsArmed(index.Count - reportedArmed);
        reportedArmed = index.Count;
        watch.State.Armed = index.Entries.ToList();
        return watch.WriteStateAsync();
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        metrics.AlertsArmed(-reportedArmed);
        reportedArmed = 0;
        feed.Unwatch(Symbol);
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Alert {AlertId} of user {UserId} on {Symbol} crossed at {Price}: {Outcome}")]
    private partial void LogFired(string symbol, long userId, int alertId, decimal price, string outcome);

    [LoggerMessage(Level = LogLevel.Information, Message = "Alert index of {Symbol} re-synced with user {UserId}")]
    private partial void LogHealed(string symbol, long userId);
}
