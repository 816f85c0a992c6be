using System.Diagnostics;
using Engram.Abstractions.Alerts;
using Engram.Abstractions.Users;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;

namespace Engram.Grains.Alerts;

/// <summary>
/// Stateless: what it carries is in the watch's firing list until acknowledged, and a lost dispatch is sent again
/// by the watch. Owners are told in parallel (each call stores and sends the owner's message), so a move that fires
/// ten thousand alerts does not reach the last owner ten thousand round trips late.
/// </summary>
[StatelessWorker, Reentrant]
internal sealed partial class AlertDispatchGrain(ILogger<AlertDispatchGrain> logger) : Grain, IAlertDispatchGrain
{
    /// <summary>
    /// Each owner's call sends its message: at Telegram's 30 a second, 64 in flight wait about two seconds for the
    /// limit, inside the owner's 5-s send budget, so the storm flows at the limit instead of timing out into retries.
    /// </summary>
    private const int ConcurrentOwners = 64;

    /// <summary>Shared by every dispatch on this silo: at an hourly close many watches dispatch at once.</summary>
    private static readonly SemaphoreSlim Slots = new(ConcurrentOwners);

    /// <summary>Answers go back in batches of this many, or after a second, so the watch sees progress in a long storm.</summary>
    private const int AcknowledgeEvery = 500;

    private static readonly TimeSpan AcknowledgeAfter = TimeSpan.FromSeconds(1);

    public async Task DispatchAsync(IAlertWatch watch, IReadOnlyList<OwnerAlert> alerts)
    {
        var answers = new List<OwnerAnswer>();
        var failed = 0;
        string? error = null;
        var flushed = Stopwatch.GetTimestamp();
        await Task.WhenAll(alerts.GroupBy(a => a.UserId).Select(async owner =>
        {
            await Slots.WaitAsync();
            try
            {
                var fired = owner.Select(a => a.Fired).ToList();
                var results = await GrainFactory.GetGrain<IUserGrain>(owner.Key).OnAlertsFiredAsync(fired);
                // Turns of this grain run one at a time between awaits: the list needs no lock.
                for (var i = 0; i < fired.Count; i++)
                    answers.Add(new OwnerAnswer(owner.Key, fired[i], results[i]));
                if (answers.Count >= AcknowledgeEvery || Stopwatch.GetElapsedTime(flushed) >= AcknowledgeAfter)
                {
                    var batch = answers;
                    answers = [];
                    flushed = Stopwatch.GetTimestamp();
                    await watch.AcknowledgeAsync(batch);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The owner's silo may be failing over: the crossing stays in the watch's firing list and is sent again.
                failed++;
                error ??= ex.GetType().Name;
            }
            finally
            {
                Slots.Release();
            }
        }));
        if (failed > 0)
            LogNotifyFailed(watch.GetPrimaryKeyString(), failed, error!);
        if (answers.Count > 0)
            await watch.AcknowledgeAsync(answers);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not tell {Count} owner(s) about crossings seen by {Watch} ({Error}); they are sent again")]
    private partial void LogNotifyFailed(string watch, int count, string error);
}
