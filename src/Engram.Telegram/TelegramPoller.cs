using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using Telegram.Bot;
using Telegram.Bot.Exceptions;
using Telegram.Bot.Types.Enums;

namespace Engram.Telegram;

/// <summary>
/// Long polling, by exactly one silo of the cluster at a time (Telegram answers 409 to a second
/// poller). The offset advances only after every update of a batch is handled by its user's grain,
/// so a crash between fetch and dispatch loses nothing: Telegram redelivers, the grain drops repeats.
/// </summary>
public sealed partial class TelegramPoller(
    ITelegramBotClient client,
    UpdateRouter router,
    PollerLease lease,
    IOptions<TelegramOptions> options,
    ILogger<TelegramPoller> logger) : BackgroundService
{
    private static readonly UpdateType[] Wanted = [UpdateType.Message, UpdateType.CallbackQuery, UpdateType.EditedMessage, UpdateType.MyChatMember];

    public bool IsPolling { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var backoff = TimeSpan.FromSeconds(1);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!await lease.TryAcquireOrRenewAsync())
                {
                    await Task.Delay(lease.Ttl / 3, stoppingToken);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lost the Telegram poller lease; another silo polls now")]
    private partial void LogLeaseLost();

    [LoggerMessage(Level = LogLevel.Debug, Message = "Accepted {Count} update(s); next offset {Offset}")]
    private partial void LogBatch(int count, int offset);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Telegram getUpdates conflict: {Reason}")]
    private partial void LogConflict(string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Telegram polling failed ({Error}: {Reason}); retrying in {Seconds} s")]
    private partial void LogPollFailed(string error, string reason, double seconds);
}
