using System.Globalization;
using System.Text;
using Engram.Abstractions.Conversation;
using Engram.Abstractions.Users;
using Engram.Agent;

namespace Engram.Grains.Conversation;

/// <summary>Shapes an LLM answer for the user's chosen format.</summary>
public static class ReplyFormatter
{
    /// <summary>Figures listed in a detailed reply; an answer with more is unusual and the list would swamp it.</summary>
    private const int FiguresListed = 20;

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
                AppendFiguresChecked(text, answer.Figures ?? []);
                return text.ToString();

            default:
                AppendClean(text, answer, lead);
                return text.ToString();
        }
    }

    /// <summary>
    /// What the model's answer counts as once checked: its text, or — when most of its figures are not Engram's
    /// (<see cref="FigureCheck.MostlyUnverified"/>) and the tools have something to show — the tools' summaries.
    /// The history the model sees next time holds the same, so an invented figure is not fed back to it.
    /// </summary>
    public static string Answered(LlmAnswer answer) =>
        Replaced(answer) ? ToolSummaries(answer) : answer.CleanText;

    private static bool Replaced(LlmAnswer answer) =>
        answer.Figures is { } figures && FigureCheck.MostlyUnverified(figures) && answer.Tools.Any(t => !t.IsError);

    private static string ToolSummaries(LlmAnswer answer) =>
        string.Join("\n\n", answer.Tools.Where(t => !t.IsError).Select(t => t.Summary));

    private static void AppendClean(StringBuilder text, LlmAnswer answer, string? lead)
    {
        var unverified = (answer.Figures ?? []).Where(f => !f.Verified).Select(f => f.Text).Distinct().ToList();
        if (Replaced(answer))
        {
            // With a lead, the lead already is the tools' summary.
            text.Append(lead ?? ToolSummaries(answer));
            text.Append(CultureInfo.InvariantCulture,
                $"\n\n⚠️ The model's answer quoted {unverified.Count} figures that are not from Engram's data ({string.Join(", ", unverified)}), so here are the tools' own figures instead.");
            if (answer.Notice is not null)
                text.Append("\n\n⚠️ ").Append(answer.Notice);
            return;
        }

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
        if (unverified.Count > 0)
        {
            text.Append("\n\n⚠️ ").Append(unverified.Count == 1 ? "1 figure here is" : $"{unverified.Count} figures here are")
                .Append(" not from Engram's data: ").Append(string.Join(", ", unverified));
        }
        if (answer.Notice is not null)
            text.Append("\n\n⚠️ ").Append(answer.Notice);
    }

    private static void AppendFiguresChecked(StringBuilder text, IReadOnlyList<CheckedFigure> figures)
    {
        if (figures.Count == 0)
            return;
        text.Append(CultureInfo.InvariantCulture, $"\nFigures checked: {figures.Count(f => f.Verified)} of {figures.Count} from Engram's data");
        foreach (var figure in figures.Take(FiguresListed))
            text.Append("\n").Append(figure.Verified ? "✓ " : "✗ ").Append(figure.Text).Append(" — ").Append(figure.Source ?? "not in this turn's data");
        if (figures.Count > FiguresListed)
            text.Append(CultureInfo.InvariantCulture, $"\n… and {figures.Count - FiguresListed} more");
    }
}
