using Engram.Grains.Operations;
using Engram.Telegram;
using StackExchange.Redis;

namespace Engram.Silo.Operations;

/// <summary>Redis health and the Telegram poller owner, for /status in the chat.</summary>
public sealed class SiloOperationalStatus(IConnectionMultiplexer redis, IServiceProvider services) : IOperationalStatus
{
    public async Task<IReadOnlyList<string>> DescribeAsync()
    {
        var lines = new List<string>();
        try
        {
            var ping = await redis.GetDatabase().PingAsync().WaitAsync(TimeSpan.FromSeconds(2));
            lines.Add($"🗄 Redis: reachable ({ping.TotalMilliseconds:0.0} ms)");
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            lines.Add("🗄 Redis: NOT reachable");
        }
        if (services.GetService<PollerLease>() is { } lease)
        {
            var holder = await lease.CurrentHolderAsync();
            // host:pid only; the lease's random part is of no use to a reader.
            lines.Add("📡 Telegram poller: " + (holder is null ? "none (taking over)" : string.Join(':', holder.Split(':').Take(2))));
        }
        return lines;
    }
}
