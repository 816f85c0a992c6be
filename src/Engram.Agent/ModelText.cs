using System.Text.RegularExpressions;

namespace Engram.Agent;

/// <summary>
/// Cleans what a model wrote into what a user should read. Reasoning models (GLM-4.7-Flash,
/// Qwen, DeepSeek) put their thinking in <c>&lt;think&gt;</c> blocks, sometimes with the opening
/// tag already in the prompt template (so only <c>&lt;/think&gt;</c> appears), and small local
/// models sometimes leak tool-call markup into the text.
/// </summary>
public static partial class ModelText
{
    public static string Clean(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
            return "";
        var cleaned = ThinkBlock().Replace(text, "");
        // A closing tag with no opening one: everything before it was reasoning.
        var close = cleaned.IndexOf("</think>", StringComparison.OrdinalIgnoreCase);
        if (close >= 0)
            cleaned = cleaned[(close + "</think>".Length)..];
        // An opening tag never closed (the answer was cut off mid-thought): drop the thought.
        var open = cleaned.IndexOf("<think>", StringComparison.OrdinalIgnoreCase);
        if (open >= 0)
            cleaned = cleaned[..open];
        cleaned = ToolCallMarkup().Replace(cleaned, "");
        cleaned = SpecialTokens().Replace(cleaned, "");
        cleaned = BlankLines().Replace(cleaned, "\n\n");
        return cleaned.Trim();
    }

    [GeneratedRegex(@"<think>.*?</think>", RegexOptions.Singleline | RegexOptions.IgnoreCase)]
    private static partial Regex ThinkBlock();

    [GeneratedRegex(@"<tool_call>.*?(</tool_call>|$)|<\|?tool_calls?_(begin|end|sep)\|?>", RegexOptions.Singleline | RegexOptions.IgnoreCase)]
    private static partial Regex ToolCallMarkup();

    [GeneratedRegex(@"<\|[a-z_]+\|>", RegexOptions.IgnoreCase)]
    private static partial Regex SpecialTokens();

    [GeneratedRegex(@"\n{3,}")]
    private static partial Regex BlankLines();
}
