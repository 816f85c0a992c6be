using Engram.Abstractions.Users;

namespace Engram.Abstractions.Conversation;

/// <summary>One message back to the user. Text is plain: transports escape it for their markup.</summary>
[GenerateSerializer, Immutable]
public sealed record ChatReply(
    [property: Id(0)] string Text,
    [property: Id(1)] ReplyKind Kind = ReplyKind.Answer,
    [property: Id(2)] IReadOnlyList<ReplyButton>? Buttons = null,
    /// <summary>A PNG image (a chart); <see cref="Text"/> is its caption.</summary>
    [property: Id(3)] byte[]? Photo = null,
    /// <summary>A draft of this answer already shown in the chat (see IAnswerDraft): the text replaces it.</summary>
    [property: Id(4)] long? EditMessageId = null)
{
    public static ChatReply Error(string text) => new(text, ReplyKind.Error);
    public static ChatReply Notice(string text) => new(text, ReplyKind.Notice);
}

public enum ReplyKind
{
    /// <summary>The answer to what the user asked.</summary>
    Answer = 0,
    /// <summary>Something the user got wrong, with how to do it right.</summary>
    Error = 1,
    /// <summary>Interim information: queued, working on it.</summary>
    Notice = 2,
    /// <summary>Nothing to send (a redelivered update that was already answered).</summary>
    Duplicate = 3,
    /// <summary>A scheduled digest: bulk, so it waits behind alerts and replies for the bot-wide send limit.</summary>
    Digest = 4,
}

/// <summary>An inline button: a label and the command it sends back (e.g. "/delalert 3").</summary>
[GenerateSerializer, Immutable]
public sealed record ReplyButton([property: Id(0)] string Label, [property: Id(1)] string Command);

/// <summary>A question for the LLM worker, with everything it may use (the user's own data as a snapshot).</summary>
[GenerateSerializer, Immutable]
public sealed record LlmRequest(
    [property: Id(0)] long UserId,
    [property: Id(1)] string Question,
    [property: Id(2)] IReadOnlyList<ChatTurn> History,
    [property: Id(3)] UserContext User,
    /// <summary>Tool results computed by a command; the model is asked only to comment on them.</summary>
    [property: Id(4)] IReadOnlyList<ToolInvocation>? PrecomputedTools = null,
    /// <summary>The update the question came in: the answer goes back to the user grain under it.</summary>
    [property: Id(5)] long UpdateId = 0,
    /// <summary>Where "typing…" is shown while the model works.</summary>
    [property: Id(6)] long ChatId = 0);

/// <summary>
/// The calling user's own data, copied into the request. The user-scoped tools read only this,
/// so a tool can never reach another user's grain (and the busy user grain is never re-entered).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record UserContext(
    [property: Id(0)] PortfolioView Portfolio,
    [property: Id(1)] IReadOnlyList<AlertView> Alerts,
    [property: Id(2)] EffectiveSettings Settings);

/// <summary>One tool call: what was asked, what the code computed, how long it took.</summary>
[GenerateSerializer, Immutable]
public sealed record ToolInvocation(
    [property: Id(0)] string Name,
    [property: Id(1)] string ArgumentsJson,
    [property: Id(2)] string ResultJson,
    [property: Id(3)] string Summary,
    [property: Id(4)] double ElapsedMs,
    [property: Id(5)] bool IsError,
    /// <summary>Close time of the last candle the result used, when it used market data.</summary>
    [property: Id(6)] DateTimeOffset? DataTimestamp = null);

[GenerateSerializer, Immutable]
public sealed record LlmAnswer(
    /// <summary>The model's answer without reasoning blocks or tool-call artefacts.</summary>
    [property: Id(0)] string CleanText,
    /// <summary>The model's output as it came (reasoning included).</summary>
    [property: Id(1)] string RawText,
    [property: Id(2)] string Model,
    [property: Id(3)] double ElapsedMs,
    [property: Id(4)] IReadOnlyList<ToolInvocation> Tools,
    [property: Id(5)] LlmOutcome Outcome,
    /// <summary>A line for the user when something went wrong (e.g. AI commentary unavailable).</summary>
    [property: Id(6)] string? Notice = null,
    /// <summary>Time spent waiting for a free slot to the LLM.</summary>
    [property: Id(7)] double QueuedMs = 0,
    /// <summary>Every figure the answer states, checked against this turn's data (empty when the text came from the tools).</summary>
    [property: Id(8)] IReadOnlyList<CheckedFigure>? Figures = null,
    /// <summary>The message the answer was streamed into while the model wrote it; the final reply replaces it.</summary>
    [property: Id(9)] long? DraftMessageId = null,
    /// <summary>Buttons the answer offers, e.g. an alert the model proposed; nothing happens until the user taps one.</summary>
    [property: Id(10)] IReadOnlyList<ReplyButton>? Buttons = null);

/// <summary>A figure as the answer wrote it, and the tool field (or the user's data) it equals; null when none does.</summary>
[GenerateSerializer, Immutable]
public sealed record CheckedFigure(
    [property: Id(0)] string Text,
    [property: Id(1)] string? Source)
{
    public bool Verified => Source is not null;
}

public enum LlmOutcome
{
    /// <summary>The model answered (with tools when it wanted them).</summary>
    Answered = 0,
    /// <summary>The server refused tools (HTTP 400); the model answered without them from code-computed facts.</summary>
    AnsweredWithoutTools = 1,
    /// <summary>The model could not be reached; the answer was built from the tools alone.</summary>
    Fallback = 2,
    /// <summary>Too many questions in flight; the user was asked to try again.</summary>
    Busy = 3,
}

/// <summary>LLM server health for /status.</summary>
[GenerateSerializer, Immutable]
public sealed record LlmHealth(
    [property: Id(0)] bool Reachable,
    [property: Id(1)] string Model,
    [property: Id(2)] string Endpoint,
    [property: Id(3)] double? LatencyMs,
    [property: Id(4)] DateTimeOffset CheckedAt,
    [property: Id(5)] string? Error,
    [property: Id(6)] IReadOnlyList<string> ToolNames,
    [property: Id(7)] int InFlight,
    [property: Id(8)] int Queued);
