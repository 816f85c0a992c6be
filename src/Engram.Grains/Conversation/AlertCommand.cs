using System.Globalization;
using System.Text.RegularExpressions;
using Engram.Abstractions.Users;
using Engram.Trading.Indicators;

namespace Engram.Grains.Conversation;

/// <summary>
/// <c>/alert</c> arguments: <c>BTC above 100000</c>, <c>BTC +5%</c>, <c>ETH below 2000 for 7d</c>,
/// <c>SOL -3% repeat 30m</c> (repeat with a cooldown, default 1h); on indicators, checked at each candle close:
/// <c>BTC rsi 4h above 70</c>, <c>SOL crosses ema200 1d</c> (or <c>crosses above</c>/<c>below</c>),
/// <c>BTC volume 1h above 2x</c>, <c>BTC change 24h below -5%</c>. A missing timeframe is the user's default.
/// </summary>
public sealed partial record AlertCommand(string Pair, AlertCondition Condition, decimal Threshold, decimal? Percent,
    bool Repeat, TimeSpan? Cooldown, TimeSpan? ExpiresIn, IndicatorLine? Line = null, string? Timeframe = null)
{
    public static AlertCommand? Parse(IReadOnlyList<string> args)
    {
        if (args.Count < 2)
            return null;
        var pair = args[0];
        int next;
        AlertCondition condition = AlertCondition.Above;
        decimal threshold = 0;
        decimal? percent = null;
        IndicatorLine? line = null;
        string? timeframe = null;
        if (ParseIndicator(args) is { } indicator)
        {
            if (indicator.Next < 0)
                return null;
            (line, timeframe, condition, threshold, next) = indicator;
        }
        else if (PercentPattern().Match(args[1]) is { Success: true } pct)
        {
            // A 30-digit percentage does not fit a decimal: refused, not thrown.
            if (!decimal.TryParse(pct.Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var given) || given == 0 || given <= -100 || given > 1000)
                return null;
            percent = given;
            next = 2;
        }
        else
        {
            if (args.Count < 3)
                return null;
            AlertCondition? parsed = args[1].ToLowerInvariant() switch
            {
                "above" or ">" or ">=" or "over" => AlertCondition.Above,
                "below" or "<" or "<=" or "under" => AlertCondition.Below,
                _ => null,
            };
            if (parsed is null || !ReplyText.TryParseAmount(args[2], out threshold) || threshold <= 0)
                return null;
            condition = parsed.Value;
            next = 3;
        }

        bool repeat = false;
        TimeSpan? cooldown = null, expires = null;
        while (next < args.Count)
        {
            var word = args[next++].ToLowerInvariant();
            if (word == "repeat")
            {
                repeat = true;
                if (next < args.Count && TryDuration(args[next], out var c)) { cooldown = c; next++; }
            }
            else if (word == "for" && next < args.Count && TryDuration(args[next], out var e))
            {
                expires = e;
                next++;
            }
            else
            {
                return null;
            }
        }
        return new AlertCommand(pair, condition, threshold, percent, repeat, cooldown, expires, line, timeframe);
    }

    /// <summary>
    /// The indicator forms; null when the words are not about an indicator (a price alert), Next −1 when they are but
    /// do not parse.
    /// </summary>
    private static (IndicatorLine Line, string? Timeframe, AlertCondition Condition, decimal Level, int Next)? ParseIndicator(IReadOnlyList<string> args)
    {
        var first = args[1].ToLowerInvariant();
        var failed = (default(IndicatorLine), (string?)null, AlertCondition.Above, 0m, -1);
        // SOL crosses [above|below] ema200 [1d]; SOL above|below ema200 [1d]
        var i = 1;
        AlertCondition? side = null;
        if (first == "crosses" || first == "cross")
        {
            i++;
            side = AlertCondition.Crosses;
        }
        if (i < args.Count && Side(args[i]) is { } given && i + 1 < args.Count && IndicatorLine.TryParse(args[i + 1], out var maybeAverage) && maybeAverage.IsAverage)
        {
            side = given;
            i++;
        }
        if (side is not null)
        {
            if (i >= args.Count || !IndicatorLine.TryParse(args[i], out var average) || !average.IsAverage)
                return failed;
            i++;
            var tf = i < args.Count && Trading.MarketData.Timeframe.TryParse(args[i], out var t) ? t.Code : null;
            return (average, tf, side.Value, 0m, tf is null ? i : i + 1);
        }

        // BTC change 24h above 5%
        if (first == "change")
        {
            if (args.Count < 5 || !TryDuration(args[2], out var span) || !IndicatorLine.TryChange(span, out var change, out var changeTf)
                || Side(args[3]) is not { } changeSide || !TryNumber(args[4].TrimEnd('%'), out var pct))
                return failed;
            return (change, changeTf.Code, changeSide, pct, 5);
        }

        // BTC rsi [4h] above 70; BTC volume [1h] above 2x
        if (!IndicatorLine.TryParse(first, out var level) || level.IsAverage)
            return null;
        i = 2;
        string? timeframe = null;
        if (i < args.Count && Trading.MarketData.Timeframe.TryParse(args[i], out var levelTf))
        {
            timeframe = levelTf.Code;
            i++;
        }
        var number = i + 1 < args.Count ? (level.Kind == IndicatorLineKind.VolumeRatio ? args[i + 1].TrimEnd('x', 'X', '×') : args[i + 1]) : "";
        if (i + 1 >= args.Count || Side(args[i]) is not { } levelSide || !TryNumber(number, out var value))
            return failed;
        return (level, timeframe, levelSide, value, i + 2);
    }

    private static AlertCondition? Side(string word) => word.ToLowerInvariant() switch
    {
        "above" or ">" or ">=" or "over" => AlertCondition.Above,
        "below" or "<" or "<=" or "under" => AlertCondition.Below,
        _ => null,
    };

    private static bool TryNumber(string text, out decimal value) =>
        decimal.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out value);

    /// <summary>What is wrong with the arguments, for the usage message.</summary>
    public static string Problem(IReadOnlyList<string> args)
    {
        if (args.Count >= 2 && args[1].ToLowerInvariant() is var word && (IndicatorLine.TryParse(word, out _) || word is "crosses" or "cross" or "change" or "volume"
            || (args.Count >= 3 && IndicatorLine.TryParse(args[2], out var average) && average.IsAverage)))
        {
            return word switch
            {
                "change" => "A change alert looks like: /alert BTC change 24h above 5% (or below -5%).",
                "volume" or "vol" => "A volume alert looks like: /alert BTC volume 1h above 2x (the candle's volume over its 20-candle average).",
                _ when word.StartsWith("rsi", StringComparison.Ordinal) => "An RSI alert looks like: /alert BTC rsi 4h above 70 (or below 30).",
                _ => "A moving-average alert looks like: /alert SOL crosses ema200 1d (or crosses above / crosses below; ema or sma, 2 to 200).",
            };
        }
        if (args.Count >= 2 && !PercentPattern().IsMatch(args[1]) && args[1].ToLowerInvariant() is not ("above" or "below" or ">" or "<" or ">=" or "<=" or "over" or "under"))
            return $"'{args[1]}' should be above, below or a percentage like +5%.";
        if (args.Count >= 3 && !PercentPattern().IsMatch(args[1]) && (!ReplyText.TryParseAmount(args[2], out var price) || price <= 0))
            return $"'{args[2]}' is not a price.";
        return "Options: repeat [cooldown, e.g. 30m], for <time, e.g. 7d>.";
    }

    /// <summary>30m, 4h, 7d, 2w (the spans indicator alerts read), up to a year.</summary>
    public static bool TryDuration(string text, out TimeSpan duration) =>
        IndicatorLine.TryParseSpan(text, out duration) && duration <= TimeSpan.FromDays(366);

    // [0-9], not \d: \d also matches other scripts' digits (٥), which no number parser here reads.
    [GeneratedRegex(@"^([+-][0-9]+(?:\.[0-9]+)?)%$")]
    private static partial Regex PercentPattern();
}
