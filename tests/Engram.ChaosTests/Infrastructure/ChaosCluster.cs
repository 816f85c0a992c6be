using StackExchange.Redis;

namespace Engram.ChaosTests.Infrastructure;

/// <summary>The silo processes of one cluster on the test's Redis; silos are named a, b, c… in start order.</summary>
public sealed class ChaosCluster(string clusterId, RedisProcess redis, IReadOnlyDictionary<string, string> environment, string workDirectory, string logDirectory)
    : IAsyncDisposable
{
    private readonly List<SiloProcess> silos = [];
    private ConnectionMultiplexer? connection;

    public string ClusterId => clusterId;

    public IReadOnlyList<SiloProcess> Silos { get { lock (silos) return silos.ToArray(); } }

    public IReadOnlyList<SiloProcess> Running => Silos.Where(s => !s.HasExited).ToArray();

    /// <summary>Starts one more silo (fresh ports, its own working directory and log) and waits until it is ready.</summary>
    public async Task<SiloProcess> StartSiloAsync(string name)
    {
        var silo = await SiloProcess.StartAsync(name, Path.Combine(workDirectory, name), Path.Combine(logDirectory, $"silo-{name}.log"),
            environment, TimeSpan.FromSeconds(90));
        lock (silos)
            silos.Add(silo);
        return silo;
    }

    /// <summary>The silo holding the Telegram poller lease (<c>engram:{ServiceId}:telegram:poller</c> = <c>host:pid:guid</c>).</summary>
    public async Task<(SiloProcess Silo, string Holder)?> FindPollerAsync(TimeSpan timeout)
    {
        connection ??= await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions
        {
            EndPoints = { redis.ConnectionString },
            AbortOnConnectFail = false,
        });
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var holder = (string?)await connection.GetDatabase().StringGetAsync($"engram:{clusterId}:telegram:poller");
            var poller = Running.FirstOrDefault(s => holder?.Contains($":{s.Pid}:", StringComparison.Ordinal) == true);
            if (poller is not null)
                return (poller, holder!);
            await Task.Delay(100);
        }
        return null;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var silo in Silos)
            await silo.DisposeAsync();
        if (connection is not null)
            await connection.DisposeAsync();
    }
}
