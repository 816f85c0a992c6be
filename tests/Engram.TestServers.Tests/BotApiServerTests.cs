using System.Diagnostics;
using System.Text.Json;
using Telegram.Bot;
using Telegram.Bot.Exceptions;
using Telegram.Bot.Types;
using Telegram.Bot.Types.Enums;
using Telegram.Bot.Types.ReplyMarkups;

namespace Engram.TestServers.Tests;

/// <summary>The stand-in driven by the real, unpatched Telegram.Bot 22 client.</summary>
public sealed class BotApiServerTests : IAsyncLifetime
{
    private const long Alice = 1111111;
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);
    private BotApiServer _server = null!;

    public async Task InitializeAsync() => _server = await BotApiServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    // RetryThreshold = 0 turns off Telegram.Bot's built-in 429 retry so the test sees the 429 itself.
    private TelegramBotClient Client(int retryThreshold = 0, string? token = null, TimeSpan? timeout = null)
    {
        var options = new TelegramBotClientOptions(token ?? _server.Token, baseUrl: _server.BaseUrl) { RetryThreshold = retryThreshold };
        var client = new TelegramBotClient(options);
        if (timeout is { } t)
            client.Timeout = t;
        return client;
    }

    [Fact]
    public async Task GetMe_returns_the_bot_described_by_the_token()
    {
        var me = await Client().GetMe();

        Assert.Equal(_server.BotId, me.Id);
        Assert.True(me.IsBot);
        Assert.Equal(_server.Options.BotUsername, me.Username);
    }

    [Fact]
    public async Task Unknown_token_is_401_Unauthorized()
    {
        var ex = await Assert.ThrowsAsync<ApiRequestException>(() => Client(token: "42:wrong-token").GetMe());

        Assert.Equal(401, ex.ErrorCode);
        Assert.Equal("Unauthorized", ex.Message);
    }

    [Fact]
    public async Task Long_poll_is_held_until_a_message_is_queued_and_unconfirmed_updates_come_back()
    {
        var bot = Client();
        var poll = bot.GetUpdates(timeout: 10);
        Assert.True(await _server.WaitUntilAsync(s => s.IsLongPollActive, Wait));
        await Task.Delay(200);
        Assert.False(poll.IsCompleted, "getUpdates answered before any update existed");

        var id = _server.EnqueueMessage(Alice, "/start now");
        var updates = await poll.WaitAsync(Wait);

        var update = Assert.Single(updates);
        Assert.Equal(id, update.Id);
        Assert.Equal("/start now", update.Message!.Text);
        Assert.Equal(Alice, update.Message.Chat.Id);
        Assert.Equal(ChatType.Private, update.Message.Chat.Type);
        Assert.Equal(MessageEntityType.BotCommand, Assert.Single(update.Message.Entities!).Type);
        // Dates in seconds: a millisecond timestamp would land tens of thousands of years away.
        Assert.InRange(update.Message.Date, DateTime.UtcNow.AddMinutes(-1), DateTime.UtcNow.AddMinutes(1));

        // Not confirmed yet, so it is handed out again.
        Assert.Equal(id, Assert.Single(await bot.GetUpdates()).Id);
        Assert.Equal(2, _server.DeliveryCount(id));

        Assert.Empty(await bot.GetUpdates(offset: id + 1));
        Assert.Equal(id + 1, _server.ConfirmedOffset);
        Assert.Empty(_server.PendingUpdateIds);
    }

    [Fact]
    public async Task Long_poll_with_nothing_queued_returns_empty_after_its_timeout()
    {
        var watch = Stopwatch.StartNew();

        var updates = await Client().GetUpdates(timeout: 1);

        Assert.Empty(updates);
        Assert.InRange(watch.Elapsed, TimeSpan.FromMilliseconds(900), TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task Limit_and_offset_page_through_the_queue_in_order()
    {
        var ids = Enumerable.Range(0, 5).Select(i => _server.EnqueueMessage(Alice, $"m{i}")).ToArray();
        var bot = Client();

        var first = await bot.GetUpdates(limit: 2);
        var rest = await bot.GetUpdates(offset: first[^1].Id + 1, limit: 10);

        Assert.Equal(ids[..2], first.Select(u => u.Id));
        Assert.Equal(ids[2..], rest.Select(u => u.Id));
        Assert.Equal(ids[1] + 1, _server.ConfirmedOffset);
        // Message ids grow per chat.
        Assert.Equal(Enumerable.Range(1, 5), first.Concat(rest).Select(u => u.Message!.Id));
    }

    [Fact]
    public async Task Allowed_updates_stops_other_update_types_from_being_stored()
    {
        var bot = Client();
        await bot.GetUpdates(allowedUpdates: [UpdateType.Message]);

        _server.EnqueueCallbackQuery(Alice, "buy", messageId: 1);
        var messageId = _server.EnqueueMessage(Alice, "hello");

        var update = Assert.Single(await bot.GetUpdates());
        Assert.Equal(messageId, update.Id);
    }

    [Fact]
    public async Task A_second_poller_terminates_the_held_one_with_409()
    {
        var first = Client().GetUpdates(timeout: 10);
        Assert.True(await _server.WaitUntilAsync(s => s.IsLongPollActive, Wait));

        var second = Client().GetUpdates(timeout: 1);

        var ex = await Assert.ThrowsAsync<ApiRequestException>(() => first.WaitAsync(Wait));
        Assert.Equal(409, ex.ErrorCode);
        Assert.Equal("Conflict: terminated by other getUpdates request; make sure that only one bot instance is running", ex.Message);
        Assert.Empty(await second.WaitAsync(Wait));
    }

    [Fact]
    public async Task In_reject_newer_mode_the_newcomer_gets_the_409_and_the_held_poll_survives()
    {
        await using var server = await BotApiServer.StartAsync(new BotApiServerOptions { PollConflict = PollConflictMode.RejectNewer });
        var bot = new TelegramBotClient(new TelegramBotClientOptions(server.Token, server.BaseUrl));
        var held = bot.GetUpdates(timeout: 10);
        Assert.True(await server.WaitUntilAsync(s => s.IsLongPollActive, Wait));

        var ex = await Assert.ThrowsAsync<ApiRequestException>(() => bot.GetUpdates(timeout: 1));
        Assert.Equal(409, ex.ErrorCode);

        var id = server.EnqueueMessage(Alice, "still there");
        Assert.Equal(id, Assert.Single(await held.WaitAsync(Wait)).Id);
    }

    [Fact]
    public async Task SendMessage_with_HTML_returns_a_bot_message_and_records_text_mode_and_keyboard()
    {
        var bot = Client();
        var keyboard = new InlineKeyboardMarkup(InlineKeyboardButton.WithCallbackData("Confirm", "confirm:42"));

        var first = await bot.SendMessage(Alice, "<b>BTC</b> &lt; 100k &amp; <a href=\"https://x.test\">falling</a>", ParseMode.Html, replyMarkup: keyboard);
        var second = await bot.SendMessage(Alice, "plain");

        Assert.Equal("BTC < 100k & falling", first.Text);
        Assert.Equal(_server.BotId, first.From!.Id);
        Assert.True(first.From.IsBot);
        Assert.Equal(Alice, first.Chat.Id);
        Assert.Equal("User1111111", first.Chat.FirstName);
        Assert.InRange(first.Date, DateTime.UtcNow.AddMinutes(-1), DateTime.UtcNow.AddMinutes(1));
        Assert.Equal("confirm:42", first.ReplyMarkup!.InlineKeyboard.Single().Single().CallbackData);
        Assert.Equal(first.Id + 1, second.Id);

        var sent = await _server.WaitForMessagesAsync(Alice, 2, Wait);
        Assert.Equal("Html", sent[0].ParseMode); // Telegram.Bot 22 writes the enum name; Telegram matches case-insensitively
        Assert.StartsWith("<b>BTC</b>", sent[0].Text);
        Assert.Contains("confirm:42", sent[0].ReplyMarkupJson);
        Assert.Null(sent[1].ParseMode);
    }

    [Theory]
    [InlineData("<b>unclosed", "Can't find end tag corresponding to start tag \"b\"")]
    [InlineData("<blink>x</blink>", "Unsupported start tag \"blink\" at byte offset 0")]
    [InlineData("price < 100", "Unsupported start tag \"\" at byte offset 6")]
    [InlineData("<b>x</i>", "Unmatched end tag at byte offset 4, expected \"</b>\", found \"</i>\"")]
    [InlineData("x</b>", "Unexpected end tag at byte offset 1")]
    [InlineData("Tom & Jerry", "Character '&' is reserved")]
    [InlineData("<span>x</span>", "Tag \"span\" must have class \"tg-spoiler\"")]
    public async Task SendMessage_with_broken_HTML_is_400_cant_parse_entities(string text, string reason)
    {
        var ex = await Assert.ThrowsAsync<ApiRequestException>(() => Client().SendMessage(Alice, text, ParseMode.Html));

        Assert.Equal(400, ex.ErrorCode);
        Assert.StartsWith("Bad Request: can't parse entities: ", ex.Message);
        Assert.Contains(reason, ex.Message);
        Assert.Empty(_server.SentMessages);
    }

    [Fact]
    public async Task Byte_offsets_count_UTF8_bytes_like_Telegram()
    {
        var ex = await Assert.ThrowsAsync<ApiRequestException>(() => Client().SendMessage(Alice, "Цена <x>", ParseMode.Html));

        Assert.EndsWith("Unsupported start tag \"x\" at byte offset 9", ex.Message);
    }

    [Fact]
    public async Task Text_length_and_emptiness_are_checked_after_markup_is_removed()
    {
        var bot = Client();
        var fits = "<b>" + new string('a', 4096) + "</b>";

        await bot.SendMessage(Alice, fits, ParseMode.Html);
        var tooLong = await Assert.ThrowsAsync<ApiRequestException>(() => bot.SendMessage(Alice, new string('a', 4097)));
        var empty = await Assert.ThrowsAsync<ApiRequestException>(() => bot.SendMessage(Alice, "<b> </b>", ParseMode.Html));

        Assert.Equal("Bad Request: message is too long", tooLong.Message);
        Assert.Equal("Bad Request: message text is empty", empty.Message);
    }

    [Fact]
    public async Task Scripted_429_surfaces_retry_after_in_the_exception_parameters()
    {
        _server.FailNext("sendMessage", 429, retryAfter: 7);

        var ex = await Assert.ThrowsAsync<ApiRequestException>(() => Client().SendMessage(Alice, "hi"));

        Assert.Equal(429, ex.ErrorCode);
        Assert.Equal("Too Many Requests: retry after 7", ex.Message);
        Assert.Equal(7, ex.Parameters?.RetryAfter);
        // The fault was used up: the next call goes through.
        await Client().SendMessage(Alice, "hi");
    }

    [Fact]
    public async Task Telegram_Bot_retries_a_short_429_by_itself_unless_RetryThreshold_is_zero()
    {
        _server.FailNext("sendMessage", 429, retryAfter: 1);
        var watch = Stopwatch.StartNew();

        var message = await Client(retryThreshold: 60).SendMessage(Alice, "hi");

        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(900), "the client did not wait retry_after");
        Assert.Equal([429, 200], _server.Requests.Where(r => r.Method == "sendMessage").Select(r => r.StatusCode));
        Assert.Equal(1, message.Id);
    }

    [Fact]
    public async Task Blocked_user_gets_403_for_sends_and_chat_actions_until_unblocked()
    {
        var bot = Client();
        _server.BlockUser(Alice);

        var send = await Assert.ThrowsAsync<ApiRequestException>(() => bot.SendMessage(Alice, "hi"));
        var typing = await Assert.ThrowsAsync<ApiRequestException>(() => bot.SendChatAction(Alice, ChatAction.Typing));

        Assert.Equal(403, send.ErrorCode);
        Assert.Equal("Forbidden: bot was blocked by the user", send.Message);
        Assert.Equal(403, typing.ErrorCode);
        await bot.SendMessage(2222222, "others still get messages");

        _server.UnblockUser(Alice);
        await bot.SendMessage(Alice, "welcome back");
    }

    [Fact]
    public async Task Scripted_502_is_an_ApiRequestException_but_an_nginx_HTML_502_is_a_RequestException()
    {
        _server.FailNext("*", 502);
        _server.FailNextRaw("getMe", 502, "<html><head><title>502 Bad Gateway</title></head></html>");

        var api = await Assert.ThrowsAsync<ApiRequestException>(() => Client().SendMessage(Alice, "hi"));
        var raw = await Assert.ThrowsAsync<RequestException>(() => Client().GetMe());

        Assert.Equal(502, api.ErrorCode);
        Assert.Equal("Bad Gateway", api.Message);
        Assert.IsNotType<ApiRequestException>(raw);
        Assert.Equal(System.Net.HttpStatusCode.BadGateway, raw.HttpStatusCode);
    }

    [Fact]
    public async Task Per_chat_rate_limit_answers_429_only_to_the_flooded_chat()
    {
        _server.EnforceChatRateLimit(messagesPerSecond: 2, retryAfterSeconds: 3);
        var bot = Client();

        await bot.SendMessage(Alice, "1");
        await bot.SendMessage(Alice, "2");
        var ex = await Assert.ThrowsAsync<ApiRequestException>(() => bot.SendMessage(Alice, "3"));
        await bot.SendMessage(2222222, "other chat is fine");

        Assert.Equal(429, ex.ErrorCode);
        Assert.Equal(3, ex.Parameters?.RetryAfter);
        Assert.Equal(["1", "2"], _server.SentMessages.Where(m => m.ChatId == Alice).Select(m => m.Text));
    }

    [Fact]
    public async Task Paused_server_makes_the_client_time_out_and_resume_lets_calls_through()
    {
        _server.Pause("sendMessage");
        var impatient = Client(timeout: TimeSpan.FromMilliseconds(300));

        var ex = await Assert.ThrowsAsync<RequestException>(() => impatient.SendMessage(Alice, "hi"));
        Assert.Contains("timed out", ex.Message);
        await Client().GetMe(); // other methods are not paused

        var held = Client().SendMessage(Alice, "later");
        await Task.Delay(200);
        Assert.False(held.IsCompleted);
        _server.Resume();
        Assert.Equal("later", (await held.WaitAsync(Wait)).Text);
    }

    [Fact]
    public async Task SetMyCommands_round_trips_through_GetMyCommands_and_rejects_bad_names()
    {
        var bot = Client();

        await bot.SetMyCommands([new BotCommand("start", "Start"), new BotCommand("portfolio", "Show holdings")]);
        var commands = await bot.GetMyCommands();
        var ex = await Assert.ThrowsAsync<ApiRequestException>(() => bot.SetMyCommands([new BotCommand("Bad-Name", "x")]));

        Assert.Equal(["start", "portfolio"], commands.Select(c => c.Command));
        Assert.Equal(_server.Commands, commands.Select(c => new BotCommandRecord(c.Command, c.Description)));
        Assert.Equal(400, ex.ErrorCode);
        Assert.Empty(await bot.GetMyCommands(languageCode: "ru"));
    }

    [Fact]
    public async Task SendChatAction_is_recorded()
    {
        await Client().SendChatAction(Alice, ChatAction.Typing);

        var action = Assert.Single(_server.ChatActions);
        Assert.Equal((Alice, "typing"), (action.ChatId, action.Action));
    }

    [Fact]
    public async Task Callback_query_on_a_bot_message_can_be_answered_once()
    {
        var bot = Client();
        var menu = await bot.SendMessage(Alice, "Pick", replyMarkup: new InlineKeyboardMarkup(InlineKeyboardButton.WithCallbackData("Buy", "buy")));
        var updateId = _server.EnqueueCallbackQuery(Alice, "buy", menu.Id);

        var query = Assert.Single(await bot.GetUpdates()).CallbackQuery!;
        await bot.AnswerCallbackQuery(query.Id, "Done");
        var again = await Assert.ThrowsAsync<ApiRequestException>(() => bot.AnswerCallbackQuery(query.Id));

        Assert.Equal(BotApiServer.CallbackQueryIdFor(updateId), query.Id);
        Assert.Equal("buy", query.Data);
        Assert.Equal(menu.Id, query.Message!.Id);
        Assert.Equal("Done", Assert.Single(_server.AnsweredCallbacks).Text);
        Assert.Equal(400, again.ErrorCode);
    }

    [Fact]
    public async Task Raw_updates_reach_the_client_with_their_type()
    {
        var id = _server.EnqueueUpdate(new System.Text.Json.Nodes.JsonObject
        {
            ["edited_message"] = new System.Text.Json.Nodes.JsonObject
            {
                ["message_id"] = 5,
                ["chat"] = new System.Text.Json.Nodes.JsonObject { ["id"] = Alice, ["type"] = "private", ["first_name"] = "A" },
                ["date"] = 1569518342,
                ["edit_date"] = 1569518400,
                ["text"] = "edited",
            },
        });

        var update = Assert.Single(await Client().GetUpdates());

        Assert.Equal(id, update.Id);
        Assert.Equal(UpdateType.EditedMessage, update.Type);
        Assert.Equal("edited", update.EditedMessage!.Text);
    }

    [Fact]
    public async Task EditMessageText_changes_a_bot_message_and_an_identical_edit_is_not_modified()
    {
        var bot = Client();
        var sent = await bot.SendMessage(Alice, "Loading…");

        var edited = await bot.EditMessageText(Alice, sent.Id, "<i>Done</i>", ParseMode.Html);
        var same = await Assert.ThrowsAsync<ApiRequestException>(() => bot.EditMessageText(Alice, sent.Id, "<i>Done</i>", ParseMode.Html));
        var missing = await Assert.ThrowsAsync<ApiRequestException>(() => bot.EditMessageText(Alice, 999, "x"));

        Assert.Equal("Done", edited.Text);
        Assert.NotNull(edited.EditDate);
        Assert.StartsWith("Bad Request: message is not modified", same.Message);
        Assert.Equal("Bad Request: message to edit not found", missing.Message);
        Assert.Equal("<i>Done</i>", Assert.Single(_server.Edits).Text);
    }

    [Fact]
    public async Task DeleteMessage_removes_once()
    {
        var bot = Client();
        var sent = await bot.SendMessage(Alice, "temp");

        await bot.DeleteMessage(Alice, sent.Id);
        var again = await Assert.ThrowsAsync<ApiRequestException>(() => bot.DeleteMessage(Alice, sent.Id));

        Assert.Equal(sent.Id, Assert.Single(_server.DeletedMessages).MessageId);
        Assert.Equal("Bad Request: message to delete not found", again.Message);
    }

    [Fact]
    public async Task SendPhoto_uploads_the_file_as_multipart_and_keeps_bytes_and_caption()
    {
        var png = new byte[] { 0x89, 0x50, 0x4E, 0x47, 1, 2, 3, 4, 5 };

        var message = await Client().SendPhoto(Alice, InputFile.FromStream(new MemoryStream(png), "chart.png"), "<b>BTC</b> 1h", ParseMode.Html);

        var photo = Assert.Single(_server.Photos);
        Assert.Equal(png, photo.Bytes);
        Assert.Equal("chart.png", photo.FileName);
        Assert.Equal("<b>BTC</b> 1h", photo.Caption);
        Assert.Equal("BTC 1h", message.Caption);
        Assert.NotEmpty(message.Photo!);
        Assert.Equal("sendPhoto", _server.Requests.Single().Method);
    }

    [Fact]
    public async Task Webhook_gets_updates_with_the_secret_header_and_getUpdates_conflicts()
    {
        await using var sink = await WebhookSink.StartAsync();
        var bot = Client();
        await bot.SetWebhook(sink.Url, secretToken: "s3cret-Token_1");
        var id = _server.EnqueueMessage(Alice, "via webhook");

        var info = await bot.GetWebhookInfo();
        var conflict = await Assert.ThrowsAsync<ApiRequestException>(() => bot.GetUpdates());
        var result = await _server.DeliverToWebhookAsync();

        Assert.Equal(sink.Url, info.Url);
        Assert.Equal(1, info.PendingUpdateCount);
        Assert.Equal(409, conflict.ErrorCode);
        Assert.Equal("Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first", conflict.Message);
        Assert.Equal([id], result.Delivered);
        var received = Assert.Single(sink.Requests);
        Assert.Equal("s3cret-Token_1", received.SecretToken);
        Assert.StartsWith("application/json", received.ContentType);
        var update = JsonSerializer.Deserialize<Update>(received.Body, JsonBotAPI.Options)!;
        Assert.Equal("via webhook", update.Message!.Text);
        Assert.Equal(0, (await bot.GetWebhookInfo()).PendingUpdateCount);

        await bot.DeleteWebhook();
        Assert.Empty(await bot.GetUpdates());
    }

    [Fact]
    public async Task Webhook_delivery_retries_non_2xx_and_gives_up_after_the_last_attempt()
    {
        await using var sink = await WebhookSink.StartAsync();
        await Client().SetWebhook(sink.Url);
        var retried = _server.EnqueueMessage(Alice, "first");
        var dropped = _server.EnqueueMessage(Alice, "second");
        sink.AnswerNext(500, 502, 200, 500, 500, 500);

        var result = await _server.DeliverToWebhookAsync();
        var info = await Client().GetWebhookInfo();

        Assert.Equal([retried], result.Delivered);
        Assert.Equal([dropped], result.Abandoned);
        Assert.Equal([500, 502, 200, 500, 500, 500], _server.WebhookDeliveries.Select(d => d.StatusCode ?? 0));
        Assert.Equal(3, _server.DeliveryCount(retried));
        Assert.Equal("Wrong response from the webhook: 500 Internal Server Error", info.LastErrorMessage);
        Assert.NotNull(info.LastErrorDate);
    }

    [Fact]
    public async Task Auto_delivery_pushes_queued_updates_and_executes_a_method_in_the_webhook_reply()
    {
        await using var server = await BotApiServer.StartAsync(new BotApiServerOptions { AutoDeliverWebhook = true });
        await using var sink = await WebhookSink.StartAsync();
        sink.ReplyJson = $$"""{"method":"sendMessage","chat_id":{{Alice}},"text":"pong"}""";
        await new TelegramBotClient(new TelegramBotClientOptions(server.Token, server.BaseUrl)).SetWebhook(sink.Url);

        server.EnqueueMessage(Alice, "ping");

        var replies = await server.WaitForMessagesAsync(Alice, 1, Wait);
        Assert.Equal("pong", replies[0].Text);
        Assert.Single(sink.Requests);
        Assert.Contains(server.Requests, r => r is { Method: "sendMessage", Source: "webhook-reply", StatusCode: 200 });
    }

    [Fact]
    public async Task WaitForMessagesAsync_times_out_with_what_was_sent()
    {
        await Client().SendMessage(Alice, "only one");

        var ex = await Assert.ThrowsAsync<TimeoutException>(() => _server.WaitForMessagesAsync(Alice, 2, TimeSpan.FromMilliseconds(200)));

        Assert.Contains("only one", ex.Message);
    }
}
