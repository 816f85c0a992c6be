using System.Globalization;

namespace Engram.ChaosTests.Load;

/// <summary>
/// The run's shape: how many users and steps, where in the run each fault lands (as a fraction
/// of the updates planned), and the price path that crosses the users' alerts. Sizes come from
/// the environment so CI and a developer can run the same test bigger or smaller.
/// </summary>
public sealed record ChaosScenario
{
    /// <summary>The pair whose price the driver moves across the users' alerts.</summary>
    public const string AlertSymbol = "SOL";
    public const string AlertSymbolPair = "SOLUSDT";

    /// <summary><c>ENGRAM_CHAOS_USERS</c>: simulated Telegram users.</summary>
    public int Users { get; init; } = 200;

    /// <summary><c>ENGRAM_CHAOS_STEPS</c>: random messages per user after the opening (4) and before the final check (2).</summary>
    public int Steps { get; init; } = 28;

    /// <summary><c>ENGRAM_CHAOS_SEED</c>: the users' random choices.</summary>
    public int Seed { get; init; } = 7;

    /// <summary>
    /// <c>ENGRAM_CHAOS_BUSY_CORES</c>: threads the test keeps spinning during the load and the faults, a loaded
    /// machine on which tight failure detection could declare a slow but live silo dead. 0 (the default) spins none.
    /// </summary>
    public int BusyCores { get; init; }

    /// <summary>Messages per user: opening, steps, final /portfolio and /alerts.</summary>
    public int UpdatesPerUser => 4 + Steps + 2;

    public int PlannedUpdates => Users * UpdatesPerUser;

    public decimal StartPrice { get; init; } = 30m;
    public decimal UpThreshold { get; init; } = 35m;
    public decimal UpPrice { get; init; } = 40m;
    public decimal DownThreshold { get; init; } = 25m;
    public decimal DownPrice { get; init; } = 20m;

    public double KillAt { get; init; } = 0.25;
    public double RestartAt { get; init; } = 0.40;
    public double PriceUpAt { get; init; } = 0.45;
    public double PriceDownAt { get; init; } = 0.60;
    public double RedisRestartAt { get; init; } = 0.65;
    public TimeSpan RedisDowntime { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// A user gives up on a reply after this long. A failover takes the directory lease (12 s) plus
    /// Telegram's redelivery of what the dead silo had not confirmed; the margin keeps a slow CI machine from tripping it.
    /// </summary>
    public TimeSpan ReplyTimeout { get; init; } = TimeSpan.FromSeconds(100);

    public int MaxThinkMs { get; init; } = 300;

    /// <summary>How long the whole load phase may take before the run is cut short (and fails).</summary>
    public TimeSpan LoadDeadline { get; init; } = TimeSpan.FromMinutes(4);

    public static ChaosScenario FromEnvironment() => new()
    {
        Users = Int("ENGRAM_CHAOS_USERS", 200),
        Steps = Int("ENGRAM_CHAOS_STEPS", 28),
        Seed = Int("ENGRAM_CHAOS_SEED", 7),
        BusyCores = Int("ENGRAM_CHAOS_BUSY_CORES", 0),
    };

    private static int Int(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0 ? value : fallback;
}
