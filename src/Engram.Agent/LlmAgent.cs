using System.ClientModel;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Engram.Abstractions.Conversation;
using Engram.Trading.Tools;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Engram.Agent;

/// <summary>
/// Answers one question with the LLM and the tools, and never fails the user: a server that
/// refuses tools gets the question again without them (with code-computed facts instead), and a
/// server that cannot be reached gets replaced by an answer built from the tools alone.
/// </summary>
public sealed partial class LlmAgent(
    LlmClientFactory clients,
    TradingToolService trading,
    LlmGate gate,
    IOptions<LmStudioOptions> lmStudio,
    IOptions<LlmOptions> llm,
    LlmMetrics metrics,
    TimeProvider clock,
    ILogger<LlmAgent> logger)
{
    public const string UnavailableNotice = "AI commentary is unavailable right now; these figures come straight from Engram's tools.";
    public const string BusyMessage = "Engram is answering many questions right now and yours could not be queued. Please ask again in a minute.";

    private readonly TimeSpan timeout = TimeSpan.FromSeconds(lmStudio.Value.Timeout);

    /// <summary>Cleared the first time the server answers a streamed request only when asked again without streaming.</summary>
    private volatile bool streaming = llm.Value.Stream;

    /// <param name="onDraft">Called with the answer's cleaned text so far while the server streams it (never for tool rounds).</param>
    public async Task<LlmAnswer> AskAsync(LlmRequest request, Action<string>? onDraft = null, CancellationToken cancellationToken = default)
    {
        var answer = await AnswerAsync(request, onDraft, cancellationToken);
        metrics.Answered(answer.Outcome.ToString(), answer.ElapsedMs);
        foreach (var tool in answer.Tools.Skip(request.PrecomputedTools?.Count ?? 0))
            metrics.Tool(tool.Name, tool.IsError, tool.ElapsedMs);
        return answer;
    }

    private async Task<LlmAnswer> AnswerAsync(LlmRequest request, Action<string>? onDraft, CancellationToken cancellationToken)
    {
        var queuedAt = Stopwatch.GetTimestamp();
        using var slot = await gate.EnterAsync(cancellationToken);
        var queuedMs = Stopwatch.GetElapsedTime(queuedAt).TotalMilliseconds;
        if (slot is null)
        {
            LogBusy(request.UserId, gate.InFlight, gate.Queued);
            return new LlmAnswer(BusyMessage, BusyMessage, clients.Model, 0, [], LlmOutcome.Busy, QueuedMs: queuedMs);
        }

        var started = Stopwatch.GetTimestamp();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var tools = new AgentTools(trading, request.User);
        var precomputed = request.PrecomputedTools ?? [];
        var messages = BuildMessages(request);
        var options = new ChatOptions
        {
            ModelId = clients.Model,
            Temperature = 0.3f,
            // A command that already ran the tools asks only for commentary: no tools, no invented calls.
            Tools = precomputed.Count == 0 ? [.. tools.Functions] : null,
        };
        if (options.Tools is not null)
            options.ToolMode = ChatToolMode.Auto;

        try
        {
            var (response, streamedText) = await RespondAsync(messages, options, onDraft, deadline.Token);
            return Answer(request, response, LlmOutcome.Answered, [.. precomputed, .. tools.Invocations], started, queuedMs, streamedText)
                with
            { Buttons = tools.ProposedAlerts is { Count: > 0 } proposed ? proposed : null };
        }
        catch (ClientResultException ex) when (ex.Status == 400 && options.Tools is not null && !deadline.IsCancellationRequested)
        {
            // Local servers answer 400 to tools they cannot handle (a model without tool support, an
            // object-form tool_choice): ask once more without tools, with facts computed here instead.
            LogToolsRefused(request.UserId, ex.Status, Shorten(ex.Message));
            var facts = await ComputeFactsAsync(request.Question, deadline.Token);
            try
            {
                var retry = BuildMessages(request with { PrecomputedTools = facts });
                var response = await clients.ChatClient.GetResponseAsync(retry, new ChatOptions { ModelId = clients.Model, Temperature = 0.3f }, deadline.Token);
                return Answer(request, response, LlmOutcome.AnsweredWithoutTools, facts, started, queuedMs);
            }
            catch (Exception retryError) when (IsLlmFailure(retryError, cancellationToken))
            {
                LogLlmFailed(request.UserId, Describe(retryError, deadline));
                return Fallback(facts, started, queuedMs);
            }
        }
        catch (Exception ex) when (IsLlmFailure(ex, cancellationToken))
        {
            LogLlmFailed(request.UserId, Describe(ex, deadline));
            var facts = precomputed.Count > 0 ? precomputed : [.. tools.Invocations.Where(t => !t.IsError)];
            if (facts.Count == 0)
                facts = await ComputeFactsAsync(request.Question, CancellationToken.None);
            return Fallback(facts, started, queuedMs);
        }
    }

    public LlmGate Gate => gate;

    /// <summary>
    /// The model's response, streamed when the server streams: <paramref name="onDraft"/> sees the final round's text
    /// grow (a tool round starts it again), and that text is the answer. A server that answers a streamed request
    /// with an empty stream (no SSE, as servers without streaming reply) is asked once more without streaming, and
    /// this silo stops asking it to stream.
    /// </summary>
    private async Task<(ChatResponse Response, string? Text)> RespondAsync(List<ChatMessage> messages, ChatOptions options, Action<string>? onDraft, CancellationToken cancellationToken)
    {
        if (onDraft is null || !streaming)
            return (await clients.ChatClient.GetResponseAsync(messages, options, cancellationToken), null);

        var updates = new List<ChatResponseUpdate>();
        var text = new StringBuilder();
        await foreach (var update in clients.ChatClient.GetStreamingResponseAsync(messages, options, cancellationToken))
        {
            updates.Add(update);
            if (update.Contents.Any(c => c is FunctionCallContent or FunctionResultContent))
            {
                text.Clear(); // a tool round: the answer is still to come
                continue;
            }
            if (update.Role is { } role && role != ChatRole.Assistant || update.Text.Length == 0)
                continue;
            text.Append(update.Text);
            if (ModelText.Clean(text.ToString()) is { Length: > 0 } shown)
                onDraft(shown);
        }
        if (updates.Count > 0)
            return (updates.ToChatResponse(), text.ToString());

        var whole = await clients.ChatClient.GetResponseAsync(messages, options, cancellationToken);
        streaming = false;
        LogNotStreaming(clients.Endpoint);
        return (whole, null);
    }

    private List<ChatMessage> BuildMessages(LlmRequest request)
    {
        var settings = request.User.Settings;
        var messages = new List<ChatMessage>
        {
            new(ChatRole.System, SystemPrompt.For(settings.DefaultTimeframe, settings.RiskTolerance.ToString().ToLowerInvariant(), clock.GetUtcNow())),
        };
        foreach (var turn in request.History)
            messages.Add(new ChatMessage(turn.Role == Abstractions.Users.ChatRole.User ? ChatRole.User : ChatRole.Assistant, turn.Text));

        if (request.PrecomputedTools is { Count: > 0 } results)
        {
            var text = new StringBuilder(request.Question).Append("\n\n").Append(SystemPrompt.CommentInstruction);
            foreach (var result in results)
                text.Append("\n\n").Append(result.Name).Append(' ').Append(result.ArgumentsJson).Append(":\n").Append(result.ResultJson);
            messages.Add(new ChatMessage(ChatRole.User, text.ToString()));
        }
        else
        {
            messages.Add(new ChatMessage(ChatRole.User, request.Question));
        }
        return messages;
    }

    /// <param name="streamedText">The final round's text as streamed; null takes it from <paramref name="response"/>.</param>
    private LlmAnswer Answer(LlmRequest request, ChatResponse response, LlmOutcome outcome, IReadOnlyList<ToolInvocation> tools, long started, double queuedMs,
        string? streamedText = null)
    {
        var raw = new StringBuilder();
        foreach (var message in response.Messages.Where(m => m.Role == ChatRole.Assistant))
        {
            foreach (var content in message.Contents)
            {
                switch (content)
                {
                    case TextReasoningContent reasoning when !string.IsNullOrWhiteSpace(reasoning.Text):
                        raw.Append("<think>").Append(reasoning.Text).Append("</think>\n");
                        break;
                    case TextContent text:
                        raw.Append(text.Text);
                        break;
                    case FunctionCallContent call:
                        raw.Append($"\n[tool call {call.Name} {JsonSerializer.Serialize(call.Arguments)}]\n");
                        break;
                }
            }
        }

        var final = streamedText ?? response.Messages.LastOrDefault(m => m.Role == ChatRole.Assistant)?.Text;
        var clean = ModelText.Clean(final);
        string? notice = null;
        IReadOnlyList<CheckedFigure> figures = [];
        if (clean.Length == 0)
        {
            // Never send an empty message: fall back to what the tools computed.
            clean = tools.Count > 0 ? string.Join("\n\n", tools.Select(t => t.Summary)) : "I could not put an answer into words this time. Try /analyze BTC or ask again.";
            notice = "The model returned no text; showing the tool results.";
        }
        else
        {
            try
            {
                figures = FigureCheck.Check(clean, tools, request.User, request.Question);
                metrics.FiguresChecked(figures.Count, figures.Count(f => !f.Verified));
            }
            catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException or OverflowException)
            {
                // A result the check cannot read leaves the answer unchecked, never unanswered.
                LogFigureCheckFailed(request.UserId, ex.GetType().Name, ex.Message);
            }
        }

        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        return new LlmAnswer(clean, raw.Length > 0 ? raw.ToString() : final ?? "", response.ModelId ?? clients.Model, elapsed, tools, outcome, notice, queuedMs, figures);
    }

    private LlmAnswer Fallback(IReadOnlyList<ToolInvocation> facts, long started, double queuedMs)
    {
        var text = facts.Count > 0
            ? string.Join("\n\n", facts.Select(f => f.Summary))
            : "I can't reach the AI model right now. The commands still work: try /analyze BTC 4h, /signal ETH, /risk BTC 0.1 or /portfolio.";
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        return new LlmAnswer(text, text, clients.Model, elapsed, facts, LlmOutcome.Fallback, UnavailableNotice, queuedMs);
    }

    /// <summary>analyze_market for the pairs a question mentions, computed in code.</summary>
    private async Task<IReadOnlyList<ToolInvocation>> ComputeFactsAsync(string question, CancellationToken cancellationToken)
    {
        var facts = new List<ToolInvocation>();
        foreach (var pair in SymbolMentions.Find(question).Take(2))
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                var result = await trading.AnalyzeMarketAsync(pair, null, cancellationToken);
                if (result.IsSuccess)
                {
                    facts.Add(new ToolInvocation("analyze_market", JsonSerializer.Serialize(new { pair }), result.ToJson(), result.ToSummary(),
                        Stopwatch.GetElapsedTime(started).TotalMilliseconds, false, result.Value!.LastCandleCloseTime));
                }
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        return facts;
    }

    /// <summary>
    /// Whatever the LLM side throws (refused connections wrapped by the retry policy, timeouts, 5xx,
    /// garbage JSON, a protocol the client does not understand) is answered from the tools; only the
    /// caller giving up is not.
    /// </summary>
    private static bool IsLlmFailure(Exception ex, CancellationToken callerToken) =>
        !callerToken.IsCancellationRequested && ex is not OutOfMemoryException;

    /// <summary>Why the LLM failed, in words with the endpoint (never a key): see <see cref="LlmErrors.Explain"/>.</summary>
    private string Describe(Exception ex, CancellationTokenSource deadline)
    {
        var reason = ex is OperationCanceledException && deadline.IsCancellationRequested
            ? LlmErrors.Explain(new TimeoutException(), clients.Endpoint, timeout)
            : LlmErrors.Explain(ex, clients.Endpoint, timeout);
        return ex is AggregateException { InnerExceptions.Count: > 1 } attempts ? $"{reason} ({attempts.InnerExceptions.Count} attempts)" : reason;
    }

    private static string Shorten(string text) => text.Length <= 200 ? text : text[..200] + "…";

    [LoggerMessage(Level = LogLevel.Warning, Message = "The LLM server at {Endpoint} answered a streamed request with an empty stream; answers are asked for whole from now on")]
    private partial void LogNotStreaming(string endpoint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not check the figures of an answer for user {UserId} ({Error}: {Message}); sent unchecked")]
    private partial void LogFigureCheckFailed(long userId, string error, string message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "LLM queue full for user {UserId} ({InFlight} in flight, {Queued} queued)")]
    private partial void LogBusy(long userId, int inFlight, int queued);

    [LoggerMessage(Level = LogLevel.Warning, Message = "LLM refused tools for user {UserId} (HTTP {Status}: {Reason}); retrying without tools")]
    private partial void LogToolsRefused(long userId, int status, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "LLM unavailable for user {UserId}: {Reason}; answering from tools")]
    private partial void LogLlmFailed(long userId, string reason);
}
