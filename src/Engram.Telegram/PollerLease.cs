using Microsoft.Extensions.Options;
using Orleans.Configuration;
using StackExchange.Redis;

namespace Engram.Telegram;

/// <summary>
/// Cluster-wide "who polls Telegram" lease in Redis: SET NX with a TTL, renewed by its holder and
/// released on a clean stop. A silo that dies stops renewing, and another takes over after the TTL.
/// </summary>
public sealed class PollerLease(IConnectionMultiplexer redis, IOptions<ClusterOptions> cluster, IOptions<TelegramOptions> options)
{
    private const string RenewScript = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";
    private const string ReleaseScript = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

    private readonly RedisKey key = $"engram:{cluster.Value.ServiceId}:telegram:poller";

    /// <summary>Identifies this process as holder (a restarted silo is a new holder).</summary>
    public string HolderId { get; } = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";

    public TimeSpan Ttl => options.Value.PollerLeaseTtl;

    /// <summary>True when this process holds the lease afterwards (newly acquired or renewed).</summary>
    public async Task<bool> TryAcquireOrRenewAsync()
    {
        var db = redis.GetDatabase();
        var renewed = (long)await db.ScriptEvaluateAsync(RenewScript, [key], [HolderId, (long)Ttl.TotalMilliseconds]);
        return renewed == 1 || await db.StringSetAsync(key, HolderId, Ttl, When.NotExists);
    }

    public async Task ReleaseAsync() =>
        await redis.GetDatabase().ScriptEvaluateAsync(ReleaseScript, [key], [HolderId]);

    /// <summary>Who polls now, for /status.</summary>
    public async Task<string?> CurrentHolderAsync() => await redis.GetDatabase().StringGetAsync(key);
}
