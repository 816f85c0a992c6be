using System.ClientModel;
using System.ClientModel.Primitives;
using System.Diagnostics;
using System.Text.Json.Nodes;
using OpenAI;
using OpenAI.Chat;

namespace Engram.TestServers.Tests;

/// <summary>The stand-in driven by the real OpenAI 2.15 SDK, configured the way LM Studio is used.</summary>
public sealed class OpenAiClientTests : IAsyncLifetime
{
    private const string Model = "glm-4.7-flash";
    private OpenAiServer _server = null!;

    public async Task InitializeAsync() => _server = await OpenAiServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    // The SDK retries 408/429/5xx three times with back-off by default; tests that want to see the error turn it off.
    private OpenAIClient Client(int maxRetries = 0, TimeSpan? timeout = null) =>
        new(new ApiKeyCredential("lm-studio"), new OpenAIClientOptions
        {
            Endpoint = _server.Endpoint,
            RetryPolicy = new ClientRetryPolicy(maxRetries),
            NetworkTimeout = timeout ?? TimeSpan.FromSeconds(10),
        });

    private ChatClient Chat(int maxRetries = 0, TimeSpan? timeout = null) => Client(maxRetries, timeout).GetChatClient(Model);

    [Fact]
    public async Task Models_endpoint_lists_the_configured_models()
    {
        _server.Models = [Model, "qwen3-8b"];

        var models = (await Client().GetOpenAIModelClient().GetModelsAsync()).Value;

        Assert.Equal([Model, "qwen3-8b"], models.Select(m => m.Id));
        Assert.Equal("organization_owner", models[0].OwnedBy);
    }

    [Fact]
    public async Task Text_answer_carries_usage_model_and_finish_reason_and_the_request_is_recorded()
    {
        _server.Enqueue(ScriptedReply.Text("BTC looks strong.") with { PromptTokens = 30, CompletionTokens = 5 });

        var completion = (await Chat().CompleteChatAsync([new SystemChatMessage("You are Engram."), new UserChatMessage("How is BTC?")])).Value;

        Assert.Equal("BTC looks strong.", completion.Content.Single().Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal(Model, completion.Model);
        Assert.Equal((30, 5, 35), (completion.Usage.InputTokenCount, completion.Usage.OutputTokenCount, completion.Usage.TotalTokenCount));
        Assert.InRange(completion.CreatedAt, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1));
        var request = Assert.Single(_server.Requests);
        Assert.Equal(Model, request.Model);
        Assert.False(request.Stream);
        Assert.Equal([("system", "You are Engram."), ("user", "How is BTC?")], request.Messages.Select(m => (m.Role, m.Content)));
    }

    [Fact]
    public async Task Tool_call_with_a_numeric_id_round_trips_and_the_tool_result_is_recorded()
    {
        var tool = ChatTool.CreateFunctionTool("get_price", "Latest price of a symbol",
            BinaryData.FromString("""{"type":"object","properties":{"symbol":{"type":"string"}},"required":["symbol"]}"""));
        var options = new ChatCompletionOptions { Tools = { tool } };
        _server.Enqueue(ScriptedReply.ToolCall("get_price", new { symbol = "BTCUSDT" }, id: "123456789"), ScriptedReply.Text("BTC is 97k."));
        List<ChatMessage> messages = [new UserChatMessage("Price of BTC?")];

        var first = (await Chat().CompleteChatAsync(messages, options)).Value;
        var call = Assert.Single(first.ToolCalls);
        messages.Add(new AssistantChatMessage(first));
        messages.Add(new ToolChatMessage(call.Id, """{"price":97000}"""));
        var second = (await Chat().CompleteChatAsync(messages, options)).Value;

        Assert.Equal(ChatFinishReason.ToolCalls, first.FinishReason);
        Assert.Equal(("123456789", "get_price"), (call.Id, call.FunctionName));
        Assert.Equal("BTCUSDT", JsonNode.Parse(call.FunctionArguments)!["symbol"]!.GetValue<string>());
        Assert.Equal("BTC is 97k.", second.Content.Single().Text);

        var requests = _server.Requests;
        Assert.Equal(["get_price"], requests[0].ToolNames);
        Assert.Equal("string", requests[0].ToolParameters("get_price")!["properties"]!["symbol"]!["type"]!.GetValue<string>());
        var echoed = requests[1].Messages.Single(m => m.Role == "assistant").ToolCalls.Single();
        Assert.Equal(new LlmToolCall("123456789", "get_price", """{"symbol":"BTCUSDT"}"""), echoed);
        var result = Assert.Single(requests[1].ToolResults);
        Assert.Equal(("123456789", """{"price":97000}"""), (result.ToolCallId, result.Content));
    }

    [Fact]
    public async Task Think_block_stays_in_the_content_for_the_caller_to_strip()
    {
        _server.Enqueue(ScriptedReply.Text("Hold.", think: "RSI is 50, no signal."));

        var completion = (await Chat().CompleteChatAsync([new UserChatMessage("Trade?")])).Value;

        Assert.Equal("<think>RSI is 50, no signal.</think>\nHold.", completion.Content.Single().Text);
    }

    [Fact]
    public async Task Server_error_surfaces_as_ClientResultException_with_the_status()
    {
        _server.Enqueue(ScriptedReply.OpenAiError(500, "model crashed", "server_error"));

        var ex = await Assert.ThrowsAsync<ClientResultException>(() => Chat().CompleteChatAsync([new UserChatMessage("hi")]));

        Assert.Equal(500, ex.Status);
        Assert.Contains("model crashed", ex.Message);
    }

    [Fact]
    public async Task LM_Studio_flat_error_body_is_only_reachable_through_the_raw_response()
    {
        _server.Enqueue(ScriptedReply.LmStudioError(400, "Model does not support tools: tools not supported"));

        var ex = await Assert.ThrowsAsync<ClientResultException>(() => Chat().CompleteChatAsync([new UserChatMessage("hi")]));

        // The SDK only lifts error.message out of OpenAI's nested shape; LM Studio's {"error":"..."} stays in the body.
        Assert.Equal(400, ex.Status);
        Assert.DoesNotContain("tools not supported", ex.Message);
        Assert.Contains("tools not supported", ex.GetRawResponse()!.Content.ToString());
    }

    [Fact]
    public async Task Default_client_retries_a_503_then_succeeds()
    {
        _server.Enqueue(ScriptedReply.OpenAiError(503, "loading model", "server_error"), ScriptedReply.Text("ready"));

        var completion = (await Client(maxRetries: 3).GetChatClient(Model).CompleteChatAsync([new UserChatMessage("hi")])).Value;

        Assert.Equal("ready", completion.Content.Single().Text);
        Assert.Equal(2, _server.Requests.Count);
    }

    [Fact]
    public async Task Garbage_body_with_200_fails_to_deserialize()
    {
        _server.Enqueue(ScriptedReply.Garbage());

        var ex = await Assert.ThrowsAnyAsync<Exception>(() => Chat().CompleteChatAsync([new UserChatMessage("hi")]));

        Assert.IsType<System.Text.Json.JsonException>(ex, exactMatch: false);
    }

    [Fact]
    public async Task Hang_trips_the_client_network_timeout_and_the_request_leaves_in_flight()
    {
        _server.Enqueue(ScriptedReply.Hang());
        var watch = Stopwatch.StartNew();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Chat(timeout: TimeSpan.FromMilliseconds(300)).CompleteChatAsync([new UserChatMessage("hi")]));

        Assert.InRange(watch.Elapsed, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(3));
        Assert.True(await _server.WaitUntilAsync(s => s.InFlight == 0, TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task Dispose_releases_a_hanging_request_promptly()
    {
        var server = await OpenAiServer.StartAsync(new OpenAiServerOptions { DefaultReply = ScriptedReply.Hang() });
        var chat = new OpenAIClient(new ApiKeyCredential("lm-studio"), new OpenAIClientOptions { Endpoint = server.Endpoint, RetryPolicy = new ClientRetryPolicy(0) }).GetChatClient(Model);
        var call = chat.CompleteChatAsync([new UserChatMessage("hi")]);
        Assert.True(await server.WaitUntilAsync(s => s.InFlight == 1, TimeSpan.FromSeconds(5)));
        var watch = Stopwatch.StartNew();

        await server.DisposeAsync();

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"dispose took {watch.Elapsed}");
        await Assert.ThrowsAnyAsync<Exception>(() => call);
    }

    [Fact]
    public async Task Delay_holds_the_answer()
    {
        _server.Enqueue(ScriptedReply.Text("slow").After(TimeSpan.FromMilliseconds(300)));
        var watch = Stopwatch.StartNew();

        var completion = (await Chat().CompleteChatAsync([new UserChatMessage("hi")])).Value;

        Assert.Equal("slow", completion.Content.Single().Text);
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(280));
    }

    [Fact]
    public async Task Streaming_sends_SSE_chunks_the_SDK_reassembles()
    {
        _server.Enqueue(ScriptedReply.Text("A fairly long streamed answer about ETH."));

        var text = "";
        await foreach (var update in Chat().CompleteChatStreamingAsync([new UserChatMessage("ETH?")]))
            text += string.Concat(update.ContentUpdate.Select(p => p.Text));

        Assert.Equal("A fairly long streamed answer about ETH.", text);
        Assert.True(_server.Requests.Single().Stream);
    }

    [Fact]
    public async Task Concurrent_requests_are_counted_and_the_maximum_is_kept()
    {
        _server.DefaultReply = ScriptedReply.Text("ok").After(TimeSpan.FromMilliseconds(400));
        var chat = Chat();

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => chat.CompleteChatAsync([new UserChatMessage("hi")])));

        Assert.Equal(4, _server.MaxConcurrency);
        Assert.Equal(0, _server.InFlight);
    }

    [Fact]
    public async Task Handler_scripts_replies_from_the_request_when_the_queue_is_empty()
    {
        _server.Handler = request => ScriptedReply.Text("echo: " + request.LastUserMessage?.Content);

        var completion = (await Chat().CompleteChatAsync([new UserChatMessage("ping")])).Value;

        Assert.Equal("echo: ping", completion.Content.Single().Text);
    }
}
