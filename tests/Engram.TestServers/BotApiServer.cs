using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Engram.TestServers;

/// <summary>
/// A real HTTP stand-in for the Telegram Bot API (<c>{BaseUrl}/bot{token}/{method}</c>) that unpatched clients such as
/// Telegram.Bot talk to: Bot API JSON with dates in seconds, real long polling, webhooks, and scripted faults.
/// Everything a test scripts or inspects is thread-safe; every instance is independent.
/// </summary>
public sealed partial class BotApiServer : IAsyncDisposable
{
    private const int MaxTextLength = 4096;
    private const int MaxCaptionLength = 1024;
    private const string PollConflictDescription = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running";
    private const string WebhookConflictDescription = "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first";

    // Telegram does not send these unless allowed_updates asks for them explicitly.
    private static readonly string[] OptInUpdateTypes = ["chat_member", "message_reaction", "message_reaction_count"];

    private static readonly HashSet<string> ValidChatActions = new(StringComparer.Ordinal)
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
        "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note",
    };

    private readonly object _gate = new();
    private readonly Pulse _changed = new();
    private readonly CancellationTokenSource _shutdown = new();
    private readonly SemaphoreSlim _deliveryLock = new(1, 1);
    private readonly HttpClient _webhookClient = new();
    private readonly Dictionary<string, Func<BotApiArgs, BotResult>> _handlers;
    private WebApplication? _app;
    private Task _autoDelivery = Task.CompletedTask;

    // Update queue: Telegram keeps an update until a getUpdates offset (or a webhook 2xx) confirms it.
    private readonly List<JsonObject> _pending = [];
    private readonly Dictionary<int, int> _deliveryCounts = [];
    private int _nextUpdateId = 100_000;
    private long _confirmedOffset;
    private HashSet<string>? _allowedUpdates;
    private PollTicket? _activePoll;

    private readonly Dictionary<long, JsonObject> _chats = [];
    private readonly Dictionary<long, int> _lastMessageId = [];
    private readonly Dictionary<(long Chat, int Id), JsonObject> _messages = [];
    private readonly HashSet<string> _openCallbackQueries = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<BotCommandRecord>> _commands = new(StringComparer.Ordinal);

    private readonly List<SentMessage> _sent = [];
    private readonly List<EditedMessage> _edits = [];
    private readonly List<ChatActionRecord> _chatActions = [];
    private readonly List<AnsweredCallback> _answeredCallbacks = [];
    private readonly List<SentPhoto> _photos = [];
    private readonly List<DeletedMessage> _deleted = [];
    private readonly List<BotApiRequest> _requests = [];
    private readonly List<WebhookDelivery> _webhookDeliveries = [];

    private readonly Dictionary<string, Queue<BotResult>> _faults = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<long> _blocked = [];
    private readonly Dictionary<long, Queue<DateTimeOffset>> _recentSends = [];
    private int? _chatRateLimit;
    private int _chatRateLimitRetryAfter = 1;
    private TaskCompletionSource? _pause;
    private string? _pausedMethod;

    private WebhookRegistration? _webhook;
    private DateTimeOffset? _webhookLastErrorAt;
    private string? _webhookLastError;

    private BotApiServer(BotApiServerOptions options)
    {
        Options = options;
        var colon = options.Token.IndexOf(':', StringComparison.Ordinal);
        if (colon < 1 || !long.TryParse(options.Token.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var botId))
            throw new ArgumentException("A bot token looks like '<bot id>:<secret>'.", nameof(options));
        BotId = botId;
        _webhookClient.Timeout = options.WebhookTimeout;
        _handlers = new(StringComparer.OrdinalIgnoreCase)
        {
            ["getMe"] = _ => BotResult.Success(BotUser(full: true)),
            ["sendMessage"] = SendMessage,
            ["editMessageText"] = EditMessageText,
            ["editMessageReplyMarkup"] = EditMessageReplyMarkup,
            ["deleteMessage"] = DeleteMessage,
            ["sendChatAction"] = SendChatAction,
            ["answerCallbackQuery"] = AnswerCallbackQuery,
            ["setMyCommands"] = SetMyCommands,
            ["getMyCommands"] = GetMyCommands,
            ["deleteMyCommands"] = DeleteMyCommands,
            ["setWebhook"] = SetWebhook,
            ["deleteWebhook"] = DeleteWebhook,
            ["getWebhookInfo"] = _ => BotResult.Success(WebhookInfo()),
            ["sendPhoto"] = SendPhoto,
        };
    }

    public BotApiServerOptions Options { get; }

    /// <summary>The address the request being handled came in on (with <see cref="BotApiServerOptions.LoopbackAliases"/>), recorded on what it sends.</summary>
    private readonly AsyncLocal<string?> _via = new();

    /// <summary>e.g. <c>http://127.0.0.1:40123</c>; pass it as Telegram.Bot's <c>baseUrl</c>.</summary>
    public string BaseUrl { get; private set; } = "";

    public string Token => Options.Token;

    /// <summary>The base URL on alias <paramref name="alias"/> (1 … LoopbackAliases): http://127.0.0.(1+alias):port.</summary>
    public string AliasBaseUrl(int alias)
    {
        if (alias < 1 || alias > Options.LoopbackAliases)
            throw new ArgumentOutOfRangeException(nameof(alias), $"the server listens on {Options.LoopbackAliases} alias(es)");
        return $"http://127.0.0.{1 + alias}:{new Uri(BaseUrl).Port}";
    }

    /// <summary>The bot's own user id (the token's prefix); <c>from.id</c> of every message the bot sends.</summary>
    public long BotId { get; }

    public static async Task<BotApiServer> StartAsync(BotApiServerOptions? options = null, CancellationToken cancellationToken = default)
    {
        var server = new BotApiServer(options ?? new BotApiServerOptions());
        (server._app, server.BaseUrl) = await LoopbackHost.StartAsync(server.Options.Port, server.Options.LoopbackAliases, app =>
        {
            // Not "/bot{token}/...": route complex segments match literals case-insensitively from the right, so a token
            // containing "bot" (e.g. "...FakeBotApi") would be split in the wrong place.
            app.Map("/{botToken}/{method}", server.HandleHttpAsync);
            app.MapFallback(context => WriteAsync(context, BotResult.Error(404, "Not Found")));
        }, cancellationToken).ConfigureAwait(false);
        if (server.Options.AutoDeliverWebhook)
            server._autoDelivery = Task.Run(server.AutoDeliverLoopAsync, CancellationToken.None);
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        if (_shutdown.IsCancellationRequested)
            return;
        // Releases held long polls, paused requests and the delivery loop before Kestrel drains connections.
        await _shutdown.CancelAsync().ConfigureAwait(false);
        await _autoDelivery.ConfigureAwait(false);
        if (_app is not null)
            await LoopbackHost.StopAsync(_app).ConfigureAwait(false);
        _webhookClient.Dispose();
        _shutdown.Dispose();
    }

    // ---------------------------------------------------------------- scripting: incoming updates

    /// <summary>Queues a text message from a user. In private chats the chat id is the user id. Returns the update_id.</summary>
    public int EnqueueMessage(long userId, string text, long? chatId = null, string chatType = "private",
        string? firstName = null, string? username = null, int? replyToMessageId = null)
    {
        if (chatType != "private" && chatId is null)
            throw new ArgumentException("A group, supergroup or channel message needs its (negative) chat id.", nameof(chatId));
        var user = UserJson(userId, firstName, username);
        var chat = chatType == "private"
            ? new JsonObject { ["id"] = userId, ["first_name"] = user["first_name"]!.GetValue<string>(), ["username"] = user["username"]!.GetValue<string>(), ["type"] = "private" }
            : new JsonObject { ["id"] = chatId, ["title"] = $"Chat {chatId}", ["type"] = chatType };
        var chatKey = chatId ?? userId;
        lock (_gate)
        {
            _chats[chatKey] = chat;
            var message = new JsonObject
            {
                ["message_id"] = NextMessageIdLocked(chatKey),
                ["from"] = user,
                ["chat"] = chat.DeepClone(),
                ["date"] = UnixNow(),
                ["text"] = text,
            };
            // Telegram marks a leading /command as an entity; command routers depend on it.
            if (text.StartsWith('/'))
            {
                var length = text.IndexOfAny([' ', '\n']) is var end and >= 0 ? end : text.Length;
                message["entities"] = new JsonArray(new JsonObject { ["offset"] = 0, ["length"] = length, ["type"] = "bot_command" });
            }
            if (replyToMessageId is { } replyTo && _messages.TryGetValue((chatKey, replyTo), out var original))
                message["reply_to_message"] = WithoutReply(original);
            _messages[(chatKey, message["message_id"]!.GetValue<int>())] = message;
            return EnqueueLocked(new JsonObject { ["message"] = message.DeepClone() });
        }
    }

    /// <summary>
    /// Queues a button press on the bot's message <paramref name="messageId"/>. Returns the update_id; the callback query
    /// id the bot must answer is <see cref="CallbackQueryIdFor"/>(update_id).
    /// </summary>
    public int EnqueueCallbackQuery(long userId, string data, int messageId, long? chatId = null)
    {
        var chatKey = chatId ?? userId;
        lock (_gate)
        {
            var message = _messages.TryGetValue((chatKey, messageId), out var stored)
                ? WithoutReply(stored)
                : new JsonObject { ["message_id"] = messageId, ["from"] = BotUser(full: false), ["chat"] = ChatJsonLocked(chatKey), ["date"] = UnixNow(), ["text"] = "" };
            var updateId = _nextUpdateId;
            var query = new JsonObject
            {
                ["id"] = CallbackQueryIdFor(updateId),
                ["from"] = UserJson(userId, null, null),
                ["message"] = message,
                ["chat_instance"] = (chatKey * 7919L).ToString(CultureInfo.InvariantCulture),
                ["data"] = data,
            };
            return EnqueueLocked(new JsonObject { ["callback_query"] = query });
        }
    }

    /// <summary>The callback query id carried by the update <paramref name="updateId"/> from <see cref="EnqueueCallbackQuery"/>.</summary>
    public static string CallbackQueryIdFor(int updateId) => "77" + updateId.ToString(CultureInfo.InvariantCulture);

    /// <summary>Queues any update (sticker, photo, edited_message, channel_post, my_chat_member...). update_id is assigned here.</summary>
    public int EnqueueUpdate(JsonObject update)
    {
        lock (_gate)
            return EnqueueLocked((JsonObject)update.DeepClone());
    }

    private int EnqueueLocked(JsonObject update)
    {
        var updateId = _nextUpdateId++;
        update.Remove("update_id");
        var ordered = new JsonObject { ["update_id"] = updateId };
        foreach (var (key, value) in update.ToList())
        {
            update.Remove(key);
            ordered[key] = value;
        }
        // Telegram does not store updates of types the bot excluded with allowed_updates.
        if (!IsAllowedLocked(ordered))
            return updateId;
        if (ordered["callback_query"]?["id"]?.GetValue<string>() is { } queryId)
            _openCallbackQueries.Add(queryId);
        _pending.Add(ordered);
        _changed.Fire();
        return updateId;
    }

    // ---------------------------------------------------------------- inspection

    public IReadOnlyList<SentMessage> SentMessages { get { lock (_gate) return _sent.ToArray(); } }

    public IReadOnlyList<EditedMessage> Edits { get { lock (_gate) return _edits.ToArray(); } }

    public IReadOnlyList<ChatActionRecord> ChatActions { get { lock (_gate) return _chatActions.ToArray(); } }

    public IReadOnlyList<AnsweredCallback> AnsweredCallbacks { get { lock (_gate) return _answeredCallbacks.ToArray(); } }

    public IReadOnlyList<SentPhoto> Photos { get { lock (_gate) return _photos.ToArray(); } }

    public IReadOnlyList<DeletedMessage> DeletedMessages { get { lock (_gate) return _deleted.ToArray(); } }

    /// <summary>Every call in arrival-completion order, including failed and faulted ones.</summary>
    public IReadOnlyList<BotApiRequest> Requests { get { lock (_gate) return _requests.ToArray(); } }

    public IReadOnlyList<WebhookDelivery> WebhookDeliveries { get { lock (_gate) return _webhookDeliveries.ToArray(); } }

    /// <summary>Commands of the default scope and language, as the last setMyCommands left them.</summary>
    public IReadOnlyList<BotCommandRecord> Commands => CommandsFor("default", null);

    public IReadOnlyList<BotCommandRecord> CommandsFor(string scopeType, string? languageCode, long? chatId = null)
    {
        lock (_gate)
            return _commands.TryGetValue(CommandsKey(scopeType, chatId, languageCode), out var list) ? list.ToArray() : [];
    }

    public WebhookRegistration? Webhook { get { lock (_gate) return _webhook; } }

    /// <summary>Highest offset a getUpdates has confirmed: every update with a smaller id is gone for good.</summary>
    public long ConfirmedOffset { get { lock (_gate) return _confirmedOffset; } }

    /// <summary>True while a getUpdates is being held open, waiting for updates.</summary>
    public bool IsLongPollActive { get { lock (_gate) return _activePoll is not null; } }

    /// <summary>Ids of updates still waiting for confirmation.</summary>
    public IReadOnlyList<int> PendingUpdateIds { get { lock (_gate) return _pending.Select(UpdateId).ToArray(); } }

    /// <summary>How many times an update was handed out (getUpdates or webhook attempts); more than one means redelivery.</summary>
    public int DeliveryCount(int updateId)
    {
        lock (_gate)
            return _deliveryCounts.GetValueOrDefault(updateId);
    }

    /// <summary>Waits until <paramref name="chatId"/> has received at least <paramref name="count"/> messages; throws <see cref="TimeoutException"/> otherwise.</summary>
    public async Task<IReadOnlyList<SentMessage>> WaitForMessagesAsync(long chatId, int count, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        if (await WaitUntilAsync(_ => SentToLocked(chatId).Count() >= count, timeout, cancellationToken).ConfigureAwait(false))
        {
            lock (_gate)
                return SentToLocked(chatId).ToArray();
        }
        lock (_gate)
        {
            var got = SentToLocked(chatId).Select(m => m.Text).ToArray();
            throw new TimeoutException($"Expected {count} message(s) to chat {chatId} within {timeout}, got {got.Length}: [{string.Join(" | ", got)}]");
        }
    }

    /// <summary>Waits until <paramref name="condition"/> holds. It runs under the server's lock: read state only.</summary>
    public Task<bool> WaitUntilAsync(Func<BotApiServer, bool> condition, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        _changed.WaitUntilAsync(_gate, () => condition(this), timeout, cancellationToken);

    private IEnumerable<SentMessage> SentToLocked(long chatId) => _sent.Where(m => m.ChatId == chatId);

    // ---------------------------------------------------------------- fault injection

    /// <summary>
    /// The next <paramref name="count"/> calls of <paramref name="method"/> ("*" = any method) fail with Telegram's body for
    /// <paramref name="statusCode"/>: 429 carries <c>parameters.retry_after</c>, 403 "bot was blocked by the user", 409 the
    /// polling conflict, 502 "Bad Gateway".
    /// </summary>
    public void FailNext(string method, int statusCode, int? retryAfter = null, int count = 1, string? description = null)
    {
        if (statusCode == 429)
            retryAfter ??= 1;
        var fault = BotResult.Error(statusCode, description ?? DefaultDescription(statusCode, retryAfter), retryAfter);
        AddFaults(method, fault, count);
    }

    /// <summary>Like <see cref="FailNext"/> but with a raw body, e.g. the HTML page nginx serves when the Bot API is down.</summary>
    public void FailNextRaw(string method, int statusCode, string body, string contentType = "text/html", int count = 1) =>
        AddFaults(method, BotResult.Raw(statusCode, body, contentType), count);

    private void AddFaults(string method, BotResult fault, int count)
    {
        lock (_gate)
        {
            if (!_faults.TryGetValue(method, out var queue))
                _faults[method] = queue = new Queue<BotResult>();
            for (var i = 0; i < count; i++)
                queue.Enqueue(fault);
        }
    }

    /// <summary>Every send, edit and chat action to <paramref name="chatId"/> gets 403 until unblocked.</summary>
    public void BlockUser(long chatId)
    {
        lock (_gate)
            _blocked.Add(chatId);
    }

    public void UnblockUser(long chatId)
    {
        lock (_gate)
            _blocked.Remove(chatId);
    }

    /// <summary>More than <paramref name="messagesPerSecond"/> sends to one chat within a second get 429 with <paramref name="retryAfterSeconds"/>.</summary>
    public void EnforceChatRateLimit(int messagesPerSecond, int retryAfterSeconds = 1)
    {
        lock (_gate)
        {
            _chatRateLimit = messagesPerSecond;
            _chatRateLimitRetryAfter = retryAfterSeconds;
        }
    }

    public void DisableChatRateLimit()
    {
        lock (_gate)
            _chatRateLimit = null;
    }

    /// <summary>
    /// Requests for <paramref name="method"/> (null = every method) hang until <see cref="Resume"/>, the client gives up, or the
    /// server is disposed; that is how a test makes the client's timeout fire.
    /// </summary>
    public void Pause(string? method = null)
    {
        lock (_gate)
        {
            _pause ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _pausedMethod = method;
        }
    }

    /// <summary>Requests held by <see cref="Pause"/> right now (a client that gave up, or whose process died, no longer counts).</summary>
    public int HeldRequests => Volatile.Read(ref _held);

    private int _held;

    /// <summary>Lets held requests proceed as if nothing happened.</summary>
    public void Resume()
    {
        lock (_gate)
        {
            _pause?.TrySetResult();
            _pause = null;
            _pausedMethod = null;
        }
    }

    // ---------------------------------------------------------------- webhook delivery

    /// <summary>
    /// POSTs every queued update to the webhook in order, with <c>X-Telegram-Bot-Api-Secret-Token</c>. A non-2xx answer is
    /// retried up to <see cref="BotApiServerOptions.WebhookMaxAttempts"/> times, then the update is dropped, as Telegram does.
    /// A JSON answer with a "method" field is executed as a Bot API call, as Telegram does.
    /// </summary>
    public async Task<WebhookDeliveryResult> DeliverToWebhookAsync(CancellationToken cancellationToken = default)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _shutdown.Token);
        var token = linked.Token;
        await _deliveryLock.WaitAsync(token).ConfigureAwait(false);
        try
        {
            var delivered = new List<int>();
            var abandoned = new List<int>();
            while (true)
            {
                JsonObject update;
                WebhookRegistration hook;
                lock (_gate)
                {
                    if (_webhook is null || _pending.Count == 0)
                        break;
                    hook = _webhook;
                    update = (JsonObject)_pending[0].DeepClone();
                }
                var id = UpdateId(update);
                var accepted = false;
                for (var attempt = 1; attempt <= Options.WebhookMaxAttempts && !accepted; attempt++)
                {
                    if (attempt > 1)
                        await Task.Delay(Options.WebhookRetryDelay, token).ConfigureAwait(false);
                    accepted = await PostUpdateAsync(hook, update, attempt, token).ConfigureAwait(false);
                }
                lock (_gate)
                {
                    _pending.RemoveAll(u => UpdateId(u) == id);
                    _confirmedOffset = Math.Max(_confirmedOffset, id + 1L);
                    _changed.Fire();
                }
                (accepted ? delivered : abandoned).Add(id);
            }
            return new WebhookDeliveryResult(delivered, abandoned);
        }
        finally
        {
            _deliveryLock.Release();
        }
    }

    private async Task<bool> PostUpdateAsync(WebhookRegistration hook, JsonObject update, int attempt, CancellationToken cancellationToken)
    {
        var id = UpdateId(update);
        using var request = new HttpRequestMessage(HttpMethod.Post, hook.Url)
        {
            Content = new StringContent(update.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        if (hook.SecretToken is not null)
            request.Headers.Add("X-Telegram-Bot-Api-Secret-Token", hook.SecretToken);
        lock (_gate)
            _deliveryCounts[id] = _deliveryCounts.GetValueOrDefault(id) + 1;
        try
        {
            using var response = await _webhookClient.SendAsync(request, cancellationToken).ConfigureAwait(false);
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            RecordDelivery(new WebhookDelivery(id, attempt, status, null, hook.SecretToken, DateTimeOffset.UtcNow),
                response.IsSuccessStatusCode ? null : $"Wrong response from the webhook: {status} {response.ReasonPhrase}");
            if (!response.IsSuccessStatusCode)
                return false;
            ExecuteWebhookReply(body, response.Content.Headers.ContentType);
            return true;
        }
        catch (Exception ex) when (ex is HttpRequestException || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            RecordDelivery(new WebhookDelivery(id, attempt, null, ex.Message, hook.SecretToken, DateTimeOffset.UtcNow), ex.Message);
            return false;
        }
    }

    private void RecordDelivery(WebhookDelivery delivery, string? error)
    {
        lock (_gate)
        {
            _webhookDeliveries.Add(delivery);
            if (error is not null)
            {
                _webhookLastError = error;
                _webhookLastErrorAt = delivery.At;
            }
            _changed.Fire();
        }
    }

    // Telegram lets a webhook answer with one Bot API call in the response body.
    private void ExecuteWebhookReply(string body, MediaTypeHeaderValue? contentType)
    {
        if (contentType?.MediaType != "application/json" || string.IsNullOrWhiteSpace(body))
            return;
        JsonObject? json;
        try
        {
            json = JsonNode.Parse(body) as JsonObject;
        }
        catch (JsonException)
        {
            return;
        }
        if (json?["method"]?.GetValue<string>() is not { } method || !_handlers.TryGetValue(method, out var handler))
            return;
        var received = DateTimeOffset.UtcNow;
        var args = BotApiArgs.FromJson(json);
        var result = handler(args);
        Record(new BotApiRequest(method, "POST", args.ToJson().ToJsonString(), result.Status, received, DateTimeOffset.UtcNow, "webhook-reply"));
    }

    private async Task AutoDeliverLoopAsync()
    {
        var token = _shutdown.Token;
        while (!token.IsCancellationRequested)
        {
            Task changed;
            bool work;
            lock (_gate)
            {
                work = _webhook is not null && _pending.Count > 0;
                changed = _changed.Task;
            }
            try
            {
                if (work)
                    await DeliverToWebhookAsync(token).ConfigureAwait(false);
                else
                    await changed.WaitAsync(token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
        }
    }

    // ---------------------------------------------------------------- HTTP plumbing

    private async Task HandleHttpAsync(HttpContext context)
    {
        var received = DateTimeOffset.UtcNow;
        _via.Value = Options.LoopbackAliases > 0 ? context.Connection.LocalIpAddress?.MapToIPv4().ToString() : null;
        var botToken = (string)context.Request.RouteValues["botToken"]!;
        var method = (string)context.Request.RouteValues["method"]!;
        var parameters = "{}";
        BotResult result;
        if (!botToken.StartsWith("bot", StringComparison.Ordinal))
            result = BotResult.Error(404, "Not Found");
        else if (!string.Equals(botToken[3..], Options.Token, StringComparison.Ordinal))
            result = BotResult.Error(401, "Unauthorized");
        else if (!_handlers.ContainsKey(method) && !method.Equals("getUpdates", StringComparison.OrdinalIgnoreCase))
            result = BotResult.Error(404, "Not Found");
        else
        {
            using var aborted = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _shutdown.Token);
            try
            {
                var args = await BotApiArgs.ReadAsync(context.Request, aborted.Token).ConfigureAwait(false);
                parameters = args?.ToJson().ToJsonString() ?? "{}";
                result = args is null
                    ? BotResult.Error(400, "Bad Request: can't parse JSON object")
                    : await ProcessAsync(method, args, aborted.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // The client gave up (its timeout) or the server is stopping; nobody reads this answer.
                result = BotResult.Error(499, "Client Closed Request");
            }
        }

        Record(new BotApiRequest(CanonicalName(method), context.Request.Method, parameters, result.Status, received, DateTimeOffset.UtcNow));
        if (!context.RequestAborted.IsCancellationRequested)
            await WriteAsync(context, result).ConfigureAwait(false);
    }

    private async Task<BotResult> ProcessAsync(string method, BotApiArgs args, CancellationToken cancellationToken)
    {
        Task? paused = null;
        lock (_gate)
        {
            if (_pause is not null && (_pausedMethod is null || _pausedMethod.Equals(method, StringComparison.OrdinalIgnoreCase)))
                paused = _pause.Task;
        }
        if (paused is not null)
        {
            Interlocked.Increment(ref _held);
            try
            {
                await paused.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                Interlocked.Decrement(ref _held);
            }
        }

        lock (_gate)
        {
            if (TakeFaultLocked(method) is { } fault)
                return fault;
        }
        return method.Equals("getUpdates", StringComparison.OrdinalIgnoreCase)
            ? await GetUpdatesAsync(args, cancellationToken).ConfigureAwait(false)
            : _handlers[method](args);
    }

    private BotResult? TakeFaultLocked(string method)
    {
        foreach (var key in new[] { method, "*" })
        {
            if (_faults.TryGetValue(key, out var queue) && queue.TryDequeue(out var fault))
                return fault;
        }
        return null;
    }

    private void Record(BotApiRequest request)
    {
        lock (_gate)
        {
            _requests.Add(request);
            _changed.Fire();
        }
    }

    private string CanonicalName(string method) =>
        _handlers.Keys.FirstOrDefault(k => k.Equals(method, StringComparison.OrdinalIgnoreCase))
        ?? (method.Equals("getUpdates", StringComparison.OrdinalIgnoreCase) ? "getUpdates" : method);

    private static async Task WriteAsync(HttpContext context, BotResult result)
    {
        context.Response.StatusCode = result.Status;
        context.Response.ContentType = result.ContentType;
        try
        {
            await context.Response.WriteAsync(result.Body, context.RequestAborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Client hung up while we answered.
        }
    }

    private static string DefaultDescription(int statusCode, int? retryAfter) => statusCode switch
    {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden: bot was blocked by the user",
        404 => "Not Found",
        409 => PollConflictDescription,
        429 => $"Too Many Requests: retry after {retryAfter}",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => $"Error {statusCode}",
    };

    // ---------------------------------------------------------------- getUpdates

    private sealed class PollTicket : IDisposable
    {
        private readonly CancellationTokenSource _terminate = new();

        public bool Terminated { get; private set; }

        public CancellationToken Token => _terminate.Token;

        public void Terminate()
        {
            Terminated = true;
            _terminate.Cancel();
        }

        public void Dispose() => _terminate.Dispose();
    }

    private async Task<BotResult> GetUpdatesAsync(BotApiArgs args, CancellationToken cancellationToken)
    {
        var limit = Math.Clamp(args.Int("limit") ?? 100, 1, 100);
        var timeout = TimeSpan.FromSeconds(Math.Clamp(args.Int("timeout") ?? 0, 0, Options.MaxLongPollSeconds));
        using var ticket = new PollTicket();
        lock (_gate)
        {
            if (_webhook is not null)
                return BotResult.Error(409, WebhookConflictDescription);
            if (_activePoll is not null)
            {
                if (Options.PollConflict == PollConflictMode.RejectNewer)
                    return BotResult.Error(409, PollConflictDescription);
                _activePoll.Terminate();
            }
            _activePoll = ticket;
            if (args.Json("allowed_updates") is JsonArray allowed)
                _allowedUpdates = allowed.Count == 0 ? null : allowed.Select(a => a!.GetValue<string>()).ToHashSet(StringComparer.Ordinal);
            ApplyOffsetLocked(args.Long("offset"));
        }

        try
        {
            using var hold = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, ticket.Token);
            hold.CancelAfter(timeout);
            while (true)
            {
                Task changed;
                lock (_gate)
                {
                    if (ticket.Terminated)
                        return BotResult.Error(409, PollConflictDescription);
                    var batch = TakeBatchLocked(limit);
                    if (batch.Count > 0 || hold.IsCancellationRequested)
                        return BotResult.Success(batch);
                    changed = _changed.Task;
                }
                try
                {
                    await changed.WaitAsync(hold.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    // Timeout or termination: the next loop turn answers.
                }
            }
        }
        finally
        {
            lock (_gate)
            {
                if (_activePoll == ticket)
                    _activePoll = null;
                _changed.Fire();
            }
        }
    }

    private void ApplyOffsetLocked(long? offset)
    {
        if (offset is > 0)
        {
            _pending.RemoveAll(u => UpdateId(u) < offset);
            _confirmedOffset = Math.Max(_confirmedOffset, offset.Value);
        }
        else if (offset is < 0)
        {
            // A negative offset keeps only the last -offset updates and forgets the rest.
            var keep = (int)Math.Min(-offset.Value, _pending.Count);
            var drop = _pending.Count - keep;
            if (drop > 0)
            {
                _confirmedOffset = Math.Max(_confirmedOffset, UpdateId(_pending[drop - 1]) + 1L);
                _pending.RemoveRange(0, drop);
            }
        }
        _changed.Fire();
    }

    private JsonArray TakeBatchLocked(int limit)
    {
        var batch = new JsonArray();
        foreach (var update in _pending.Take(limit))
        {
            var id = UpdateId(update);
            _deliveryCounts[id] = _deliveryCounts.GetValueOrDefault(id) + 1;
            batch.Add(update.DeepClone());
        }
        return batch;
    }

    private bool IsAllowedLocked(JsonObject update)
    {
        var type = update.Select(p => p.Key).FirstOrDefault(k => k != "update_id") ?? "";
        return _allowedUpdates is null ? !OptInUpdateTypes.Contains(type) : _allowedUpdates.Contains(type);
    }

    private static int UpdateId(JsonObject update) => update["update_id"]!.GetValue<int>();

    // ---------------------------------------------------------------- outbound methods

    private BotResult SendMessage(BotApiArgs args)
    {
        if (ChatIdOf(args, out var error) is not { } chatId)
            return error!;
        var text = args.String("text") ?? "";
        var parseMode = args.String("parse_mode");
        if (ParseText(text, parseMode, MaxTextLength, "Bad Request: message text is empty", "Bad Request: message is too long", out var plain) is { } invalid)
            return invalid;
        var markup = args.Json("reply_markup");
        var replyTo = ReplyToOf(args);

        lock (_gate)
        {
            if (BlockedOrThrottledLocked(chatId, countsAsSend: true) is { } refused)
                return refused;
            var message = NewBotMessageLocked(chatId);
            message["text"] = plain;
            if (replyTo is { } r && _messages.TryGetValue((chatId, r), out var original))
                message["reply_to_message"] = WithoutReply(original);
            if (markup?["inline_keyboard"] is not null)
                message["reply_markup"] = markup.DeepClone();
            var id = StoreLocked(chatId, message);
            _sent.Add(new SentMessage(chatId, id, text, plain, parseMode, markup?.ToJsonString(), replyTo, DateTimeOffset.UtcNow, _via.Value));
            _changed.Fire();
            return BotResult.Success(message.DeepClone());
        }
    }

    private BotResult SendPhoto(BotApiArgs args)
    {
        if (ChatIdOf(args, out var error) is not { } chatId)
            return error!;
        var photoRef = args.String("photo");
        UploadedFile? file = null;
        if (photoRef?.StartsWith("attach://", StringComparison.Ordinal) == true)
            args.Files.TryGetValue(photoRef["attach://".Length..], out file);
        else if (photoRef is null)
            args.Files.TryGetValue("photo", out file);
        if (file is null && (photoRef is null || photoRef.StartsWith("attach://", StringComparison.Ordinal)))
            return BotResult.Error(400, "Bad Request: there is no photo in the request");

        var caption = args.String("caption");
        var parseMode = args.String("parse_mode");
        string? plainCaption = null;
        if (!string.IsNullOrEmpty(caption)
            && ParseText(caption, parseMode, MaxCaptionLength, null, "Bad Request: message caption is too long", out plainCaption) is { } invalid)
            return invalid;

        lock (_gate)
        {
            if (BlockedOrThrottledLocked(chatId, countsAsSend: true) is { } refused)
                return refused;
            var message = NewBotMessageLocked(chatId);
            var fileId = "AgAC" + Convert.ToHexString(BitConverter.GetBytes(chatId ^ message["message_id"]!.GetValue<int>()));
            message["photo"] = new JsonArray(
                new JsonObject { ["file_id"] = fileId + "s", ["file_unique_id"] = fileId[..10] + "s", ["width"] = 90, ["height"] = 90, ["file_size"] = Math.Min(file?.Bytes.Length ?? 1000, 1000) },
                new JsonObject { ["file_id"] = fileId, ["file_unique_id"] = fileId[..10], ["width"] = 800, ["height"] = 600, ["file_size"] = file?.Bytes.Length ?? 50_000 });
            if (plainCaption is not null)
                message["caption"] = plainCaption;
            var id = StoreLocked(chatId, message);
            _photos.Add(new SentPhoto(chatId, id, file?.Bytes, file?.FileName, file is null ? photoRef : null, caption, parseMode, DateTimeOffset.UtcNow));
            _changed.Fire();
            return BotResult.Success(message.DeepClone());
        }
    }

    private BotResult EditMessageText(BotApiArgs args)
    {
        var text = args.String("text") ?? "";
        var parseMode = args.String("parse_mode");
        if (ParseText(text, parseMode, MaxTextLength, "Bad Request: message text is empty", "Bad Request: message is too long", out var plain) is { } invalid)
            return invalid;
        return Edit(args, text, parseMode, message =>
        {
            if (message["text"]?.GetValue<string>() == plain && JsonNode.DeepEquals(message["reply_markup"], InlineMarkup(args)))
                return false;
            message["text"] = plain;
            SetMarkup(message, InlineMarkup(args));
            return true;
        });
    }

    private BotResult EditMessageReplyMarkup(BotApiArgs args) =>
        Edit(args, null, null, message =>
        {
            if (JsonNode.DeepEquals(message["reply_markup"], InlineMarkup(args)))
                return false;
            SetMarkup(message, InlineMarkup(args));
            return true;
        });

    private BotResult Edit(BotApiArgs args, string? text, string? parseMode, Func<JsonObject, bool> apply)
    {
        var markupJson = args.Json("reply_markup")?.ToJsonString();
        if (args.String("inline_message_id") is not null)
        {
            lock (_gate)
            {
                _edits.Add(new EditedMessage(0, 0, text, parseMode, markupJson, DateTimeOffset.UtcNow));
                _changed.Fire();
            }
            return BotResult.Success(true);
        }
        if (ChatIdOf(args, out var error) is not { } chatId)
            return error!;
        var messageId = args.Int("message_id");
        lock (_gate)
        {
            if (BlockedOrThrottledLocked(chatId, countsAsSend: false) is { } refused)
                return refused;
            if (messageId is null || !_messages.TryGetValue((chatId, messageId.Value), out var message))
                return BotResult.Error(400, "Bad Request: message to edit not found");
            if (message["from"]?["id"]?.GetValue<long>() != BotId)
                return BotResult.Error(400, "Bad Request: message can't be edited");
            if (!apply(message))
                return BotResult.Error(400, "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message");
            message["edit_date"] = UnixNow();
            _edits.Add(new EditedMessage(chatId, messageId.Value, text, parseMode, markupJson, DateTimeOffset.UtcNow));
            _changed.Fire();
            return BotResult.Success(message.DeepClone());
        }
    }

    private static JsonNode? InlineMarkup(BotApiArgs args) =>
        args.Json("reply_markup") is { } markup && markup["inline_keyboard"] is not null ? markup : null;

    private static void SetMarkup(JsonObject message, JsonNode? markup)
    {
        if (markup is null)
            message.Remove("reply_markup");
        else
            message["reply_markup"] = markup.DeepClone();
    }

    private BotResult DeleteMessage(BotApiArgs args)
    {
        if (ChatIdOf(args, out var error) is not { } chatId)
            return error!;
        var messageId = args.Int("message_id");
        lock (_gate)
        {
            if (messageId is null || !_messages.Remove((chatId, messageId.Value)))
                return BotResult.Error(400, "Bad Request: message to delete not found");
            _deleted.Add(new DeletedMessage(chatId, messageId.Value, DateTimeOffset.UtcNow));
            _changed.Fire();
            return BotResult.Success(true);
        }
    }

    private BotResult SendChatAction(BotApiArgs args)
    {
        if (ChatIdOf(args, out var error) is not { } chatId)
            return error!;
        var action = args.String("action");
        if (action is null || !ValidChatActions.Contains(action))
            return BotResult.Error(400, "Bad Request: wrong parameter action in request");
        lock (_gate)
        {
            if (BlockedOrThrottledLocked(chatId, countsAsSend: false) is { } refused)
                return refused;
            _chatActions.Add(new ChatActionRecord(chatId, action, DateTimeOffset.UtcNow));
            _changed.Fire();
            return BotResult.Success(true);
        }
    }

    private BotResult AnswerCallbackQuery(BotApiArgs args)
    {
        var id = args.String("callback_query_id") ?? "";
        lock (_gate)
        {
            // A query can be answered once; Telegram rejects unknown and repeated answers alike.
            if (!_openCallbackQueries.Remove(id))
                return BotResult.Error(400, "Bad Request: query is too old and response timeout expired or query ID is invalid");
            _answeredCallbacks.Add(new AnsweredCallback(id, args.String("text"), args.Bool("show_alert"), args.String("url"), DateTimeOffset.UtcNow));
            _changed.Fire();
            return BotResult.Success(true);
        }
    }

    [GeneratedRegex("^[a-z0-9_]{1,32}$")]
    private static partial Regex CommandName();

    private BotResult SetMyCommands(BotApiArgs args)
    {
        if (args.Json("commands") is not JsonArray commands)
            return BotResult.Error(400, "Bad Request: parameter \"commands\" is required");
        var list = new List<BotCommandRecord>();
        foreach (var command in commands)
        {
            var name = command?["command"]?.GetValue<string>() ?? "";
            var description = command?["description"]?.GetValue<string>() ?? "";
            if (!CommandName().IsMatch(name))
                return BotResult.Error(400, "Bad Request: BOT_COMMAND_INVALID");
            if (description.Length is 0 or > 256)
                return BotResult.Error(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID");
            list.Add(new BotCommandRecord(name, description));
        }
        lock (_gate)
        {
            _commands[CommandsKey(args)] = list;
            _changed.Fire();
        }
        return BotResult.Success(true);
    }

    private BotResult GetMyCommands(BotApiArgs args)
    {
        lock (_gate)
        {
            var list = _commands.GetValueOrDefault(CommandsKey(args)) ?? [];
            return BotResult.Success(new JsonArray(list.Select(c => (JsonNode)new JsonObject { ["command"] = c.Command, ["description"] = c.Description }).ToArray()));
        }
    }

    private BotResult DeleteMyCommands(BotApiArgs args)
    {
        lock (_gate)
            _commands.Remove(CommandsKey(args));
        return BotResult.Success(true);
    }

    private static string CommandsKey(BotApiArgs args)
    {
        var scope = args.Json("scope");
        var chatId = scope?["chat_id"] is JsonValue v && v.TryGetValue<long>(out var id) ? id : (long?)null;
        return CommandsKey(scope?["type"]?.GetValue<string>() ?? "default", chatId, args.String("language_code"));
    }

    private static string CommandsKey(string scopeType, long? chatId, string? languageCode) =>
        $"{scopeType}|{chatId}|{(string.IsNullOrEmpty(languageCode) ? "" : languageCode)}";

    [GeneratedRegex("^[A-Za-z0-9_-]{1,256}$")]
    private static partial Regex SecretTokenFormat();

    private BotResult SetWebhook(BotApiArgs args)
    {
        var url = args.String("url") ?? "";
        if (url.Length == 0)
            return DeleteWebhook(args);
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            return BotResult.Error(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook");
        var secret = args.String("secret_token");
        if (secret is not null && !SecretTokenFormat().IsMatch(secret))
            return BotResult.Error(400, "Bad Request: secret token contains unallowed characters");
        var allowed = args.Json("allowed_updates") as JsonArray;
        lock (_gate)
        {
            if (args.Bool("drop_pending_updates"))
                DropPendingLocked();
            if (allowed is not null)
                _allowedUpdates = allowed.Count == 0 ? null : allowed.Select(a => a!.GetValue<string>()).ToHashSet(StringComparer.Ordinal);
            _webhook = new WebhookRegistration(url, secret, args.Int("max_connections") ?? 40, allowed);
            _webhookLastError = null;
            _webhookLastErrorAt = null;
            // A held long poll ends the moment a webhook appears.
            _activePoll?.Terminate();
            _changed.Fire();
        }
        return BotResult.Success(true, "Webhook was set");
    }

    private BotResult DeleteWebhook(BotApiArgs args)
    {
        lock (_gate)
        {
            if (args.Bool("drop_pending_updates"))
                DropPendingLocked();
            var existed = _webhook is not null;
            _webhook = null;
            _changed.Fire();
            return BotResult.Success(true, existed ? "Webhook was deleted" : "Webhook is already deleted");
        }
    }

    private void DropPendingLocked()
    {
        if (_pending.Count > 0)
            _confirmedOffset = Math.Max(_confirmedOffset, UpdateId(_pending[^1]) + 1L);
        _pending.Clear();
    }

    private JsonObject WebhookInfo()
    {
        lock (_gate)
        {
            var info = new JsonObject
            {
                ["url"] = _webhook?.Url ?? "",
                ["has_custom_certificate"] = false,
                ["pending_update_count"] = _pending.Count,
            };
            if (_webhook is not null)
            {
                info["max_connections"] = _webhook.MaxConnections;
                info["ip_address"] = "127.0.0.1";
                if (_webhook.AllowedUpdates is { } allowed)
                    info["allowed_updates"] = allowed.DeepClone();
            }
            if (_webhookLastErrorAt is { } at)
            {
                info["last_error_date"] = at.ToUnixTimeSeconds();
                info["last_error_message"] = _webhookLastError;
            }
            return info;
        }
    }

    // ---------------------------------------------------------------- helpers

    private BotResult? ParseText(string text, string? parseMode, int maxLength, string? emptyError, string tooLongError, out string plain)
    {
        plain = text;
        if (emptyError is not null && string.IsNullOrWhiteSpace(text))
            return BotResult.Error(400, emptyError);
        switch (parseMode)
        {
            case null or "":
                break;
            case var mode when mode.Equals("HTML", StringComparison.OrdinalIgnoreCase):
                var parsed = TelegramHtml.Parse(text, Options.StrictHtmlAmpersand);
                if (!parsed.Ok)
                    return BotResult.Error(400, parsed.Error!);
                plain = parsed.PlainText!;
                break;
            case "Markdown" or "MarkdownV2":
                break; // accepted, not validated
            default:
                return BotResult.Error(400, "Bad Request: unsupported parse_mode");
        }
        // Telegram measures length after entity parsing, in UTF-16 code units.
        if (plain.Length > maxLength)
            return BotResult.Error(400, tooLongError);
        if (emptyError is not null && string.IsNullOrWhiteSpace(plain))
            return BotResult.Error(400, emptyError);
        return null;
    }

    private static long? ChatIdOf(BotApiArgs args, out BotResult? error)
    {
        error = null;
        if (args.Long("chat_id") is { } id)
            return id;
        error = args.Has("chat_id")
            ? BotResult.Error(400, "Bad Request: chat not found")
            : BotResult.Error(400, "Bad Request: chat_id is empty");
        return null;
    }

    private static int? ReplyToOf(BotApiArgs args) =>
        args.Json("reply_parameters")?["message_id"] is JsonValue v && v.TryGetValue<int>(out var id) ? id : args.Int("reply_to_message_id");

    private BotResult? BlockedOrThrottledLocked(long chatId, bool countsAsSend)
    {
        if (_blocked.Contains(chatId))
            return BotResult.Error(403, "Forbidden: bot was blocked by the user");
        if (!countsAsSend || _chatRateLimit is not { } limit)
            return null;
        var now = DateTimeOffset.UtcNow;
        if (!_recentSends.TryGetValue(chatId, out var recent))
            _recentSends[chatId] = recent = new Queue<DateTimeOffset>();
        while (recent.Count > 0 && now - recent.Peek() >= TimeSpan.FromSeconds(1))
            recent.Dequeue();
        if (recent.Count >= limit)
            return BotResult.Error(429, $"Too Many Requests: retry after {_chatRateLimitRetryAfter}", _chatRateLimitRetryAfter);
        recent.Enqueue(now);
        return null;
    }

    private JsonObject NewBotMessageLocked(long chatId) => new()
    {
        ["message_id"] = NextMessageIdLocked(chatId),
        ["from"] = BotUser(full: false),
        ["chat"] = ChatJsonLocked(chatId),
        ["date"] = UnixNow(),
    };

    private int StoreLocked(long chatId, JsonObject message)
    {
        var id = message["message_id"]!.GetValue<int>();
        _messages[(chatId, id)] = (JsonObject)message.DeepClone();
        return id;
    }

    // Message ids count per chat and are shared by both directions, as in Telegram private chats.
    private int NextMessageIdLocked(long chatId) => _lastMessageId[chatId] = _lastMessageId.GetValueOrDefault(chatId) + 1;

    private JsonObject ChatJsonLocked(long chatId)
    {
        if (_chats.TryGetValue(chatId, out var known))
            return (JsonObject)known.DeepClone();
        return chatId > 0
            ? new JsonObject { ["id"] = chatId, ["first_name"] = $"User{chatId}", ["username"] = $"user{chatId}", ["type"] = "private" }
            : new JsonObject
            {
                ["id"] = chatId,
                ["title"] = $"Chat {chatId}",
                ["type"] = chatId.ToString(CultureInfo.InvariantCulture).StartsWith("-100", StringComparison.Ordinal) ? "supergroup" : "group",
            };
    }

    private static JsonObject UserJson(long userId, string? firstName, string? username) => new()
    {
        ["id"] = userId,
        ["is_bot"] = false,
        ["first_name"] = firstName ?? $"User{userId}",
        ["username"] = username ?? $"user{userId}",
        ["language_code"] = "en",
    };

    private JsonObject BotUser(bool full)
    {
        var user = new JsonObject
        {
            ["id"] = BotId,
            ["is_bot"] = true,
            ["first_name"] = Options.BotFirstName,
            ["username"] = Options.BotUsername,
        };
        if (full)
        {
            user["can_join_groups"] = true;
            user["can_read_all_group_messages"] = false;
            user["supports_inline_queries"] = false;
            user["can_connect_to_business"] = false;
            user["has_main_web_app"] = false;
        }
        return user;
    }

    private static JsonObject WithoutReply(JsonObject message)
    {
        var copy = (JsonObject)message.DeepClone();
        copy.Remove("reply_to_message");
        return copy;
    }

    // Bot API dates are Unix seconds; milliseconds here would break every real client.
    private static long UnixNow() => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    private sealed record BotResult(int Status, string Body, string ContentType)
    {
        public static BotResult Success(JsonNode? result, string? description = null)
        {
            var body = new JsonObject { ["ok"] = true, ["result"] = result };
            if (description is not null)
                body["description"] = description;
            return new(200, body.ToJsonString(), "application/json");
        }

        public static BotResult Success(bool result, string? description = null) => Success(JsonValue.Create(result), description);

        public static BotResult Error(int status, string description, int? retryAfter = null)
        {
            var body = new JsonObject { ["ok"] = false, ["error_code"] = status, ["description"] = description };
            if (retryAfter is { } seconds)
                body["parameters"] = new JsonObject { ["retry_after"] = seconds };
            return new(status, body.ToJsonString(), "application/json");
        }

        public static BotResult Raw(int status, string body, string contentType) => new(status, body, contentType);
    }
}
