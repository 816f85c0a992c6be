using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Engram.Abstractions.Conversation;
using Engram.Abstractions.Users;
using Engram.Grains.Digests;
using Engram.Trading.MarketData;
using Microsoft.Extensions.Options;
using NodaTime;
using static Engram.Grains.Conversation.ReplyText;

namespace Engram.Grains.Conversation.Commands;

/// <summary>/watch, /unwatch, /watchlist and /digest. The digest shard learns of a new schedule after the turn's write.</summary>
public sealed partial class WatchCommands(SymbolNormalizer symbols, DigestBuilder digests, IOptions<DigestOptions> options, TimeProvider clock) : ICommandHandler
{
    public IReadOnlyCollection<string> Commands { get; } = ["watch", "unwatch", "watchlist", "digest"];

    public Task<ChatReply?> RunAsync(UserSession session, ParsedMessage m) => m.Command switch
    {
        "watch" => WatchAsync(session, m.Args),
        "unwatch" => UnwatchAsync(session, m.Args),
        "watchlist" => ListAsync(session),
        _ => Task.FromResult<ChatReply?>(Digest(session, m.Args)),
    };

    private async Task<ChatReply?> WatchAsync(UserSession session, IReadOnlyList<string> args)
    {
        if (args.Count == 0)
            return Usage("watch", "Which pairs?");
        var found = new List<string>();
        var problems = new List<string>();
        foreach (var word in args.Distinct(StringComparer.OrdinalIgnoreCase).Take(options.Value.MaxWatched + 5))
        {
            var resolved = await symbols.ResolveAsync(word);
            if (!resolved.IsSuccess)
                problems.Add($"'{word}': {resolved.Error}");
            else if (!resolved.IsVerified)
                problems.Add($"'{word}': the exchange's pair list is unavailable right now, so I couldn't check it");
            else
                found.Add(resolved.Symbol!.Symbol);
        }
        var (added, over) = session.Watch(found, options.Value.MaxWatched);
        var text = new StringBuilder(added.Count > 0
            ? $"👀 Watching {string.Join(", ", added.Select(Pretty))} ({session.Watchlist.Count} of {options.Value.MaxWatched})."
            : found.Count > 0 && over.Count == 0 ? "You already watch " + string.Join(", ", found.Select(Pretty)) + "." : "Nothing added.");
        if (over.Count > 0)
            text.Append(CultureInfo.InvariantCulture, $"\nNot added, the watchlist holds {options.Value.MaxWatched}: {string.Join(", ", over.Select(Pretty))}. /unwatch one first.");
        foreach (var problem in problems)
            text.Append('\n').Append(problem);
        if (added.Count > 0 && session.Digest is null)
            text.Append("\nGet them in a daily summary: /digest 08:00 Europe/Berlin");
        return new ChatReply(text.ToString(), added.Count > 0 ? ReplyKind.Answer : ReplyKind.Error,
            [new("Watchlist", "/watchlist"), .. session.Digest is null ? new[] { new ReplyButton("Digest 08:00 UTC", "/digest 08:00 UTC") } : []]);
    }

    private async Task<ChatReply?> UnwatchAsync(UserSession session, IReadOnlyList<string> args)
    {
        if (args.Count != 1)
            return Usage("unwatch", args.Count == 0 ? "Which pair?" : "One pair at a time.");
        var resolved = await symbols.ResolveAsync(args[0]);
        var symbol = resolved.Symbol?.Symbol;
        return symbol is not null && session.Unwatch(symbol)
            ? new ChatReply($"Stopped watching {Pretty(symbol)}. {session.Watchlist.Count} left.")
            : ChatReply.Error($"You don't watch '{args[0]}'. /watchlist shows what you do.");
    }

    private async Task<ChatReply?> ListAsync(UserSession session)
    {
        var text = new StringBuilder();
        var timeframe = session.Settings.DefaultTimeframe;
        if (session.Watchlist.Count == 0)
            text.Append("You watch nothing yet. Add pairs with /watch BTC ETH SOL\n");
        else
        {
            text.Append(CultureInfo.InvariantCulture, $"👀 Your watchlist ({session.Watchlist.Count}), {timeframe} candles:\n");
            foreach (var line in await digests.LinesAsync(session.Watchlist, timeframe))
                text.Append("• ").Append(line).Append('\n');
        }
        text.Append(Schedule(session.Digest));
        return new ChatReply(text.ToString().TrimEnd(),
            Buttons: session.Watchlist.Select(s => new ReplyButton($"✖ {Pretty(s)}", $"/unwatch {s}")).Take(6).ToList());
    }

    private ChatReply Digest(UserSession session, IReadOnlyList<string> args)
    {
        if (args.Count == 0)
            return new ChatReply(Schedule(session.Digest));
        if (args is [var off] && off.Equals("off", StringComparison.OrdinalIgnoreCase))
        {
            if (session.Digest is null)
                return new ChatReply("You have no digest. Set one with /digest 08:00 Europe/Berlin");
            session.SetDigest(null);
            return new ChatReply("🔕 Digest off. /digest 08:00 Europe/Berlin sets it again.");
        }

        DigestSchedule schedule;
        string? zoneName;
        if (args[0].Equals("every", StringComparison.OrdinalIgnoreCase))
        {
            if (args.Count < 2 || EveryPattern().Match(args[1].ToLowerInvariant()) is not { Success: true } every
                || !int.TryParse(every.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var hours) || !DigestSlots.EveryHours.Contains(hours))
                return Usage("digest", $"Every how many hours? One of {string.Join(", ", DigestSlots.EveryHours.Select(h => h + "h"))}.");
            schedule = new DigestSchedule { EveryHours = hours };
            zoneName = args.Count > 2 ? args[2] : null;
        }
        else if (TimePattern().Match(args[0]) is { Success: true } at && int.Parse(at.Groups[1].Value, CultureInfo.InvariantCulture) is var h and < 24
            && int.Parse(at.Groups[2].Value, CultureInfo.InvariantCulture) is var min and < 60)
        {
            schedule = new DigestSchedule { DailyAtMinute = h * 60 + min };
            zoneName = args.Count > 1 ? args[1] : null;
        }
        else
        {
            return Usage("digest", $"'{args[0]}' is not a time like 08:00, 'every 4h' or 'off'.");
        }
        if (args.Count > (schedule.EveryHours is null ? 2 : 3))
            return Usage("digest", "Too many words: a time, then a time zone like Europe/Berlin.");
        var zone = zoneName is null ? DateTimeZone.Utc : DigestSlots.Zone(zoneName);
        if (zone is null)
            return ChatReply.Error($"I don't know the time zone '{zoneName}'. Use an IANA name such as Europe/Berlin, America/New_York, Asia/Tokyo or UTC.");
        schedule.TimeZone = zone.Id;
        session.SetDigest(schedule);
        var text = $"📰 Digest set: {DigestSlots.Describe(schedule)}. {Next(schedule)}";
        if (session.Watchlist.Count == 0)
            text += "\nYour watchlist is empty: /watch BTC ETH SOL adds what it lists.";
        return new ChatReply(text, Buttons: [new("Watchlist", "/watchlist"), new("Digest off", "/digest off")]);
    }

    private string Schedule(DigestSchedule? schedule) => schedule is null
        ? "No digest. /digest 08:00 Europe/Berlin sends one daily (or /digest every 4h)."
        : $"📰 Digest: {DigestSlots.Describe(schedule)}. {Next(schedule)}";

    /// <summary>"Next: Thu 3 Dec 08:00 Europe/Berlin (07:00 UTC)."; the spread across the window is not shown: it is a few minutes.</summary>
    private string Next(DigestSchedule schedule)
    {
        var after = clock.GetUtcNow();
        if (schedule.LastSlot is { } last && last > after)
            after = last;
        var next = DigestSlots.Next(schedule, after);
        var zone = DigestSlots.Zone(schedule.TimeZone) ?? DateTimeZone.Utc;
        var local = Instant.FromDateTimeOffset(next).InZone(zone);
        return $"Next: {local.ToString("ddd d MMM HH:mm", CultureInfo.InvariantCulture)} {zone.Id}" +
            (zone == DateTimeZone.Utc ? "." : $" ({next.UtcDateTime:HH:mm} UTC).");
    }

    [GeneratedRegex(@"^([0-9]{1,2}):([0-9]{2})$")]
    private static partial Regex TimePattern();

    [GeneratedRegex(@"^([0-9]{1,2})h$")]
    private static partial Regex EveryPattern();
}
