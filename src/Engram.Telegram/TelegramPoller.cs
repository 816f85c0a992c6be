using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using StackExchange.Redis;
using Telegram.Bot;
using Telegram.Bot.Exceptions;
using Telegram.Bot.Types.Enums;

namespace Engram.Telegram;

/// <summary>
/// Long polling, by exactly one silo of the cluster at a time (Telegram answers 409 to a second
/// poller). The offset advances only after every update of a batch is handled by its user's grain,
/// so a crash between fetch and dispatch loses nothing: Telegram redelivers, the grain drops repeats.
/// A standby silo takes over the moment the cluster declares the poller's silo dead (or sees it
/// shutting down, having released the lease), not after the lease's TTL.
/// </summary>
public sealed partial class TelegramPoller(
    ITelegramBotClient client,
    UpdateRouter router,
    PollerLease lease,
    IClusterMembershipService membership,
    IOptions<TelegramOptions> options,
    ILogger<TelegramPoller> logger) : BackgroundService
{
    private static readonly UpdateType[] Wanted = [UpdateType.Message, UpdateType.CallbackQuery, UpdateType.EditedMessage, UpdateType.MyChatMember];

    /// <summary>Wakes a standby loop early: a silo left the cluster, the lease may be free or ours to take.</summary>
    private readonly Channel<bool> siloLeft = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    public bool IsPolling { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var watching = WatchMembershipAsync(stoppingToken);
        try
        {
            await lease.OnReleasedAsync(() => siloLeft.Writer.TryWrite(true));
        }
        catch (RedisException ex)
        {
            LogWatchFailed(ex.GetType().Name, ex.Message); // standby still asks every third of the TTL
        }
        var backoff = TimeSpan.FromSeconds(1);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!await lease.TryAcquireOrRenewAsync())
                {
                    await WaitForTurnAsync(stoppingToken);
                    continue;
                }
                LogBecamePoller(lease.HolderId);
                await PollWhileLeasedAsync(stoppingToken);
                backoff = TimeSpan.FromSeconds(1);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (ApiRequestException ex) when (ex.ErrorCode == 409)
            {
                // Another poller (outside this cluster?) or a webhook is active.
                LogConflict(ex.Message);
                await Delay(TimeSpan.FromSeconds(5), stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // Whatever fails (Telegram, Redis restarting, a grain call, the reminder service), the
                // poller backs off and tries again; it never takes the silo down with it.
                LogPollFailed(ex.GetType().Name, ex.Message, backoff.TotalSeconds);
                await Delay(backoff, stoppingToken);
                backoff = TimeSpan.FromSeconds(Math.Min(30, backoff.TotalSeconds * 2));
            }
            finally
            {
                IsPolling = false;
            }
        }
        // Hand over at once on a clean stop instead of making the next poller wait out the TTL.
        try { await lease.ReleaseAsync(); } catch (RedisException) { }
        await watching;
    }

    /// <summary>A standby silo asks again after a third of the TTL, or at once when a silo leaves the cluster.</summary>
    private async Task WaitForTurnAsync(CancellationToken stoppingToken)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        wait.CancelAfter(lease.Ttl / 3);
        try
        {
            await siloLeft.Reader.WaitToReadAsync(wait.Token);
            siloLeft.Reader.TryRead(out _);
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Follows the membership: a silo declared dead may hold the lease (taken over now, compare-and-set on its
    /// name); one shutting down has released it. Either way a standby silo tries at once.
    /// </summary>
    private async Task WatchMembershipAsync(CancellationToken stoppingToken)
    {
        try
        {
            ClusterMembershipSnapshot? previous = null;
            await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(stoppingToken))
            {
                if (previous is not null)
                {
                    foreach (var change in snapshot.CreateUpdate(previous).Changes)
                    {
                        if (change.Status == SiloStatus.Dead && !IsPolling && await TryTakeOverAsync(change.SiloAddress))
                            LogTookOver(change.SiloAddress.ToString());
                        if (change.Status is SiloStatus.Dead or SiloStatus.ShuttingDown or SiloStatus.Stopping)
                            siloLeft.Writer.TryWrite(true);
                    }
                }
                previous = snapshot;
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            LogWatchFailed(ex.GetType().Name, ex.Message); // the lease's TTL still hands it over
        }
    }

    private async Task<bool> TryTakeOverAsync(SiloAddress dead)
    {
        try
        {
            return await lease.TryTakeOverFromAsync(dead);
        }
        catch (RedisException)
        {
            return false; // the TTL still hands it over
        }
    }

    private async Task PollWhileLeasedAsync(CancellationToken stoppingToken)
    {
        using var leased = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var renewal = RenewAsync(leased);
        try
        {
            // Polling and a webhook exclude each other; this silo was chosen to poll.
            await client.DeleteWebhook(cancellationToken: leased.Token);
            IsPolling = true;
            int? offset = null;
            while (!leased.IsCancellationRequested)
            {
                var updates = await client.GetUpdates(offset, limit: 100, timeout: options.Value.PollTimeoutSeconds, allowedUpdates: Wanted, cancellationToken: leased.Token);
                if (updates.Length == 0)
                    continue;
                // Not cancellable: once fetched, a batch is accepted completely before the offset moves.
                // Waits while the silo is full: the next batch is fetched only once this one is handled.
                // Refused only when even the waiting room is full: the batch goes again (what was
                // already handled is recognised by its update id).
                while (await router.AcceptAsync(updates, Timeout.InfiniteTimeSpan, leased.Token) == IngressResult.Refused)
                    await Task.Delay(TimeSpan.FromMilliseconds(200), leased.Token);
                offset = updates[^1].Id + 1;
                LogBatch(updates.Length, offset.Value);
            }
        }
        catch (OperationCanceledException) when (leased.IsCancellationRequested && !stoppingToken.IsCancellationRequested)
        {
            LogLeaseLost();
        }
        finally
        {
            await leased.CancelAsync();
            await renewal;
        }
    }

    private async Task RenewAsync(CancellationTokenSource leased)
    {
        while (!leased.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(lease.Ttl / 3, leased.Token);
                if (!await lease.TryAcquireOrRenewAsync())
                {
                    await leased.CancelAsync();
                    return;
                }
            }
            catch (OperationCanceledException) { return; }
            catch (RedisException)
            {
                // Redis unreachable: we can no longer prove we are the only poller.
                await leased.CancelAsync();
                return;
            }
        }
    }

    private static async Task Delay(TimeSpan delay, CancellationToken token)
    {
        try { await Task.Delay(delay, token); } catch (OperationCanceledException) { }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "This silo now polls Telegram (lease {Holder})")]
    private partial void LogBecamePoller(string holder);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Membership updates stopped ({Error}: {Reason}); a dead poller is replaced after the lease TTL")]
    private partial void LogWatchFailed(string error, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Silo {Silo} was declared dead while it polled Telegram: this silo took the lease over")]
    private partial void LogTookOver(string silo);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lost the Telegram poller lease; another silo polls now")]
    private partial void LogLeaseLost();

    [LoggerMessage(Level = LogLevel.Debug, Message = "Accepted {Count} update(s); next offset {Offset}")]
    private partial void LogBatch(int count, int offset);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Telegram getUpdates conflict: {Reason}")]
    private partial void LogConflict(string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Telegram polling failed ({Error}: {Reason}); retrying in {Seconds} s")]
    private partial void LogPollFailed(string error, string reason, double seconds);
}
