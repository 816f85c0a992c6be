using System.ClientModel;
using System.ClientModel.Primitives;
using System.ComponentModel;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using OpenAI;

namespace Engram.TestServers.Tests;

/// <summary>The stand-in behind Microsoft.Extensions.AI 10.11 with function invocation, the way Engram's LLM worker uses it.</summary>
public sealed class ExtensionsAiTests : IAsyncLifetime
{
    private OpenAiServer _server = null!;

    public async Task InitializeAsync() => _server = await OpenAiServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private IChatClient Client(bool withTools = true)
    {
        var inner = new OpenAIClient(new ApiKeyCredential("lm-studio"), new OpenAIClientOptions
        {
            Endpoint = _server.Endpoint,
            RetryPolicy = new ClientRetryPolicy(0),
        }).GetChatClient("glm-4.7-flash").AsIChatClient();
        return withTools ? new ChatClientBuilder(inner).UseFunctionInvocation().Build() : inner;
    }

    [Fact]
    public async Task Function_is_invoked_for_a_numeric_tool_call_id_and_its_result_goes_back()
    {
        var calls = new List<string>();
        var getPrice = AIFunctionFactory.Create(
            ([Description("Trading pair, e.g. BTCUSDT")] string symbol) => { calls.Add(symbol); return new { symbol, price = 97000.5m }; },
            "get_price", "Latest price of a trading pair");
        _server.Enqueue(ScriptedReply.ToolCall("get_price", new { symbol = "BTCUSDT" }, id: "123456789"), ScriptedReply.Text("BTC trades at 97,000.5."));

        var response = await Client().GetResponseAsync("What is BTC at?", new ChatOptions { Tools = [getPrice] });

        Assert.Equal("BTC trades at 97,000.5.", response.Text);
        Assert.Equal(["BTCUSDT"], calls);
        var requests = await _server.WaitForRequestsAsync(2, TimeSpan.FromSeconds(5));
        Assert.Equal(["get_price"], requests[0].ToolNames);
        Assert.Equal("Trading pair, e.g. BTCUSDT", requests[0].ToolParameters("get_price")!["properties"]!["symbol"]!["description"]!.GetValue<string>());
        var toolResult = Assert.Single(requests[1].ToolResults);
        Assert.Equal("123456789", toolResult.ToolCallId);
        // M.E.AI serializes the function's return value with AIJsonUtilities.DefaultOptions, which indents it.
        Assert.Contains("\n", toolResult.Content);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"symbol":"BTCUSDT","price":97000.5}"""), JsonNode.Parse(toolResult.Content!)));
        Assert.Equal("123456789", requests[1].Messages.Single(m => m.Role == "assistant").ToolCalls.Single().Id);
    }

    [Fact]
    public async Task Reasoning_content_becomes_TextReasoningContent_and_think_tags_stay_in_the_text()
    {
        _server.Enqueue(ScriptedReply.Text("Hold.", think: "inline thoughts", reasoningContent: "separate thoughts"));

        var response = await Client().GetResponseAsync("Trade?");

        Assert.Equal("<think>inline thoughts</think>\nHold.", response.Text);
        Assert.Equal("separate thoughts", Assert.Single(response.Messages.SelectMany(m => m.Contents).OfType<TextReasoningContent>()).Text);
    }

    [Fact]
    public async Task Streaming_tool_call_round_trip_works_too()
    {
        var getTime = AIFunctionFactory.Create(() => "12:00", "get_time");
        _server.Enqueue(ScriptedReply.ToolCall("get_time", id: "555"), ScriptedReply.Text("It is noon."));

        var text = "";
        await foreach (var update in Client().GetStreamingResponseAsync("Time?", new ChatOptions { Tools = [getTime] }))
            text += update.Text;

        Assert.Equal("It is noon.", text);
        Assert.All(_server.Requests, r => Assert.True(r.Stream));
        // A string return value is sent as a JSON string literal, quotes included.
        Assert.Equal(("555", "\"12:00\""), (_server.Requests[1].ToolResults.Single().ToolCallId, _server.Requests[1].ToolResults.Single().Content));
    }

    [Fact]
    public async Task Server_500_propagates_out_of_the_function_invoking_client()
    {
        _server.Enqueue(ScriptedReply.OpenAiError(500, "boom", "server_error"));

        var ex = await Assert.ThrowsAsync<ClientResultException>(() => Client().GetResponseAsync("hi"));

        Assert.Equal(500, ex.Status);
    }

    [Fact]
    public async Task Garbage_body_fails_the_call()
    {
        _server.Enqueue(ScriptedReply.Garbage("not json at all"));

        await Assert.ThrowsAnyAsync<System.Text.Json.JsonException>(() => Client().GetResponseAsync("hi"));
    }
}
