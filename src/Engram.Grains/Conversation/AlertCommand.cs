using System.Globalization;
using System.Text.RegularExpressions;
using Engram.Abstractions.Users;

namespace Engram.Grains.Conversation;

/// <summary>
/// <c>/alert</c> arguments: <c>BTC above 100000</c>, <c>BTC +5%</c>, <c>ETH below 2000 for 7d</c>,
/// <c>SOL -3% repeat 30m</c> (repeat with a cooldown, default 1h).
/// </summary>
public sealed partial record AlertCommand(string Pair, AlertCondition Condition, decimal Threshold, decimal? Percent,
    bool Repeat, TimeSpan? Cooldown, TimeSpan? ExpiresIn)
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
        if (PercentPattern().Match(args[1]) is { Success: true } pct)
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
        return new AlertCommand(pair, condition, threshold, percent, repeat, cooldown, expires);
    }

    /// <summary>What is wrong with the arguments, for the usage message.</summary>
    public static string Problem(IReadOnlyList<string> args)
    {
        if (args.Count >= 2 && !PercentPattern().IsMatch(args[1]) && args[1].ToLowerInvariant() is not ("above" or "below" or ">" or "<" or ">=" or "<=" or "over" or "under"))
            return $"'{args[1]}' should be above, below or a percentage like +5%.";
        if (args.Count >= 3 && !PercentPattern().IsMatch(args[1]) && (!ReplyText.TryParseAmount(args[2], out var price) || price <= 0))
            return $"'{args[2]}' is not a price.";
        return "Options: repeat [cooldown, e.g. 30m], for <time, e.g. 7d>.";
    }

    /// <summary>30m, 4h, 7d, 2w.</summary>
    public static bool TryDuration(string text, out TimeSpan duration)
    {
        duration = default;
        var match = DurationPattern().Match(text.ToLowerInvariant());
        if (!match.Success || !int.TryParse(match.Groups[1].Value, out var n) || n <= 0 || n > 10_000)
            return false;
        duration = match.Groups[2].Value switch
        {
            "m" => TimeSpan.FromMinutes(n),
            "h" => TimeSpan.FromHours(n),
            "d" => TimeSpan.FromDays(n),
            _ => TimeSpan.FromDays(7 * n),
        };
        return duration <= TimeSpan.FromDays(366);
    }

    // [0-9], not \d: \d also matches other scripts' digits (٥), which no number parser here reads.
    [GeneratedRegex(@"^([+-][0-9]+(?:\.[0-9]+)?)%$")]
    private static partial Regex PercentPattern();

    [GeneratedRegex(@"^([0-9]+)(m|h|d|w)$")]
    private static partial Regex DurationPattern();
}
