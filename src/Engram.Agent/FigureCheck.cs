using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Engram.Abstractions.Conversation;

namespace Engram.Agent;

/// <summary>
/// Checks every figure a model's answer states against what Engram computed for this turn: the tool results,
/// the user's own portfolio and alerts, and the question itself. A written figure is verified when it equals a
/// known value at the precision it is written with — rounded or cut to its digits, with thousands separators,
/// <c>%</c>, <c>$</c> and <c>K</c>/<c>M</c>/<c>B</c> read as such, and trailing zeros of a large integer
/// ("64,000") read as rounding to them.
/// Not figures: dates, clock times, years, timeframes and durations ("4h", "14-day"), indicator periods
/// ("EMA 200", "RSI(14)"), ordinals, list numbering, and bare integers up to 10 (counts such as "2 of 5 rules").
/// </summary>
public static partial class FigureCheck
{
    /// <summary>Bare integers up to this are counts, not figures.</summary>
    public const int LargestCount = 10;

    /// <summary>
    /// When an answer is replaced by the tools' own summaries: at least two figures are unverified and they are more
    /// than half of all its figures. A single stray figure is only marked, so one slip does not hide the commentary.
    /// </summary>
    public static bool MostlyUnverified(IReadOnlyList<CheckedFigure> figures)
    {
        var unverified = figures.Count(f => !f.Verified);
        return unverified >= 2 && unverified * 2 > figures.Count;
    }

    public static IReadOnlyList<CheckedFigure> Check(string answer, IReadOnlyList<ToolInvocation> tools, UserContext? user, string? question)
    {
        var written = Extract(answer);
        if (written.Count == 0)
            return [];

        var known = new List<Known>();
        foreach (var tool in tools.Where(t => !t.IsError))
        {
            using var json = JsonDocument.Parse(tool.ResultJson);
            Collect(json.RootElement, tool.Name, known);
            // Engram's own wording of the result ("95% lower bound", "2 and 3 ATR") is a source too.
            foreach (var figure in Extract(tool.Summary))
                known.Add(new Known(figure.Value, tool.Name + " summary", figure.Percent));
        }
        if (user is not null)
        {
            Collect(JsonSerializer.SerializeToElement(user.Portfolio, UserJson), "your portfolio", known);
            Collect(JsonSerializer.SerializeToElement(user.Alerts, UserJson), "your alerts", known);
        }
        if (!string.IsNullOrEmpty(question))
        {
            foreach (var figure in Extract(question))
                known.Add(new Known(figure.Value, "your message", figure.Percent));
        }

        var checkedFigures = new List<CheckedFigure>(written.Count);
        foreach (var figure in written)
        {
            string? source = null;
            foreach (var candidate in known)
            {
                // A percentage is one only of a percentage: "3% upside" is not the 3 ATR of the target.
                if ((!figure.Percent || candidate.Percent) && figure.Matches(candidate.Value))
                {
                    source = candidate.Source;
                    break;
                }
            }
            checkedFigures.Add(new CheckedFigure(figure.Text, source));
        }
        return checkedFigures;
    }

    /// <summary>The figures in a text, in order, with the precision each is written at.</summary>
    internal static List<Written> Extract(string text)
    {
        var masked = Mask(text);
        var found = new List<Written>();
        foreach (Match m in Number().Matches(masked))
        {
            var digits = m.Groups["num"].Value;
            var hasUnit = m.Groups["cur"].Success || m.Groups["scale"].Success || m.Groups["pct"].Success || m.Groups["times"].Success;
            var point = digits.IndexOf('.');
            var bare = digits.Replace(",", "", StringComparison.Ordinal);
            var value = double.Parse(bare, NumberStyles.Float, CultureInfo.InvariantCulture);
            if (point < 0 && !hasUnit && !m.Groups["sign"].Success && value <= LargestCount)
                continue;

            var scale = m.Groups["scale"].Value.Trim().ToLowerInvariant() switch
            {
                "k" or "thousand" => 1e3,
                "m" or "million" => 1e6,
                "b" or "bn" or "billion" => 1e9,
                _ => 1,
            };
            var sign = m.Groups["sign"].Value switch { "-" or "−" => -1, "+" => 1, _ => 0 };
            found.Add(new Written(m.Value.Trim(), sign == -1 ? -value * scale : value * scale, IntegerUnit(bare, point, value) * scale, sign != 0, m.Groups["pct"].Success));
        }
        return found;
    }

    /// <summary>
    /// The precision a number is written at: its last decimal; for a large integer its trailing zeros ("64,000" is
    /// rounded to thousands), but never coarser than 2% of the value, so "100,000" does not pass for 96,000.
    /// </summary>
    private static double IntegerUnit(string bare, int point, double value)
    {
        if (point >= 0)
            return Math.Pow(10, -(bare.Length - bare.IndexOf('.') - 1));
        if (bare.Length < 4)
            return 1;
        var unit = Math.Pow(10, bare.Length - bare.TrimEnd('0').Length);
        while (unit > 1 && unit > value * 0.02)
            unit /= 10;
        return unit;
    }

    /// <summary>Blanks what is not a figure, keeping every other character where it was.</summary>
    private static string Mask(string text)
    {
        var chars = new StringBuilder(text);
        foreach (var pattern in NotFigures)
        {
            foreach (Match m in pattern.Matches(text))
            {
                for (var i = m.Index; i < m.Index + m.Length; i++)
                    chars[i] = ' ';
            }
        }
        return chars.ToString();
    }

    private static readonly Regex[] NotFigures =
    [
        IsoDate(), NumericDate(), ClockTime(), MonthDate(), Year(), Timeframe(), Duration(), IndicatorPeriod(),
        IndicatorParameters(), Ordinal(), ListNumber(),
    ];

    /// <summary>Every number in a tool result, with where it is; strings are read for the figures they spell out.</summary>
    private static void Collect(JsonElement element, string path, List<Known> known)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Number:
                known.Add(new Known(element.GetDouble(), path, IsPercentField(path)));
                break;
            case JsonValueKind.String:
                if (element.GetString() is { Length: > 0 } text && text.AsSpan().IndexOfAnyInRange('0', '9') >= 0)
                {
                    foreach (var figure in Extract(text))
                        known.Add(new Known(figure.Value, path, figure.Percent));
                }
                break;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                    Collect(property.Value, path + "." + property.Name, known);
                break;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                    Collect(item, $"{path}[{Label(item, index++)}]", known);
                break;
        }
    }

    /// <summary>"rules[rsi]" reads better than "rules[3]" in a figures list.</summary>
    private static string Label(JsonElement item, int index) =>
        item.ValueKind == JsonValueKind.Object
        && (item.TryGetProperty("rule", out var name) || item.TryGetProperty("symbol", out name))
        && name.ValueKind == JsonValueKind.String
            ? name.GetString()!
            : index.ToString(CultureInfo.InvariantCulture);

    /// <summary>Fields that hold a percentage: Engram names them <c>…Pct</c> (and the exchange <c>…Percent</c>).</summary>
    private static bool IsPercentField(string path)
    {
        var name = path.AsSpan(path.LastIndexOf('.') + 1);
        return name.EndsWith("Pct", StringComparison.Ordinal) || name.EndsWith("Percent", StringComparison.OrdinalIgnoreCase);
    }

    private static readonly JsonSerializerOptions UserJson = new(JsonSerializerDefaults.Web);

    private readonly record struct Known(double Value, string Source, bool Percent);

    internal readonly record struct Written(string Text, double Value, double Unit, bool Signed, bool Percent)
    {
        /// <summary>Equal to <paramref name="known"/> rounded or cut to the digits written; the sign only when one is written.</summary>
        public bool Matches(double known)
        {
            if (Signed && known != 0 && Math.Sign(known) != Math.Sign(Value))
                return false;
            var gap = Math.Abs(known) - Math.Abs(Value);
            var slack = Unit * 1e-6;
            return Math.Abs(gap) <= Unit / 2 + slack || (gap >= -slack && gap < Unit - slack);
        }
    }

    [GeneratedRegex(@"(?<![\w.,])(?<sign>[+\-−](?=[$€]?\d))?(?<cur>[$€])?(?<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?<scale>\s?(?:[kKmMB]|bn|thousand|million|billion)(?![\p{L}\d]))?(?<pct>\s?%)?(?<times>[x×](?![\p{L}\d]))?(?![\p{L}\d])")]
    private static partial Regex Number();

    [GeneratedRegex(@"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?Z?)?")]
    private static partial Regex IsoDate();

    [GeneratedRegex(@"\b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b")]
    private static partial Regex NumericDate();

    [GeneratedRegex(@"\b\d{1,2}:\d{2}(?::\d{2})?(?:\s?[AaPp]\.?[Mm]\b\.?)?|\b\d{1,2}\s?[AaPp]\.?[Mm]\b\.?")]
    private static partial Regex ClockTime();

    [GeneratedRegex(@"\b\d{1,2}(?:st|nd|rd|th)?\s(?:of\s)?(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?(?:,?\s\d{4})?|\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s\d{1,2}(?:st|nd|rd|th)?(?![\d%]|[.,]\d)(?:,?\s\d{4})?|\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\s\d{4}\b")]
    private static partial Regex MonthDate();

    /// <summary>A year where the words say it is one ("in 2025", "since 2021"): a bare 2050 may be ETH's price.</summary>
    [GeneratedRegex(@"(?<=\b(?:in|since|of|from|until|till|by|during|year|early|late|mid|before|after)\s)(?:19|20)\d{2}\b(?![.,]\d|\s?%)", RegexOptions.IgnoreCase)]
    private static partial Regex Year();

    [GeneratedRegex(@"(?<![\d.,])\b\d+(?:m|h|d|w)\b")]
    private static partial Regex Timeframe();

    [GeneratedRegex(@"(?<![\d.,])\b\d+(?:\.\d+)?[\s-]?(?:seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?|candles?|bars?|periods?|sessions?)\b", RegexOptions.IgnoreCase)]
    private static partial Regex Duration();

    /// <summary>"EMA 200", "EMA-50", "RSI 14", "50 EMA", "50/200 EMA", "20-day MA", "MACD 12/26/9"; not "RSI 50" (a reading).</summary>
    [GeneratedRegex(@"\b(?:EMA|SMA|MA)[\s-]?(?:9|10|12|20|21|26|50|100|200)\b(?![.,]\d|\s?%)|\b(?:RSI|ATR|ADX)[\s-]?14\b(?![.,]\d|\s?%)|\b(?:EMA|SMA|MA|RSI|ATR|ADX)-\d+\b|(?<![\d.,$])\b\d{1,3}(?:\s?(?:/|and|&)\s?\d{1,3})*[\s-]?(?:period\s|day\s)?(?:EMA|SMA|MA)s?\b|\bMACD\s?\d{1,2}\s?/\s?\d{1,2}\s?/\s?\d{1,2}\b", RegexOptions.IgnoreCase)]
    private static partial Regex IndicatorPeriod();

    [GeneratedRegex(@"\b(?:EMA|SMA|MA|RSI|ATR|ADX|MACD|BB|Bollinger(?:\sBands?)?)\s?\(\s?\d+(?:\s?,\s?\d+)*\s?\)", RegexOptions.IgnoreCase)]
    private static partial Regex IndicatorParameters();

    [GeneratedRegex(@"\b\d+(?:st|nd|rd|th)\b|#\d+")]
    private static partial Regex Ordinal();

    /// <summary>"1. …", "(2) …", and headings such as "Step 3:" or "Paragraph 12." at the start of a line.</summary>
    [GeneratedRegex(@"^\s*(?:\d{1,2}[.)]|\(\d{1,2}\))(?=\s)|^\s*(?:Step|Part|Point|Paragraph|Section|Option|Scenario|Phase|Stage|Note|Tip|Reason|Idea)\s\d{1,3}(?=[:.)](?:\s|$))", RegexOptions.Multiline)]
    private static partial Regex ListNumber();
}
