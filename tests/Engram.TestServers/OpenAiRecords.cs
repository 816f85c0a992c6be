using System.Text.Json.Nodes;

namespace Engram.TestServers;

public sealed record OpenAiServerOptions
{
    /// <summary>Ids served by GET /v1/models; the first is the model echoed when a request names none.</summary>
    public IReadOnlyList<string> Models { get; init; } = ["glm-4.7-flash"];

    /// <summary>0 (default) lets the OS pick a free port; a fixed port is for pointing a running process at the server.</summary>
    public int Port { get; init; }

    /// <summary>What a request gets when neither the queue nor the handler scripts it.</summary>
    public ScriptedReply DefaultReply { get; init; } = ScriptedReply.Text("OK");
}

/// <summary>A tool call the model makes. LM Studio sends numeric-string ids such as "123456789".</summary>
public sealed record LlmToolCall(string Id, string Name, string ArgumentsJson);

public enum ReplyKind
{
    Text,
    ToolCalls,
    HttpError,
    Garbage,
    Hang,
}

/// <summary>
/// One scripted answer to a chat completion request. Build with the static factories and adjust with <c>with</c> or
/// <see cref="After"/>, e.g. <c>ScriptedReply.Text("hi").After(TimeSpan.FromSeconds(2))</c>.
/// </summary>
public sealed record ScriptedReply
{
    public ReplyKind Kind { get; init; }

    /// <summary>message.content; for <see cref="ReplyKind.ToolCalls"/> usually null, as LM Studio sends it.</summary>
    public string? Content { get; init; }

    /// <summary>message.reasoning_content, the separate reasoning field LM Studio emits for GLM-4.7-Flash.</summary>
    public string? ReasoningContent { get; init; }

    public IReadOnlyList<LlmToolCall> ToolCalls { get; init; } = [];

    /// <summary>Defaults to "stop", or "tool_calls" when there are tool calls.</summary>
    public string? FinishReason { get; init; }

    public int StatusCode { get; init; } = 200;

    /// <summary>Body for <see cref="ReplyKind.HttpError"/> and <see cref="ReplyKind.Garbage"/>.</summary>
    public string? RawBody { get; init; }

    public string RawContentType { get; init; } = "application/json";

    /// <summary>Wait before answering (or before each streamed chunk batch); a hang waits until the client gives up.</summary>
    public TimeSpan Delay { get; init; }

    /// <summary>Token counts for the usage block; estimated from text length when null.</summary>
    public int? PromptTokens { get; init; }

    public int? CompletionTokens { get; init; }

    /// <summary>A final answer. <paramref name="think"/> is put in front of the content as a <c>&lt;think&gt;</c> block.</summary>
    public static ScriptedReply Text(string content, string? think = null, string? reasoningContent = null) => new()
    {
        Kind = ReplyKind.Text,
        Content = think is null ? content : $"<think>{think}</think>\n{content}",
        ReasoningContent = reasoningContent,
    };

    public static ScriptedReply WithToolCalls(params LlmToolCall[] calls) => new() { Kind = ReplyKind.ToolCalls, ToolCalls = calls };

    /// <summary>One tool call; arguments are serialized to the JSON string the API carries. The id defaults to a numeric string.</summary>
    public static ScriptedReply ToolCall(string name, object? arguments = null, string? id = null) =>
        WithToolCalls(new LlmToolCall(id ?? NumericId(), name, arguments switch
        {
            null => "{}",
            string json => json,
            JsonNode node => node.ToJsonString(),
            _ => System.Text.Json.JsonSerializer.Serialize(arguments),
        }));

    /// <summary>An error status with a raw body, e.g. LM Studio's <c>{"error":"..."}</c>.</summary>
    public static ScriptedReply Error(int statusCode, string body, string contentType = "application/json") =>
        new() { Kind = ReplyKind.HttpError, StatusCode = statusCode, RawBody = body, RawContentType = contentType };

    /// <summary>LM Studio's flat error shape: <c>{"error":"message"}</c>.</summary>
    public static ScriptedReply LmStudioError(int statusCode, string message) =>
        Error(statusCode, new JsonObject { ["error"] = message }.ToJsonString());

    /// <summary>OpenAI's error shape: <c>{"error":{"message","type","param","code"}}</c>.</summary>
    public static ScriptedReply OpenAiError(int statusCode, string message, string type = "invalid_request_error", string? code = null) =>
        Error(statusCode, new JsonObject
        {
            ["error"] = new JsonObject { ["message"] = message, ["type"] = type, ["param"] = null, ["code"] = code },
        }.ToJsonString());

    /// <summary>200 with a body that is not a chat completion.</summary>
    public static ScriptedReply Garbage(string body = "<html><body>upstream model crashed</body></html>", string contentType = "application/json") =>
        new() { Kind = ReplyKind.Garbage, RawBody = body, RawContentType = contentType };

    /// <summary>Never answers; the request ends when the client times out or the server is disposed.</summary>
    public static ScriptedReply Hang() => new() { Kind = ReplyKind.Hang };

    public ScriptedReply After(TimeSpan delay) => this with { Delay = delay };

    /// <summary>When streamed: the wait before each content chunk, so the answer arrives over time as a model writes it.</summary>
    public TimeSpan ChunkDelay { get; init; }

    /// <summary>When streamed: characters per content chunk.</summary>
    public int ChunkSize { get; init; } = 12;

    /// <summary>Streams its content <paramref name="size"/> characters at a time, one chunk every <paramref name="every"/>.</summary>
    public ScriptedReply Trickling(TimeSpan every, int size = 12) => this with { ChunkDelay = every, ChunkSize = size };

    private static long _nextId = Random.Shared.NextInt64(100_000_000, 900_000_000);

    /// <summary>A fresh numeric-string tool call id, the way LM Studio makes them.</summary>
    public static string NumericId() => Interlocked.Increment(ref _nextId).ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>One message of a recorded request. <see cref="Content"/> joins text parts when content is an array.</summary>
public sealed record ChatRequestMessage(
    string Role,
    string? Content,
    string? ToolCallId,
    string? Name,
    IReadOnlyList<LlmToolCall> ToolCalls);

/// <summary>A chat completion request as received: raw JSON plus the parts tests assert on.</summary>
public sealed record ChatRequest(
    int Index,
    string RawJson,
    JsonObject Json,
    string? Model,
    bool Stream,
    IReadOnlyList<ChatRequestMessage> Messages,
    JsonArray? Tools,
    JsonNode? ToolChoice,
    DateTimeOffset ReceivedAt)
{
    /// <summary>function.name of each entry in <c>tools</c>.</summary>
    public IReadOnlyList<string> ToolNames =>
        Tools?.Select(t => t?["function"]?["name"]?.GetValue<string>() ?? "").ToArray() ?? [];

    /// <summary>The JSON schema sent as <c>function.parameters</c> for <paramref name="toolName"/>.</summary>
    public JsonNode? ToolParameters(string toolName) =>
        Tools?.FirstOrDefault(t => t?["function"]?["name"]?.GetValue<string>() == toolName)?["function"]?["parameters"];

    public IEnumerable<ChatRequestMessage> ToolResults => Messages.Where(m => m.Role == "tool");

    public ChatRequestMessage? LastUserMessage => Messages.LastOrDefault(m => m.Role == "user");
}
