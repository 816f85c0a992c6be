namespace Engram.TestServers;

/// <summary>
/// A re-armable "something changed" signal. Waiters take <see cref="Task"/> under the owner's lock, re-check their
/// condition after it completes, and so never miss a change that happened between the check and the wait.
/// </summary>
internal sealed class Pulse
{
    private TaskCompletionSource _tcs = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The task that completes on the next <see cref="Fire"/>. Read it under the owner's lock.</summary>
    public Task Task => _tcs.Task;

    /// <summary>Wakes every current waiter. Call under the owner's lock.</summary>
    public void Fire() => Interlocked.Exchange(ref _tcs, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    /// <summary>Waits until <paramref name="condition"/> (evaluated under <paramref name="gate"/>) holds, or the timeout passes.</summary>
    public async Task<bool> WaitUntilAsync(object gate, Func<bool> condition, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        while (true)
        {
            Task changed;
            lock (gate)
            {
                if (condition())
                    return true;
                changed = Task;
            }
            try
            {
                await changed.WaitAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                lock (gate)
                    return condition();
            }
        }
    }
}
