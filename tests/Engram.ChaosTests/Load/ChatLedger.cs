using System.Text.RegularExpressions;
using Engram.TestServers;

namespace Engram.ChaosTests.Load;

/// <summary>One update a simulated user sent, and the reply matched to it (a user's replies come in the order of their updates).</summary>
public sealed record SentUpdate(int UpdateId, string Text, DateTimeOffset EnqueuedAt)
{
    public Received? Reply { get; set; }
}

/// <summary>A message the bot sent to a user's chat, as the Bot API stand-in received it; <see cref="Via"/> is the silo that sent it.</summary>
public sealed record Received(string Text, DateTimeOffset At, string? Via = null);

/// <summary>A reply and the update it answers (null when the user got more replies than it sent updates).</summary>
public sealed record MatchedReply(SentUpdate? Update, Received Reply);

/// <summary>Everything one user sent and saw.</summary>
public sealed class UserLog(long userId)
{
    public long UserId { get; } = userId;
    public List<SentUpdate> Updates { get; } = [];
    public List<Received> Replies { get; } = [];
    /// <summary>"🔔 BTC/USDT is above …" messages, keyed by nothing: counted per alert id later.</summary>
    public List<Received> Notifications { get; } = [];
    /// <summary>"⏳ I'm busy…" notices sent before an answer: not replies.</summary>
    public List<Received> Interim { get; } = [];
    /// <summary>
    /// A reply sent again by another silo after the silo that first sent it was killed -9: Telegram
    /// accepted the first copy in the instant before the kill, before the silo could record it as
    /// sent, and the Bot API has no idempotency key to tell the replacement. Not a reply to anything.
    /// </summary>
    public List<(Received First, Received Again)> KillRepeats { get; } = [];
    /// <summary>A copy that may be a kill repeat or the answer: another reply arriving says repeat, silence says answer.</summary>
    internal Received? Held;
    internal DateTimeOffset HeldSince;
    internal TaskCompletionSource? Waiter;
    internal int WaitingFor;
}

/// <summary>
/// The users' view of the run: the updates each sent and every message the bot sent back, read
/// from the Bot API stand-in as they arrive. Replies are matched to updates in order per user;
/// alert notifications and "busy" notices are kept apart because they answer no update.
/// </summary>
public sealed partial class ChatLedger : IAsyncDisposable
{
    private readonly BotApiServer telegram;
    private readonly Dictionary<long, UserLog> users = [];
    private readonly CancellationTokenSource stop = new();
    private readonly Task tracking;
    private readonly List<MatchedReply> allReplies = [];
    private int seen;

    private readonly Func<string?, bool> sentByKilledSilo;

    /// <param name="sentByKilledSilo">Whether a message's <see cref="Received.Via"/> is a silo that has been killed -9.</param>
    public ChatLedger(BotApiServer telegram, IEnumerable<long> userIds, Func<string?, bool> sentByKilledSilo)
    {
        this.telegram = telegram;
        this.sentByKilledSilo = sentByKilledSilo;
        foreach (var id in userIds)
            users[id] = new UserLog(id);
        tracking = Task.Run(TrackAsync);
    }

    [GeneratedRegex(@"^🔔 \S+ is (above|below) ")]
    public static partial Regex AlertNotification();

    [GeneratedRegex(@"Alert #(\d+)")]
    public static partial Regex AlertId();

    public IReadOnlyCollection<UserLog> Users => users.Values;

    public UserLog this[long userId] => users[userId];

    /// <summary>Updates enqueued so far, all users.</summary>
    public int SentCount => Volatile.Read(ref sentCount);
    private int sentCount;

    /// <summary>Every reply (not notifications) in arrival order, for recovery times.</summary>
    public IReadOnlyList<MatchedReply> AllReplies { get { lock (allReplies) return allReplies.ToArray(); } }

    /// <summary>Queues a message from the user at the stand-in (as if typed in Telegram).</summary>
    public SentUpdate Send(long userId, string text)
    {
        var log = users[userId];
        lock (log)
        {
            var updateId = telegram.EnqueueMessage(userId, text);
            var update = new SentUpdate(updateId, text, DateTimeOffset.UtcNow);
            log.Updates.Add(update);
            Interlocked.Increment(ref sentCount);
            return update;
        }
    }

    /// <summary>Waits until the user has at least <paramref name="count"/> replies.</summary>
    public async Task<bool> WaitForRepliesAsync(long userId, int count, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var log = users[userId];
        Task wait;
        lock (log)
        {
            if (log.Replies.Count >= count)
                return true;
            log.Waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            log.WaitingFor = count;
            wait = log.Waiter.Task;
        }
        try
        {
            await wait.WaitAsync(timeout, cancellationToken);
            return true;
        }
        catch (TimeoutException)
        {
            lock (log)
                return log.Replies.Count >= count;
        }
    }

    private async Task TrackAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            Drain();
            try { await Task.Delay(20, stop.Token); } catch (OperationCanceledException) { }
        }
        Drain();
    }

    /// <summary>Reads messages the stand-in received since the last call (its list only grows).</summary>
    public void Drain()
    {
        // The tracking loop and the test both drain; one at a time.
        lock (drainGate)
            DrainLocked();
    }

    private readonly object drainGate = new();

    private void DrainLocked()
    {
        var sent = telegram.SentMessages;
        for (; seen < sent.Count; seen++)
        {
            var message = sent[seen];
            if (!users.TryGetValue(message.ChatId, out var log))
                continue;
            var received = new Received(message.PlainText, message.ReceivedAt, message.Via);
            lock (log)
            {
                if (AlertNotification().IsMatch(received.Text))
                {
                    log.Notifications.Add(received);
                    continue;
                }
                if (received.Text.StartsWith("⏳ ", StringComparison.Ordinal))
                {
                    log.Interim.Add(received);
                    continue;
                }
                if (log.Held is { } held)
                {
                    // While a copy is held the user is still waiting (it counts replies it was given),
                    // so one update is outstanding and this reply answers it: the held copy was the repeat.
                    log.Held = null;
                    log.KillRepeats.Add((log.Replies[^1], held));
                    Accept(log, received);
                    continue;
                }
                switch (KillRepeat(log, received))
                {
                    case Repeat.Certain:
                        log.KillRepeats.Add((log.Replies[^1], received));
                        continue;
                    case Repeat.Ambiguous:
                        log.Held = received;
                        log.HeldSince = DateTimeOffset.UtcNow;
                        continue;
                }
                Accept(log, received);
            }
        }
        // A held copy with nothing identical after it was the answer after all.
        foreach (var log in users.Values)
        {
            lock (log)
            {
                if (log.Held is { } held && DateTimeOffset.UtcNow - log.HeldSince > HoldAmbiguous)
                {
                    log.Held = null;
                    Accept(log, held);
                }
            }
        }
    }

    /// <summary>How long to wait for a second identical reply before taking an ambiguous one as the answer.</summary>
    private static readonly TimeSpan HoldAmbiguous = TimeSpan.FromSeconds(10);

    private void Accept(UserLog log, Received received)
    {
        var update = log.Replies.Count < log.Updates.Count ? log.Updates[log.Replies.Count] : null;
        update?.Reply = received;
        log.Replies.Add(received);
        lock (allReplies)
            allReplies.Add(new MatchedReply(update, received));
        if (log.Waiter is { } waiter && log.Replies.Count >= log.WaitingFor)
        {
            log.Waiter = null;
            waiter.TrySetResult();
        }
    }

    private enum Repeat { No, Certain, Ambiguous }

    /// <summary>
    /// The latest reply again, from another silo, after the silo that sent it was killed. Ambiguous
    /// when the update now waiting asked the same as the one that reply answered (/portfolio twice):
    /// then the same text may be the answer; whether another reply follows tells.
    /// </summary>
    private Repeat KillRepeat(UserLog log, Received received)
    {
        if (log.Replies.Count == 0 || log.Replies[^1] is not { } last || last.Text != received.Text || last.Via == received.Via || !sentByKilledSilo(last.Via))
            return Repeat.No;
        var answered = log.Replies.Count - 1;
        var waiting = log.Replies.Count;
        if (answered >= log.Updates.Count || waiting >= log.Updates.Count)
            return Repeat.Certain;
        return log.Updates[waiting].Text == log.Updates[answered].Text ? Repeat.Ambiguous : Repeat.Certain;
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        await tracking;
        stop.Dispose();
    }
}
