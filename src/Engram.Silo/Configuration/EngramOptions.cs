using System.ComponentModel.DataAnnotations;
using System.Net;
using Microsoft.Extensions.Configuration;

namespace Engram.Silo.Configuration;

/// <summary>How answers are shaped (section <c>agent</c>).</summary>
public sealed class AgentOptions
{
    public const string SectionName = "agent";

    [ConfigurationKeyName("response_format"), AllowedValues("clean", "detailed", "raw", "Clean", "Detailed", "Raw", "CLEAN", "DETAILED", "RAW",
        ErrorMessage = "agent:response_format (ENGRAM_RESPONSE_FORMAT) must be one of: clean, detailed, raw")]
    public string ResponseFormat { get; set; } = "clean";
}

/// <summary>Where grain state, membership and reminders live (section <c>Redis</c>).</summary>
public sealed class RedisOptions
{
    public const string SectionName = "Redis";

    /// <summary>A StackExchange.Redis connection string (<c>ENGRAM_REDIS</c>). Empty = embedded Garnet.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Loopback port of the embedded Garnet server.</summary>
    [Range(1, 65535)] public int EmbeddedPort { get; set; } = 6390;

    /// <summary>Where the embedded server keeps its checkpoints and append-only file.</summary>
    [Required] public string DataDirectory { get; set; } = "data";

    /// <summary>Memory for the embedded server's main log (Garnet's <c>-m</c>), e.g. 256m.</summary>
    [Required, RegularExpression("^[0-9]+[kmgKMG]?$", ErrorMessage = "Redis:EmbeddedMemory must look like 256m or 1g")]
    public string EmbeddedMemory { get; set; } = "256m";

    /// <summary>
    /// How long a starting silo waits for an external Redis that does not answer yet (compose or systemd start order, a
    /// Redis restart), retrying with a logged backoff, before it gives up with one line.
    /// </summary>
    public TimeSpan StartupWait { get; set; } = TimeSpan.FromSeconds(60);

    public bool UsesEmbeddedServer => string.IsNullOrWhiteSpace(ConnectionString);
}

/// <summary>This silo's place in the cluster (section <c>Cluster</c>).</summary>
public sealed class EngramClusterOptions : IValidatableObject
{
    public const string SectionName = "Cluster";

    [Required] public string ClusterId { get; set; } = "engram";
    [Required] public string ServiceId { get; set; } = "engram";
    [Range(1, 65535)] public int SiloPort { get; set; } = 11111;
    [Range(1, 65535)] public int GatewayPort { get; set; } = 30000;

    /// <summary>The IP other silos use to reach this one. Empty = loopback (single machine).</summary>
    public string? AdvertisedAddress { get; set; }

    /// <summary>
    /// The local IP the silo and gateway ports listen on. Empty = the advertised address only (never every
    /// interface); set it where the advertised address is not the machine's own (NAT, a cloud's public IP).
    /// </summary>
    public string? ListenAddress { get; set; }

    /// <summary>
    /// A PKCS#12 (.pfx) certificate: when set, silo-to-silo and client-to-gateway connections use mutual TLS, and only
    /// a peer presenting this same certificate is let in (every silo of the cluster is given the same file).
    /// </summary>
    public string? TlsCertificatePath { get; set; }

    /// <summary>The .pfx file's password (a secret: never logged).</summary>
    public string? TlsCertificatePassword { get; set; }

    /// <summary>
    /// How long a membership probe may take before it counts as missed (Orleans adapts it between half and four
    /// times this). A killed silo is declared dead after about <see cref="NumMissedProbesLimit"/> probe periods.
    /// </summary>
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(1);
    [Range(1, 10)] public int NumMissedProbesLimit { get; set; } = 2;
    [Range(1, 10)] public int NumVotesForDeathDeclaration { get; set; } = 2;
    [Range(1, 10)] public int NumProbedSilos { get; set; } = 3;

    /// <summary>
    /// How often each silo reads the membership table. It bounds how long a silo that was declared dead while alive
    /// (a long pause, a partition) goes on before it learns it and stops.
    /// </summary>
    public TimeSpan MembershipTableRefresh { get; set; } = TimeSpan.FromSeconds(0.5);

    /// <summary>
    /// After a silo is declared dead, how long its grains wait before they may activate elsewhere: longer than
    /// <see cref="MembershipTableRefresh"/>, so a silo wrongly declared dead has stopped first and no user grain ever
    /// runs twice. The grain directory's lease is derived from it (Orleans subtracts its failure-detection window).
    /// </summary>
    public TimeSpan DirectoryHoldAfterDeath { get; set; } = TimeSpan.FromSeconds(1);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (SiloPort == GatewayPort)
            yield return new ValidationResult("Cluster:SiloPort and Cluster:GatewayPort must differ", [nameof(SiloPort), nameof(GatewayPort)]);
        if (!string.IsNullOrWhiteSpace(AdvertisedAddress) && !IPAddress.TryParse(AdvertisedAddress, out _))
            yield return new ValidationResult($"Cluster:AdvertisedAddress must be an IP address, not '{AdvertisedAddress}'", [nameof(AdvertisedAddress)]);
        if (!string.IsNullOrWhiteSpace(ListenAddress) && !IPAddress.TryParse(ListenAddress, out _))
            yield return new ValidationResult($"Cluster:ListenAddress must be an IP address, not '{ListenAddress}'", [nameof(ListenAddress)]);
        if (!string.IsNullOrWhiteSpace(TlsCertificatePath) && !File.Exists(TlsCertificatePath))
            yield return new ValidationResult($"Cluster:TlsCertificatePath must name an existing .pfx file, got '{TlsCertificatePath}'", [nameof(TlsCertificatePath)]);
        if (ProbeTimeout <= TimeSpan.Zero)
            yield return new ValidationResult("Cluster:ProbeTimeout must be positive", [nameof(ProbeTimeout)]);
        if (MembershipTableRefresh <= TimeSpan.Zero)
            yield return new ValidationResult("Cluster:MembershipTableRefresh must be positive", [nameof(MembershipTableRefresh)]);
        if (DirectoryHoldAfterDeath < MembershipTableRefresh + TimeSpan.FromMilliseconds(250))
            yield return new ValidationResult(
                $"Cluster:DirectoryHoldAfterDeath ({DirectoryHoldAfterDeath}) must be at least Cluster:MembershipTableRefresh ({MembershipTableRefresh}) + 0.25 s: a silo declared dead must have stopped before its grains move",
                [nameof(DirectoryHoldAfterDeath)]);
    }
}

/// <summary>This silo's HTTP endpoints (section <c>Http</c>): health, status, webhook, dashboard.</summary>
public sealed class HttpEndpointOptions : IValidatableObject
{
    public const string SectionName = "Http";

    /// <summary>The public listener: the Telegram webhook and the health checks (a load balancer's), nothing else.</summary>
    [Required] public string BindAddress { get; set; } = "127.0.0.1";
    [Range(1, 65535)] public int Port { get; set; } = 5080;

    /// <summary>The operator listener: health, /status and /metrics. Loopback unless an operator opens it.</summary>
    [Required] public string OperatorBindAddress { get; set; } = "127.0.0.1";
    /// <summary>0: <see cref="Port"/> + 4000 (9080 by default), so silos side by side get distinct ports from their <c>Http:Port</c>.</summary>
    [Range(0, 65535)] public int OperatorPort { get; set; }

    public int EffectiveOperatorPort => OperatorPort != 0 ? OperatorPort : Port + 4000;

    public bool DashboardEnabled { get; set; } = true;
    /// <summary>The dashboard shows grain state and has no authentication: loopback unless you put a proxy with auth in front.</summary>
    [Required] public string DashboardBindAddress { get; set; } = "127.0.0.1";
    [Range(1, 65535)] public int DashboardPort { get; set; } = 8080;

    /// <summary>
    /// When set, the Dashboard asks for it (HTTP Basic, any user name). Without it a Dashboard bound off loopback
    /// (a container's 0.0.0.0 behind a loopback port mapping) gets a warning at start. A secret: never logged.
    /// </summary>
    public string? DashboardPassword { get; set; }

    /// <summary>The start-up warning for a Dashboard anyone on the network could open, or null.</summary>
    public string? DashboardExposure => DashboardEnabled && !DashboardOnLoopback && string.IsNullOrEmpty(DashboardPassword)
        ? $"The Orleans Dashboard listens on {DashboardBindAddress}:{DashboardPort} with no password: anyone who reaches that port sees every grain's state. Set Http:DashboardPassword (Http__DashboardPassword), or keep it on loopback or behind a port mapping to 127.0.0.1."
        : null;

    public bool DashboardOnLoopback => DashboardBindAddress == "localhost" || (IPAddress.TryParse(DashboardBindAddress, out var ip) && IPAddress.IsLoopback(ip));

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (DashboardEnabled && DashboardPort == Port)
            yield return new ValidationResult("Http:DashboardPort and Http:Port must differ", [nameof(DashboardPort)]);
        if (EffectiveOperatorPort == Port || (DashboardEnabled && EffectiveOperatorPort == DashboardPort) || EffectiveOperatorPort > 65535)
            yield return new ValidationResult($"Http:OperatorPort ({EffectiveOperatorPort}) must be a port of its own, apart from Http:Port and Http:DashboardPort", [nameof(OperatorPort)]);
        foreach (var (name, value) in new[] { (nameof(BindAddress), BindAddress), (nameof(OperatorBindAddress), OperatorBindAddress), (nameof(DashboardBindAddress), DashboardBindAddress) })
        {
            if (value != "localhost" && value != "*" && !IPAddress.TryParse(value, out _))
                yield return new ValidationResult($"Http:{name} must be an IP address, 'localhost' or '*', not '{value}'", [name]);
        }
    }
}
