using StackExchange.Redis;

namespace Engram.ChaosTests.Infrastructure;

/// <summary>The silo processes of one cluster on the test's Redis; silos are named a, b, c… in start order.</summary>
public sealed class ChaosCluster(string clusterId, RedisProcess redis, IReadOnlyDictionary<string, string> environment, string workDirectory, string logDirectory,
    Engram.TestServers.BotApiServer? telegram = null)
    : IAsyncDisposable
{
    private readonly List<SiloProcess> silos = [];
    private ConnectionMultiplexer? connection;

    public string ClusterId => clusterId;

    public IReadOnlyList<SiloProcess> Silos { get { lock (silos) return silos.ToArray(); } }

    public IReadOnlyList<SiloProcess> Running => Silos.Where(s => !s.HasExited).ToArray();

    /// <summary>The silo that sent a message, from the loopback address it reached the Bot API stand-in on.</summary>
    public static string? SiloNamed(string? via) =>
        via is { Length: > 0 } && System.Net.IPAddress.TryParse(via, out var address) && address.GetAddressBytes()[3] >= 2
            ? ((char)('a' + address.GetAddressBytes()[3] - 2)).ToString()
            : null;

    /// <summary>Starts one more silo (fresh ports, its own working directory and log) and waits until it is ready.</summary>
    public async Task<SiloProcess> StartSiloAsync(string name)
    {
        // Each silo reaches the Bot API stand-in on its own loopback address (a → 127.0.0.2, b → .3 …),
        // so every message records which silo process sent it.
        var own = new Dictionary<string, string>(environment);
        if (telegram is not null)
            own["TELEGRAM_API_BASE_URL"] = telegram.AliasBaseUrl(name[0] - 'a' + 1);
        var silo = await SiloProcess.StartAsync(name, Path.Combine(workDirectory, name), Path.Combine(logDirectory, $"silo-{name}.log"),
            own, TimeSpan.FromSeconds(90));
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

    /// <summary>
    /// What Redis holds for one user (grain states and reminder rows naming the user's grain id),
    /// for the transcript of a user with a problem: tells a lost poke from a lost write.
    /// </summary>
    public async Task<string> DescribeUserAsync(long userId)
    {
        connection ??= await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions { EndPoints = { redis.ConnectionString }, AbortOnConnectFail = false });
        var hex = userId.ToString("x", System.Globalization.CultureInfo.InvariantCulture);
        var text = new System.Text.StringBuilder();
        var server = connection.GetServer(connection.GetEndPoints()[0]);
        var database = connection.GetDatabase();
        await foreach (var key in server.KeysAsync(pattern: "*", pageSize: 1000))
        {
            var name = key.ToString();
            var type = await database.KeyTypeAsync(key);
            bool Mentions(string? value) => value is not null && (value.Contains(hex, StringComparison.OrdinalIgnoreCase) || value.Contains(userId.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
            switch (type)
            {
                case RedisType.String when Mentions(name):
                    text.AppendLine($"    {name} = {Trim(await database.StringGetAsync(key))}");
                    break;
                case RedisType.Hash:
                    foreach (var entry in await database.HashGetAllAsync(key))
                        if (Mentions(name) || Mentions(entry.Name) || Mentions(entry.Value))
                            text.AppendLine($"    {name} [{entry.Name}] = {Trim(entry.Value)}");
                    break;
                case RedisType.SortedSet:
                    foreach (var entry in await database.SortedSetRangeByRankWithScoresAsync(key))
                        if (Mentions(entry.Element))
                            text.AppendLine($"    {name} ({entry.Score}) {Trim(entry.Element)}");
                    break;
                case RedisType.Set:
                    foreach (var member in await database.SetMembersAsync(key))
                        if (Mentions(member))
                            text.AppendLine($"    {name} {{{Trim(member)}}}");
                    break;
            }
        }
        return text.ToString();

        static string Trim(RedisValue value) => value.ToString() is { Length: > 1500 } long_ ? long_[..1500] + "…" : value.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var silo in Silos)
            await silo.DisposeAsync();
        if (connection is not null)
            await connection.DisposeAsync();
    }
}
