using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Engram.Telegram;

/// <summary>
/// Bounds the updates this silo works on: at most <c>telegram:MaxUpdatesInFlight</c> at once, and
/// one per user at a time (a user's updates run one after another on his grain anyway, so his
/// extra ones wait here without taking room from others). Past that an update waits for room,
/// up to a hold; what finds no room in time is refused, so the silo never takes on work it cannot finish.
/// Overload is logged as one line per interval, never a line per update.
/// </summary>
public sealed partial class IngressGate : IDisposable
{
    private static readonly TimeSpan ReportEvery = TimeSpan.FromSeconds(10);

    private readonly ConcurrencyLimiter silo;
    private readonly PartitionedRateLimiter<long> perUser;
    private readonly ConcurrentDictionary<long, long> enteredAt = new();
    private readonly ILogger<IngressGate> logger;
    private readonly Timer report;
    private long nextTicket;
    private long waited, refused, failed, longestWaitMs;
    private string? lastFailure;

    public IngressGate(IOptions<TelegramOptions> options, IMeterFactory meters, ILogger<IngressGate> logger)
    {
        var o = options.Value;
        this.logger = logger;
        silo = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = o.MaxUpdatesInFlight, QueueLimit = o.MaxUpdatesWaiting, QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
        perUser = PartitionedRateLimiter.Create<long, long>(user => RateLimitPartition.GetConcurrencyLimiter(user, _ => new ConcurrencyLimiterOptions
        {
            PermitLimit = 1, QueueLimit = 1_000, QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        }));
        var meter = meters.Create(TelegramMetrics.MeterName);
        meter.CreateObservableGauge("engram.ingress.backlog", () => enteredAt.Count, description: "Updates on this silo not yet handled (in flight and waiting)");
        meter.CreateObservableGauge("engram.ingress.oldest_pending_seconds", OldestPendingSeconds, unit: "s", description: "Age of the oldest update on this silo not yet handled");
        refusedCounter = meter.CreateCounter<long>("engram.ingress.refused", description: "Webhook requests answered 503 because the silo stayed full for the whole hold");
        report = new Timer(_ => Report(), null, ReportEvery, ReportEvery);
    }

    private readonly Counter<long> refusedCounter;

    /// <summary>Waits up to <paramref name="hold"/> for room; null when there was none (the caller refuses the update).</summary>
    public async Task<IDisposable?> EnterAsync(long userId, TimeSpan hold, CancellationToken cancellationToken)
    {
        var ticket = Interlocked.Increment(ref nextTicket);
        var started = Stopwatch.GetTimestamp();
        enteredAt[ticket] = started;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (hold != Timeout.InfiniteTimeSpan)
            timeout.CancelAfter(hold);
        RateLimitLease? userLease = null, siloLease = null;
        try
        {
            try
            {
                userLease = await perUser.AcquireAsync(userId, 1, timeout.Token);
                if (userLease.IsAcquired)
                    siloLease = await silo.AcquireAsync(1, timeout.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // The hold is over: refused below.
            }
            var waitedMs = (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            if (waitedMs >= 100)
            {
                Interlocked.Increment(ref waited);
                InterlockedMax(ref longestWaitMs, waitedMs);
            }
            if (userLease is { IsAcquired: true } && siloLease is { IsAcquired: true })
                return new Entry(this, ticket, userLease, siloLease);
        }
        catch
        {
            Release();
            throw;
        }
        Release();
        Interlocked.Increment(ref refused);
        refusedCounter.Add(1);
        return null;

        void Release()
        {
            siloLease?.Dispose();
            userLease?.Dispose();
            enteredAt.TryRemove(ticket, out _);
        }
    }

    /// <summary>A webhook update whose grain failed (answered 503, Telegram retries it): counted for the next report line.</summary>
    public void CountFailure(Exception ex)
    {
        Interlocked.Increment(ref failed);
        lastFailure = ex.GetType().Name;
    }

    private double OldestPendingSeconds()
    {
        var oldest = long.MaxValue;
        foreach (var at in enteredAt.Values)
            oldest = Math.Min(oldest, at);
        return oldest == long.MaxValue ? 0 : Stopwatch.GetElapsedTime(oldest).TotalSeconds;
    }

    private void Report()
    {
        var held = Interlocked.Exchange(ref waited, 0);
        var refusedNow = Interlocked.Exchange(ref refused, 0);
        var longest = Interlocked.Exchange(ref longestWaitMs, 0);
        var failedNow = Interlocked.Exchange(ref failed, 0);
        if (held > 0 || refusedNow > 0)
            LogOverloaded(ReportEvery.TotalSeconds, held, longest, refusedNow, enteredAt.Count);
        if (failedNow > 0)
            LogFailures(ReportEvery.TotalSeconds, failedNow, lastFailure ?? "?");
    }

    private static void InterlockedMax(ref long target, long value)
    {
        for (var current = Interlocked.Read(ref target); value > current; current = Interlocked.Read(ref target))
        {
            if (Interlocked.CompareExchange(ref target, value, current) == current)
                return;
        }
    }

    public void Dispose()
    {
        report.Dispose();
        silo.Dispose();
        perUser.Dispose();
    }

    private sealed class Entry(IngressGate gate, long ticket, RateLimitLease user, RateLimitLease silo) : IDisposable
    {
        public void Dispose()
        {
            silo.Dispose();
            user.Dispose();
            gate.enteredAt.TryRemove(ticket, out _);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook in the last {Seconds} s: {Failed} update(s) could not be handled (last: {Error}) and were answered 503; Telegram redelivers them")]
    private partial void LogFailures(double seconds, long failed, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ingress at its limit in the last {Seconds} s: {Held} update(s) waited for room (longest {LongestMs} ms), {Refused} refused; {Backlog} pending now")]
    private partial void LogOverloaded(double seconds, long held, long longestMs, long refused, int backlog);
}
