using System.Globalization;
using System.Text;

namespace Engram.TestServers;

/// <summary>
/// Parses Bot API "HTML" parse mode the way Telegram's server (tdlib's parse_html) does, so a message that Telegram
/// would reject with "can't parse entities" is rejected here too, with the same wording and UTF-8 byte offsets.
/// </summary>
public static class TelegramHtml
{
    private static readonly HashSet<string> SupportedTags = new(StringComparer.Ordinal)
    {
        "a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins",
        "tg-spoiler", "tg-emoji", "span", "pre", "code", "blockquote",
    };

    /// <summary>Result of parsing: the plain text Telegram would store, or the error it would return.</summary>
    public sealed record ParseResult(string? PlainText, string? Error)
    {
        public bool Ok => Error is null;
    }

    /// <param name="text">The message text as sent.</param>
    /// <param name="strictAmpersand">
    /// Reject an "&amp;" that does not start an entity. The Bot API documentation requires escaping it; Telegram's parser
    /// itself keeps such a character as text, so strict mode catches escaping bugs before they show up as "&amp;amp;".
    /// </param>
    public static ParseResult Parse(string text, bool strictAmpersand = true)
    {
        var plain = new StringBuilder(text.Length);
        var open = new Stack<string>();
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (c == '&')
            {
                if (TryDecodeEntity(text, ref i, plain))
                    continue;
                if (strictAmpersand)
                    return Fail($"Character '&' is reserved and must be escaped as &amp; at byte offset {ByteOffset(text, i)}");
                plain.Append(c);
                i++;
                continue;
            }
            if (c != '<')
            {
                plain.Append(c);
                i++;
                continue;
            }

            var tagStart = i;
            if (i + 1 < text.Length && text[i + 1] == '/')
            {
                var close = text.IndexOf('>', i);
                if (close < 0)
                    return Fail($"Unclosed end tag at byte offset {ByteOffset(text, tagStart)}");
                var name = text[(i + 2)..close].Trim().ToLowerInvariant();
                if (open.Count == 0)
                    return Fail($"Unexpected end tag at byte offset {ByteOffset(text, tagStart)}");
                if (open.Peek() != name)
                    return Fail($"Unmatched end tag at byte offset {ByteOffset(text, tagStart)}, expected \"</{open.Peek()}>\", found \"</{name}>\"");
                open.Pop();
                i = close + 1;
                continue;
            }

            i++;
            var nameStart = i;
            while (i < text.Length && !char.IsWhiteSpace(text[i]) && text[i] != '>')
                i++;
            if (i >= text.Length)
                return Fail($"Unclosed start tag at byte offset {ByteOffset(text, tagStart)}");
            var tag = text[nameStart..i].ToLowerInvariant();
            if (!SupportedTags.Contains(tag))
                return Fail($"Unsupported start tag \"{tag}\" at byte offset {ByteOffset(text, tagStart)}");

            var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
            var error = ReadAttributes(text, ref i, tag, tagStart, attributes);
            if (error is not null)
                return Fail(error);
            if (tag == "span" && (!attributes.TryGetValue("class", out var cls) || cls != "tg-spoiler"))
                return Fail($"Tag \"span\" must have class \"tg-spoiler\" at byte offset {ByteOffset(text, tagStart)}");
            open.Push(tag);
        }

        if (open.Count > 0)
            return Fail($"Can't find end tag corresponding to start tag \"{open.Peek()}\"");
        return new ParseResult(plain.ToString(), null);
    }

    private static ParseResult Fail(string reason) => new(null, "Bad Request: can't parse entities: " + reason);

    private static string? ReadAttributes(string text, ref int i, string tag, int tagStart, Dictionary<string, string> attributes)
    {
        while (true)
        {
            while (i < text.Length && char.IsWhiteSpace(text[i]))
                i++;
            if (i >= text.Length)
                return $"Unclosed start tag \"{tag}\" at byte offset {ByteOffset(text, tagStart)}";
            if (text[i] == '>')
            {
                i++;
                return null;
            }
            var nameStart = i;
            while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] is '-' or '_'))
                i++;
            if (i == nameStart)
                return $"Empty attribute name in the tag \"{tag}\" at byte offset {ByteOffset(text, tagStart)}";
            var name = text[nameStart..i].ToLowerInvariant();
            while (i < text.Length && char.IsWhiteSpace(text[i]))
                i++;
            if (i >= text.Length)
                return $"Unclosed start tag at byte offset {ByteOffset(text, tagStart)}";
            if (text[i] != '=')
            {
                attributes[name] = ""; // boolean attribute, e.g. <blockquote expandable>
                continue;
            }
            i++;
            while (i < text.Length && char.IsWhiteSpace(text[i]))
                i++;
            if (i >= text.Length)
                return $"Unclosed start tag at byte offset {ByteOffset(text, tagStart)}";
            string value;
            if (text[i] is '"' or '\'')
            {
                var quote = text[i];
                var end = text.IndexOf(quote, i + 1);
                if (end < 0)
                    return $"Unclosed start tag at byte offset {ByteOffset(text, tagStart)}";
                value = text[(i + 1)..end];
                i = end + 1;
            }
            else
            {
                var start = i;
                while (i < text.Length && !char.IsWhiteSpace(text[i]) && text[i] != '>')
                    i++;
                value = text[start..i];
            }
            attributes[name] = value;
        }
    }

    private static bool TryDecodeEntity(string text, ref int i, StringBuilder plain)
    {
        var semicolon = text.IndexOf(';', i + 1);
        if (semicolon < 0 || semicolon - i > 10)
            return false;
        var body = text[(i + 1)..semicolon];
        string? decoded = body switch
        {
            "lt" => "<",
            "gt" => ">",
            "amp" => "&",
            "quot" => "\"",
            _ => null,
        };
        if (decoded is null && body.Length > 1 && body[0] == '#')
        {
            var isHex = body.Length > 2 && body[1] is 'x' or 'X';
            var digits = isHex ? body[2..] : body[1..];
            if (int.TryParse(digits, isHex ? NumberStyles.AllowHexSpecifier : NumberStyles.None, CultureInfo.InvariantCulture, out var code)
                && code is > 0 and <= 0x10FFFF && code is < 0xD800 or > 0xDFFF)
                decoded = char.ConvertFromUtf32(code);
        }
        if (decoded is null)
            return false;
        plain.Append(decoded);
        i = semicolon + 1;
        return true;
    }

    // Telegram reports positions as UTF-8 byte offsets, not UTF-16 indexes.
    private static int ByteOffset(string text, int charIndex) => Encoding.UTF8.GetByteCount(text.AsSpan(0, charIndex));
}
