namespace Engram.Charts;

/// <summary>
/// A small thread-safe least-recently-used map. One lock guards a dictionary and a recency list; the values
/// are rendered outside the lock by the caller, so the lock is only held for a few pointer moves.
/// </summary>
internal sealed class LruCache<TKey, TValue>
    where TKey : notnull
{
    private readonly int _capacity;
    private readonly Dictionary<TKey, LinkedListNode<(TKey Key, TValue Value)>> _map;
    private readonly LinkedList<(TKey Key, TValue Value)> _recency = new();
    private readonly Lock _lock = new();

    public LruCache(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        _capacity = capacity;
        _map = new Dictionary<TKey, LinkedListNode<(TKey, TValue)>>(capacity);
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _map.Count;
            }
        }
    }

    public bool TryGet(TKey key, out TValue value)
    {
        lock (_lock)
        {
            if (_map.TryGetValue(key, out var node))
            {
                _recency.Remove(node);
                _recency.AddFirst(node);
                value = node.Value.Value;
                return true;
            }
        }

        value = default!;
        return false;
    }

    /// <summary>
    /// Adds <paramref name="value"/> unless another caller stored one for <paramref name="key"/> first, in which
    /// case that one is kept and returned: callers racing on the same key all end up with the same instance.
    /// </summary>
    public TValue GetOrAdd(TKey key, TValue value)
    {
        lock (_lock)
        {
            if (_map.TryGetValue(key, out var existing))
            {
                _recency.Remove(existing);
                _recency.AddFirst(existing);
                return existing.Value.Value;
            }

            var node = _recency.AddFirst((key, value));
            _map[key] = node;
            if (_map.Count > _capacity)
            {
                var oldest = _recency.Last!;
                _recency.RemoveLast();
                _map.Remove(oldest.Value.Key);
            }

            return value;
        }
    }
}
