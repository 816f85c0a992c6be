using System.Threading.RateLimiting;
using Engram.Abstractions.Conversation;
using Engram.Abstractions.Delivery;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Telegram.Bot;
using Telegram.Bot.Exceptions;
using Telegram.Bot.Types;
using Telegram.Bot.Types.Enums;
using Telegram.Bot.Types.ReplyMarkups;

namespace Engram.Telegram;

/// <summary>
/// This silo's sender. It waits for Telegram's limits before sending (about 1 message/s per chat
/// with small bursts, 20/min per group, and this silo's share of the bot's 30/s), honours 429
/// retry_after, reports 403 as a block, and falls back to plain text when Telegram rejects the HTML.
/// </summary>
public sealed partial class TelegramMessenger : IMessenger, IDisposable
{
    private static readonly TimeSpan MaxWaitForLimits = TimeSpan.FromSeconds(60);

    private readonly ITelegramBotClient client;
    private readonly TelegramOptions options;
    private readonly IClusterMembershipService membership;
    private readonly TelegramMetrics metrics;
    private readonly ILogger<TelegramMessenger> logger;
    // Null when switched off. A partition exists only while its chat is limited: a limiter kept for
    // every chat ever seen would grow with the users and be scanned ten times a second.
    private readonly PartitionedRateLimiter<long>? perChat;
    private readonly PartitionedRateLimiter<long>? perGroup;
    private readonly Lock overallGate = new();
    private (int Silos, RateLimiter Limiter)? overall;

    public TelegramMessenger(ITelegramBotClient client, IOptions<TelegramOptions> options, IClusterMembershipService membership,
        TelegramMetrics metrics, ILogger<TelegramMessenger> logger)
    {
        this.client = client;
        this.options = options.Value;
        this.membership = membership;
        this.metrics = metrics;
        this.logger = logger;
        var o = this.options;
        // A limit of 0 is off (benchmarks against a local stand-in only).
        perChat = o.MessagesPerSecondPerChat <= 0 ? null
            : PartitionedRateLimiter.Create<long, long>(chat => RateLimitPartition.GetTokenBucketLimiter(chat, _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = o.ChatBurst,
                TokensPerPeriod = 1,
                ReplenishmentPeriod = TimeSpan.FromSeconds(1 / o.MessagesPerSecondPerChat),
                QueueLimit = 1000,
                QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
                AutoReplenishment = true,
            }));
        perGroup = o.MessagesPerMinutePerGroup <= 0 ? null
            : PartitionedRateLimiter.Create<long, long>(chat => RateLimitPartition.GetSlidingWindowLimiter(chat, _ => new SlidingWindowRateLimiterOptions
            {
                PermitLimit = o.MessagesPerMinutePerGroup, Window = TimeSpan.FromMinutes(1), SegmentsPerWindow = 6,
                QueueLimit = 1000, QueueProcessingOrder = QueueProcessingOrder.OldestFirst, AutoReplenishment = true,
            }));
    }

    public bool IsEnabled => true;

    public async Task<DeliveryOutcome> SendAsync(OutgoingMessage message, CancellationToken cancellationToken)
    {
        var (userId, chatId, reply, callbackQueryId, _) = message;
        if (callbackQueryId is not null)
            await AnswerCallbackAsync(callbackQueryId, cancellationToken);
        if (reply.Text.Length == 0 && reply.Photo is null)
            return DeliveryOutcome.Delivered;

        var keyboard = Keyboard(userId, reply.Buttons);
        // A digest is bulk: it waits while alerts and replies wait for the bot-wide limit (a storm of alerts goes first).
        var bulk = reply.Kind == ReplyKind.Digest;
        // A streamed answer's first part replaces its draft (an edit, also safe to repeat); its chart follows the text.
        var draft = reply.EditMessageId is { } id ? (int?)id : null;
        if (reply.Photo is { } photo && draft is null)
        {
            var caption = reply.Text.Length <= TelegramText.MaxCaptionLength ? reply.Text : "";
            var outcome = await SendWithRetriesAsync(chatId, ct => client.SendPhoto(chatId, InputFile.FromStream(new MemoryStream(photo), "chart.png"),
                TelegramText.Html(caption), ParseMode.Html, replyMarkup: caption.Length > 0 ? keyboard : null, cancellationToken: ct), null, cancellationToken, bulk);
            if (outcome != DeliveryOutcome.Delivered || caption.Length > 0)
                return outcome;
        }

        var photoAfter = draft is null ? null : reply.Photo;
        var plainParts = TelegramText.Split(reply.Text);
        for (var i = 0; i < plainParts.Count; i++)
        {
            var plain = plainParts[i];
            var markup = i == plainParts.Count - 1 && photoAfter is null ? keyboard : null;
            Func<string, ParseMode, CancellationToken, Task> send = i == 0 && draft is { } messageId
                ? (text, mode, ct) => EditOrSendAsync(chatId, messageId, text, mode, markup, ct)
                : (text, mode, ct) => client.SendMessage(chatId, text, mode, replyMarkup: markup, cancellationToken: ct);
            var outcome = await SendWithRetriesAsync(chatId,
                ct => send(TelegramText.Html(plain), ParseMode.Html, ct),
                ct => send(plain, ParseMode.None, ct),
                cancellationToken, bulk);
            if (outcome != DeliveryOutcome.Delivered)
                return outcome;
        }
        return photoAfter is { } chart
            ? await SendWithRetriesAsync(chatId, ct => client.SendPhoto(chatId, InputFile.FromStream(new MemoryStream(chart), "chart.png"),
                replyMarkup: keyboard, cancellationToken: ct), null, cancellationToken, bulk)
            : DeliveryOutcome.Delivered;
    }

    /// <summary>Replaces a draft with the final text; a draft the user deleted (or that cannot be edited) gets a new message.</summary>
    private async Task EditOrSendAsync(long chatId, int messageId, string text, ParseMode parseMode, InlineKeyboardMarkup? markup, CancellationToken cancellationToken)
    {
        try
        {
            await client.EditMessageText(chatId, messageId, text, parseMode, replyMarkup: markup, cancellationToken: cancellationToken);
        }
        catch (ApiRequestException ex) when (ex.ErrorCode == 400 && ex.Message.Contains("message is not modified", StringComparison.OrdinalIgnoreCase))
        {
            // A retried edit that had already gone through: the draft already shows the final text.
        }
        catch (ApiRequestException ex) when (ex.ErrorCode == 400 && !ex.Message.Contains("parse entities", StringComparison.OrdinalIgnoreCase))
        {
            // The draft cannot take it (deleted, too old to edit): the final text goes as a new message rather than
            // being dropped. An HTML error is left to the caller, which resends as plain text.
            LogDraftNotEditable(chatId, ex.Message);
            await client.SendMessage(chatId, text, parseMode, replyMarkup: markup, cancellationToken: cancellationToken);
        }
    }

    /// <param name="plainFallback">Sent instead when Telegram cannot parse the HTML entities.</param>
    private async Task<DeliveryOutcome> SendWithRetriesAsync(long chatId, Func<CancellationToken, Task> send, Func<CancellationToken, Task>? plainFallback,
        CancellationToken cancellationToken, bool bulk = false)
    {
        for (var attempt = 0; ; attempt++)
        {
            if (!await WaitForLimitsAsync(chatId, cancellationToken, bulk))
                return DeliveryOutcome.RetryLater;
            try
            {
                // The caller's token bounds the waits only: a request once on the wire is seen
                // through (bounded by the HTTP timeout), since cancelling it would leave "sent?" open.
                await send(CancellationToken.None);
                metrics.MessageSent();
                return DeliveryOutcome.Delivered;
            }
            catch (ApiRequestException ex) when (ex.ErrorCode == 429)
            {
                metrics.TooManyRequests();
                var retryAfter = TimeSpan.FromSeconds(Math.Max(1, ex.Parameters?.RetryAfter ?? 1));
                LogTooManyRequests(chatId, retryAfter.TotalSeconds, attempt + 1);
                if (attempt >= options.MaxRetriesOn429 || !await DelayAsync(retryAfter, cancellationToken))
                    return DeliveryOutcome.RetryLater;
            }
            catch (ApiRequestException ex) when (ex.ErrorCode == 403)
            {
                metrics.Error(403);
                LogForbidden(chatId, ex.Message);
                return DeliveryOutcome.RecipientBlocked;
            }
            catch (ApiRequestException ex) when (ex.ErrorCode == 400 && plainFallback is not null && ex.Message.Contains("parse entities", StringComparison.OrdinalIgnoreCase))
            {
                LogPlainFallback(chatId, ex.Message);
                send = plainFallback;
                plainFallback = null;
            }
            catch (ApiRequestException ex) when (ex.ErrorCode is 401 or 404)
            {
                // The token is wrong or revoked: an operator's problem, not the message's. Keep it
                // (it is retried), and say so loudly, once a minute rather than once per message.
                metrics.Error(ex.ErrorCode);
                if (Interlocked.Exchange(ref lastTokenComplaint, Environment.TickCount64) < Environment.TickCount64 - 60_000)
                    LogTokenRefused(ex.ErrorCode);
                return DeliveryOutcome.RetryLater;
            }
            catch (ApiRequestException ex) when (ex.ErrorCode is >= 400 and < 500)
            {
                metrics.Error(ex.ErrorCode);
                LogRejected(chatId, ex.ErrorCode, ex.Message);
                return DeliveryOutcome.Rejected;
            }
            catch (Exception ex) when (ex is RequestException or HttpRequestException or TaskCanceledException)
            {
                metrics.Error(ex is ApiRequestException api ? api.ErrorCode : 0);
                LogTransient(chatId, ex.GetType().Name, ex.Message);
                return DeliveryOutcome.RetryLater;
            }
        }
    }

    /// <summary>Senders that are not bulk waiting for the bot-wide limit: while there are any, bulk waits.</summary>
    private int urgentWaiting;

    private async Task<bool> WaitForLimitsAsync(long chatId, CancellationToken cancellationToken, bool bulk = false)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(MaxWaitForLimits);
        var counted = false;
        try
        {
            using var chat = perChat is null ? null : await perChat.AcquireAsync(chatId, 1, timeout.Token);
            using var group = perGroup is null || chatId >= 0 ? null : await perGroup.AcquireAsync(chatId, 1, timeout.Token);
            if (options.MessagesPerSecondOverall <= 0)
                return chat?.IsAcquired != false && group?.IsAcquired != false;
            if (bulk)
            {
                // Bulk never queues: it takes a permit only when no alert or reply waits and one is spare right now,
                // and it gives up soon, so what follows it in the user's outbox is not held up.
                timeout.CancelAfter(BulkMaxWait);
                while (true)
                {
                    if (Volatile.Read(ref urgentWaiting) == 0 && Overall().AttemptAcquire(1) is { IsAcquired: true } spare)
                    {
                        spare.Dispose();
                        return chat?.IsAcquired != false && group?.IsAcquired != false;
                    }
                    await Task.Delay(BulkYield, timeout.Token);
                }
            }
            Interlocked.Increment(ref urgentWaiting);
            counted = true;
            using var all = await Overall().AcquireAsync(1, timeout.Token);
            return chat?.IsAcquired != false && group?.IsAcquired != false && all.IsAcquired;
        }
        catch (OperationCanceledException)
        {
            // The limits did not allow it within the wait (or the caller's budget): nothing was sent.
            return false;
        }
        finally
        {
            if (counted)
                Interlocked.Decrement(ref urgentWaiting);
        }
    }

    /// <summary>How long a bulk message (a digest) waits for a spare permit before it is left for later.</summary>
    private static readonly TimeSpan BulkMaxWait = TimeSpan.FromSeconds(1);

    /// <summary>How often a bulk sender looks again whether alerts and replies still wait.</summary>
    private static readonly TimeSpan BulkYield = TimeSpan.FromMilliseconds(20);

    private static async Task<bool> DelayAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, cancellationToken);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>The bot-wide 30/s is shared by the active silos: each takes an equal share, re-divided when the cluster changes.</summary>
    private RateLimiter Overall()
    {
        var silos = Math.Max(1, membership.CurrentSnapshot.Members.Count(m => m.Value.Status == SiloStatus.Active));
        lock (overallGate)
        {
            if (overall is { } current && current.Silos == silos)
                return current.Limiter;
            var share = Math.Max(1, options.MessagesPerSecondOverall / silos);
            var limiter = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
            {
                TokenLimit = share, TokensPerPeriod = share, ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                QueueLimit = 10_000, QueueProcessingOrder = QueueProcessingOrder.OldestFirst, AutoReplenishment = true,
            });
            overall = (silos, limiter);
            return limiter;
        }
    }

    private async Task AnswerCallbackAsync(string callbackQueryId, CancellationToken cancellationToken)
    {
        try
        {
            await client.AnswerCallbackQuery(callbackQueryId, cancellationToken: cancellationToken);
        }
        catch (Exception ex) when (ex is RequestException or HttpRequestException)
        {
            // An expired query (over 15 minutes old) cannot be answered; the reply still goes out.
            LogCallbackFailed(ex.Message);
        }
    }

    private static InlineKeyboardMarkup? Keyboard(long userId, IReadOnlyList<ReplyButton>? buttons) =>
        buttons is not { Count: > 0 } ? null
            : new InlineKeyboardMarkup(buttons.Chunk(3).Select(row => row.Select(b => InlineKeyboardButton.WithCallbackData(b.Label, CallbackData.Create(userId, b.Command)))));

    public IAsyncDisposable BeginTyping(long chatId) => new Typing(client, chatId);

    /// <summary>Private chats only: a group's 20 messages a minute would go to draft edits.</summary>
    public IAnswerDraft BeginDraft(long chatId) => chatId < 0 ? NoDraft.Instance : new Draft(this, chatId);

    /// <summary>One edit of a draft: sent as plain text (a half-written answer can break HTML), within the chat's limits.</summary>
    private async Task<int?> ShowDraftAsync(long chatId, int? messageId, string text)
    {
        // A draft barely waits for the limits: the next second brings a newer text anyway, and real messages come first.
        using var budget = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        if (!await WaitForLimitsAsync(chatId, budget.Token))
            return messageId;
        var shown = text.Length <= TelegramText.MaxMessageLength - 2 ? text + " …" : text[..(TelegramText.MaxMessageLength - 2)] + " …";
        try
        {
            if (messageId is { } id)
            {
                await client.EditMessageText(chatId, id, shown, ParseMode.None);
                return id;
            }
            var message = await client.SendMessage(chatId, shown, ParseMode.None);
            metrics.MessageSent();
            return message.MessageId;
        }
        catch (Exception ex) when (ex is RequestException or HttpRequestException or TaskCanceledException)
        {
            // Cosmetic: the final text is delivered by the outbox whatever happens to the draft.
            LogDraftFailed(chatId, ex.GetType().Name, ex.Message);
            return messageId;
        }
    }

    /// <summary>
    /// A streamed answer in one message: once the model has been writing for <see cref="Every"/>, the words so far are
    /// sent, then the message is edited with the latest text at most once every <see cref="Every"/> (Telegram's pace
    /// for one chat), until disposed. An answer that is complete within the first second is sent whole, with no draft.
    /// </summary>
    private sealed class Draft(TelegramMessenger owner, long chatId) : IAnswerDraft
    {
        public static readonly TimeSpan Every = TimeSpan.FromSeconds(1);

        private readonly CancellationTokenSource stop = new();
        private readonly Lock gate = new();
        private string? latest;
        private Task? loop;
        private int? messageId;

        public long? MessageId => messageId;

        public void Show(string textSoFar)
        {
            lock (gate)
            {
                latest = textSoFar;
                loop ??= Task.Run(ShowLatestAsync);
            }
        }

        private async Task ShowLatestAsync()
        {
            string? shown = null;
            while (true)
            {
                try
                {
                    await Task.Delay(Every, stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                string? text;
                lock (gate)
                    text = latest;
                if (text is not null && text != shown)
                {
                    try
                    {
                        messageId = await owner.ShowDraftAsync(chatId, messageId, text);
                    }
                    catch (Exception ex) when (ex is not OutOfMemoryException)
                    {
                        // A draft is cosmetic; nothing about it may stop the answer (e.g. limiters disposed at shutdown).
                        owner.LogDraftFailed(chatId, ex.GetType().Name, ex.Message);
                        return;
                    }
                    shown = text;
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            Task? running;
            lock (gate)
                running = loop;
            await stop.CancelAsync();
            if (running is not null)
                await running;
        }
    }

    public void Dispose()
    {
        perChat?.Dispose();
        perGroup?.Dispose();
        overall?.Limiter.Dispose();
    }

    /// <summary>"typing…" lasts 5 s in Telegram; renewing every 4 s keeps it on until the answer is sent.</summary>
    private sealed class Typing : IAsyncDisposable
    {
        private readonly CancellationTokenSource stop = new();
        private readonly Task loop;

        public Typing(ITelegramBotClient client, long chatId) =>
            loop = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    try
                    {
                        await client.SendChatAction(chatId, ChatAction.Typing, cancellationToken: stop.Token);
                        await Task.Delay(TimeSpan.FromSeconds(4), stop.Token);
                    }
                    catch (OperationCanceledException) { return; }
                    catch (Exception ex) when (ex is RequestException or HttpRequestException) { return; } // cosmetic: never worth a retry
                }
            });

        public async ValueTask DisposeAsync()
        {
            await stop.CancelAsync();
            await loop;
            stop.Dispose();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Telegram 429 for chat {ChatId}: waiting {RetryAfter} s (attempt {Attempt})")]
    private partial void LogTooManyRequests(long chatId, double retryAfter, int attempt);

    private long lastTokenComplaint = long.MinValue / 2;

    [LoggerMessage(Level = LogLevel.Error, Message = "Telegram answers {Status} to the bot token: it is wrong or was revoked. Messages are kept and retried; check telegram:bot_token (TELEGRAM_BOT_TOKEN)")]
    private partial void LogTokenRefused(int status);

    [LoggerMessage(Level = LogLevel.Information, Message = "Telegram 403 for chat {ChatId}: {Reason}")]
    private partial void LogForbidden(long chatId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Telegram could not parse the HTML for chat {ChatId} ({Reason}); resending as plain text")]
    private partial void LogPlainFallback(long chatId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Telegram rejected a message for chat {ChatId} with {Status}: {Reason}; dropped")]
    private partial void LogRejected(long chatId, int status, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sending to chat {ChatId} failed ({Error}: {Reason}); kept for a later retry")]
    private partial void LogTransient(long chatId, string error, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "The draft in chat {ChatId} cannot be edited ({Reason}); the final answer goes as a new message")]
    private partial void LogDraftNotEditable(long chatId, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Showing the draft answer in chat {ChatId} failed ({Error}: {Reason}); the final text still follows")]
    private partial void LogDraftFailed(long chatId, string error, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "answerCallbackQuery failed: {Reason}")]
    private partial void LogCallbackFailed(string reason);
}
