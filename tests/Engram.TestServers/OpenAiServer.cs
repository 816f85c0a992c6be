using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Engram.TestServers;

/// <summary>
/// A scripted OpenAI-compatible server standing in for LM Studio: <c>GET /v1/models</c> and <c>POST /v1/chat/completions</c>
/// (JSON or SSE). Each request takes the next queued <see cref="ScriptedReply"/>, else <see cref="Handler"/>'s answer,
/// else <see cref="DefaultReply"/>. Every request is recorded; concurrency is counted for limiter tests.
/// </summary>
public sealed class OpenAiServer : IAsyncDisposable
{
    private readonly object _gate = new();
    private readonly Pulse _changed = new();
    private readonly CancellationTokenSource _shutdown = new();
    private readonly Queue<ScriptedReply> _queue = new();
    private readonly List<ChatRequest> _requests = [];
    private WebApplication? _app;
    private IReadOnlyList<string> _models;
    private ScriptedReply _defaultReply;
    private Func<ChatRequest, ScriptedReply?>? _handler;
    private int _inFlight;
    private int _maxConcurrency;

    private OpenAiServer(OpenAiServerOptions options)
    {
        Options = options;
        _models = options.Models;
        _defaultReply = options.DefaultReply;
    }

    public OpenAiServerOptions Options { get; }

    /// <summary>e.g. <c>http://127.0.0.1:40123</c>.</summary>
    public string BaseUrl { get; private set; } = "";

    /// <summary>The endpoint OpenAI clients want: <c>{BaseUrl}/v1</c>.</summary>
    public Uri Endpoint => new(BaseUrl + "/v1");

    public static async Task<OpenAiServer> StartAsync(OpenAiServerOptions? options = null, CancellationToken cancellationToken = default)
    {
        var server = new OpenAiServer(options ?? new OpenAiServerOptions());
        (server._app, server.BaseUrl) = await LoopbackHost.StartAsync(server.Options.Port, app =>
        {
            app.MapGet("/v1/models", server.ListModels);
            app.MapPost("/v1/chat/completions", server.ChatCompletionsAsync);
            // LM Studio's answer to anything else.
            app.MapFallback(context =>
            {
                context.Response.StatusCode = 404;
                return context.Response.WriteAsJsonAsync(new JsonObject { ["error"] = $"Unexpected endpoint or method. ({context.Request.Method} {context.Request.Path})" });
            });
        }, cancellationToken).ConfigureAwait(false);
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        if (_shutdown.IsCancellationRequested)
            return;
        await _shutdown.CancelAsync().ConfigureAwait(false); // releases hangs and delays first
        if (_app is not null)
            await LoopbackHost.StopAsync(_app).ConfigureAwait(false);
        _shutdown.Dispose();
    }

    // ---------------------------------------------------------------- scripting

    public IReadOnlyList<string> Models
    {
        get { lock (_gate) return _models; }
        set { lock (_gate) _models = value.ToArray(); }
    }

    /// <summary>False: a streamed request gets the whole completion as JSON, as servers without streaming answer it.</summary>
    public bool Streams { get; set; } = true;

    public ScriptedReply DefaultReply
    {
        get { lock (_gate) return _defaultReply; }
        set { lock (_gate) _defaultReply = value; }
    }

    /// <summary>Answers requests the queue does not cover; return null to fall through to <see cref="DefaultReply"/>.</summary>
    public Func<ChatRequest, ScriptedReply?>? Handler
    {
        get { lock (_gate) return _handler; }
        set { lock (_gate) _handler = value; }
    }

    /// <summary>Queues replies consumed one per request, in order.</summary>
    public void Enqueue(params ScriptedReply[] replies)
    {
        lock (_gate)
        {
            foreach (var reply in replies)
                _queue.Enqueue(reply);
        }
    }

    public int QueuedReplies { get { lock (_gate) return _queue.Count; } }

    // ---------------------------------------------------------------- inspection

    public IReadOnlyList<ChatRequest> Requests { get { lock (_gate) return _requests.ToArray(); } }

    /// <summary>Chat completion requests being answered right now.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Highest <see cref="InFlight"/> seen since start or <see cref="ResetMaxConcurrency"/>.</summary>
    public int MaxConcurrency => Volatile.Read(ref _maxConcurrency);

    public void ResetMaxConcurrency() => Volatile.Write(ref _maxConcurrency, InFlight);

    /// <summary>Waits until at least <paramref name="count"/> requests arrived; throws <see cref="TimeoutException"/> otherwise.</summary>
    public async Task<IReadOnlyList<ChatRequest>> WaitForRequestsAsync(int count, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        if (!await WaitUntilAsync(s => s._requests.Count >= count, timeout, cancellationToken).ConfigureAwait(false))
            throw new TimeoutException($"Expected {count} chat completion request(s) within {timeout}, got {Requests.Count}.");
        return Requests;
    }

    /// <summary>Waits until <paramref name="condition"/> holds; it runs under the server's lock, so read state only.</summary>
    public Task<bool> WaitUntilAsync(Func<OpenAiServer, bool> condition, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        _changed.WaitUntilAsync(_gate, () => condition(this), timeout, cancellationToken);

    // ---------------------------------------------------------------- endpoints

    private JsonObject ListModels()
    {
        var data = new JsonArray(Models.Select(id => (JsonNode)new JsonObject
        {
            ["id"] = id,
            ["object"] = "model",
            ["owned_by"] = "organization_owner",
        }).ToArray());
        return new JsonObject { ["object"] = "list", ["data"] = data };
    }

    private async Task ChatCompletionsAsync(HttpContext context)
    {
        var now = Interlocked.Increment(ref _inFlight);
        for (var seen = Volatile.Read(ref _maxConcurrency); now > seen; seen = Volatile.Read(ref _maxConcurrency))
        {
            if (Interlocked.CompareExchange(ref _maxConcurrency, now, seen) == seen)
                break;
        }
        using var aborted = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _shutdown.Token);
        try
        {
            using var reader = new StreamReader(context.Request.Body);
            var raw = await reader.ReadToEndAsync(aborted.Token).ConfigureAwait(false);
            JsonObject? json;
            try
            {
                json = JsonNode.Parse(raw) as JsonObject;
            }
            catch (JsonException)
            {
                json = null;
            }
            if (json?["messages"] is not JsonArray)
            {
                await WriteRawAsync(context, 400, new JsonObject { ["error"] = "'messages' field is required" }.ToJsonString(), "application/json").ConfigureAwait(false);
                return;
            }

            ScriptedReply reply;
            ChatRequest request;
            Func<ChatRequest, ScriptedReply?>? handler;
            lock (_gate)
            {
                request = Parse(_requests.Count, raw, json);
                _requests.Add(request);
                _changed.Fire();
                handler = _queue.Count == 0 ? _handler : null;
                reply = _queue.TryDequeue(out var queued) ? queued : _defaultReply;
            }
            // The handler runs outside the lock: it may inspect Requests or block.
            if (handler?.Invoke(request) is { } scripted)
                reply = scripted;

            if (reply.Delay > TimeSpan.Zero)
                await Task.Delay(reply.Delay, aborted.Token).ConfigureAwait(false);

            switch (reply.Kind)
            {
                case ReplyKind.Hang:
                    await Task.Delay(Timeout.Infinite, aborted.Token).ConfigureAwait(false);
                    break;
                case ReplyKind.HttpError or ReplyKind.Garbage:
                    await WriteRawAsync(context, reply.Kind == ReplyKind.Garbage ? 200 : reply.StatusCode, reply.RawBody ?? "", reply.RawContentType).ConfigureAwait(false);
                    break;
                case ReplyKind.Text or ReplyKind.ToolCalls when request.Stream && Streams:
                    await StreamAsync(context, request, reply, aborted.Token).ConfigureAwait(false);
                    break;
                default:
                    await WriteRawAsync(context, 200, Completion(request, reply).ToJsonString(), "application/json").ConfigureAwait(false);
                    break;
            }
        }
        catch (OperationCanceledException)
        {
            // The client timed out (hang) or the server is stopping.
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
            lock (_gate)
                _changed.Fire();
        }
    }

    private static async Task WriteRawAsync(HttpContext context, int status, string body, string contentType)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = contentType;
        await context.Response.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
    }

    private JsonObject Completion(ChatRequest request, ScriptedReply reply)
    {
        var message = new JsonObject { ["role"] = "assistant", ["content"] = reply.Content };
        if (reply.ReasoningContent is not null)
            message["reasoning_content"] = reply.ReasoningContent;
        if (reply.ToolCalls.Count > 0)
        {
            message["tool_calls"] = new JsonArray(reply.ToolCalls.Select(c => (JsonNode)new JsonObject
            {
                ["id"] = c.Id,
                ["type"] = "function",
                ["function"] = new JsonObject { ["name"] = c.Name, ["arguments"] = c.ArgumentsJson },
            }).ToArray());
        }
        var body = Envelope(request, "chat.completion");
        body["choices"] = new JsonArray(new JsonObject
        {
            ["index"] = 0,
            ["message"] = message,
            ["logprobs"] = null,
            ["finish_reason"] = FinishReason(reply),
        });
        body["usage"] = Usage(request, reply);
        body["stats"] = new JsonObject();
        return body;
    }

    private async Task StreamAsync(HttpContext context, ChatRequest request, ScriptedReply reply, CancellationToken cancellationToken)
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";

        async Task SendAsync(JsonNode? delta, string? finishReason = null, JsonObject? usage = null)
        {
            var chunk = Envelope(request, "chat.completion.chunk");
            chunk["choices"] = delta is null
                ? new JsonArray()
                : new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["logprobs"] = null, ["finish_reason"] = finishReason });
            if (usage is not null)
                chunk["usage"] = usage;
            await context.Response.WriteAsync($"data: {chunk.ToJsonString()}\n\n", cancellationToken).ConfigureAwait(false);
            await context.Response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        await SendAsync(new JsonObject { ["role"] = "assistant", ["content"] = "" }).ConfigureAwait(false);
        foreach (var piece in Pieces(reply.ReasoningContent))
            await SendAsync(new JsonObject { ["reasoning_content"] = piece }).ConfigureAwait(false);
        foreach (var piece in Pieces(reply.Content, reply.ChunkSize))
        {
            if (reply.ChunkDelay > TimeSpan.Zero)
                await Task.Delay(reply.ChunkDelay, cancellationToken).ConfigureAwait(false);
            await SendAsync(new JsonObject { ["content"] = piece }).ConfigureAwait(false);
        }
        for (var i = 0; i < reply.ToolCalls.Count; i++)
        {
            var call = reply.ToolCalls[i];
            // Name first, arguments after, as servers stream them; clients must stitch by index.
            await SendAsync(new JsonObject
            {
                ["tool_calls"] = new JsonArray(new JsonObject
                {
                    ["index"] = i, ["id"] = call.Id, ["type"] = "function",
                    ["function"] = new JsonObject { ["name"] = call.Name, ["arguments"] = "" },
                }),
            }).ConfigureAwait(false);
            foreach (var piece in Pieces(call.ArgumentsJson))
            {
                await SendAsync(new JsonObject
                {
                    ["tool_calls"] = new JsonArray(new JsonObject { ["index"] = i, ["function"] = new JsonObject { ["arguments"] = piece } }),
                }).ConfigureAwait(false);
            }
        }
        await SendAsync(new JsonObject(), FinishReason(reply)).ConfigureAwait(false);
        if (request.Json["stream_options"]?["include_usage"]?.GetValueKind() == JsonValueKind.True)
            await SendAsync(null, usage: Usage(request, reply)).ConfigureAwait(false);
        await context.Response.WriteAsync("data: [DONE]\n\n", cancellationToken).ConfigureAwait(false);
    }

    private static IEnumerable<string> Pieces(string? text, int size = 12)
    {
        if (string.IsNullOrEmpty(text))
            yield break;
        for (var i = 0; i < text.Length; i += size)
            yield return text.Substring(i, Math.Min(size, text.Length - i));
    }

    private JsonObject Envelope(ChatRequest request, string objectType)
    {
        var model = request.Model ?? Models.FirstOrDefault() ?? "local-model";
        return new JsonObject
        {
            ["id"] = "chatcmpl-" + Guid.NewGuid().ToString("N")[..20],
            ["object"] = objectType,
            ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(), // seconds, as OpenAI
            ["model"] = model,
            ["system_fingerprint"] = model,
        };
    }

    private static string FinishReason(ScriptedReply reply) => reply.FinishReason ?? (reply.ToolCalls.Count > 0 ? "tool_calls" : "stop");

    private static JsonObject Usage(ChatRequest request, ScriptedReply reply)
    {
        // Rough estimate (4 chars a token) unless the script fixes the numbers.
        var prompt = reply.PromptTokens ?? 1 + request.Messages.Sum(m => (m.Content?.Length ?? 0) / 4 + 4);
        var completion = reply.CompletionTokens
            ?? 1 + ((reply.Content?.Length ?? 0) + (reply.ReasoningContent?.Length ?? 0) + reply.ToolCalls.Sum(c => c.Name.Length + c.ArgumentsJson.Length)) / 4;
        return new JsonObject { ["prompt_tokens"] = prompt, ["completion_tokens"] = completion, ["total_tokens"] = prompt + completion };
    }

    private static ChatRequest Parse(int index, string raw, JsonObject json)
    {
        var messages = new List<ChatRequestMessage>();
        foreach (var node in json["messages"]!.AsArray())
        {
            if (node is not JsonObject m)
                continue;
            var toolCalls = (m["tool_calls"] as JsonArray)?.Select(c => new LlmToolCall(
                Str(c?["id"]) ?? "",
                Str(c?["function"]?["name"]) ?? "",
                Str(c?["function"]?["arguments"]) ?? "")).ToArray() ?? [];
            messages.Add(new ChatRequestMessage(Str(m["role"]) ?? "", ContentText(m["content"]), Str(m["tool_call_id"]), Str(m["name"]), toolCalls));
        }
        return new ChatRequest(
            index,
            raw,
            json,
            Str(json["model"]),
            json["stream"]?.GetValueKind() == JsonValueKind.True,
            messages,
            json["tools"] as JsonArray,
            json["tool_choice"],
            DateTimeOffset.UtcNow);
    }

    // Content is a string or an array of parts; tests care about the text.
    private static string? ContentText(JsonNode? content) => content switch
    {
        null => null,
        JsonArray parts => string.Concat(parts.Select(p => Str(p?["text"]) ?? "")),
        _ => Str(content),
    };

    private static string? Str(JsonNode? node) => node is JsonValue v && v.GetValueKind() == JsonValueKind.String
        ? v.GetValue<string>()
        : node is JsonValue n ? n.ToJsonString() : null;
}
