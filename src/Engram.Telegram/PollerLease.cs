using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime;
using StackExchange.Redis;

namespace Engram.Telegram;

/// <summary>
/// Cluster-wide "who polls Telegram" lease in Redis: SET NX with a TTL, renewed by its holder and
/// released on a clean stop. A silo that dies is taken over from as soon as the cluster declares it
/// dead (<see cref="TryTakeOverFromAsync"/>), and at the latest after the TTL.
/// </summary>
public sealed class PollerLease(IConnectionMultiplexer redis, IOptions<ClusterOptions> cluster, IOptions<TelegramOptions> options, ILocalSiloDetails silo)
{
    private const string RenewScript = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";
    private const string ReleaseScript = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

    /// <summary>Takes the lease when its holder names the given silo (the suffix after '@'): compare and set in one step.</summary>
    private const string TakeOverScript = "local v = redis.call('get', KEYS[1]) if v and string.sub(v, -string.len(ARGV[1])) == ARGV[1] then redis.call('set', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1 end return 0";

    private readonly RedisKey key = $"engram:{cluster.Value.ServiceId}:telegram:poller";

    /// <summary>Identifies this process as holder (a restarted silo is a new holder), and the silo it runs, so the cluster can tell a dead holder.</summary>
    public string HolderId { get; } = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}@{silo.SiloAddress.ToParsableString()}";

    public TimeSpan Ttl => options.Value.PollerLeaseTtl;

    /// <summary>True when this process holds the lease afterwards (newly acquired or renewed).</summary>
    public async Task<bool> TryAcquireOrRenewAsync()
    {
        var db = redis.GetDatabase();
        var renewed = (long)await db.ScriptEvaluateAsync(RenewScript, [key], [HolderId, (long)Ttl.TotalMilliseconds]);
        return renewed == 1 || await db.StringSetAsync(key, HolderId, Ttl, When.NotExists);
    }

    /// <summary>
    /// When the holder is <paramref name="dead"/> (declared dead by the cluster), this process takes the lease now
    /// instead of waiting out its TTL; true when it did.
    /// </summary>
    public async Task<bool> TryTakeOverFromAsync(SiloAddress dead) =>
        (long)await redis.GetDatabase().ScriptEvaluateAsync(TakeOverScript, [key], ["@" + dead.ToParsableString(), HolderId, (long)Ttl.TotalMilliseconds]) == 1;

    /// <summary>Gives the lease up (a clean stop) and says so, so a standby silo takes it within milliseconds.</summary>
    public async Task ReleaseAsync()
    {
        if ((long)await redis.GetDatabase().ScriptEvaluateAsync(ReleaseScript, [key], [HolderId]) == 1)
            await redis.GetSubscriber().PublishAsync(ReleasedChannel, HolderId);
    }

    /// <summary>Calls <paramref name="released"/> whenever a holder gives the lease up.</summary>
    public Task OnReleasedAsync(Action released) =>
        redis.GetSubscriber().SubscribeAsync(ReleasedChannel, (_, _) => released());

    private RedisChannel ReleasedChannel => RedisChannel.Literal(key.ToString() + ":released");

    /// <summary>Who polls now, for /status.</summary>
    public async Task<string?> CurrentHolderAsync() => await redis.GetDatabase().StringGetAsync(key);
}
