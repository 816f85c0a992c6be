using System.Net;
using System.Text;

namespace Engram.Telegram;

/// <summary>Telegram's text rules: 4096 characters a message, and HTML with every user- or model-supplied character escaped.</summary>
public static class TelegramText
{
    public const int MaxMessageLength = 4096;
    public const int MaxCaptionLength = 1024;

    /// <summary>Escapes &lt; &gt; &amp; (and quotes), the only characters Telegram's HTML mode requires escaped.</summary>
    public static string Html(string text) => WebUtility.HtmlEncode(text);

    /// <summary>
    /// Splits at paragraph breaks, then line breaks, then spaces, so no part exceeds the limit and no
    /// word or escape sequence is cut (split the plain text, then escape each part).
    /// </summary>
    public static IReadOnlyList<string> Split(string text, int limit = MaxMessageLength)
    {
        var parts = new List<string>();
        var rest = text;
        while (rest.Length > limit)
        {
            var window = rest[..limit];
            var cut = LastBreak(window, "\n\n", limit / 2) ?? LastBreak(window, "\n", limit / 2) ?? LastBreak(window, " ", limit / 2) ?? limit;
            parts.Add(rest[..cut].TrimEnd());
            rest = rest[cut..].TrimStart('\n', ' ');
        }
        if (rest.Length > 0 || parts.Count == 0)
            parts.Add(rest);
        return parts;
    }

    private static int? LastBreak(string window, string separator, int minimum)
    {
        var index = window.LastIndexOf(separator, StringComparison.Ordinal);
        return index >= minimum ? index : null;
    }

    /// <summary>Escaped HTML can be longer than the text; split so each escaped part fits.</summary>
    public static IReadOnlyList<string> SplitForHtml(string text)
    {
        var parts = new List<string>();
        foreach (var part in Split(text))
        {
            var escaped = Html(part);
            if (escaped.Length <= MaxMessageLength)
                parts.Add(escaped);
            else
                parts.AddRange(Split(part, MaxMessageLength / 2).Select(Html));
        }
        return parts;
    }
}
