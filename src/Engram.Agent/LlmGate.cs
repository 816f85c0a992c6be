using Microsoft.Extensions.Options;

namespace Engram.Agent;

/// <summary>
/// Bounds the questions one silo sends to the LLM at once (<c>llm:MaxConcurrentRequests</c>);
/// the rest wait in a bounded queue for at most <c>llm:QueueTimeout</c>. A local LLM server
/// answers one or two requests at a time well and many badly, so waiting here is faster overall.
/// </summary>
public sealed class LlmGate(IOptions<LlmOptions> options)
{
    private readonly SemaphoreSlim slots = new(options.Value.MaxConcurrentRequests, options.Value.MaxConcurrentRequests);
    private int waiting;

    public int Capacity { get; } = options.Value.MaxConcurrentRequests;
    public int InFlight => Capacity - slots.CurrentCount;
    public int Queued => Volatile.Read(ref waiting);

    /// <summary>A slot, or null when the queue is full or the wait timed out.</summary>
    public async Task<IDisposable?> EnterAsync(CancellationToken cancellationToken)
    {
        if (slots.Wait(0, CancellationToken.None))
            return new Lease(slots);
        if (Interlocked.Increment(ref waiting) > options.Value.MaxQueuedRequests)
        {
            Interlocked.Decrement(ref waiting);
            return null;
        }
        try
        {
            return await slots.WaitAsync(TimeSpan.FromSeconds(options.Value.QueueTimeout), cancellationToken) ? new Lease(slots) : null;
        }
        finally
        {
            Interlocked.Decrement(ref waiting);
        }
    }

    private sealed class Lease(SemaphoreSlim slots) : IDisposable
    {
        private int released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref released, 1) == 0)
                slots.Release();
        }
    }
}
