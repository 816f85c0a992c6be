using Engram.TestServers;

namespace Engram.ChaosTests.Load;

/// <summary>
/// The LLM's side of the run, deterministic per question: portfolio questions call
/// <c>get_portfolio</c>, bitcoin questions call <c>analyze_market</c> (klines from the Binance
/// stand-in), anything else gets a plain answer; after a tool result comes the final answer.
/// </summary>
public static class ScriptedLlm
{
    public const string AnswerMarker = "[scripted answer]";

    private static readonly TimeSpan Thinking = TimeSpan.FromMilliseconds(80);

    public static ScriptedReply Answer(ChatRequest request)
    {
        // The question is echoed so two different questions never get the same text (a repeated text is how duplicates show).
        var question = request.LastUserMessage?.Content ?? "";
        if (request.Messages.LastOrDefault()?.Role == "tool")
            return ScriptedReply.Text($"{AnswerMarker} On \"{question}\": the figures are what the tools computed; this is not financial advice.").After(Thinking);
        if (question.Contains("portfolio", StringComparison.OrdinalIgnoreCase))
            return ScriptedReply.ToolCall("get_portfolio").After(Thinking);
        if (question.Contains("bitcoin", StringComparison.OrdinalIgnoreCase))
            return ScriptedReply.ToolCall("analyze_market", new { pair = "BTC", timeframe = "1h" }).After(Thinking);
        return ScriptedReply.Text($"{AnswerMarker} On \"{question}\": I explain market data computed by Engram's tools.").After(Thinking);
    }
}
