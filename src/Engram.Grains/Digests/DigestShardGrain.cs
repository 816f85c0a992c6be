using Engram.Abstractions.Digests;
using Engram.Abstractions.Users;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Engram.Grains.Digests;

[GenerateSerializer]
public sealed class DigestShardState
{
    /// <summary>Each scheduled user's next slot (the digest goes out at the slot plus the user's spread).</summary>
    [Id(0)] public Dictionary<long, DateTimeOffset> Slots { get; set; } = [];
}

/// <summary>
/// Every turn is short: a check sends one-way "your slot is due" to the users whose time came and never waits on
/// them, so a user grain setting its schedule (waiting on this shard) cannot deadlock with it.
/// </summary>
internal sealed partial class DigestShardGrain(
    [PersistentState(stateName: "digests", storageName: StorageNames.Users)] IPersistentState<DigestShardState> shard,
    IOptions<DigestOptions> options,
    TimeProvider clock,
    ILogger<DigestShardGrain> logger) : Grain, IDigestShardGrain, IRemindable
{
    /// <summary>A user told "due" who has not rescheduled in this long (its silo died) is told again; it sends a slot once whatever.</summary>
    private static readonly TimeSpan AskAgainAfter = TimeSpan.FromSeconds(30);

    private readonly Dictionary<long, DateTimeOffset> inFlight = [];
    private IGrainTimer? checking;
    private bool dirty;
    private long sent;

    public override Task OnActivateAsync(CancellationToken cancellationToken) => UpdateCheckingAsync();

    public async Task ScheduleAsync(long userId, DateTimeOffset? slot, bool durable)
    {
        inFlight.Remove(userId);
        var changed = slot is { } next
            ? !shard.State.Slots.TryGetValue(userId, out var current) || current != next
            : shard.State.Slots.Remove(userId);
        if (slot is { } s)
            shard.State.Slots[userId] = s;
        dirty |= changed;
        if (durable && dirty)
            await WriteAsync();
        await UpdateCheckingAsync();
    }

    public Task<DigestShardStatus> GetStatusAsync()
    {
        var window = options.Value.SpreadWindow;
        DateTimeOffset? next = shard.State.Slots.Count == 0 ? null : shard.State.Slots.Min(s => s.Value + DigestSlots.Spread(s.Key, window));
        return Task.FromResult(new DigestShardStatus(shard.State.Slots.Count, inFlight.Count, next, sent));
    }

    public Task ReceiveReminder(string reminderName, TickStatus status) => UpdateCheckingAsync();

    private async Task CheckAsync()
    {
        var now = clock.GetUtcNow();
        var window = options.Value.SpreadWindow;
        var due = shard.State.Slots
            .Select(s => (UserId: s.Key, Slot: s.Value, At: s.Value + DigestSlots.Spread(s.Key, window)))
            .Where(s => s.At <= now && !(inFlight.TryGetValue(s.UserId, out var asked) && now - asked < AskAgainAfter));
        foreach (var (userId, slot, _) in Paced(due, now))
        {
            inFlight[userId] = now;
            sent++;
            GrainFactory.GetGrain<IUserGrain>(userId).DigestDueAsync(slot).Ignore();
        }
        if (dirty)
            await WriteAsync();
    }

    /// <summary>This shard's share of <see cref="DigestOptions.MaxPerSecond"/>, earliest due first; unused allowance carries over up to a second.</summary>
    private IEnumerable<(long UserId, DateTimeOffset Slot, DateTimeOffset At)> Paced(IEnumerable<(long UserId, DateTimeOffset Slot, DateTimeOffset At)> due, DateTimeOffset now)
    {
        var perSecond = options.Value.MaxPerSecond / IDigestShardGrain.Count;
        if (perSecond <= 0)
            return due;
        allowance = Math.Min(allowance + (now - lastPaced).TotalSeconds * perSecond, Math.Max(1, perSecond));
        lastPaced = now;
        var taken = due.OrderBy(d => d.At).Take((int)Math.Floor(allowance)).ToList();
        allowance -= taken.Count;
        return taken;
    }

    /// <summary>Asks this shard may still make; a second's worth at most, and one to begin with.</summary>
    private double allowance = 1;
    private DateTimeOffset lastPaced = DateTimeOffset.UtcNow;

    private async Task WriteAsync()
    {
        try
        {
            await shard.WriteStateAsync();
            dirty = false;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Kept in memory and written by the next check; a user's command (durable) sees the failure.
            LogWriteFailed(this.GetPrimaryKeyLong(), ex.GetType().Name);
            throw;
        }
    }

    /// <summary>Checks while anyone is scheduled; the reminder brings the shard back on another silo after a crash.</summary>
    private async Task UpdateCheckingAsync()
    {
        var busy = shard.State.Slots.Count > 0;
        if (busy && checking is null)
        {
            checking = this.RegisterGrainTimer(async _ =>
            {
                try
                {
                    await CheckAsync();
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // Logged by WriteAsync; the next check tries again.
                }
            }, new GrainTimerCreationOptions(options.Value.CheckInterval, options.Value.CheckInterval));
            await this.RegisterOrUpdateReminder(RecoveryReminders.DigestShard, RecoveryReminders.Period, RecoveryReminders.Period);
        }
        else if (!busy && checking is not null)
        {
            checking.Dispose();
            checking = null;
            if (await this.GetReminder(RecoveryReminders.DigestShard) is { } reminder)
                await this.UnregisterReminder(reminder);
        }
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (dirty)
        {
            try
            {
                await shard.WriteStateAsync();
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The users reschedule themselves when they are next told (their slot record is the authority).
                LogWriteFailed(this.GetPrimaryKeyLong(), ex.GetType().Name);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Digest shard {Shard} could not store its schedule ({Error}); it tries again")]
    private partial void LogWriteFailed(long shard, string error);
}
