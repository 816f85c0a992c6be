using System.Text.Json.Nodes;
using Engram.Abstractions.Conversation;
using Engram.Abstractions.Users;
using Engram.Agent;
using Engram.TestServers;

namespace Engram.FunctionalTests.Conversation;

/// <summary>
/// The conversation end to end: user grain → LLM worker grain → OpenAI client over HTTP to a
/// scripted server → tools on the real BTC/ETH candles → reply. Asserts on what the server
/// received (tool schema, tool results) and on what the user reads.
/// </summary>
public sealed class ConversationTests(ConversationFixture fixture) : IClassFixture<ConversationFixture>
{
    private static long nextUser = 50_000;
    private readonly long userId = Interlocked.Increment(ref nextUser);
    private OpenAiServer Llm => fixture.Llm;

    private async Task<string> Say(string text, long? user = null)
    {
        var replies = await fixture.Chat.SayAsync(user ?? userId, text);
        var reply = Assert.Single(replies);
        Assert.False(string.IsNullOrWhiteSpace(reply.Text));
        return reply.Text;
    }

    [Fact]
    public async Task A_question_makes_the_model_call_a_tool_and_the_answer_is_grounded_in_its_result()
    {
        var before = Llm.Requests.Count;
        Llm.Enqueue(
            ScriptedReply.ToolCall("analyze_market", """{"pair":"BTC/USDT","timeframe":"1h"}""", id: "123456789"),
            ScriptedReply.Text("BTC trades at 19,093.63 below its EMA200, a downtrend.", think: "The tool says price 19093.63; I'll summarise."));

        var reply = await Say("should I buy bitcoin now?");

        Assert.Equal("BTC trades at 19,093.63 below its EMA200, a downtrend.", reply);
        var requests = Llm.Requests.Skip(before).ToList();
        Assert.Equal(2, requests.Count);
        // The schema: all seven tools, precise parameters, the timeframe enum.
        Assert.Equal(AgentTools.Names, requests[0].ToolNames);
        var timeframes = requests[0].ToolParameters("analyze_market")!["properties"]!["timeframe"]!["enum"]!.AsArray().Select(n => n!.GetValue<string>());
        Assert.Equal(["1m", "5m", "15m", "30m", "1h", "4h", "1d", "1w"], timeframes);
        Assert.Equal(["signal", "data"], requests[0].ToolParameters("get_confidence_score")!["required"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Contains("must come from a tool result", requests[0].Messages[0].Content);
        // The tool result went back with LM Studio's numeric id, computed from the real candles.
        var toolResult = Assert.Single(requests[1].ToolResults);
        Assert.Equal("123456789", toolResult.ToolCallId);
        var result = JsonNode.Parse(toolResult.Content!)!;
        Assert.Equal("BTCUSDT", result["symbol"]!.GetValue<string>());
        Assert.Equal(19093.63, result["price"]!.GetValue<double>()); // last close of binance_BTCUSDT_1h.csv
        Assert.Equal("Not financial advice.", result["disclaimer"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_signal_tool_gives_its_figures_and_an_answer_quoting_other_figures_is_marked_or_replaced()
    {
        var before = Llm.Requests.Count;
        Llm.Enqueue(ScriptedReply.ToolCall("generate_signal", new { pair = "BTC" }),
            ScriptedReply.Text("BTC closed at 19,093.63 and I see it at 71,200 by Friday."));
        var marked = await Say("should I buy bitcoin now?");
        Assert.Equal("BTC closed at 19,093.63 and I see it at 71,200 by Friday.\n\n⚠️ 1 figure here is not from Engram's data: 71,200", marked);

        // What the model was given: the price, its candle time, every rule's figures and the backtest.
        var signal = JsonNode.Parse(Assert.Single(Llm.Requests[before + 1].ToolResults).Content!)!;
        Assert.Equal(19093.63, signal["price"]!.GetValue<double>());
        Assert.NotNull(signal["lastCandleCloseTime"]);
        Assert.Equal(5, signal["rules"]!.AsArray().Count);
        Assert.InRange(signal["rules"]!.AsArray().Single(r => r!["rule"]!.GetValue<string>() == "rsi")!["values"]!["rsi14"]!.GetValue<double>(), 0, 100);
        Assert.True(signal["backtest"]!["cases"]!.GetValue<int>() > 0);

        Llm.Enqueue(ScriptedReply.ToolCall("generate_signal", new { pair = "BTC" }),
            ScriptedReply.Text("RSI is 61.37, support 18,251.5 and the target 24,817.25."));
        var replaced = await Say("and what are the levels?");
        Assert.StartsWith("BTCUSDT 1h: ", replaced);
        Assert.Contains("quoted 3 figures that are not from Engram's data (61.37, 18,251.5, 24,817.25), so here are the tools' own figures instead.", replaced);
        Assert.DoesNotContain("the target", replaced);
    }

    [Fact]
    public async Task Detailed_and_raw_formats_show_tools_model_and_reasoning()
    {
        Assert.Contains("detailed", await Say("/format detailed"));
        Llm.Enqueue(ScriptedReply.ToolCall("assess_risk", new { pair = "ETH", position_size = "$1000" }), ScriptedReply.Text("Risk is moderate.", think: "secret reasoning"));
        var detailed = await Say("how risky is $1000 of ETH?");
        Assert.StartsWith("Risk is moderate.", detailed);
        Assert.Contains("🔧 assess_risk", detailed);
        Assert.Contains("Model: glm-4.7-flash", detailed);
        Assert.DoesNotContain("secret reasoning", detailed);

        await Say("/format raw");
        Llm.Enqueue(ScriptedReply.ToolCall("analyze_market", new { pair = "ETH" }), ScriptedReply.Text("Raw answer.", think: "visible reasoning"));
        var raw = await Say("and ETH?");
        Assert.Contains("<think>visible reasoning</think>", raw);
        Assert.Contains("\"symbol\":\"ETHUSDT\"", raw);

        await Say("/format clean");
    }

    [Fact]
    public async Task Server_refusing_tools_with_400_gets_the_question_again_without_tools_and_with_facts()
    {
        var before = Llm.Requests.Count;
        Llm.Enqueue(ScriptedReply.LmStudioError(400, "This model does not support tools"), ScriptedReply.Text("ETH looks weak from these figures."));

        var reply = await Say("what do you think of ETH?");

        Assert.Equal("ETH looks weak from these figures.", reply);
        var retry = Llm.Requests.Skip(before).ElementAt(1);
        Assert.Empty(retry.ToolNames);
        Assert.Contains("\"symbol\":\"ETHUSDT\"", retry.LastUserMessage!.Content); // facts computed in code
    }

    [Theory]
    [InlineData("500")]
    [InlineData("garbage")]
    [InlineData("hang")]
    [InlineData("no-choices")]
    public async Task An_unreachable_or_broken_llm_gives_an_answer_from_the_tools(string failure)
    {
        var broken = failure switch
        {
            "500" => ScriptedReply.OpenAiError(500, "internal error", "server_error"),
            "garbage" => ScriptedReply.Garbage(),
            "no-choices" => ScriptedReply.Error(200, """{"id":"x","object":"chat.completion","choices":[]}"""),
            _ => ScriptedReply.Hang(),
        };
        // A broken server stays broken: a streamed request that gets no stream at all is asked again whole.
        Llm.Enqueue(failure is "garbage" or "no-choices" ? [broken, broken] : [broken]);
        var started = DateTime.UtcNow;

        var reply = await Say("should I buy bitcoin now?");

        Assert.StartsWith("BTCUSDT 1h: 19,093.63", reply);
        Assert.EndsWith(LlmAgent.UnavailableNotice, reply);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(15), "the timeout (3 s) bounds the wait");
    }

    [Fact]
    public async Task Malformed_arguments_and_unknown_tools_go_back_to_the_model_as_errors()
    {
        var before = Llm.Requests.Count;
        Llm.Enqueue(
            ScriptedReply.WithToolCalls(new LlmToolCall("1", "analyze_market", "{not json"), new LlmToolCall("2", "get_weather", """{"city":"Paris"}"""),
                new LlmToolCall("3", "analyze_market", """{"timeframe":"1h"}""")),
            ScriptedReply.Text("Sorry, I could not get the data."));

        var reply = await Say("analyse something");

        Assert.Equal("Sorry, I could not get the data.", reply);
        var results = Llm.Requests.Skip(before).ElementAt(1).ToolResults.ToDictionary(r => r.ToolCallId!, r => r.Content!);
        Assert.Equal(3, results.Count);
        Assert.Contains("get_weather", results["2"]);
        Assert.Contains("Missing required argument 'pair'", results["3"]);
    }

    [Fact]
    public async Task Analyze_runs_the_tool_in_code_and_asks_the_model_only_to_comment()
    {
        var before = Llm.Requests.Count;
        Llm.Enqueue(ScriptedReply.Text("A bearish picture with RSI near the middle."));

        var reply = await Say("/analyze ETH/USDT 1d");

        Assert.StartsWith("ETHUSDT 1d: 1,290.03", reply); // the last 1d close up to the CSV world's now, 2022-10-11 11:00
        Assert.Contains("💬 A bearish picture with RSI near the middle.", reply);
        var request = Llm.Requests.Skip(before).Single();
        Assert.Empty(request.ToolNames);
        Assert.Contains("\"timeframe\":\"1d\"", request.LastUserMessage!.Content);
    }

    [Fact]
    public async Task History_is_sent_with_the_next_question_and_reset_forgets_it()
    {
        Llm.Enqueue(ScriptedReply.Text("First answer."));
        await Say("first question");
        var before = Llm.Requests.Count;
        Llm.Enqueue(ScriptedReply.Text("Second answer."));
        await Say("second question");
        var sent = Llm.Requests.Skip(before).Single().Messages.Select(m => m.Content).ToList();
        Assert.Contains("first question", sent);
        Assert.Contains("First answer.", sent);

        Assert.Contains("forgot", await Say("/reset"));
        before = Llm.Requests.Count;
        Llm.Enqueue(ScriptedReply.Text("Third."));
        await Say("third question");
        Assert.DoesNotContain("first question", Llm.Requests.Skip(before).Single().Messages.Select(m => m.Content));
    }

    [Fact]
    public async Task Status_reports_the_model_tools_cluster_and_alerts()
    {
        await Say("/alert BTC above 1000000");
        var status = await Say("/status");
        Assert.Contains("glm-4.7-flash reachable", status);
        Assert.Contains("Tools: 7", status);
        Assert.Contains("Cluster: 1 silo(s) active", status);
        Assert.Contains("Your active alerts: 1", status);
    }

    [Fact]
    public async Task Many_users_asking_at_once_are_all_answered_with_at_most_the_configured_concurrency()
    {
        Llm.ResetMaxConcurrency();
        var previous = Llm.Handler;
        Llm.Handler = _ => ScriptedReply.Text("Answer.").After(TimeSpan.FromMilliseconds(200));
        try
        {
            var users = Enumerable.Range(0, 20).Select(i => 90_000L + i).ToList();
            var replies = await Task.WhenAll(users.Select(u => fixture.Chat.SayAsync(u, "quick question")));
            // Those beyond the free slots are told at once that they wait, then answered.
            Assert.All(replies, r => Assert.Equal("Answer.", r[^1].Text));
            Assert.All(replies.Where(r => r.Count > 1), r => Assert.StartsWith("⏳ I'm busy with other questions; yours is queued", Assert.Single(r.Take(r.Count - 1)).Text));
            Assert.InRange(Llm.MaxConcurrency, 1, 2);
        }
        finally
        {
            Llm.Handler = previous;
        }
    }

    [Theory]
    [InlineData("/start", "Welcome to Engram")]
    [InlineData("/help", "/analyze <pair> [timeframe]")]
    [InlineData("/analyze", "Usage: /analyze")]
    [InlineData("/analyze NOTACOIN", "NOTACOINUSDT")]
    [InlineData("/analyze BTC 2h", "2h")]
    [InlineData("/signal BTC", "BTCUSDT 1h")]
    [InlineData("/signal", "Usage: /signal")]
    [InlineData("/risk BTC 0.5", "VaR")]
    [InlineData("/risk BTC", "Usage: /risk")]
    [InlineData("/risk BTC lots", "Usage: /risk")]
    [InlineData("/alert BTC above 1000000", "Alert #")]
    [InlineData("/alert BTC above 1", "already above")]
    [InlineData("/alert BTC sideways 5", "should be above, below or a percentage")]
    [InlineData("/alert BTC above -5", "not a price")]
    [InlineData("/alert", "Usage: /alert")]
    [InlineData("/alerts", "no active alerts")]
    [InlineData("/delalert 999", "no alert #999")]
    [InlineData("/delalert x", "Usage: /delalert")]
    [InlineData("/portfolio", "empty")]
    [InlineData("/buy BTC 0.1 20000", "Bought 0.1 BTC/USDT at 20,000.00")]
    [InlineData("/buy BTC 0.1", "current market price")]
    [InlineData("/buy BTC -1", "not an amount")]
    [InlineData("/buy BTC NaN", "not an amount")]
    [InlineData("/sell BTC 1 20000", "hold no BTC/USDT")]
    [InlineData("/sell", "Usage: /sell")]
    [InlineData("/format fancy", "not a format")]
    [InlineData("/format", "Your answers are shown as: clean")]
    [InlineData("/reset", "forgot")]
    [InlineData("/anlyze BTC", "Did you mean /analyze")]
    [InlineData("/xyzzy", "/help lists every command")]
    public async Task Every_command_answers_good_and_bad_arguments_clearly(string command, string expected)
    {
        var reply = await Say(command);
        Assert.Contains(expected, reply);
    }

    [Fact]
    public async Task Buying_then_selling_shows_in_the_portfolio_with_realised_pnl()
    {
        await Say("/buy ETH 2 1500");
        Assert.Contains("realised −216.77", await Say("/sell ETH 1")); // sold at ETH's price in the CSV world, its last 1h close 1,283.23
        var portfolio = await Say("/portfolio");
        Assert.Contains("ETH/USDT: 1 @ avg 1,500.00", portfolio);
        Assert.Contains("Realised P&L: −216.77", portfolio);
    }

    [Fact]
    public async Task A_command_sent_while_a_question_is_thought_about_is_answered_first_and_the_answer_follows()
    {
        var previous = Llm.Handler;
        Llm.Handler = _ => ScriptedReply.Text("Thought it over.").After(TimeSpan.FromMilliseconds(1500));
        try
        {
            var user = fixture.Cluster.Client.GetGrain<IUserGrain>(userId);
            var question = new Engram.Abstractions.Inbox.InboundUpdate(7_000_001 + userId * 10, userId, userId, Engram.Abstractions.Inbox.InboundKind.Text, "how is bitcoin doing?");
            var command = question with { UpdateId = question.UpdateId + 1, Text = "/alerts" };

            // The question's turn ends at once: the update is stored and the model works elsewhere.
            var started = DateTime.UtcNow;
            Assert.Equal(UpdateOutcome.Thinking, await user.AcceptAsync(question));
            Assert.Equal(UpdateOutcome.Answered, await user.AcceptAsync(command));
            Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(1), "neither turn waited for the model");
            Assert.Contains("no active alerts", Assert.Single(fixture.Messenger.ForUpdate(command.UpdateId)).Text);
            Assert.Equal(1, await user.CountPendingQuestionsAsync());

            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
            while (await user.CountPendingQuestionsAsync() > 0 && DateTime.UtcNow < deadline)
                await Task.Delay(50);
            Assert.Equal("Thought it over.", Assert.Single(fixture.Messenger.ForUpdate(question.UpdateId)).Text);
            Assert.Equal(["how is bitcoin doing?", "Thought it over."], (await user.GetHistoryAsync()).Select(t => t.Text));
        }
        finally
        {
            Llm.Handler = previous;
        }
    }

    [Fact]
    public async Task Too_long_questions_are_refused_before_the_llm()
    {
        var before = Llm.Requests.Count;
        Assert.Contains("under 2000", await Say(new string('?', 2500)));
        Assert.Equal(before, Llm.Requests.Count);
    }
}

public sealed class ChartConversationTests(ConversationFixture fixture) : IClassFixture<ConversationFixture>
{
    private static long nextUser = 60_000;
    private readonly long userId = Interlocked.Increment(ref nextUser);

    private async Task<Engram.Abstractions.Conversation.ChatReply> Say(string text) =>
        Assert.Single(await fixture.Chat.SayAsync(userId, text));

    [Fact]
    public async Task Chart_sends_a_png_of_the_pair_with_the_users_alert_levels()
    {
        await Say("/alert BTC above 1000000");
        var reply = await Say("/chart BTC 1h");
        Assert.NotNull(reply.Photo);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], reply.Photo![..4]);
        Assert.Contains("BTC/USDT 1h", reply.Text);
    }

    [Fact]
    public async Task Chart_of_a_timeframe_without_data_says_so_instead_of_an_empty_frame()
    {
        var reply = await Say("/chart BTC 5m"); // the 5m file holds August 2025, after the CSV world's now (2022-10-11)
        Assert.Null(reply.Photo);
        Assert.Contains("5m", reply.Text);
    }

    [Fact]
    public async Task Portfolio_offers_a_chart_button_that_renders_allocation_and_pnl()
    {
        await Say("/buy BTC 0.5 20000");
        await Say("/buy ETH 2 1500");
        var portfolio = await Say("/portfolio");
        Assert.Contains(portfolio.Buttons!, b => b.Command == "/portfolio chart");
        var chart = await Say("/portfolio chart");
        Assert.NotNull(chart.Photo);
    }

    [Fact]
    public async Task Detailed_analyze_attaches_the_chart()
    {
        await Say("/format detailed");
        fixture.Llm.Enqueue(Engram.TestServers.ScriptedReply.Text("Comment."));
        var reply = await Say("/analyze ETH 1d");
        Assert.NotNull(reply.Photo);
        Assert.Contains("ETHUSDT 1d", reply.Text);
    }
}
