using Engram.Abstractions.Common;
using Engram.Abstractions.Conversation;
using Engram.Grains.Conversation;
using Engram.Abstractions.Users;
using System.Threading.RateLimiting;
using Engram.Abstractions.Inbox;
using Engram.Grains.Alerts;
using Engram.Grains.Delivery;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Storage;

namespace Engram.Grains.Users;

/// <summary>
/// The single owner of one Telegram user's data. Orleans runs one call at a time on it, so the
/// rules in <see cref="UserAccount"/> never race; every change is written to Redis before the
/// call returns.
/// </summary>
public sealed partial class UserGrain(
    [PersistentState(stateName: "user", storageName: StorageNames.Users)] IPersistentState<UserState> user,
    IOptions<UserGrainOptions> options,
    ConversationService conversation,
    IMessenger messenger,
    Telemetry.EngramMetrics metrics,
    TimeProvider clock,
    ILogger<UserGrain> logger) : Grain, IUserGrain, IRemindable
{
    private const int MaxWriteAttempts = 3;
    private const string OutboxReminder = "deliver-outbox";

    /// <summary>
    /// The update this call chain is handling. An AsyncLocal, not a field: an alert notification
    /// interleaving with the handling is not part of it and writes on its own.
    /// </summary>
    private readonly AsyncLocal<long?> handlingUpdate = new();

    /// <summary>Whether the handling in progress has changed state in memory and holds <see cref="writeLock"/> until its commit.</summary>
    private bool handlingHoldsWriteLock;

    // Per-user rate limits live with the user's single activation (in memory: a restart forgives).
    private RateLimiter? commandLimiter;
    private RateLimiter? questionLimiter;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        metrics.UserActivated();
        var o = options.Value;
        commandLimiter = new SlidingWindowRateLimiter(new SlidingWindowRateLimiterOptions
        {
            PermitLimit = o.CommandsPerMinute, Window = TimeSpan.FromMinutes(1), SegmentsPerWindow = 6, QueueLimit = 0,
        });
        questionLimiter = new SlidingWindowRateLimiter(new SlidingWindowRateLimiterOptions
        {
            PermitLimit = o.QuestionsPerMinute, Window = TimeSpan.FromMinutes(1), SegmentsPerWindow = 6, QueueLimit = 0,
        });
        // Messages written before a crash are delivered when the grain comes back, and the price
        // watches are re-synced with this grain's alerts (it is their source of truth).
        this.RegisterGrainTimer(async _ =>
        {
            await DeliverOutboxAsync();
            await SyncPriceWatchesAsync();
        }, new GrainTimerCreationOptions(TimeSpan.Zero, Timeout.InfiniteTimeSpan));
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        metrics.UserDeactivated();
        commandLimiter?.Dispose();
        questionLimiter?.Dispose();
        return Task.CompletedTask;
    }

    // ---------------------------------------------------------------- inbox and outbox

    public async Task ProcessInboxAsync()
    {
        var inbox = GrainFactory.GetGrain<IUserInboxGrain>(this.GetPrimaryKeyLong());
        while (await inbox.PeekAsync() is { } update)
        {
            if (!user.State.ProcessedUpdateIds.Contains(update.UpdateId))
                await HandleUpdateAsync(update);
            // Send before completing the inbox entry: until it is completed the inbox keeps poking,
            // so a crash right after the handling write still gets the replies (now in the outbox) out.
            await DeliverOutboxAsync();
            await inbox.CompleteAsync(update.UpdateId);
        }
    }

    /// <summary>
    /// Handles one update with exactly one state write: what it changes (a purchase, an alert, the
    /// chat history) is applied in memory while the conversation runs and written together with the
    /// processed marker and the replies in the outbox. A crash before that write leaves nothing
    /// applied and the update still in the inbox; a crash after it leaves the replies to be sent.
    /// (Two writes would let a crash between them apply a purchase whose confirmation is never sent.)
    /// </summary>
    private async Task HandleUpdateAsync(InboundUpdate update)
    {
        // Every log line while handling carries who and which update (never the message text).
        using var scope = logger.BeginScope(new Dictionary<string, object> { ["UserId"] = this.GetPrimaryKeyLong(), ["UpdateId"] = update.UpdateId });
        IReadOnlyList<ChatReply> replies;
        handlingUpdate.Value = update.UpdateId;
        try
        {
            replies = await RepliesForAsync(update);
        }
        catch
        {
            await DiscardHandlingAsync();
            throw;
        }
        finally
        {
            handlingUpdate.Value = null;
        }
        await CommitHandlingAsync(update, replies);
    }

    private async Task CommitHandlingAsync(InboundUpdate update, IReadOnlyList<ChatReply> replies)
    {
        await HoldWriteLockForHandlingAsync();
        try
        {
            var account = Account;
            user.State.CreatedAt ??= clock.GetUtcNow();
            account.TryMarkUpdateProcessed(update.UpdateId);
            account.State.Active = true; // writing to the bot again undoes a block
            var first = true;
            foreach (var reply in replies.Where(r => r.Kind != ReplyKind.Duplicate))
            {
                Enqueue(account.State, update.ChatId, reply, update.UpdateId, first ? update.CallbackQueryId : null);
                first = false;
            }
            if (first && update.CallbackQueryId is not null)
                Enqueue(account.State, update.ChatId, new ChatReply("", ReplyKind.Duplicate), update.UpdateId, update.CallbackQueryId);

            // Retried through a short storage outage (a Redis restart) rather than redoing the whole
            // conversation; the in-memory state is exactly what should be stored.
            var deadline = DateTime.UtcNow + StorageRetryBudget;
            for (var delay = FirstRetryDelay; ; delay = NextRetryDelay(delay))
            {
                try
                {
                    await user.WriteStateAsync();
                    return;
                }
                catch (InconsistentStateException ex)
                {
                    // Another activation wrote (a failover), or an earlier attempt of this write landed
                    // but its answer was lost: start again from what is stored; the inbox still holds
                    // the update, and a stored processed marker makes the retry send the stored replies.
                    LogEtagConflict(this.GetPrimaryKeyLong(), 1, ex.Message);
                    await ReloadOrDeactivateAsync();
                    throw new UserStateUnavailableException("Your data changed elsewhere while this was handled; it will be handled again.", ex);
                }
                catch (Exception ex) when (ex is not OperationCanceledException && DateTime.UtcNow < deadline)
                {
                    LogWriteFailed(ex, this.GetPrimaryKeyLong());
                    await Task.Delay(delay);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogWriteFailed(ex, this.GetPrimaryKeyLong());
                    await ReloadOrDeactivateAsync();
                    throw new UserStateUnavailableException("Your data could not be saved just now; nothing was changed. Please try again in a moment.", ex);
                }
            }
        }
        finally
        {
            handlingHoldsWriteLock = false;
            writeLock.Release();
        }
    }

    /// <summary>
    /// The handling takes the write lock at its first change and keeps it until its commit, so an
    /// interleaving writer (an alert notification) never stores half a handling.
    /// </summary>
    private async Task HoldWriteLockForHandlingAsync()
    {
        if (handlingHoldsWriteLock)
            return;
        await writeLock.WaitAsync();
        handlingHoldsWriteLock = true;
    }

    /// <summary>A handling that failed half-way: forget what it changed in memory (nothing of it was written).</summary>
    private async Task DiscardHandlingAsync()
    {
        if (!handlingHoldsWriteLock)
            return;
        try
        {
            await ReloadOrDeactivateAsync();
        }
        finally
        {
            handlingHoldsWriteLock = false;
            writeLock.Release();
        }
    }

    private static readonly TimeSpan StorageRetryBudget = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(250);

    /// <summary>Exponential backoff for storage outages, capped at 5 s.</summary>
    private static TimeSpan NextRetryDelay(TimeSpan delay) => TimeSpan.FromMilliseconds(Math.Min(5_000, delay.TotalMilliseconds * 2));

    /// <summary>
    /// Forgets a message the transport accepted. Never reloads state on failure (that would bring
    /// the message back and send it twice): the removal stays in memory and is written when storage answers.
    /// </summary>
    private async Task RemoveSentAsync(long messageId)
    {
        await writeLock.WaitAsync();
        try
        {
            user.State.Outbox.RemoveAll(m => m.Id == messageId);
            var deadline = DateTime.UtcNow + StorageRetryBudget;
            for (var delay = FirstRetryDelay; ; delay = NextRetryDelay(delay))
            {
                try
                {
                    await user.WriteStateAsync();
                    return;
                }
                catch (InconsistentStateException)
                {
                    // Another activation wrote meanwhile: take its state, without the sent message.
                    await user.ReadStateAsync();
                    user.State.Outbox.RemoveAll(m => m.Id == messageId);
                }
                catch (Exception ex) when (ex is not OperationCanceledException && DateTime.UtcNow < deadline)
                {
                    LogWriteFailed(ex, this.GetPrimaryKeyLong());
                    await Task.Delay(delay);
                }
            }
        }
        finally
        {
            writeLock.Release();
        }
    }

    private async Task<IReadOnlyList<ChatReply>> RepliesForAsync(InboundUpdate update)
    {
        if (update.Kind == InboundKind.Unsupported)
            return update.IsGroup ? [] : [ChatReply.Notice("I can read text messages and commands only. Send /help to see what I can do.")];

        var isCommand = update.Text.TrimStart().StartsWith('/');
        using var lease = (isCommand ? commandLimiter! : questionLimiter!).AttemptAcquire();
        if (!lease.IsAcquired)
        {
            var wait = lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)) : 10;
            LogRateLimited(this.GetPrimaryKeyLong(), isCommand ? "commands" : "questions");
            return [ChatReply.Notice($"🐢 Slow down a little: try again in {wait} s.")];
        }

        // Commands answer in milliseconds; "typing…" is for questions that wait on the LLM.
        await using var typing = isCommand ? NoTyping.Instance : messenger.BeginTyping(update.ChatId);
        return await conversation.HandleAsync(this.GetPrimaryKeyLong(), this, new IncomingMessage(update.Text, update.ChatId, update.UpdateId),
            notify: reply => messenger.SendAsync(this.GetPrimaryKeyLong(), update.ChatId, reply, null, CancellationToken.None));
    }

    private static void Enqueue(UserState state, long chatId, ChatReply reply, long? updateId, string? callbackQueryId) =>
        state.Outbox.Add(new OutboxMessage
        {
            Id = state.NextOutboxId++, ChatId = chatId, Text = reply.Text, Kind = reply.Kind, Buttons = reply.Buttons?.ToList(),
            Photo = reply.Photo, UpdateId = updateId, CallbackQueryId = callbackQueryId, CreatedAt = DateTimeOffset.UtcNow,
        });

    public async Task DeliverOutboxAsync()
    {
        if (!messenger.IsEnabled)
            return;
        // Alert notifications interleave with other turns: one delivery loop at a time, or a message
        // could go out twice. A caller that finds one running waits for it (its callers see its
        // errors), so "delivered" means delivered when this returns, and then sends what is left.
        while (delivery is { IsCompleted: false } running)
            await running.ContinueWith(_ => { }, TaskScheduler.Current);
        delivery = DeliverPendingAsync();
        await delivery;
    }

    private async Task DeliverPendingAsync()
    {
        while (user.State.Outbox.FirstOrDefault() is { } message)
        {
            var reply = new ChatReply(message.Text, message.Kind, message.Buttons, message.Photo);
            var outcome = await messenger.SendAsync(this.GetPrimaryKeyLong(), message.ChatId, reply, message.CallbackQueryId, CancellationToken.None);
            switch (outcome)
            {
                case DeliveryOutcome.Delivered:
                case DeliveryOutcome.Rejected:
                    await RemoveSentAsync(message.Id);
                    break;
                case DeliveryOutcome.RecipientBlocked when message.ChatId == this.GetPrimaryKeyLong():
                    // The user blocked the bot: stop sending; their next message re-activates them.
                    LogBlocked(this.GetPrimaryKeyLong(), user.State.Outbox.Count);
                    await UpdateAsync(account =>
                    {
                        account.State.Active = false;
                        account.State.Outbox.Clear();
                        return true;
                    }, _ => true);
                    await SetOutboxReminderAsync(false);
                    return;
                case DeliveryOutcome.RecipientBlocked:
                    // Removed from a group: that chat is gone, the user is not.
                    await UpdateAsync(account => account.State.Outbox.RemoveAll(m => m.Id == message.Id) > 0, _ => true);
                    break;
                default:
                    await UpdateAsync(account =>
                    {
                        if (account.State.Outbox.Find(m => m.Id == message.Id) is { } kept)
                            kept.Attempts++;
                        return true;
                    }, _ => true);
                    await SetOutboxReminderAsync(true);
                    return; // keep order: later messages wait behind this one
            }
        }
        await SetOutboxReminderAsync(false);
    }

    private Task? delivery;

    private sealed class NoTyping : IAsyncDisposable
    {
        public static readonly NoTyping Instance = new();
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    public Task ReceiveReminder(string reminderName, TickStatus status) => DeliverOutboxAsync();

    /// <summary>Whether the outbox reminder is registered, once known (null: ask the reminder service).</summary>
    private bool? outboxReminderSet;

    private async Task SetOutboxReminderAsync(bool wanted)
    {
        // A delivery loop ending and a new notification can both get here, interleaved: one at a time,
        // or the flag could say "unset" while the reminder stays registered (and ticks for ever).
        await outboxReminderLock.WaitAsync();
        try
        {
            if (outboxReminderSet == wanted)
                return;
            var existing = await this.GetReminder(OutboxReminder);
            if (wanted && existing is null)
                await this.RegisterOrUpdateReminder(OutboxReminder, RecoveryReminders.Period, RecoveryReminders.Period);
            else if (!wanted && existing is not null)
                await this.UnregisterReminder(existing);
            outboxReminderSet = wanted;
        }
        finally
        {
            outboxReminderLock.Release();
        }
    }

    private readonly SemaphoreSlim outboxReminderLock = new(1, 1);

    public async Task<IReadOnlyList<ChatReply>> HandleMessageAsync(IncomingMessage message)
    {
        // Telegram redelivers an update when its offset was not confirmed; answer each only once.
        if (message.UpdateId is { } updateId && !await TryMarkUpdateProcessedAsync(updateId))
            return [new ChatReply("", ReplyKind.Duplicate)];
        // The conversation calls this grain's own methods directly (same turn, no reentrancy).
        return await conversation.HandleAsync(this.GetPrimaryKeyLong(), this, message);
    }

    private UserAccount Account => new(user.State, options.Value, clock);

    public async Task<OperationResult<AlertView>> AddAlertAsync(AlertRequest request)
    {
        var result = await UpdateAsync(account => account.AddAlert(request), r => r.Ok);
        if (result.Ok)
            await RegisterAsync(result.Value!, add: true);
        return result;
    }

    public Task<IReadOnlyList<AlertView>> GetAlertsAsync(bool includeTriggered = false) =>
        Task.FromResult(Account.GetAlerts(includeTriggered));

    public async Task<OperationResult<AlertView>> RemoveAlertAsync(int alertId)
    {
        var result = await UpdateAsync(account => account.RemoveAlert(alertId), r => r.Ok);
        if (result.Ok)
            await RegisterAsync(result.Value!, add: false);
        return result;
    }

    public async Task<AlertFiredResult> OnAlertFiredAsync(AlertFired fired)
    {
        // One write marks the alert and puts the notification in the outbox: a crash after it
        // still delivers (outbox on reactivation), a crash before it gets the crossing retried.
        PriceAlert? notify = null;
        var result = await UpdateAsync(account =>
        {
            (var outcome, notify) = account.OnAlertFired(fired);
            // A user who blocked the bot gets nothing (the alert is still marked, so it does not fire again).
            if (notify is not null && account.State.Active)
                Enqueue(account.State, this.GetPrimaryKeyLong(), AlertNotification.For(notify, fired), null, null);
            return outcome;
        }, _ => notify is not null);
        if (notify is not null)
        {
            // Sent at once but not awaited: the price watch tells many owners per crossing and must
            // not wait on Telegram. It is acknowledged once the outbox reminder is set, which brings
            // the grain back to send it should this silo die first (before that, the watch retries).
            DeliverOutboxAsync().ContinueWith(t => LogDeliveryFailed(t.Exception!.GetBaseException().GetType().Name, this.GetPrimaryKeyLong()),
                CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Current).Ignore();
            await SetOutboxReminderAsync(true);
        }
        return result;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivering the outbox of user {UserId} failed ({Error}); the outbox reminder retries it")]
    private partial void LogDeliveryFailed(string error, long userId);

    /// <summary>
    /// Keeps the symbol's price watch in step with this grain, the alerts' source of truth. A failed
    /// call is only logged: the next activation re-syncs every symbol.
    /// </summary>
    private async Task RegisterAsync(AlertView alert, bool add)
    {
        var entry = new AlertEntry(alert.Threshold, this.GetPrimaryKeyLong(), alert.Id, alert.Condition);
        var watch = GrainFactory.GetGrain<IPriceWatchGrain>(alert.Symbol);
        try
        {
            await (add ? watch.AddAsync(entry) : watch.RemoveAsync(entry));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogWatchFailed(ex.GetType().Name, this.GetPrimaryKeyLong(), alert.Symbol);
        }
    }

    private async Task SyncPriceWatchesAsync()
    {
        var account = Account;
        var armed = user.State.Alerts.Where(account.IsActive).GroupBy(a => a.Symbol);
        foreach (var symbol in armed)
        {
            try
            {
                await GrainFactory.GetGrain<IPriceWatchGrain>(symbol.Key)
                    .SyncUserAsync(this.GetPrimaryKeyLong(), symbol.Select(a => new AlertEntry(a.Threshold, this.GetPrimaryKeyLong(), a.Id, a.Condition)).ToList());
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogWatchFailed(ex.GetType().Name, this.GetPrimaryKeyLong(), symbol.Key);
            }
        }
    }

    public Task<OperationResult<TradeReceipt>> BuyAsync(string symbol, decimal amount, decimal price) =>
        UpdateAsync(account => account.Buy(symbol, amount, price), r => r.Ok);

    public Task<OperationResult<TradeReceipt>> SellAsync(string symbol, decimal amount, decimal price) =>
        UpdateAsync(account => account.Sell(symbol, amount, price), r => r.Ok);

    public Task<PortfolioView> GetPortfolioAsync() => Task.FromResult(Account.GetPortfolio());

    public Task<EffectiveSettings> GetSettingsAsync() => Task.FromResult(Account.GetSettings());

    public Task<EffectiveSettings> SetResponseFormatAsync(ResponseFormat format) =>
        UpdateAsync(account =>
        {
            account.State.Settings.ResponseFormat = format;
            return account.GetSettings();
        }, _ => true);

    public Task<OperationResult<EffectiveSettings>> SetDefaultTimeframeAsync(string timeframe) =>
        UpdateAsync(account => account.SetDefaultTimeframe(timeframe), r => r.Ok);

    public Task<EffectiveSettings> SetRiskToleranceAsync(RiskTolerance tolerance) =>
        UpdateAsync(account =>
        {
            account.State.Settings.RiskTolerance = tolerance;
            return account.GetSettings();
        }, _ => true);

    public Task<IReadOnlyList<ChatTurn>> GetHistoryAsync() =>
        Task.FromResult<IReadOnlyList<ChatTurn>>(user.State.History.ToList());

    public Task AppendExchangeAsync(string question, string answer) =>
        UpdateAsync(account =>
        {
            account.AppendExchange(question, answer);
            return true;
        }, _ => true);

    public Task ResetHistoryAsync() =>
        UpdateAsync(account =>
        {
            account.State.History.Clear();
            return true;
        }, _ => true);

    public Task<bool> TryMarkUpdateProcessedAsync(long updateId) =>
        UpdateAsync(account => account.TryMarkUpdateProcessed(updateId), first => first);

    /// <summary>
    /// Applies a change and persists it. On an ETag conflict (another activation of this grain
    /// wrote meanwhile, e.g. during a silo failover) Orleans' advice is to re-read the stored
    /// state and apply the change again to it, never to overwrite blindly. On any other storage
    /// failure the in-memory state is reloaded so it never drifts from what Redis holds.
    /// </summary>
    private async Task<T> UpdateAsync<T>(Func<UserAccount, T> change, Func<T, bool> changed)
    {
        if (handlingUpdate.Value is not null)
        {
            // Part of handling an update: applied now, written with the update's replies (CommitHandlingAsync).
            await HoldWriteLockForHandlingAsync();
            return change(Account);
        }
        // Alert notifications interleave with a long turn; writes must not overlap (ETag).
        await writeLock.WaitAsync();
        try
        {
            return await ApplyAndWriteAsync(change, changed);
        }
        finally
        {
            writeLock.Release();
        }
    }

    private readonly SemaphoreSlim writeLock = new(1, 1);

    private async Task<T> ApplyAndWriteAsync<T>(Func<UserAccount, T> change, Func<T, bool> changed)
    {
        for (var attempt = 1; ; attempt++)
        {
            user.State.CreatedAt ??= clock.GetUtcNow();
            var result = change(Account);
            if (!changed(result))
                return result;
            try
            {
                await user.WriteStateAsync();
                return result;
            }
            catch (InconsistentStateException ex) when (attempt < MaxWriteAttempts)
            {
                LogEtagConflict(this.GetPrimaryKeyLong(), attempt, ex.Message);
                await user.ReadStateAsync();
            }
            catch (Exception ex)
            {
                LogWriteFailed(ex, this.GetPrimaryKeyLong());
                await ReloadOrDeactivateAsync();
                throw new UserStateUnavailableException("Your data could not be saved just now; nothing was changed. Please try again in a moment.", ex);
            }
        }
    }

    private async Task ReloadOrDeactivateAsync()
    {
        try
        {
            await user.ReadStateAsync();
        }
        catch (Exception ex)
        {
            // Storage is unreachable: drop this activation so the next call starts from what Redis holds.
            LogReloadFailed(ex, this.GetPrimaryKeyLong());
            DeactivateOnIdle();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Price watch call failed ({Error}) for user {UserId} on {Symbol}; it re-syncs on next activation")]
    private partial void LogWatchFailed(string error, long userId, string symbol);

    [LoggerMessage(Level = LogLevel.Information, Message = "User {UserId} blocked the bot; dropped {Count} undelivered message(s)")]
    private partial void LogBlocked(long userId, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "User {UserId} hit the {Kind} rate limit")]
    private partial void LogRateLimited(long userId, string kind);

    [LoggerMessage(Level = LogLevel.Warning, Message = "ETag conflict writing user {UserId} (attempt {Attempt}): {Reason}; re-reading and re-applying")]
    private partial void LogEtagConflict(long userId, int attempt, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not persist state of user {UserId}")]
    private partial void LogWriteFailed(Exception ex, long userId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not reload state of user {UserId}; deactivating")]
    private partial void LogReloadFailed(Exception ex, long userId);
}
