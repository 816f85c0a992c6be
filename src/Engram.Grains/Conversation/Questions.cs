using Engram.Abstractions.Conversation;
using Engram.Abstractions.Users;
using Engram.Agent;
using Engram.Grains.Conversation.Commands;
using Engram.Trading.MarketData;
using Microsoft.Extensions.Options;

namespace Engram.Grains.Conversation;

/// <summary>
/// Free text for the LLM: a question is checked and handed to the LLM worker (after the turn's
/// write); the worker's answer comes back to the user grain in a later turn and becomes the reply here.
/// </summary>
public sealed class Questions(IOptions<LlmOptions> llm, PriceCharts charts)
{
    public ChatReply? Ask(UserSession session, string question)
    {
        if (question.Length == 0)
            return ChatReply.Error("Ask me something, e.g. \"how is bitcoin doing?\", or send /help.");
        if (question.Length > llm.Value.MaxQuestionChars)
            return ChatReply.Error($"That message is {question.Length} characters; please keep questions under {llm.Value.MaxQuestionChars}.");
        session.Ask(new PendingQuestion { Question = question, Remember = true });
        return null;
    }

    /// <summary>What the worker is sent: the question with a snapshot of the user's own data for the user-scoped tools.</summary>
    public static LlmRequest RequestFor(UserSession session, PendingQuestion question) =>
        new(session.UserId, question.Question, session.History.ToList(), new UserContext(session.Portfolio, session.Alerts, session.Settings),
            question.Precomputed, question.UpdateId, question.ChatId);

    /// <summary>The reply to an answered question; a free-text exchange joins the history the model sees next time.</summary>
    public async Task<ChatReply> ReplyAsync(UserSession session, PendingQuestion question, LlmAnswer answer)
    {
        if (answer.Outcome == LlmOutcome.Busy)
            return ChatReply.Notice(answer.CleanText);
        var text = ReplyFormatter.Format(answer, session.Settings.ResponseFormat, lead: question.Lead);
        var reply = question.ChartSymbol is { } symbol && Timeframe.TryParse(question.ChartTimeframe, out var timeframe)
            && await charts.RenderAsync(session, symbol, timeframe) is { IsSuccess: true } chart
                ? new ChatReply(text, Buttons: answer.Buttons, Photo: chart.Png, EditMessageId: answer.DraftMessageId)
                : new ChatReply(text, Buttons: answer.Buttons, EditMessageId: answer.DraftMessageId);
        // Last, once nothing can fail: a history entry only for an answer the user is actually sent.
        if (question.Remember)
            session.AppendExchange(question.Question, ReplyFormatter.Answered(answer));
        return reply;
    }
}
