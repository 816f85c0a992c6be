using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Engram.ChaosTests.Infrastructure;
using Engram.TestServers;

namespace Engram.ChaosTests.Load;

/// <summary>A fault the driver injected (or a scripted price move), and when.</summary>
public sealed record FaultRecord(string Name, DateTimeOffset At, string Detail, bool MeasureRecovery = true);

/// <summary>
/// The verdict from the users' view: every update answered exactly once, every crossed alert
/// notified exactly once, every position and alert as the bot confirmed them; with latency and
/// recovery figures. <see cref="Failures"/> empty = pass.
/// </summary>
public sealed partial class ChaosReport
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public List<string> Failures { get; } = [];
    public string Summary { get; private set; } = "";
    public string Problems { get; private set; } = "";

    public static ChaosReport Build(ChaosScenario scenario, ChatLedger ledger, IReadOnlyList<SimulatedUser> users, IReadOnlyList<FaultRecord> faults,
        BotApiServer telegram, ChaosCluster cluster, DateTimeOffset loadStarted, DateTimeOffset loadEnded, TimeSpan runTime)
    {
        var report = new ChaosReport();
        var failures = report.Failures;
        var problems = new StringBuilder();
        var logs = ledger.Users.OrderBy(l => l.UserId).ToList();
        var updates = logs.SelectMany(l => l.Updates).ToList();

        // ------------------------------------------------ updates and replies
        var sent = updates.Count;
        var answered = updates.Count(u => u.Reply is not null);
        var lost = sent - answered;
        var duplicates = logs.Sum(l => Math.Max(0, l.Replies.Count - l.Updates.Count));
        var handedOut = updates.Count(u => telegram.DeliveryCount(u.UpdateId) > 0);
        var redelivered = updates.Count(u => telegram.DeliveryCount(u.UpdateId) > 1);
        var pending = telegram.PendingUpdateIds.Count;
        var interim = logs.Sum(l => l.Interim.Count);
        var latencies = updates.Where(u => u.Reply is not null).Select(u => (u.Reply!.At - u.EnqueuedAt).TotalMilliseconds).Order().ToArray();
        if (lost > 0)
            failures.Add($"{lost} update(s) never answered");
        if (duplicates > 0)
            failures.Add($"{duplicates} duplicate repl(ies)");
        // The kill -9 send window: Telegram took the message, the silo died before recording it, the
        // replacement sends it again. Without an idempotency key in the Bot API this cannot be zero;
        // it must stay within the window (at most the one reply per user that was in flight).
        var killRepeats = logs.SelectMany(l => l.KillRepeats.Select(r => (l.UserId, r.First, r.Again))).ToList();
        var repeatedTwice = logs.Where(l => l.KillRepeats.Count > 1).ToList();
        if (repeatedTwice.Count > 0)
            failures.Add($"{repeatedTwice.Count} user(s) got more than one reply repeated after the kill, e.g. user {repeatedTwice[0].UserId}");
        if (pending > 0)
            failures.Add($"{pending} update(s) still unconfirmed at the Bot API stand-in");
        if (handedOut != sent)
            failures.Add($"the stand-in handed out {handedOut} of {sent} updates");

        // ------------------------------------------------ alert notifications
        // What the bot confirmed to each user, read from the distinct replies (a duplicate confirms nothing new).
        var confirmed = logs.ToDictionary(l => l.UserId, Confirmed);
        var expectedAlerts = confirmed.SelectMany(c => c.Value.Alerts.Where(a => a.Value.Crosses).Select(a => (c.Key, a.Key))).ToHashSet();
        var notified = logs.SelectMany(l => l.Notifications.Select(n => (l.UserId, Id: AlertNumber(n.Text))))
            .GroupBy(n => n).ToDictionary(g => g.Key, g => g.Count());
        var missingNotifications = expectedAlerts.Where(a => !notified.ContainsKey(a)).ToList();
        var duplicateNotifications = notified.Where(n => n.Value > 1).Sum(n => n.Value - 1);
        var unexpectedNotifications = notified.Keys.Where(k => !expectedAlerts.Contains(k)).ToList();
        if (missingNotifications.Count > 0)
            failures.Add($"{missingNotifications.Count} crossed alert(s) never notified, e.g. user {missingNotifications[0].Item1} #{missingNotifications[0].Item2}");
        if (duplicateNotifications > 0)
            failures.Add($"{duplicateNotifications} duplicate alert notification(s)");
        if (unexpectedNotifications.Count > 0)
            failures.Add($"{unexpectedNotifications.Count} notification(s) for alerts that should not fire, e.g. user {unexpectedNotifications[0].UserId} #{unexpectedNotifications[0].Id}");

        // ------------------------------------------------ final state, as the users see it
        int positionsChecked = 0, alertsChecked = 0;
        var stateMismatches = new List<string>();
        foreach (var user in users.Where(u => !u.Stalled))
        {
            var mine = confirmed[user.Id];
            var expectedPositions = mine.Positions.ToDictionary(p => p.Key, p => $"{Number(p.Value.Amount)} @ avg {Money(p.Value.AverageCost)}");
            var actualPositions = PositionLine().Matches(user.FinalPortfolio ?? "").ToDictionary(m => m.Groups["pair"].Value, m => $"{m.Groups["amount"].Value} @ avg {m.Groups["avg"].Value}");
            positionsChecked += expectedPositions.Count;
            if (!expectedPositions.OrderBy(p => p.Key).SequenceEqual(actualPositions.OrderBy(p => p.Key)))
                stateMismatches.Add($"user {user.Id} positions: expected [{Join(expectedPositions)}], /portfolio shows [{Join(actualPositions)}]");

            var expectedActive = mine.Alerts.Where(a => !a.Value.Crosses && !a.Value.Deleted).Select(a => a.Key).Order().ToList();
            var actualActive = AlertLine().Matches(user.FinalAlerts ?? "").Select(m => int.Parse(m.Groups[1].Value, Inv)).Order().ToList();
            alertsChecked += mine.Alerts.Count;
            if (!expectedActive.SequenceEqual(actualActive))
                stateMismatches.Add($"user {user.Id} active alerts: expected [{string.Join(", ", expectedActive)}], /alerts shows [{string.Join(", ", actualActive)}]");
        }
        if (stateMismatches.Count > 0)
            failures.Add($"{stateMismatches.Count} account(s) differ from what the bot confirmed, e.g. {stateMismatches[0]}");
        var stalled = users.Where(u => u.Stalled).ToList();
        if (stalled.Count > 0)
            failures.Add($"{stalled.Count} user(s) stalled, e.g. user {stalled[0].Id}: {stalled[0].StallReason}");
        var crashed = cluster.Silos.Where(s => s.HasExited && !s.WasKilled).ToList();
        if (crashed.Count > 0)
            failures.Add($"silo(s) {string.Join(", ", crashed.Select(s => $"{s.Name} (exit {s.ExitCode})"))} exited on their own");

        // ------------------------------------------------ the table
        var replies = ledger.AllReplies;
        var loadSeconds = (loadEnded - loadStarted).TotalSeconds;
        var text = new StringBuilder();
        text.AppendLine(Inv, $"Engram chaos/load run: {scenario.Users} users x {scenario.UpdatesPerUser} messages, 3 silos + 1 restarted, seed {scenario.Seed}");
        text.AppendLine("-------------------------------------------------------------------------------");
        Row(text, "updates sent", sent.ToString(Inv));
        Row(text, "updates handed out by the Bot API stand-in", $"{handedOut} ({redelivered} more than once: redelivered, recognised by update id)");
        Row(text, "answered (reply matched in order)", answered.ToString(Inv));
        Row(text, "duplicate replies", duplicates.ToString(Inv));
        Row(text, "replies repeated after kill -9 (see below)", $"{killRepeats.Count} ({logs.Count(l => l.KillRepeats.Count > 0)} users)");
        Row(text, "lost (never answered)", lost.ToString(Inv));
        Row(text, "unconfirmed at the stand-in at the end", pending.ToString(Inv));
        Row(text, "'busy' interim notices (not replies)", interim.ToString(Inv));
        Row(text, "requests refused by the bot (error replies)", users.Sum(u => u.Refused).ToString(Inv));
        Row(text, "latency enqueue -> reply p50", Ms(Percentile(latencies, 0.50)));
        Row(text, "latency enqueue -> reply p99", Ms(Percentile(latencies, 0.99)));
        Row(text, "latency enqueue -> reply max", Ms(latencies.LastOrDefault()));
        Row(text, "throughput (load phase)", $"{sent / Math.Max(1, loadSeconds):0.0} updates/s over {loadSeconds:0.0} s");
        Row(text, "crossed alerts expected / notified", $"{expectedAlerts.Count} / {expectedAlerts.Count - missingNotifications.Count}");
        Row(text, "duplicate / missing / unexpected notifications", $"{duplicateNotifications} / {missingNotifications.Count} / {unexpectedNotifications.Count}");
        Row(text, "positions checked / accounts differing", $"{positionsChecked} / {stateMismatches.Count}");
        Row(text, "alerts checked", alertsChecked.ToString(Inv));
        Row(text, "stalled users", stalled.Count.ToString(Inv));
        // Tight failure detection must not declare a slow but live silo dead: each one would be a failover nobody caused.
        var falseDeaths = cluster.Silos.Where(s => !s.WasKilled && File.Exists(s.LogFile)
            && File.ReadLines(s.LogFile).Any(l => l.Contains("I have been told I am dead", StringComparison.Ordinal) || l.Contains("Silo stopping at once", StringComparison.Ordinal))).ToList();
        Row(text, "silos declared dead that were not killed", falseDeaths.Count.ToString(Inv) + (scenario.BusyCores > 0 ? $" (with {scenario.BusyCores} core(s) kept busy)" : ""));
        if (falseDeaths.Count > 0)
            failures.Add($"{falseDeaths.Count} silo(s) declared dead while alive: {string.Join(", ", falseDeaths.Select(s => s.Name))}");
        text.AppendLine();
        text.AppendLine("fault (at % of planned updates)              t+ (s)   first reply to a   last in-flight");
        text.AppendLine("                                                     new update after   update answered");
        foreach (var fault in faults)
        {
            var at = (fault.At - loadStarted).TotalSeconds;
            string first = "", drained = "";
            if (fault.MeasureRecovery)
            {
                var firstReply = replies.Where(r => r.Update is { } u && u.EnqueuedAt > fault.At).Select(r => r.Reply.At).DefaultIfEmpty().Min();
                var lastInFlight = replies.Where(r => r.Update is { } u && u.EnqueuedAt <= fault.At && r.Reply.At > fault.At).Select(r => r.Reply.At).DefaultIfEmpty().Max();
                first = firstReply == default ? "none" : Seconds(firstReply - fault.At);
                drained = lastInFlight == default ? "none" : Seconds(lastInFlight - fault.At);
            }
            text.AppendLine(Inv, $"{fault.Name,-44} {at,6:0.0}   {first,-16}   {drained}");
            if (fault.Detail.Length > 0)
                text.AppendLine(Inv, $"    {fault.Detail}");
        }
        var repeats = Repeats(logs, faults, loadStarted);
        if (repeats.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("duplicated replies (same text again, where the next update expected another answer):");
            foreach (var line in repeats.Take(10))
                text.AppendLine("    " + line);
        }
        if (killRepeats.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("replies repeated after kill -9 (first copy accepted by Telegram from the killed silo before it could record the send):");
            foreach (var (userId, first, again) in killRepeats.Take(5))
                text.AppendLine(Inv, $"    user {userId}: '{Short(first.Text)[..Math.Min(50, Short(first.Text).Length)]}' at {(first.At - loadStarted).TotalSeconds:0.000} s by silo {ChaosCluster.SiloNamed(first.Via)}, again at {(again.At - loadStarted).TotalSeconds:0.000} s by silo {ChaosCluster.SiloNamed(again.Via)}");
        }
        text.AppendLine();
        Row(text, "total run time (incl. start-up)", $"{runTime.TotalSeconds:0.0} s");
        text.AppendLine(failures.Count == 0 ? "RESULT: PASS" : "RESULT: FAIL");
        foreach (var failure in failures)
            text.AppendLine("  - " + failure);
        report.Summary = text.ToString();

        // ------------------------------------------------ transcripts of the users with a problem
        var troubled = logs.Where(l => l.Replies.Count != l.Updates.Count || l.Updates.Any(u => u.Reply is null)).Select(l => l.UserId)
            .Concat(missingNotifications.Select(m => m.Item1)).Concat(unexpectedNotifications.Select(u => u.UserId))
            .Concat(notified.Where(n => n.Value > 1).Select(n => n.Key.UserId)).Concat(stalled.Select(s => s.Id))
            .Concat(stateMismatches.Select(m => long.Parse(m.Split(' ')[1], Inv))).Distinct().Take(20);
        foreach (var userId in troubled)
            Transcript(problems, ledger[userId], telegram, loadStarted);
        foreach (var mismatch in stateMismatches)
            problems.AppendLine(mismatch);
        report.Problems = problems.ToString();
        return report;
    }

    /// <summary>
    /// Where a user got more replies than updates: a reply whose text repeats the previous reply while
    /// the update it is matched with asked something else. Timed against the nearest earlier fault.
    /// </summary>
    private static List<string> Repeats(IEnumerable<UserLog> logs, IReadOnlyList<FaultRecord> faults, DateTimeOffset start)
    {
        var found = new List<string>();
        foreach (var log in logs.Where(l => l.Replies.Count > l.Updates.Count))
        {
            var shift = 0; // replies after a duplicate answer the update one earlier
            for (var j = 1; j < log.Replies.Count; j++)
            {
                var k = j - shift;
                var asked = k < log.Updates.Count ? log.Updates[k].Text : null;
                if (log.Replies[j].Text != log.Replies[j - 1].Text || (asked is not null && k > 0 && asked == log.Updates[k - 1].Text))
                    continue;
                shift++;
                var first = log.Replies[j - 1].At;
                var fault = faults.Where(f => f.MeasureRecovery && f.At <= log.Replies[j].At).MaxBy(f => f.At);
                var delta = fault is null ? 0 : (first - fault.At).TotalMilliseconds;
                var timing = fault is null ? "" : $"; first copy {Math.Abs(delta):0} ms {(delta >= 0 ? "after" : "before")} '{fault.Name}'";
                found.Add($"user {log.UserId}: '{Short(log.Replies[j].Text)[..Math.Min(60, Short(log.Replies[j].Text).Length)]}' at {(first - start).TotalSeconds:0.000} s by silo {ChaosCluster.SiloNamed(log.Replies[j - 1].Via)} and again at {(log.Replies[j].At - start).TotalSeconds:0.000} s by silo {ChaosCluster.SiloNamed(log.Replies[j].Via)}{timing}");
            }
        }
        return found;
    }

    private sealed record ConfirmedAlert(bool Crosses)
    {
        public bool Deleted { get; set; }
    }

    private sealed record ConfirmedState(Dictionary<string, (decimal Amount, decimal AverageCost)> Positions, Dictionary<int, ConfirmedAlert> Alerts);

    /// <summary>
    /// The account as the bot described it to the user: every distinct "✅ Bought/Sold", "Alert #N set" and
    /// "Deleted alert #N" reply, in arrival order, folded with Engram's average-cost rule. Alerts on the
    /// symbol the driver moves are expected to cross; the others to stay active.
    /// </summary>
    private static ConfirmedState Confirmed(UserLog log)
    {
        var state = new ConfirmedState(new(StringComparer.Ordinal), []);
        foreach (var text in log.Replies.Select(r => r.Text).Distinct())
        {
            if (Bought().Match(text) is { Success: true } buy)
            {
                var (pair, amount, price) = (buy.Groups["pair"].Value, Parse(buy.Groups["amount"].Value), Parse(buy.Groups["price"].Value));
                var (held, average) = state.Positions.GetValueOrDefault(pair);
                state.Positions[pair] = (held + amount, (held * average + amount * price) / (held + amount));
            }
            else if (Sold().Match(text) is { Success: true } sell)
            {
                var (pair, amount) = (sell.Groups["pair"].Value, Parse(sell.Groups["amount"].Value));
                var (held, average) = state.Positions.GetValueOrDefault(pair);
                if (held - amount == 0)
                    state.Positions.Remove(pair);
                else
                    state.Positions[pair] = (held - amount, average);
            }
            else if (AlertSet().Match(text) is { Success: true } set)
            {
                state.Alerts[int.Parse(set.Groups["id"].Value, Inv)] = new ConfirmedAlert(set.Groups["pair"].Value == ChaosScenario.AlertSymbol + "/USDT");
            }
            else if (AlertDeleted().Match(text) is { Success: true } deleted && state.Alerts.TryGetValue(int.Parse(deleted.Groups["id"].Value, Inv), out var alert))
            {
                alert.Deleted = true;
            }
        }
        return state;

        static decimal Parse(string text) => decimal.Parse(text.Replace(",", "", StringComparison.Ordinal), NumberStyles.Number, Inv);
    }

    [GeneratedRegex(@"^✅ Bought (?<amount>[0-9,.]+) (?<pair>[A-Z0-9]+/USDT) at (?<price>[0-9,.]+)\. ")]
    private static partial Regex Bought();

    [GeneratedRegex(@"^✅ Sold (?<amount>[0-9,.]+) (?<pair>[A-Z0-9]+/USDT) at ")]
    private static partial Regex Sold();

    [GeneratedRegex(@"^🔔 Alert #(?<id>\d+) set: (?<pair>\S+) ")]
    private static partial Regex AlertSet();

    [GeneratedRegex(@"^🗑 Deleted alert #(?<id>\d+)")]
    private static partial Regex AlertDeleted();

    private static void Transcript(StringBuilder text, UserLog log, BotApiServer telegram, DateTimeOffset start)
    {
        text.AppendLine(Inv, $"== user {log.UserId}: {log.Updates.Count} updates, {log.Replies.Count} replies, {log.Notifications.Count} notifications");
        var events = log.Updates.Select(u => (u.EnqueuedAt, $"-> #{u.UpdateId} (handed out {telegram.DeliveryCount(u.UpdateId)}x) {u.Text}"))
            .Concat(log.Replies.Select(r => (r.At, $"<- {Short(r.Text)}")))
            .Concat(log.Notifications.Select(n => (n.At, $"<- NOTIFY {Short(n.Text)}")))
            .Concat(log.Interim.Select(n => (n.At, $"<- INTERIM {Short(n.Text)}")))
            .OrderBy(e => e.Item1);
        foreach (var (at, line) in events)
            text.AppendLine(Inv, $"  {(at - start).TotalSeconds,7:0.000}  {line}");
    }

    private static string Short(string text) => (text.Length > 110 ? text[..110] + "…" : text).ReplaceLineEndings(" | ");

    private static int AlertNumber(string notification) =>
        ChatLedger.AlertId().Match(notification) is { Success: true } m ? int.Parse(m.Groups[1].Value, Inv) : -1;

    private static string Join(Dictionary<string, string> values) => string.Join("; ", values.OrderBy(v => v.Key).Select(v => $"{v.Key} {v.Value}"));

    private static void Row(StringBuilder text, string name, string value) => text.AppendLine(Inv, $"{name,-44} {value}");

    private static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];

    private static string Ms(double ms) => ms >= 1000 ? $"{ms / 1000:0.00} s" : $"{ms:0} ms";

    private static string Seconds(TimeSpan span) => $"{span.TotalSeconds:0.0} s";

    // Engram's own formats (UserAccount.Format and ConversationService.Money).
    private static string Number(decimal v) => v.ToString("#,0.########", Inv);

    private static string Money(decimal v) => v >= 1000 ? v.ToString("#,0.00", Inv) : v >= 1 ? v.ToString("#,0.####", Inv) : v.ToString("0.########", Inv);

    [GeneratedRegex(@"^(?<pair>[A-Z0-9]+/USDT): (?<amount>[0-9,.]+) @ avg (?<avg>[0-9,.]+)", RegexOptions.Multiline)]
    private static partial Regex PositionLine();

    [GeneratedRegex(@"^#(\d+) ", RegexOptions.Multiline)]
    private static partial Regex AlertLine();
}
