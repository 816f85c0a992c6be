using Engram.Abstractions.Alerts;
using Engram.Abstractions.Common;
using Engram.Abstractions.Conversation;
using Engram.Abstractions.Delivery;
using Engram.Abstractions.Inbox;
using Engram.Abstractions.Users;
using Engram.Grains.Alerts;
using Engram.Grains.Conversation;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Storage;

namespace Engram.Grains.Users;

/// <summary>
/// The single owner of one Telegram user's data. Every turn is short and does one thing: accept
/// an update (run a command, or hand a question to the LLM worker), take an answer back, record an
/// alert crossing, or send the outbox. Orleans runs one turn at a time (the grain is not reentrant),
/// so nothing here needs a lock; each turn ends with at most one state write plus the sends.
/// </summary>
public sealed partial class UserGrain(
    [PersistentState(stateName: "user", storageName: StorageNames.Users)] IPersistentState<UserState> user,
    IOptions<UserGrainOptions> options,
    ConversationService conversation,
    Digests.DigestBuilder digests,
    IOptions<Digests.DigestOptions> digestOptions,
    IMessenger messenger,
    Telemetry.EngramMetrics metrics,
    TimeProvider clock,
    ILogger<UserGrain> logger) : Grain, IUserGrain, IRemindable
{
    /// <summary>Ticks while something must survive this silo: a question being answered, a notification not yet sent.</summary>
    private const string RecoveryReminder = RecoveryReminders.UserWork;

    /// <summary>Telegram gives up redelivering an update after a day; a stored reply older than that is never sent.</summary>
    private static readonly TimeSpan DormantRepliesKept = TimeSpan.FromHours(24);

    /// <summary>A question not answered in this long (a lost one-way call) is asked again.</summary>
    private static readonly TimeSpan AskAgainAfter = TimeSpan.FromMinutes(5);

    /// <summary>How long one turn waits for the transport's send limits (Telegram's 1/s per chat, 30/s per bot).</summary>
    private static readonly TimeSpan DeliveryBudget = TimeSpan.FromSeconds(5);

    /// <summary>Storage retries stay inside the caller's 30 s response timeout.</summary>
    private static readonly TimeSpan StorageRetryBudget = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Stored replies loaded after a crash, which may or may not have been sent: they go out only if
    /// their update is redelivered (it is, when the crash came before Telegram got its answer).
    /// </summary>
    private readonly HashSet<long> dormant = [];

    /// <summary>Questions this activation handed to the LLM worker, and when.</summary>
    private readonly Dictionary<long, DateTimeOffset> asked = [];

    private UserRateLimits limits = null!;
    private bool? reminderSet;

    /// <summary>
    /// Outbox messages sent since the last stored write: their removal rides on the next write, and a
    /// reload must not bring them back (that would send them twice).
    /// </summary>
    private readonly HashSet<long> sentSinceWrite = [];

    /// <summary>Storage could not even be read back after a failure: this activation writes nothing more and goes away.</summary>
    private bool poisoned;

    /// <summary>A write after sends failed: memory holds what storage lacks (never reloaded away, or a sent message would go again).</summary>
    private bool unsaved;

    private long UserId => this.GetPrimaryKeyLong();

    private UserAccount Account => new(user.State, options.Value, clock);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        metrics.UserActivated();
        limits = new UserRateLimits(options.Value, clock);
        foreach (var message in user.State.Outbox.Where(m => !m.DeliverOnRecovery))
            dormant.Add(message.Id);
        var leftOver = user.State.PendingQuestions.Count > 0 || user.State.Outbox.Any(m => m.DeliverOnRecovery) || DigestUnconfirmed;
        // Nothing left over means no recovery reminder was needed: asking the reminder table would cost
        // every new user a Redis read (one left behind by a crash says so when it ticks).
        if (!leftOver)
            reminderSet = false;
        var account = Account;
        if (!leftOver && !user.State.Alerts.Any(account.IsActive))
            return Task.CompletedTask;
        // Work a previous activation left (a crash): notifications to send, questions to ask again,
        // and the price watches re-synced with this grain's alerts (it is their source of truth).
        this.RegisterGrainTimer(async _ =>
        {
            if (DigestUnconfirmed)
                await TellDigestShardAsync(durable: true);
            await SyncPriceWatchesAsync();
            AskNextQuestion();
            await DeliverAsync();
        }, new GrainTimerCreationOptions(TimeSpan.Zero, Timeout.InfiniteTimeSpan));
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        metrics.UserDeactivated();
        // A graceful goodbye (idle, a deploy) stores what was sent, so the next activation has nothing to wonder about.
        if (sentSinceWrite.Count == 0 || poisoned)
            return;
        try
        {
            await user.WriteStateAsync();
        }
        catch (Exception ex)
        {
            // One try: a silo shutting down may not wait. The stored copies stay dormant (sent only on a redelivery).
            LogGoodbyeWriteFailed(UserId, ex.GetType().Name);
        }
    }

    // ---------------------------------------------------------------- the update path

    public async Task<UpdateOutcome> AcceptAsync(InboundUpdate update)
    {
        // Every log line while handling carries who and which update (never the message text).
        using var scope = logger.BeginScope(new Dictionary<string, object> { ["UserId"] = UserId, ["UpdateId"] = update.UpdateId });
        if (user.State.ProcessedUpdateIds.Contains(update.UpdateId))
        {
            // Redelivered: nothing runs again; replies of it that may not have reached the user go out now.
            foreach (var stored in user.State.Outbox.Where(m => m.UpdateId == update.UpdateId))
                dormant.Remove(stored.Id);
            LogRedelivered(update.UpdateId);
            await DeliverAsync();
            return UpdateOutcome.Duplicate;
        }

        var session = new UserSession(UserId, update.ChatId, update.UpdateId, Account);
        IReadOnlyList<ChatReply> replies;
        try
        {
            replies = await RepliesForAsync(update, session);
        }
        catch
        {
            // Not handled (a cancellation): whatever the handler changed in memory goes; the update is redelivered.
            await ReloadAsync();
            throw;
        }
        if (session.DiscardChanges)
            await ReloadAsync();
        Record(update, replies, session.DiscardChanges ? null : session.Question);
        await WriteOrDiscardAsync();

        if (!session.DiscardChanges)
        {
            foreach (var (alert, added) in session.AlertChanges)
                await TellPriceWatchAsync(alert, added);
            if (session.DigestChanged)
                await TellDigestShardAsync(durable: true);
            if (session.Question is not null)
            {
                await SettleReminderAsync();
                AskNextQuestion();
            }
        }
        await DeliverAsync();
        return session.Question is null || session.DiscardChanges ? UpdateOutcome.Answered : UpdateOutcome.Thinking;
    }

    private async Task<IReadOnlyList<ChatReply>> RepliesForAsync(InboundUpdate update, UserSession session)
    {
        if (update.Kind == InboundKind.Unsupported)
            return update.IsGroup ? [] : [ChatReply.Notice("I can read text messages and commands only. Send /help to see what I can do.")];

        var isCommand = update.Text.TrimStart().StartsWith('/');
        switch (limits.TryAcquire(isCommand))
        {
            case RateDecision.Allowed:
                return await conversation.HandleAsync(session, update.Text);
            case RateDecision.FirstRefusal refused:
                // One notice per window: a flood gets one answer, not one per message.
                LogRateLimited(isCommand ? "commands" : "questions");
                return [ChatReply.Notice($"🐢 Slow down a little: I'm skipping what you send for the next {refused.WaitSeconds} s. Send it again after that.")];
            default:
                metrics.Error("rate-limited");
                return [];
        }
    }

    /// <summary>The update's effect is already in memory; this adds the processed marker, the replies and the question.</summary>
    private void Record(InboundUpdate update, IReadOnlyList<ChatReply> replies, PendingQuestion? question)
    {
        var account = Account;
        user.State.CreatedAt ??= clock.GetUtcNow();
        account.TryMarkUpdateProcessed(update.UpdateId);
        user.State.Active = true; // writing to the bot again undoes a block
        var callback = update.CallbackQueryId;
        // Without a transport on this silo nothing is sent here: the replies wait for an activation that can.
        var keep = !messenger.IsEnabled;
        foreach (var reply in replies)
        {
            Enqueue(update.ChatId, reply, update.UpdateId, callback, deliverOnRecovery: keep);
            callback = null;
        }
        if (callback is not null)
            Enqueue(update.ChatId, new ChatReply("", ReplyKind.Duplicate), update.UpdateId, callback, deliverOnRecovery: keep);
        if (question is not null)
        {
            question.AskedAt = clock.GetUtcNow();
            user.State.PendingQuestions.Add(question);
        }
        var tooOld = clock.GetUtcNow() - DormantRepliesKept;
        user.State.Outbox.RemoveAll(m => dormant.Contains(m.Id) && m.CreatedAt < tooOld && dormant.Remove(m.Id));
    }

    /// <summary>While the transport is down the outbox fills: past <see cref="UserGrainOptions.MaxUndelivered"/> the oldest give way.</summary>
    private void DropPastCapacity()
    {
        var excess = user.State.Outbox.Count - options.Value.MaxUndelivered;
        if (excess <= 0)
            return;
        var dropped = user.State.Outbox.Take(excess).ToList();
        foreach (var message in dropped)
        {
            user.State.Outbox.Remove(message);
            dormant.Remove(message.Id);
        }
        LogOutboxFull(UserId, dropped.Count, options.Value.MaxUndelivered);
    }

    private void Enqueue(long chatId, ChatReply reply, long? updateId, string? callbackQueryId, bool deliverOnRecovery)
    {
        user.State.Outbox.Add(new OutboxMessage
        {
            Id = user.State.NextOutboxId++, ChatId = chatId, Text = reply.Text, Kind = reply.Kind, Buttons = reply.Buttons?.ToList(),
            Photo = reply.Photo, UpdateId = updateId, CallbackQueryId = callbackQueryId, CreatedAt = clock.GetUtcNow(),
            DeliverOnRecovery = deliverOnRecovery, EditMessageId = reply.EditMessageId,
        });
        DropPastCapacity();
    }

    // ---------------------------------------------------------------- questions

    /// <summary>
    /// One question per user at the LLM at a time, oldest first: each is asked with the exchanges
    /// before it in its history, and answers arrive in the order they were asked. A question this
    /// activation did not ask (its answer died with a silo) or whose answer is overdue is asked again.
    /// </summary>
    private void AskNextQuestion()
    {
        if (user.State.PendingQuestions.FirstOrDefault() is not { } question)
            return;
        if (asked.TryGetValue(question.UpdateId, out var at))
        {
            if (clock.GetUtcNow() - at < AskAgainAfter)
                return;
            LogAskingAgain(UserId, question.UpdateId);
        }
        asked[question.UpdateId] = clock.GetUtcNow();
        var session = new UserSession(UserId, question.ChatId, question.UpdateId, Account);
        GrainFactory.GetGrain<ILlmWorkerGrain>(0).AnswerAsync(Questions.RequestFor(session, question)).Ignore();
    }

    public async Task OnAnswerAsync(long updateId, LlmAnswer answer)
    {
        if (user.State.PendingQuestions.Find(q => q.UpdateId == updateId) is not { } question)
            return; // answered already (a question asked twice around a crash)
        var session = new UserSession(UserId, question.ChatId, updateId, Account);
        ChatReply reply;
        try
        {
            reply = await conversation.AnswerAsync(session, question, answer);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogAnswerFailed(ex, UserId, updateId);
            // It replaces the streamed draft, if any, so no half answer is left standing.
            reply = ChatReply.Error("Something went wrong on my side while answering. Please ask again in a moment.") with { EditMessageId = answer.DraftMessageId };
        }
        user.State.PendingQuestions.Remove(question);
        asked.Remove(updateId);
        // Sent by whichever activation holds it, so it survives a crash between this write and the send.
        Enqueue(question.ChatId, reply, updateId, null, deliverOnRecovery: true);
        await WriteOrDiscardAsync();
        AskNextQuestion();
        await DeliverAsync();
    }

    public Task<int> CountPendingQuestionsAsync() => Task.FromResult(user.State.PendingQuestions.Count);

    // ---------------------------------------------------------------- alerts fired by a price watch

    public async Task<IReadOnlyList<AlertFiredResult>> OnAlertsFiredAsync(IReadOnlyList<AlertFired> fired)
    {
        var account = Account;
        var results = new List<AlertFiredResult>(fired.Count);
        var notify = new List<(PriceAlert Alert, AlertFired Fired)>();
        foreach (var crossing in fired)
        {
            var (result, alert) = account.OnAlertFired(crossing);
            results.Add(result);
            if (alert is not null)
                notify.Add((alert, crossing));
        }
        if (notify.Count == 0)
        {
            // The same crossings again (the watch retries when it did not hear back): what the first report
            // sent stays sent; its marks are stored now if that write failed, and anything stored is on its way.
            if (unsaved)
                await StoreSentMarksAsync(fired);
            await KeepStoredMessagesGoingAsync();
            return results;
        }
        // One notification for all of them; a user who blocked the bot gets nothing (the alerts are
        // still marked, so they do not fire again).
        if (user.State.Active)
            Enqueue(UserId, AlertNotification.For(notify), null, null, deliverOnRecovery: true);
        // Sent in this turn, then one write stores the marks (and the notification only if it could not go).
        // The watch keeps the crossings until this returns, so a crash before the write tells the owner
        // again: the same window a stored notification has between its send and its removal, for one
        // write per owner instead of two and no reminder unless the send failed.
        if (!await DeliverAsync(changed: true))
        {
            // Sent, not stored: the marks stay in memory (a reload would notify again). The watch asks again
            // and the next call stores them.
            throw new UserStateUnavailableException("The alert was sent but could not be stored yet; it is stored on the next try.");
        }
        return results;
    }

    /// <summary>A repeated report found nothing new: what an earlier one stored is covered by the reminder and on its way.</summary>
    private async Task KeepStoredMessagesGoingAsync()
    {
        if (!user.State.Outbox.Any(m => m.DeliverOnRecovery))
            return;
        await SettleReminderAsync();
        this.AsReference<IUserGrain>().DeliverOutboxAsync().Ignore();
    }

    /// <summary>
    /// Stores marks whose write failed after their notification went out. If another activation wrote meanwhile
    /// (ETag), its state is read and the marks applied to it again, without notifying: the message went already.
    /// </summary>
    private async Task StoreSentMarksAsync(IReadOnlyList<AlertFired> fired)
    {
        try
        {
            await WriteWithRetriesAsync();
        }
        catch (InconsistentStateException)
        {
            await ReloadAsync();
            var account = Account;
            foreach (var crossing in fired)
                account.OnAlertFired(crossing);
            await WriteWithRetriesAsync();
        }
    }

    // ---------------------------------------------------------------- digests

    public async Task DigestDueAsync(DateTimeOffset slot)
    {
        if (user.State.Digest is not { } schedule)
        {
            await TellDigestShardAsync(durable: true); // stopped meanwhile: the shard forgets this user
            return;
        }
        if ((schedule.LastSlot is { } last && slot <= last) || Digests.DigestSlots.Next(schedule, slot - TimeSpan.FromTicks(1)) != slot)
        {
            // Sent already (the shard asks again after a crash, or its rescheduling was lost), or a slot of a schedule
            // the user has since changed: only the next slot is news. What was stored is on its way.
            await TellDigestShardAsync(durable: false);
            await KeepStoredMessagesGoingAsync();
            return;
        }
        var late = clock.GetUtcNow() - slot > digestOptions.Value.MaxLateness;
        if (user.State.Active && !late)
        {
            var account = Account;
            var (reply, value) = await digests.BuildAsync(user.State.Watchlist, account.GetPortfolio(), account.GetSettings().DefaultTimeframe, schedule, slot);
            Enqueue(UserId, reply, null, null, deliverOnRecovery: true);
            schedule.LastPortfolioValue = value ?? schedule.LastPortfolioValue;
        }
        else if (late)
        {
            LogDigestSkipped(UserId, slot);
        }
        // The slot is marked in the same write that stores the digest: a slot is sent once, whoever asks again.
        schedule.LastSlot = slot;
        await WriteOrDiscardAsync();
        await SettleReminderAsync();
        await TellDigestShardAsync(durable: false);
        this.AsReference<IUserGrain>().DeliverOutboxAsync().Ignore();
    }

    /// <summary>The digest shard has not confirmed this user's schedule: the recovery reminder keeps telling it.</summary>
    private bool DigestUnconfirmed => user.State.Digest is { ShardConfirmed: false };

    /// <summary>
    /// The shard of this user learns the next slot (or that there is none). A failure is logged: an unconfirmed
    /// schedule keeps the recovery reminder, which tells the shard again, and a shard that lost a rescheduling asks
    /// for the old slot and is told the next one.
    /// </summary>
    private async Task TellDigestShardAsync(bool durable)
    {
        DateTimeOffset? next = null;
        if (user.State.Digest is { } schedule)
        {
            var after = clock.GetUtcNow();
            if (schedule.LastSlot is { } last && last > after)
                after = last;
            next = Digests.DigestSlots.Next(schedule, after);
        }
        try
        {
            await GrainFactory.GetGrain<Abstractions.Digests.IDigestShardGrain>(UserId % Abstractions.Digests.IDigestShardGrain.Count).ScheduleAsync(UserId, next, durable);
            if (durable && user.State.Digest is { } confirmed)
                confirmed.ShardConfirmed = true; // stored with the next write; until then a new activation tells the shard once more
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogWatchFailed(ex.GetType().Name, UserId, "digest shard");
        }
    }

    // ---------------------------------------------------------------- delivery

    public Task DeliverOutboxAsync() => DeliverAsync();

    public async Task RecoverAsync()
    {
        AskNextQuestion();
        await DeliverAsync();
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        reminderSet = true; // it ticked, so it exists: removed below if nothing needs it any more
        if (DigestUnconfirmed)
            await TellDigestShardAsync(durable: true);
        AskNextQuestion();
        await DeliverAsync();
    }

    /// <summary>
    /// Sends the outbox in order. A sent reply to an update is dropped in memory and leaves storage
    /// with the next write (a crash before that write is covered by the update's redelivery); a sent
    /// notification or answer is removed from storage at once, since nothing else would stop it
    /// being sent again. A failed send keeps everything after it waiting, in order, for the reminder.
    /// </summary>
    /// <returns>False when a write was due and failed (what it would have stored is still in memory).</returns>
    /// <param name="changed">The turn changed the state before: the write after the sends stores that too.</param>
    private async Task<bool> DeliverAsync(bool changed = false)
    {
        if (!messenger.IsEnabled)
        {
            if (changed && !await WriteKeepingMemoryAsync())
                return false;
            await SettleReminderAsync();
            return true;
        }
        var mustWrite = changed;
        // A turn waits for the transport's limits this long at most; what is left waits for the reminder.
        using var budget = new CancellationTokenSource(DeliveryBudget);
        // A digest the limits hold back is skipped in this pass, not waited on: alerts and replies behind it go first.
        var heldBack = new HashSet<long>();
        while (user.State.Outbox.FirstOrDefault(m => !dormant.Contains(m.Id) && !heldBack.Contains(m.Id)) is { } message)
        {
            var reply = new ChatReply(message.Text, message.Kind, message.Buttons, message.Photo, message.EditMessageId);
            var outcome = await messenger.SendAsync(new OutgoingMessage(UserId, message.ChatId, reply, message.CallbackQueryId, message.UpdateId), budget.Token);
            if (outcome is DeliveryOutcome.Delivered or DeliveryOutcome.Rejected)
            {
                user.State.Outbox.Remove(message);
                sentSinceWrite.Add(message.Id);
                mustWrite |= message.DeliverOnRecovery;
            }
            else if (outcome == DeliveryOutcome.RecipientBlocked && message.ChatId == UserId)
            {
                // The user blocked the bot: stop sending to the private chat (their next message
                // re-activates them); replies waiting for a group they are in still go.
                var dropped = user.State.Outbox.RemoveAll(m => m.ChatId == UserId);
                LogBlocked(UserId, dropped);
                user.State.Active = false;
                mustWrite = true;
            }
            else if (outcome == DeliveryOutcome.RecipientBlocked)
            {
                // Removed from a group: that chat is gone, the user is not.
                user.State.Outbox.RemoveAll(m => m.ChatId == message.ChatId);
                mustWrite = true;
            }
            else if (clock.GetUtcNow() - message.CreatedAt > options.Value.UndeliveredMaxAge)
            {
                // Refused for a day (a revoked token, a chat Telegram will not take): given up, so the rest can go.
                user.State.Outbox.Remove(message);
                LogGaveUp(UserId, message.Id, message.Attempts + 1, clock.GetUtcNow() - message.CreatedAt);
                mustWrite = true;
            }
            else if (message.Kind == ReplyKind.Digest)
            {
                message.Attempts++;
                heldBack.Add(message.Id);
                mustWrite = true;
            }
            else
            {
                message.Attempts++;
                foreach (var waiting in user.State.Outbox.Where(m => !dormant.Contains(m.Id)))
                    waiting.DeliverOnRecovery = true;
                mustWrite = true;
                break;
            }
        }
        var stored = !mustWrite || await WriteKeepingMemoryAsync();
        await SettleReminderAsync();
        return stored;
    }

    /// <summary>Registers the recovery reminder while something must outlive this silo, and removes it once nothing does.</summary>
    private async Task SettleReminderAsync()
    {
        var wanted = user.State.PendingQuestions.Count > 0 || DigestUnconfirmed
            || (messenger.IsEnabled && user.State.Outbox.Any(m => m.DeliverOnRecovery && !dormant.Contains(m.Id)));
        if (reminderSet == wanted)
            return;
        try
        {
            if (wanted)
                await this.RegisterOrUpdateReminder(RecoveryReminder, RecoveryReminders.Period, RecoveryReminders.Period);
            else if (await this.GetReminder(RecoveryReminder) is { } existing)
                await this.UnregisterReminder(existing);
            reminderSet = wanted;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The next turn tries again; until then this activation still does the work itself.
            LogReminderFailed(UserId, ex.GetType().Name);
            reminderSet = null;
            if (wanted)
                throw;
        }
    }

    // ---------------------------------------------------------------- direct operations

    public async Task<OperationResult<AlertView>> AddAlertAsync(AlertRequest request)
    {
        var result = await ApplyAsync(account => account.AddAlert(request));
        if (result.Ok)
            await TellPriceWatchAsync(result.Value!, added: true);
        return result;
    }

    public async Task<OperationResult<AlertView>> RemoveAlertAsync(int alertId)
    {
        var result = await ApplyAsync(account => account.RemoveAlert(alertId));
        if (result.Ok)
            await TellPriceWatchAsync(result.Value!, added: false);
        return result;
    }

    public Task<IReadOnlyList<AlertView>> GetAlertsAsync(bool includeTriggered = false) => Task.FromResult(Account.GetAlerts(includeTriggered));

    public Task<OperationResult<TradeReceipt>> BuyAsync(string symbol, decimal amount, decimal price) => ApplyAsync(a => a.Buy(symbol, amount, price));

    public Task<OperationResult<TradeReceipt>> SellAsync(string symbol, decimal amount, decimal price) => ApplyAsync(a => a.Sell(symbol, amount, price));

    public Task<PortfolioView> GetPortfolioAsync() => Task.FromResult(Account.GetPortfolio());

    public Task<EffectiveSettings> GetSettingsAsync() => Task.FromResult(Account.GetSettings());

    public Task<IReadOnlyList<ChatTurn>> GetHistoryAsync() => Task.FromResult<IReadOnlyList<ChatTurn>>(user.State.History.ToList());

    /// <summary>
    /// Applies one change and stores it. On an ETag conflict (another activation wrote meanwhile)
    /// Orleans' advice is to re-read and apply the change again, never to overwrite blindly.
    /// </summary>
    private async Task<OperationResult<T>> ApplyAsync<T>(Func<UserAccount, OperationResult<T>> change)
    {
        for (var attempt = 1; ; attempt++)
        {
            user.State.CreatedAt ??= clock.GetUtcNow();
            var result = change(Account);
            if (!result.Ok)
                return result;
            try
            {
                await WriteWithRetriesAsync();
                return result;
            }
            catch (InconsistentStateException ex) when (attempt < 3)
            {
                LogEtagConflict(UserId, attempt, ex.Message);
                await ReloadAsync();
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                await ReloadAsync();
                throw new UserStateUnavailableException("Your data could not be saved just now; nothing was changed. Please try again in a moment.", ex);
            }
        }
    }

    // ---------------------------------------------------------------- price watches

    /// <summary>A failed call is only logged: the next activation re-syncs every watch.</summary>
    private async Task TellPriceWatchAsync(AlertView alert, bool added)
    {
        try
        {
            if (alert.Indicator is { } spec)
            {
                var watch = GrainFactory.GetGrain<IIndicatorWatchGrain>(IndicatorAlerts.WatchKey(alert.Symbol, spec));
                await (added
                    ? watch.AddAsync(new IndicatorAlertEntry(UserId, alert.Id, spec.Line, alert.Condition, alert.Threshold, alert.CreatedAt, alert.ExpiresAt))
                    : watch.RemoveAsync(UserId, alert.Id));
            }
            else
            {
                var entry = new AlertEntry(alert.Threshold, UserId, alert.Id, alert.Condition, alert.ExpiresAt);
                var watch = GrainFactory.GetGrain<IPriceWatchGrain>(alert.Symbol);
                await (added ? watch.AddAsync(entry) : watch.RemoveAsync(entry));
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogWatchFailed(ex.GetType().Name, UserId, alert.Symbol);
        }
    }

    private async Task SyncPriceWatchesAsync()
    {
        var account = Account;
        var active = user.State.Alerts.Where(account.IsActive).ToList();
        foreach (var symbol in active.Where(a => a.Indicator is null).GroupBy(a => a.Symbol))
        {
            try
            {
                await GrainFactory.GetGrain<IPriceWatchGrain>(symbol.Key)
                    .SyncUserAsync(UserId, symbol.Select(a => new AlertEntry(a.Threshold, UserId, a.Id, a.Condition, a.ExpiresAt)).ToList());
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogWatchFailed(ex.GetType().Name, UserId, symbol.Key);
            }
        }
        foreach (var watched in active.Where(a => a.Indicator is not null).GroupBy(a => IndicatorAlerts.WatchKey(a.Symbol, a.Indicator!)))
        {
            try
            {
                await GrainFactory.GetGrain<IIndicatorWatchGrain>(watched.Key)
                    .SyncUserAsync(UserId, watched.Select(a => IndicatorAlerts.EntryOf(UserId, a)).ToList());
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogWatchFailed(ex.GetType().Name, UserId, watched.Key);
            }
        }
    }

    // ---------------------------------------------------------------- storage

    /// <summary>
    /// Writes what this turn changed. Retried through a short outage (a Redis restart); if storage
    /// stays away, or another activation wrote (ETag), the in-memory state goes back to what is
    /// stored and the caller is told, so nothing is reported done that was not stored (the update
    /// is then redelivered and handled again).
    /// </summary>
    private async Task WriteOrDiscardAsync()
    {
        try
        {
            await WriteWithRetriesAsync();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            await ReloadAsync();
            throw new UserStateUnavailableException(ex is InconsistentStateException
                ? "Your data changed elsewhere while this was handled; it will be handled again."
                : "Your data could not be saved just now; nothing was changed. Please try again in a moment.", ex);
        }
    }

    /// <summary>
    /// Writes the removal of sent messages. Never reloads on failure (that would bring a sent
    /// message back and send it twice): the removal stays in memory and goes with the next write.
    /// </summary>
    private async Task<bool> WriteKeepingMemoryAsync()
    {
        try
        {
            await WriteWithRetriesAsync();
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogWriteFailed(ex, UserId);
            unsaved = true;
            return false;
        }
    }

    private async Task WriteWithRetriesAsync()
    {
        var deadline = clock.GetUtcNow() + StorageRetryBudget;
        for (var delay = TimeSpan.FromMilliseconds(250); ; delay = TimeSpan.FromMilliseconds(Math.Min(5_000, delay.TotalMilliseconds * 2)))
        {
            if (poisoned)
                throw new UserStateUnavailableException("This user's data could not be read back after a storage failure; it is reloaded on the next call.");
            try
            {
                await user.WriteStateAsync();
                sentSinceWrite.Clear();
                unsaved = false;
                return;
            }
            catch (Exception ex) when (ex is not InconsistentStateException and not OperationCanceledException && clock.GetUtcNow() < deadline)
            {
                LogWriteRetried(UserId, ex.GetType().Name);
                await Task.Delay(delay);
            }
        }
    }

    private async Task ReloadAsync()
    {
        try
        {
            await user.ReadStateAsync();
            unsaved = false;
            // What this activation sent stays sent, whatever storage still says.
            user.State.Outbox.RemoveAll(m => sentSinceWrite.Contains(m.Id));
            dormant.Clear();
            foreach (var message in user.State.Outbox.Where(m => !m.DeliverOnRecovery))
                dormant.Add(message.Id);
        }
        catch (Exception ex)
        {
            // Storage is unreachable: what is in memory may be half a change, so nothing more is
            // written from it; the next call starts from what Redis holds.
            LogReloadFailed(ex, UserId);
            poisoned = true;
            DeactivateOnIdle();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "ETag conflict writing user {UserId} (attempt {Attempt}): {Reason}; re-reading and re-applying")]
    private partial void LogEtagConflict(long userId, int attempt, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "User {UserId}: storing the sent replies on deactivation failed ({Error})")]
    private partial void LogGoodbyeWriteFailed(long userId, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Update {UpdateId} was already handled")]
    private partial void LogRedelivered(long updateId);

    [LoggerMessage(Level = LogLevel.Information, Message = "User {UserId}: asking the LLM worker again for update {UpdateId} (no answer came)")]
    private partial void LogAskingAgain(long userId, long updateId);

    [LoggerMessage(Level = LogLevel.Error, Message = "User {UserId}: turning the answer to update {UpdateId} into a reply failed")]
    private partial void LogAnswerFailed(Exception ex, long userId, long updateId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Price watch call failed ({Error}) for user {UserId} on {Symbol}; it re-syncs on next activation")]
    private partial void LogWatchFailed(string error, long userId, string symbol);

    [LoggerMessage(Level = LogLevel.Information, Message = "User {UserId}: the digest of {Slot} came too late (an outage) and was skipped")]
    private partial void LogDigestSkipped(long userId, DateTimeOffset slot);

    [LoggerMessage(Level = LogLevel.Information, Message = "User {UserId} blocked the bot; dropped {Count} undelivered message(s)")]
    private partial void LogBlocked(long userId, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Message {MessageId} to user {UserId} dropped after {Attempts} failed attempts over {Age}")]
    private partial void LogGaveUp(long userId, long messageId, int attempts, TimeSpan age);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox of user {UserId} over {Max} waiting messages: the {Dropped} oldest dropped")]
    private partial void LogOutboxFull(long userId, int dropped, int max);

    [LoggerMessage(Level = LogLevel.Information, Message = "The user hit the {Kind} rate limit")]
    private partial void LogRateLimited(string kind);

    [LoggerMessage(Level = LogLevel.Warning, Message = "User {UserId}: recovery reminder bookkeeping failed ({Error})")]
    private partial void LogReminderFailed(long userId, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Writing the state of user {UserId} failed ({Error}); retrying")]
    private partial void LogWriteRetried(long userId, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not persist the state of user {UserId}; kept in memory for the next write")]
    private partial void LogWriteFailed(Exception ex, long userId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not reload the state of user {UserId}; deactivating")]
    private partial void LogReloadFailed(Exception ex, long userId);
}
