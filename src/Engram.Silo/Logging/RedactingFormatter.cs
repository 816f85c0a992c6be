using System.Text.RegularExpressions;
using Serilog.Events;
using Serilog.Formatting;
using Serilog.Formatting.Display;

namespace Engram.Silo.Logging;

/// <summary>
/// Renders a log event with the usual template, then masks secrets in the finished text: the
/// configured secret values and anything shaped like a Telegram bot token or an API key.
/// Masking the rendered line (not just properties) also covers exception messages and URLs.
/// </summary>
public sealed partial class RedactingFormatter(string outputTemplate, IEnumerable<string> secrets) : ITextFormatter
{
    private const string Mask = "***";
    private readonly MessageTemplateTextFormatter inner = new(outputTemplate, System.Globalization.CultureInfo.InvariantCulture);
    // Short values are skipped: masking "1" everywhere would only make logs unreadable.
    private readonly string[] secrets = secrets.Where(s => s.Trim().Length >= 6).Select(s => s.Trim()).Distinct().ToArray();

    public void Format(LogEvent logEvent, TextWriter output)
    {
        using var buffer = new StringWriter();
        inner.Format(logEvent, buffer);
        output.Write(Redact(buffer.ToString()));
    }

    public string Redact(string text)
    {
        foreach (var secret in secrets)
            text = text.Replace(secret, Mask, StringComparison.Ordinal);
        text = TelegramToken().Replace(text, "${prefix}" + Mask);
        text = BearerToken().Replace(text, "${prefix}" + Mask);
        return text;
    }

    // 123456789:AAE... (the form BotFather hands out), also inside /bot<token>/ URLs.
    [GeneratedRegex(@"(?<prefix>bot)?\d{5,}:[A-Za-z0-9_-]{30,}")]
    private static partial Regex TelegramToken();

    [GeneratedRegex(@"(?<prefix>(?:Bearer |api[_-]?key[=:] ?|sk-))[A-Za-z0-9._-]{8,}", RegexOptions.IgnoreCase)]
    private static partial Regex BearerToken();
}
