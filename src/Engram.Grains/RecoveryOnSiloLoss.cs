using Engram.Abstractions.Alerts;
using Engram.Abstractions.Users;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Engram.Grains;

/// <summary>
/// When the cluster declares a silo dead, the work it left behind (questions at the LLM, notifications not sent,
/// price watches) is picked up at once rather than at the next tick of its recovery reminder (up to 15 s): one silo,
/// the oldest active one, reads the recovery reminders and wakes their grains. A grain of the dead silo activates
/// on a survivor after the directory's hold; a grain that never left just looks at its work again (idempotent).
/// </summary>
public sealed partial class RecoveryOnSiloLoss(
    IClusterMembershipService membership,
    ILocalSiloDetails local,
    IServiceProvider services,
    IGrainFactory grains,
    ILogger<RecoveryOnSiloLoss> logger) : BackgroundService
{
    private const int ConcurrentWakeUps = 32;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            ClusterMembershipSnapshot? previous = null;
            await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(stoppingToken))
            {
                var died = previous is null ? [] : snapshot.CreateUpdate(previous).Changes.Where(c => c.Status == SiloStatus.Dead).ToList();
                previous = snapshot;
                if (died.Count > 0 && IsOldestActive(snapshot))
                    await WakeAsync(string.Join(", ", died.Select(d => d.SiloAddress)), stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            LogWatchFailed(ex.GetType().Name, ex.Message); // recovery reminders still tick
        }
    }

    private bool IsOldestActive(ClusterMembershipSnapshot snapshot) =>
        snapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).OrderBy(m => m.SiloAddress.Generation).ThenBy(m => m.SiloAddress.ToParsableString(), StringComparer.Ordinal)
            .FirstOrDefault()?.SiloAddress.Equals(local.SiloAddress) == true;

    private async Task WakeAsync(string dead, CancellationToken cancellationToken)
    {
        try
        {
            // Resolved here, not injected: a silo without a reminder service (some test hosts) simply has nothing to wake.
            if (services.GetService(typeof(IReminderTable)) is not IReminderTable reminders)
                return;
            var rows = (await reminders.ReadRows(0, uint.MaxValue)).Reminders;
            var woken = 0;
            await Parallel.ForEachAsync(rows.Where(r => r.ReminderName is RecoveryReminders.UserWork or RecoveryReminders.PriceWatch or RecoveryReminders.IndicatorWatch or RecoveryReminders.DigestShard),
                new ParallelOptions { MaxDegreeOfParallelism = ConcurrentWakeUps, CancellationToken = cancellationToken }, async (row, _) =>
                {
                    var grain = grains.GetGrain(row.GrainId);
                    try
                    {
                        if (row.ReminderName == RecoveryReminders.UserWork)
                            await grain.AsReference<IUserGrain>().RecoverAsync();
                        else if (row.ReminderName == RecoveryReminders.DigestShard)
                            await grain.AsReference<Abstractions.Digests.IDigestShardGrain>().GetStatusAsync();
                        else if (row.ReminderName == RecoveryReminders.IndicatorWatch)
                            await grain.AsReference<IIndicatorWatchGrain>().GetStatusAsync(); // activating it resumes the watch
                        else
                            await grain.AsReference<IPriceWatchGrain>().GetStatusAsync();
                        Interlocked.Increment(ref woken);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        // Its reminder still ticks.
                    }
                });
            LogWoken(dead, woken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogWakeFailed(dead, ex.GetType().Name, ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Silo {Dead} declared dead: woke {Count} grain(s) with work left behind")]
    private partial void LogWoken(string dead, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Silo {Dead} declared dead, but its left-behind work could not be listed ({Error}: {Reason}); reminders pick it up")]
    private partial void LogWakeFailed(string dead, string error, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Membership updates stopped ({Error}: {Reason}); recovery reminders still tick")]
    private partial void LogWatchFailed(string error, string reason);
}
