using System.Globalization;
using System.Text;
using Engram.Abstractions.Conversation;
using Engram.Abstractions.Users;

namespace Engram.Grains.Conversation;

/// <summary>Shapes an LLM answer for the user's chosen format.</summary>
public static class ReplyFormatter
{
    /// <summary>
    /// clean: what to read (no reasoning, no tool artefacts). detailed: plus the tools called with
    /// their key figures, the data timestamp, the model and the time taken. raw: the model's output
    /// as it came and the tool results as JSON.
    /// </summary>
    public static string Format(LlmAnswer answer, ResponseFormat format, string? lead = null)
    {
        var text = new StringBuilder();
        switch (format)
        {
            case ResponseFormat.Raw:
                text.Append(answer.RawText.Trim());
                if (answer.Tools.Count > 0)
                {
                    text.Append("\n\nTool results (JSON):");
                    foreach (var tool in answer.Tools)
                        text.Append("\n\n").Append(tool.Name).Append(' ').Append(tool.ArgumentsJson).Append('\n').Append(tool.ResultJson);
                }
                if (answer.Notice is not null)
                    text.Append("\n\n").Append(answer.Notice);
                return text.ToString();

            case ResponseFormat.Detailed:
                AppendClean(text, answer, lead);
                text.Append("\n\n—\n");
                foreach (var tool in answer.Tools)
                {
                    var firstLine = tool.Summary.Split('\n')[0];
                    text.Append(CultureInfo.InvariantCulture, $"🔧 {tool.Name} {tool.ArgumentsJson} ({tool.ElapsedMs:0} ms): {firstLine}\n");
                }
                if (answer.Tools.Select(t => t.DataTimestamp).Where(t => t is not null).Max() is { } asOf)
                    text.Append(CultureInfo.InvariantCulture, $"Data as of {asOf.UtcDateTime:yyyy-MM-dd HH:mm} UTC\n");
                text.Append(CultureInfo.InvariantCulture, $"Model: {answer.Model} · {answer.ElapsedMs / 1000:0.0} s");
                if (answer.QueuedMs >= 500)
                    text.Append(CultureInfo.InvariantCulture, $" (+{answer.QueuedMs / 1000:0.0} s queued)");
                if (answer.Outcome != LlmOutcome.Answered)
                    text.Append(" · ").Append(answer.Outcome);
                return text.ToString();

            default:
                AppendClean(text, answer, lead);
                return text.ToString();
        }
    }

    private static void AppendClean(StringBuilder text, LlmAnswer answer, string? lead)
    {
        if (lead is not null)
        {
            text.Append(lead);
            // With a lead (the tool summary), a fallback has nothing to add but the notice.
            if (answer.Outcome != LlmOutcome.Fallback)
                text.Append("\n\n💬 ").Append(answer.CleanText);
        }
        else
        {
            text.Append(answer.CleanText);
        }
        if (answer.Notice is not null)
            text.Append("\n\n⚠️ ").Append(answer.Notice);
    }
}
