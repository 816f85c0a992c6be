using System.ComponentModel.DataAnnotations;
using Engram.Abstractions.Alerts;
using Engram.Abstractions.Users;
using Engram.Trading.MarketData;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;

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
/// Reentrant so that registering an alert never waits behind notifications in flight (and a user
/// grain registering an alert while being notified cannot deadlock with it). State changes are
/// synchronous between awaits; writes are serialised by <see cref="writeLock"/>.
/// </summary>
[Reentrant]
internal sealed partial class PriceWatchGrain(
    [PersistentState(stateName: "pricewatch", storageName: StorageNames.Market)] IPersistentState<PriceWatchState> watch,
    IPriceFeed feed,
    IOptions<AlertOptions> options,
    Telemetry.EngramMetrics metrics,
    TimeProvider clock,
    ILogger<PriceWatchGrain> logger) : Grain, IPriceWatchGrain, IRemindable
{
    private const string KeepWatching = RecoveryReminders.PriceWatch;
    private readonly AlertIndex index = new();
    private readonly SemaphoreSlim writeLock = new(1, 1);
    private IGrainTimer? upkeep;
    private bool evaluating;
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

    public Task OnPriceAsync(decimal price, DateTimeOffset at) => EvaluateAsync(price, at);

    public Task<PriceWatchStatus> GetStatusAsync() =>
        Task.FromResult(new PriceWatchStatus(index.Count, watch.State.Firing.Count, watch.State.Rearming.Count, lastPrice, lastPriceAt, upkeep is not null));

    public Task ReceiveReminder(string reminderName, TickStatus status) => UpdateWatchingAsync();

    /// <summary>Between prices: expired alerts leave, and crossings whose owners could not be told are retried.</summary>
    private async Task UpkeepAsync(CancellationToken cancellationToken)
    {
        if (RemoveExpired(clock.GetUtcNow()))
            await PersistAsync();
        if (watch.State.Firing.Count > 0)
            await NotifyOwnersAsync();
        await UpdateWatchingAsync();
    }

    /// <summary>An alert set "for 1m" is gone after a minute whether or not its owner is ever seen again.</summary>
    private bool RemoveExpired(DateTimeOffset now) =>
        index.RemoveExpired(now) + watch.State.Rearming.RemoveAll(r => r.Entry.ExpiresAt <= now) > 0;

    /// <summary>Crossed alerts leave the index and enter Firing in one write, then their owners are told.</summary>
    private async Task EvaluateAsync(decimal price, DateTimeOffset at)
    {
        lastPrice = price;
        lastPriceAt = at;
        if (evaluating)
        {
            // The running evaluation picks this price up when it finishes: a tick is never dropped.
            pending = (price, at);
            return;
        }
        evaluating = true;
        try
        {
            (decimal Price, DateTimeOffset At)? next = (price, at);
            while (next is { } tick)
            {
                pending = null;
                await EvaluateOnceAsync(tick.Price, tick.At);
                next = pending;
            }
        }
        finally
        {
            evaluating = false;
        }
        await UpdateWatchingAsync();
    }

    private (decimal Price, DateTimeOffset At)? pending;

    private async Task EvaluateOnceAsync(decimal price, DateTimeOffset at)
    {
        var changed = RemoveExpired(clock.GetUtcNow()) | Rearm(price, at);
        if (!index.NothingCrosses(price))
        {
            foreach (var entry in index.TakeCrossed(price))
                watch.State.Firing.Add(new FiringAlert(entry, price, at));
            changed = true;
        }
        if (changed)
            await PersistAsync();
        if (watch.State.Firing.Count > 0)
            await NotifyOwnersAsync();
    }

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

    /// <summary>
    /// Owners are told in parallel (this grain is reentrant; its turns still run one at a time):
    /// each call is one write on the owner's grain, and a crossing that fires a thousand alerts
    /// must not reach the last owner a thousand round trips late.
    /// </summary>
    private const int ConcurrentNotifications = 256;

    private async Task NotifyOwnersAsync()
    {
        var changed = false;
        using var slots = new SemaphoreSlim(ConcurrentNotifications);
        await Task.WhenAll(watch.State.Firing.ToList().Select(async firing =>
        {
            await slots.WaitAsync();
            try
            {
                changed |= await NotifyOwnerAsync(firing);
            }
            finally
            {
                slots.Release();
            }
        }));
        if (changed)
            await PersistAsync();
    }

    /// <summary>Tells one owner about a crossing; true when the crossing is settled (it leaves Firing).</summary>
    private async Task<bool> NotifyOwnerAsync(FiringAlert firing)
    {
        var entry = firing.Entry;
        try
        {
            var result = await GrainFactory.GetGrain<IUserGrain>(entry.UserId)
                .OnAlertFiredAsync(new AlertFired(entry.AlertId, Symbol, entry.Condition, entry.Threshold, firing.Price, firing.At));
            watch.State.Firing.Remove(firing);
            if (result.Outcome != AlertFiredOutcome.Gone)
                metrics.AlertTriggered();
            if (result.Outcome == AlertFiredOutcome.NotifiedRearm)
                watch.State.Rearming.Add(new RearmingAlert(entry, result.RearmNotBefore ?? firing.At));
            LogFired(Symbol, entry.UserId, entry.AlertId, firing.Price, result.Outcome.ToString());
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The owner's silo may be failing over: the crossing stays in Firing and is retried.
            LogNotifyFailed(Symbol, entry.UserId, entry.AlertId, ex.GetType().Name);
            return false;
        }
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
            upkeep = this.RegisterGrainTimer(UpkeepAsync, new GrainTimerCreationOptions(options.Value.PollInterval, options.Value.PollInterval) { Interleave = true });
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

    private async Task PersistAsync()
    {
        await writeLock.WaitAsync();
        try
        {
            metrics.AlertsArmed(index.Count - reportedArmed);
            reportedArmed = index.Count;
            watch.State.Armed = index.Entries.ToList();
            await watch.WriteStateAsync();
        }
        finally
        {
            writeLock.Release();
        }
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not notify user {UserId} of alert {AlertId} on {Symbol} ({Error}); will retry")]
    private partial void LogNotifyFailed(string symbol, long userId, int alertId, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Alert index of {Symbol} re-synced with user {UserId}")]
    private partial void LogHealed(string symbol, long userId);
}
