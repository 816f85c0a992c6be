using System.Text.Json.Nodes;
using Engram.Abstractions.Conversation;
using Engram.Abstractions.Users;
using Engram.TestServers;

namespace Engram.FunctionalTests.Telegram;

/// <summary>The conversation over Telegram long polling, against a Bot API stand-in with real long polling.</summary>
public sealed class TelegramConversationTests(TelegramFixture fixture) : IClassFixture<TelegramFixture>
{
    private static long nextUser = 700_000;
    private readonly long user = Interlocked.Increment(ref nextUser);
    private BotApiServer Telegram => fixture.Telegram;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private async Task<SentMessage> Exchange(string text, long? chat = null)
    {
        var already = Telegram.SentMessages.Count(m => m.ChatId == (chat ?? user));
        Telegram.EnqueueMessage(user, text, chat, chat < 0 ? "supergroup" : "private");
        try
        {
            var sent = await Telegram.WaitForMessagesAsync(chat ?? user, already + 1, Patience);
            return sent[already];
        }
        catch (TimeoutException ex)
        {
            // Show what the bot did call, to tell "never answered" from "answered and refused".
            throw new TimeoutException(ex.Message + " Requests: " + string.Join("; ", Telegram.Requests.Where(r => r.Method != "getUpdates").TakeLast(15).Select(r => $"{r.Method} {r.StatusCode} {r.ParametersJson}")), ex);
        }
    }

    [Fact]
    public async Task A_conversation_runs_end_to_end_with_html_and_the_command_menu()
    {
        var welcome = await Exchange("/start");
        Assert.Contains("Welcome to Engram", welcome.PlainText);
        Assert.Equal("HTML", welcome.ParseMode, ignoreCase: true);

        fixture.Llm.Enqueue(ScriptedReply.ToolCall("analyze_market", new { pair = "BTC" }), ScriptedReply.Text("BTC is below its EMA200 at 19,093.63."));
        var answer = await Exchange("should I buy bitcoin now?");
        Assert.Equal("BTC is below its EMA200 at 19,093.63.", answer.PlainText);
        Assert.Contains(Telegram.ChatActions, a => a.ChatId == user && a.Action == "typing");

        await Telegram.WaitUntilAsync(t => t.Commands.Count > 0, Patience);
        Assert.Contains(Telegram.Commands, c => c.Command == "analyze" && c.Description.Length > 0);
        Assert.Equal(CommandCatalog.All.Count, Telegram.Commands.Count);
    }

    [Fact]
    public async Task A_streamed_answer_grows_in_one_message_at_most_one_edit_a_second_and_ends_as_the_whole_answer()
    {
        var answer = "Bitcoin closed at 19,093.63 on the 1h chart. " + string.Join(" ", Enumerable.Repeat("The trend is down and momentum is mixed.", 14));
        var already = Telegram.SentMessages.Count(m => m.ChatId == user);
        var asked = DateTimeOffset.UtcNow;
        // About 50 chunks, one every 60 ms: the model writes for some 3 s (within the fixture's 5-s LLM timeout).
        fixture.Llm.Enqueue(ScriptedReply.ToolCall("analyze_market", new { pair = "BTC" }), ScriptedReply.Text(answer).Trickling(TimeSpan.FromMilliseconds(60)));
        Telegram.EnqueueMessage(user, "how is bitcoin doing?");

        var draft = (await Telegram.WaitForMessagesAsync(user, already + 1, Patience))[already];
        Assert.EndsWith(" …", draft.PlainText);
        Assert.StartsWith("Bitcoin closed at", draft.PlainText);
        Assert.True(draft.PlainText.Length < answer.Length, "the first draft shows part of the answer");
        var finished = await Telegram.WaitUntilAsync(t => t.Edits.Any(e => e.ChatId == user && e.MessageId == draft.MessageId && !e.Text!.EndsWith(" …", StringComparison.Ordinal)), Patience);
        Assert.True(finished, "the final text replaced the draft; sent since: " + string.Join(" | ", Telegram.SentMessages.Where(m => m.ChatId == user).Skip(already).Select(m => m.PlainText)));

        var edits = Telegram.Edits.Where(e => e.ChatId == user && e.MessageId == draft.MessageId).ToList();
        var drafts = edits.Where(e => e.Text!.EndsWith(" …", StringComparison.Ordinal)).Select(e => e.ReceivedAt).Prepend(draft.ReceivedAt).ToList();
        Assert.True(drafts.Count >= 3, $"the draft grew in {drafts.Count} steps");
        for (var i = 1; i < drafts.Count; i++)
            Assert.True(drafts[i] - drafts[i - 1] >= TimeSpan.FromMilliseconds(950), $"draft edits {i - 1} and {i} came {(drafts[i] - drafts[i - 1]).TotalMilliseconds:0} ms apart");
        Assert.True(answer == edits[^1].Text, "the last edit is the whole answer; edits: " + string.Join(" | ", Telegram.Edits.Select(e => $"{e.ChatId}/{e.MessageId} {e.ReceivedAt:HH:mm:ss.fff} {e.Text![^Math.Min(20, e.Text!.Length)..]}")) + $" (draft {user}/{draft.MessageId})");
        Assert.Equal(already + 1, Telegram.SentMessages.Count(m => m.ChatId == user)); // one message, edited
        Assert.Contains(Telegram.ChatActions, a => a.ChatId == user && a.Action == "typing" && a.ReceivedAt >= asked && a.ReceivedAt < draft.ReceivedAt);

        // A server that does not stream gets today's single message, with the same text.
        // (Answered by what it is asked, as a server would: the streamed request is asked again whole.)
        fixture.Llm.Streams = false;
        fixture.Llm.Handler = request => request.ToolResults.Any() ? ScriptedReply.Text(answer) : ScriptedReply.ToolCall("analyze_market", new { pair = "BTC" });
        try
        {
            var whole = await Exchange("and now?");
            Assert.Equal(answer, whole.PlainText);
        }
        finally
        {
            fixture.Llm.Handler = null;
            fixture.Llm.Streams = true;
        }
    }

    [Fact]
    public async Task An_alert_the_model_proposes_is_set_only_by_the_owners_tap()
    {
        fixture.Llm.Enqueue(ScriptedReply.ToolCall("propose_alert", new { pair = "bitcoin", condition = "above", price = 25000 }),
            ScriptedReply.Text("I can tell you when BTC goes above 25,000: tap the button to set it."));
        var answer = await Exchange("tell me when bitcoin goes above 25k");
        Assert.StartsWith("I can tell you when BTC goes above 25,000", answer.PlainText);
        var button = JsonNode.Parse(answer.ReplyMarkupJson!)!["inline_keyboard"]![0]![0]!;
        Assert.Equal("🔔 Set: BTC above 25,000.00", button["text"]!.GetValue<string>());
        Assert.Equal($"{user}|/alert BTC/USDT above 25000", button["callback_data"]!.GetValue<string>());
        Assert.Empty(await fixture.Cluster.Client.GetGrain<IUserGrain>(user).GetAlertsAsync()); // the proposal set nothing

        // Someone else's tap is refused and sets nothing.
        var stranger = user + 2_000;
        Telegram.EnqueueCallbackQuery(stranger, button["callback_data"]!.GetValue<string>(), answer.MessageId);
        Assert.Contains("belongs to someone else", (await Telegram.WaitForMessagesAsync(stranger, 1, Patience))[0].PlainText);
        Assert.Empty(await fixture.Cluster.Client.GetGrain<IUserGrain>(user).GetAlertsAsync());

        // The owner's tap sets it.
        var already = Telegram.SentMessages.Count(m => m.ChatId == user);
        Telegram.EnqueueCallbackQuery(user, button["callback_data"]!.GetValue<string>(), answer.MessageId);
        var set = (await Telegram.WaitForMessagesAsync(user, already + 1, Patience))[already];
        Assert.Contains("Alert #1 set", set.PlainText);
        var alert = Assert.Single(await fixture.Cluster.Client.GetGrain<IUserGrain>(user).GetAlertsAsync());
        Assert.Equal((AlertCondition.Above, 25_000m), (alert.Condition, alert.Threshold));
    }

    [Fact]
    public async Task An_indicator_alert_in_plain_words_is_proposed_and_set_only_by_the_owners_tap()
    {
        fixture.Llm.Enqueue(ScriptedReply.ToolCall("propose_alert", new { pair = "bitcoin", indicator = "rsi", timeframe = "4h", condition = "above", level = 70 }),
            ScriptedReply.Text("Tap the button and I'll tell you when BTC's 4h RSI goes above 70."));
        var answer = await Exchange("tell me when bitcoin's 4h RSI goes above 70");
        var button = JsonNode.Parse(answer.ReplyMarkupJson!)!["inline_keyboard"]![0]![0]!;
        Assert.Equal("🔔 Set: BTC RSI(14) 4h above 70", button["text"]!.GetValue<string>());
        Assert.Equal($"{user}|/alert BTC rsi 4h above 70", button["callback_data"]!.GetValue<string>());
        Assert.Empty(await fixture.Cluster.Client.GetGrain<IUserGrain>(user).GetAlertsAsync());

        var stranger = user + 3_000;
        Telegram.EnqueueCallbackQuery(stranger, button["callback_data"]!.GetValue<string>(), answer.MessageId);
        Assert.Contains("belongs to someone else", (await Telegram.WaitForMessagesAsync(stranger, 1, Patience))[0].PlainText);
        Assert.Empty(await fixture.Cluster.Client.GetGrain<IUserGrain>(user).GetAlertsAsync());

        var already = Telegram.SentMessages.Count(m => m.ChatId == user);
        Telegram.EnqueueCallbackQuery(user, button["callback_data"]!.GetValue<string>(), answer.MessageId);
        var set = (await Telegram.WaitForMessagesAsync(user, already + 1, Patience))[already];
        Assert.Contains("Alert #1 set: BTC/USDT RSI(14) 4h above 70. Checked at every 4h close.", set.PlainText);
        var alert = Assert.Single(await fixture.Cluster.Client.GetGrain<IUserGrain>(user).GetAlertsAsync());
        Assert.Equal((AlertCondition.Above, 70m, new Engram.Abstractions.Alerts.IndicatorSpec("rsi14", "4h")), (alert.Condition, alert.Threshold, alert.Indicator));
    }

    [Fact]
    public async Task Alert_buttons_delete_the_alert_and_the_callback_is_answered()
    {
        var set = await Exchange("/alert ETH above 1000000");
        Assert.Contains("Alert #1 set", set.PlainText);
        var keyboard = JsonNode.Parse(set.ReplyMarkupJson!)!["inline_keyboard"]!.AsArray();
        var delete = keyboard[0]![0]!["callback_data"]!.GetValue<string>();
        Assert.Equal($"{user}|/delalert 1", delete);

        var already = Telegram.SentMessages.Count(m => m.ChatId == user);
        var update = Telegram.EnqueueCallbackQuery(user, delete, set.MessageId);
        var replies = await Telegram.WaitForMessagesAsync(user, already + 1, Patience);
        Assert.Contains("Deleted alert #1", replies[^1].PlainText);
        Assert.Contains(Telegram.AnsweredCallbacks, c => c.CallbackQueryId == BotApiServer.CallbackQueryIdFor(update));
        Assert.Empty(await fixture.Cluster.Client.GetGrain<IUserGrain>(user).GetAlertsAsync());
    }

    [Fact]
    public async Task A_button_pressed_by_someone_else_touches_nothing()
    {
        await Exchange("/alert SOL above 1000000");
        var stranger = user + 1_000;
        Telegram.EnqueueCallbackQuery(stranger, $"{user}|/delalert 1", 1);
        var reply = await Telegram.WaitForMessagesAsync(stranger, 1, Patience);
        Assert.Contains("belongs to someone else", reply[0].PlainText);
        Assert.Single(await fixture.Cluster.Client.GetGrain<IUserGrain>(user).GetAlertsAsync());
    }

    [Fact]
    public async Task Hostile_text_is_escaped_so_telegram_accepts_it_and_shows_it_verbatim()
    {
        var reply = await Exchange("/analyze <b>&lt;script>alert(1)</script>");
        Assert.Contains("<b>&lt;script>alert(1)</script>", reply.PlainText);
    }

    [Fact]
    public async Task Long_answers_are_split_at_line_boundaries_under_4096_characters()
    {
        var paragraphs = string.Join("\n\n", Enumerable.Range(1, 120).Select(i => $"Paragraph {i}: " + new string('x', 80)));
        fixture.Llm.Enqueue(ScriptedReply.Text(paragraphs));
        var already = Telegram.SentMessages.Count(m => m.ChatId == user);
        Telegram.EnqueueMessage(user, "tell me everything");
        var sent = (await Telegram.WaitForMessagesAsync(user, already + 3, Patience)).Skip(already).ToList();
        Assert.All(sent, m => Assert.InRange(m.PlainText.Length, 1, 4096));
        Assert.StartsWith("Paragraph 1:", sent[0].PlainText);
        Assert.EndsWith("Paragraph 120: " + new string('x', 80), sent[^1].PlainText);
        Assert.Equal(paragraphs.Replace("\n\n", ""), string.Concat(sent.Select(m => m.PlainText.Replace("\n\n", ""))));
    }

    [Fact]
    public async Task A_storm_of_429s_delays_messages_but_loses_none()
    {
        Telegram.FailNext("sendMessage", 429, retryAfter: 1, count: 4);
        var texts = new[] { "/help", "/alerts", "/portfolio" };
        foreach (var text in texts)
            Telegram.EnqueueMessage(user, text);
        var sent = await Telegram.WaitForMessagesAsync(user, 3, TimeSpan.FromSeconds(40));
        Assert.Contains("Commands:", sent[0].PlainText);
        Assert.Contains("no active alerts", sent[1].PlainText);
        Assert.Contains("portfolio is empty", sent[2].PlainText);
    }

    [Fact]
    public async Task A_refused_bot_token_keeps_the_reply_and_it_goes_out_in_order_once_Telegram_takes_it()
    {
        Telegram.FailNext("sendMessage", 401);
        Telegram.EnqueueMessage(user, "/start");
        Assert.True(await Telegram.WaitUntilAsync(t => t.Requests.Any(r => r.Method == "sendMessage" && r.StatusCode == 401), Patience));
        Telegram.EnqueueMessage(user, "/help");
        var sent = await Telegram.WaitForMessagesAsync(user, 2, Patience);
        Assert.Contains("Welcome to Engram", sent[0].PlainText); // kept through the 401, not deleted
        Assert.Contains("Commands:", sent[1].PlainText);
    }

    [Fact]
    public async Task A_user_who_blocked_the_bot_is_marked_inactive_and_nothing_more_is_sent()
    {
        await Exchange("/start");
        Telegram.BlockUser(user);
        Telegram.EnqueueMessage(user, "/help");
        var grain = fixture.Cluster.Client.GetGrain<IUserGrain>(user);
        Assert.True(await Telegram.WaitUntilAsync(t => t.Requests.Any(r => r.Method == "sendMessage" && r.StatusCode == 403), Patience));
        await Task.Delay(500);
        Assert.Single(Telegram.SentMessages, m => m.ChatId == user);
    }

    [Fact]
    public async Task Stickers_and_photos_get_a_polite_answer_and_edits_are_ignored()
    {
        Telegram.EnqueueUpdate(new JsonObject
        {
            ["message"] = new JsonObject
            {
                ["message_id"] = 1, ["date"] = 1_700_000_000,
                ["from"] = new JsonObject { ["id"] = user, ["is_bot"] = false, ["first_name"] = "T" },
                ["chat"] = new JsonObject { ["id"] = user, ["type"] = "private" },
                ["sticker"] = new JsonObject { ["file_id"] = "x", ["file_unique_id"] = "y", ["type"] = "regular", ["width"] = 1, ["height"] = 1, ["is_animated"] = false, ["is_video"] = false },
            },
        });
        var reply = await Telegram.WaitForMessagesAsync(user, 1, Patience);
        Assert.Contains("text messages and commands only", reply[0].PlainText);
    }

    [Fact]
    public async Task In_a_group_the_bot_answers_commands_addressed_to_it_and_replies_to_the_group()
    {
        var group = -100_000_000L - user;
        Telegram.EnqueueMessage(user, "just chatting with friends", group, "supergroup");
        Telegram.EnqueueMessage(user, "/alerts@SomeOtherBot", group, "supergroup");
        var reply = await Exchange($"/help@{Telegram.Options.BotUsername}", group);
        Assert.Contains("Commands:", reply.PlainText);
        await Task.Delay(500);
        Assert.Single(Telegram.SentMessages, m => m.ChatId == group);
    }

    [Fact]
    public async Task Random_bytes_and_malformed_commands_get_clear_answers_and_nothing_crashes()
    {
        var random = new Random(42);
        var inputs = Enumerable.Range(0, 1000).Select(i => i % 2 == 0
            ? new string(Enumerable.Range(0, random.Next(1, 60)).Select(_ => (char)random.Next(1, 0xD7FF)).ToArray())
            : "/" + new string(Enumerable.Range(0, random.Next(1, 20)).Select(_ => (char)random.Next(33, 127)).ToArray())).ToList();
        fixture.Llm.Handler = _ => ScriptedReply.Text("I did not understand that; try /help.");
        var senders = Enumerable.Range(0, 50).Select(i => user * 1000 + i).ToList();
        for (var i = 0; i < inputs.Count; i++)
            Telegram.EnqueueMessage(senders[i % senders.Count], inputs[i]);
        foreach (var sender in senders)
        {
            // Every input answered; a "queued" notice is extra, not an answer.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
            while (Telegram.SentMessages.Count(m => m.ChatId == sender && !m.PlainText.StartsWith('⏳')) < inputs.Count / senders.Count && DateTime.UtcNow < deadline)
                await Task.Delay(100);
            var sent = Telegram.SentMessages.Where(m => m.ChatId == sender).ToList();
            Assert.Equal(inputs.Count / senders.Count, sent.Count(m => !m.PlainText.StartsWith('⏳')));
            Assert.All(sent, m => Assert.False(string.IsNullOrWhiteSpace(m.PlainText)));
        }
        fixture.Llm.Handler = null;
    }
}

public sealed class TelegramRateLimitTests(TelegramFixture fixture) : IClassFixture<TelegramFixture>
{
    [Fact]
    public async Task A_user_sending_too_many_commands_is_told_once_to_slow_down_and_others_are_not_delayed()
    {
        const long user = 990_001, other = 990_002;
        for (var i = 0; i < 35; i++)
            fixture.Telegram.EnqueueMessage(user, "/alerts");
        fixture.Telegram.EnqueueMessage(other, "/alerts");
        var replies = await fixture.Telegram.WaitForMessagesAsync(user, 31, TimeSpan.FromSeconds(30));
        Assert.Equal(30, replies.Count(r => r.PlainText.Contains("no active alerts", StringComparison.Ordinal)));
        Assert.Matches(@"Slow down a little: I'm skipping what you send for the next \d+ s", replies[30].PlainText);
        Assert.Contains("no active alerts", Assert.Single(await fixture.Telegram.WaitForMessagesAsync(other, 1, TimeSpan.FromSeconds(30))).PlainText);
        // The flood's excess got no reply each: one notice, not one per message.
        await Task.Delay(500);
        Assert.Equal(31, fixture.Telegram.SentMessages.Count(m => m.ChatId == user));
    }
}
