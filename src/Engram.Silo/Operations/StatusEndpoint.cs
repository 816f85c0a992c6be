using Engram.Abstractions.Conversation;
using Engram.Agent;
using Engram.Silo.Configuration;
using Engram.Silo.Hosting;
using Engram.Telegram;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Engram.Silo.Operations;

public static class StatusEndpoint
{
    /// <summary>
    /// GET /status for operators: the cluster's silos, LLM and Redis health, who polls Telegram, and
    /// this silo's LLM queue. Never shows a token or key (the LLM endpoint is shown without credentials).
    /// </summary>
    public static WebApplication MapEngramStatus(this WebApplication app)
    {
        var port = app.Listeners().EffectiveOperatorPort;
        app.MapGet("/status", async (IGrainFactory grains, IClusterMembershipService membership, ILocalSiloDetails local,
            IConnectionMultiplexer redis, Engram.Silo.Storage.RedisEndpoint endpoint, LlmGate gate, IServiceProvider services) =>
        {
            var llm = await grains.GetGrain<ILlmWorkerGrain>(0).CheckHealthAsync();
            double? redisMs = null;
            string? redisError = null;
            try
            {
                redisMs = (await redis.GetDatabase().PingAsync().WaitAsync(TimeSpan.FromSeconds(2))).TotalMilliseconds;
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                redisError = ex is RedisConnectionException connection
                    ? $"not reachable at {endpoint.Describe()} ({connection.FailureType}): is it running? ENGRAM_REDIS (Redis:ConnectionString) says where it is"
                    : $"no answer from {endpoint.Describe()} within 2 s";
            }
            var lease = services.GetService<PollerLease>();
            var telegram = services.GetRequiredService<IOptions<TelegramOptions>>().Value;
            return Results.Ok(new
            {
                silo = local.SiloAddress.ToString(),
                silos = membership.CurrentSnapshot.Members.Values
                    .Where(m => m.Status is SiloStatus.Active or SiloStatus.Joining or SiloStatus.ShuttingDown)
                    .Select(m => new { address = m.SiloAddress.ToString(), status = m.Status.ToString(), name = m.Name }),
                llm = new { reachable = llm.Reachable, model = llm.Model, endpoint = llm.Endpoint, latencyMs = llm.LatencyMs, error = llm.Error, checkedAt = llm.CheckedAt },
                redis = new { reachable = redisError is null, endpoint = endpoint.Describe(), latencyMs = redisMs, error = redisError },
                telegram = new
                {
                    enabled = telegram.Enabled,
                    mode = telegram.Enabled ? telegram.Mode.ToString() : null,
                    poller = lease is null ? null : await lease.CurrentHolderAsync(),
                },
                queues = new { llmInFlight = gate.InFlight, llmQueued = gate.Queued, llmCapacity = gate.Capacity },
            });
        }).ServedOn(port);
        return app;
    }
}
