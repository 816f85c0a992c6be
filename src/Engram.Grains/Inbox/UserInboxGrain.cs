using Engram.Abstractions.Inbox;
using Engram.Abstractions.Users;
using Microsoft.Extensions.Logging;
using Orleans.Storage;

namespace Engram.Grains.Inbox;

/// <summary>
/// Accepts a user's updates durably and at once, so the Telegram poller (or webhook) can confirm
/// them without waiting for answers. It never awaits the user grain: it pokes it with a one-way
/// call, and a reminder pokes it again while anything is pending, so an update accepted just
/// before a silo crash is still answered after failover (within a reminder period, 15 s, of the
/// crash being detected), even when the user grain died in the same crash.
/// </summary>
internal sealed partial class UserInboxGrain(
    [PersistentState(stateName: "inbox", storageName: StorageNames.Users)] IPersistentState<InboxState> inbox,
    ILogger<UserInboxGrain> logger) : Grain, IUserInboxGrain, IRemindable
{
    private const string DrainReminder = "drain-inbox";
    private const int CompletedKept = 256;
    /// <summary>A one-way poke is lost if the user grain's silo dies; re-poke this often while anything waits.</summary>
    private static readonly TimeSpan RepokeEvery = TimeSpan.FromSeconds(5);
    /// <summary>The drain reminder is kept this long after the last update, so a chatting user costs no reminder churn.</summary>
    private static readonly TimeSpan KeepReminderWhileIdle = TimeSpan.FromMinutes(2);
    private bool reminderRegistered;
    private DateTime lastAccepted = DateTime.UtcNow;
    private IGrainTimer? repoke;

    public async Task AcceptAsync(InboundUpdate update)
    {
        var known = inbox.State.Pending.Any(u => u.UpdateId == update.UpdateId) || inbox.State.Completed.Contains(update.UpdateId);
        lastAccepted = DateTime.UtcNow;
        if (!known)
        {
            await WriteAsync(state => state.Pending.Add(update));
            try
            {
                await EnsureReminderAsync();
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The update is already durable (that is what accepting means); the re-poke timer and
                // the next activation still drive it. Failing here would only make Telegram resend it.
                LogReminderFailed(this.GetPrimaryKeyLong(), ex.GetType().Name);
            }
            // The reminder survives this silo; the timer makes the common case, the user's silo
            // dying, recover in seconds.
            StartRepoking();
        }
        else
        {
            LogRedelivered(this.GetPrimaryKeyLong(), update.UpdateId);
        }
        PokeUser();
    }

    public Task<InboundUpdate?> PeekAsync() => Task.FromResult(inbox.State.Pending.FirstOrDefault());

    public Task<int> CountAsync() => Task.FromResult(inbox.State.Pending.Count);

    public async Task CompleteAsync(long updateId)
    {
        if (inbox.State.Pending.All(u => u.UpdateId != updateId))
            return;
        await WriteAsync(state =>
        {
            state.Pending.RemoveAll(u => u.UpdateId == updateId);
            state.Completed.Add(updateId);
            if (state.Completed.Count > CompletedKept)
                state.Completed.RemoveRange(0, state.Completed.Count - CompletedKept);
        });
        if (inbox.State.Pending.Count == 0)
        {
            repoke?.Dispose();
            repoke = null;
            // The drain reminder stays while the user is active (it removes itself once the user has
            // been idle a while): unregistering and registering it per message cost two Redis round trips.
        }
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (inbox.State.Pending.Count > 0)
        {
            LogRevived(this.GetPrimaryKeyLong(), inbox.State.Pending.Count, "reminder");
            PokeUser();
        }
        else if (DateTime.UtcNow - lastAccepted > KeepReminderWhileIdle)
            await RemoveReminderAsync();
    }

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // Updates accepted by a silo that died are picked up as soon as this grain comes back.
        if (inbox.State.Pending.Count > 0)
        {
            LogRevived(this.GetPrimaryKeyLong(), inbox.State.Pending.Count, "activation");
            PokeUser();
            StartRepoking();
        }
        return Task.CompletedTask;
    }

    private void StartRepoking() =>
        repoke ??= this.RegisterGrainTimer(() =>
        {
            if (inbox.State.Pending.Count > 0)
                PokeUser();
            return Task.CompletedTask;
        }, new GrainTimerCreationOptions(RepokeEvery, RepokeEvery) { Interleave = true });

    private void PokeUser() => GrainFactory.GetGrain<IUserGrain>(this.GetPrimaryKeyLong()).ProcessInboxAsync().Ignore();

    private async Task WriteAsync(Action<InboxState> change)
    {
        for (var attempt = 1; ; attempt++)
        {
            change(inbox.State);
            try
            {
                await inbox.WriteStateAsync();
                return;
            }
            catch (InconsistentStateException) when (attempt < 3)
            {
                // Another activation wrote during a failover: start again from what is stored.
                await inbox.ReadStateAsync();
            }
            catch
            {
                await inbox.ReadStateAsync();
                throw;
            }
        }
    }

    private async Task EnsureReminderAsync()
    {
        if (reminderRegistered)
            return;
        await this.RegisterOrUpdateReminder(DrainReminder, RecoveryReminders.Period, RecoveryReminders.Period);
        reminderRegistered = true;
    }

    private async Task RemoveReminderAsync()
    {
        var reminder = await this.GetReminder(DrainReminder);
        if (reminder is not null)
            await this.UnregisterReminder(reminder);
        reminderRegistered = false;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Inbox of user {UserId}: reminder bookkeeping failed ({Error}); carrying on")]
    private partial void LogReminderFailed(long userId, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Inbox of user {UserId}: {Pending} update(s) waiting, poking the user again ({Trigger})")]
    private partial void LogRevived(long userId, int pending, string trigger);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Update {UpdateId} for user {UserId} was already accepted")]
    private partial void LogRedelivered(long userId, long updateId);
}
