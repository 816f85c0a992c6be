using Engram.Abstractions.Conversation;
using Engram.Grains.Conversation.Commands;
using Microsoft.Extensions.Logging;

namespace Engram.Grains.Conversation;

/// <summary>
/// Turns one message into replies: a command goes to the handler of its area, anything else is a
/// question for the LLM worker. It runs inside the user grain's turn on that user's session; the
/// grain stores what the turn changed, with the replies, in one write.
/// </summary>
public sealed partial class ConversationService
{
    private readonly Dictionary<string, ICommandHandler> handlers;
    private readonly Questions questions;
    private readonly IGrainFactory grains;
    private readonly Telemetry.EngramMetrics metrics;
    private readonly ILogger<ConversationService> logger;

    public ConversationService(IEnumerable<ICommandHandler> handlers, Questions questions, IGrainFactory grains,
        Telemetry.EngramMetrics metrics, ILogger<ConversationService> logger)
    {
        this.handlers = handlers.SelectMany(h => h.Commands.Select(c => (c, h))).ToDictionary(p => p.c, p => p.h, StringComparer.Ordinal);
        this.questions = questions;
        this.grains = grains;
        this.metrics = metrics;
        this.logger = logger;
    }

    /// <summary>The replies to send now; a question's answer follows when the LLM worker calls back.</summary>
    public async Task<IReadOnlyList<ChatReply>> HandleAsync(UserSession session, string text)
    {
        var parsed = ParsedMessage.Parse(text);
        metrics.MessageProcessed(parsed.IsCommand);
        if (parsed.IsCommand)
            metrics.CommandExecuted(CommandCatalog.Find(parsed.Command!) is { } known ? known.Name : "unknown");
        try
        {
            var reply = parsed.IsCommand ? await RunCommandAsync(session, parsed) : questions.Ask(session, parsed.Text);
            if (session.TooManyQuestionsWaiting)
            {
                session.WithdrawQuestion();
                return [ChatReply.Notice($"You have {session.QuestionsWaiting} questions waiting for the model already; I'll answer those first. Ask this again once they are in.")];
            }
            // Told once, for a question that is not already waiting behind another of the user's.
            if (session.Question is not null && !session.HasPendingQuestions && await QueuedNoticeAsync() is { } queued)
                return reply is null ? [queued] : [reply, queued];
            return reply is null ? [] : [reply];
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            metrics.Error("conversation");
            LogFailed(ex, session.UserId, parsed.Command ?? "question");
            session.DiscardChanges = true;
            return [ChatReply.Error("Something went wrong on my side and nothing was changed. Please try again in a moment.")];
        }
    }

    /// <summary>The reply to a question the LLM worker has answered.</summary>
    public Task<ChatReply> AnswerAsync(UserSession session, Abstractions.Users.PendingQuestion question, LlmAnswer answer) =>
        questions.ReplyAsync(session, question, answer);

    private async Task<ChatReply?> RunCommandAsync(UserSession session, ParsedMessage m)
    {
        if (handlers.TryGetValue(m.Command!, out var handler))
            return await handler.RunAsync(session, m);
        // The Telegram ingress replaces a button pressed by someone other than its owner with this.
        if (m.Command == "__foreign_button")
            return ChatReply.Error("That button belongs to someone else's message; it did nothing.");
        var closest = CommandCatalog.Closest(m.Command!);
        return ChatReply.Error(closest is null
            ? $"I don't know /{m.Command}. /help lists every command."
            : $"I don't know /{m.Command}. Did you mean /{closest.Name}? {closest.Usage}\n/help lists every command.");
    }

    /// <summary>Said at once when every LLM slot is taken, rather than leaving the user wondering.</summary>
    private async Task<ChatReply?> QueuedNoticeAsync()
    {
        var load = await grains.GetGrain<ILlmWorkerGrain>(0).GetLoadAsync();
        return load.InFlight >= load.Capacity
            ? ChatReply.Notice($"⏳ I'm busy with other questions; yours is queued ({load.Queued + 1} waiting).")
            : null;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Handling {Command} for user {UserId} failed")]
    private partial void LogFailed(Exception ex, long userId, string command);
}
