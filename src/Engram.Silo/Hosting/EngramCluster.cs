using System.Net;
using System.Text.Json.Serialization;
using Engram.Grains;
using Engram.Grains.Users;
using Engram.Silo.Configuration;
using Engram.Silo.Storage;
using Engram.Trading.Tools;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Dashboard;
using Orleans.Serialization;
using Orleans.Storage;

namespace Engram.Silo.Hosting;

public static class EngramCluster
{
    /// <summary>
    /// The Orleans silo: membership, grain state and reminders all in the one Redis, explicit
    /// ports and addresses so several silos can share a machine, and membership timing tight
    /// enough that a dead silo is declared dead (and its grains re-activated elsewhere) in seconds.
    /// </summary>
    public static WebApplicationBuilder AddEngramCluster(this WebApplicationBuilder builder, RedisEndpoint redis)
    {
        var cluster = builder.Configuration.GetSection(EngramClusterOptions.SectionName).Get<EngramClusterOptions>() ?? new EngramClusterOptions();
        builder.Services.AddOptions<EngramClusterOptions>().BindConfiguration(EngramClusterOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<UserGrainOptions>().BindConfiguration(UserGrainOptions.SectionName).ValidateDataAnnotations().ValidateOnStart()
            .Configure<IOptions<AgentOptions>, IOptions<TradingOptions>>((users, agent, trading) =>
            {
                users.DefaultResponseFormat = Enum.Parse<Abstractions.Users.ResponseFormat>(agent.Value.ResponseFormat, ignoreCase: true);
                users.DefaultTimeframe = trading.Value.DefaultTimeframe;
                users.DefaultRiskTolerance = Enum.Parse<Abstractions.Users.RiskTolerance>(trading.Value.DefaultRiskTolerance, ignoreCase: true);
            });
        builder.Services.TryAddSingletonTimeProvider();
        var listen = string.IsNullOrWhiteSpace(cluster.ListenAddress) ? cluster.AdvertisedAddress ?? "127.0.0.1" : cluster.ListenAddress;
        StartupFailure.EnsurePortFree(string.IsNullOrWhiteSpace(listen) ? "127.0.0.1" : listen, cluster.SiloPort, "Cluster:SiloPort");
        StartupFailure.EnsurePortFree(string.IsNullOrWhiteSpace(listen) ? "127.0.0.1" : listen, cluster.GatewayPort, "Cluster:GatewayPort");

        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = cluster.ClusterId;
                o.ServiceId = cluster.ServiceId;
            });

            silo.Configure<EndpointOptions>(o => ClusterEndpoints.Apply(cluster, o));
            if (ClusterEndpoints.LoadCertificate(cluster) is { } certificate)
                silo.UseTls(certificate, tls => ClusterEndpoints.RequireSameCertificate(tls, certificate));

            silo.Configure<ClusterMembershipOptions>(o =>
            {
                o.ProbeTimeout = cluster.ProbeTimeout;
                o.NumMissedProbesLimit = cluster.NumMissedProbesLimit;
                o.NumVotesForDeathDeclaration = cluster.NumVotesForDeathDeclaration;
                o.NumProbedSilos = cluster.NumProbedSilos;
                o.TableRefreshTimeout = cluster.MembershipTableRefresh;
                // A silo that was killed never says goodbye; forget it after a while so the table stays short.
                o.DefunctSiloExpiration = TimeSpan.FromHours(1);
                o.DefunctSiloCleanupPeriod = TimeSpan.FromMinutes(10);
            });

            silo.UseRedisClustering(o => o.ConfigurationOptions = redis.ToConfigurationOptions());
            // The default directory is eventually consistent: while silos join or die it can briefly
            // allow a second activation of a user grain, and both would send that user's outbox.
            // The strongly consistent in-cluster directory (range locks) never does.
#pragma warning disable ORLEANSEXP003 // marked experimental by Orleans; the chaos test exercises it under kill -9
            silo.AddDistributedGrainDirectory();
#pragma warning restore ORLEANSEXP003
            // Orleans holds a dead silo's grains for RangeLeaseDuration minus its failure-detection window
            // (MaxProbeTimeout × NumMissedProbesLimit): derived, so the hold after the death is exactly ours.
            silo.Services.AddOptions<GrainDirectoryOptions>().Configure<IOptions<ClusterMembershipOptions>>((directory, membership) =>
                directory.RangeLeaseDuration = membership.Value.MaxProbeTimeout * membership.Value.NumMissedProbesLimit + cluster.DirectoryHoldAfterDeath);
            // A silo told it is dead stops at once (Orleans' default handler waits 2 s, running grains meanwhile).
            silo.Services.AddSingleton<IFatalErrorHandler, StopAtOnceFatalErrorHandler>();
            silo.UseRedisReminderService(o => o.ConfigurationOptions = redis.ToConfigurationOptions());
            silo.ConfigureRecoveryReminders();

            silo.AddEngramGrainStorage(redis);

            if (builder.Configuration.GetValue("Http:DashboardEnabled", true))
                silo.AddDashboard();
        });
        return builder;
    }

    /// <summary>
    /// The grain storage providers, as System.Text.Json documents in Redis. Shared with the grain
    /// tests so they run against exactly the storage configuration production uses.
    /// </summary>
    public static ISiloBuilder AddEngramGrainStorage(this ISiloBuilder silo, RedisEndpoint redis)
    {
        var serializerOptions = new SystemTextJsonGrainStorageSerializerOptions();
        // Enums by name, so an operator reading the state in Redis sees "Above", not 0.
        serializerOptions.JsonSerializerOptions.Converters.Add(new JsonStringEnumConverter());
        var serializer = new SystemTextJsonGrainStorageSerializer(Options.Create(serializerOptions));
        foreach (var name in new[] { StorageNames.Users, StorageNames.Market, StorageNames.Signals })
        {
            silo.AddRedisGrainStorage(name, o =>
            {
                o.ConfigurationOptions = redis.ToConfigurationOptions();
                o.GrainStorageSerializer = serializer;
            });
        }
        return silo;
    }

    private static void TryAddSingletonTimeProvider(this IServiceCollection services)
    {
        if (!services.Any(s => s.ServiceType == typeof(TimeProvider)))
            services.AddSingleton(TimeProvider.System);
    }
}

/// <summary>
/// "I have been told I am dead": this silo stops now. The grain directory lets its grains activate elsewhere
/// <c>Cluster:DirectoryHoldAfterDeath</c> after the death; everything it still ran after that would run twice.
/// </summary>
internal sealed partial class StopAtOnceFatalErrorHandler(ILogger<StopAtOnceFatalErrorHandler> logger) : IFatalErrorHandler
{
    public bool IsUnexpected(Exception exception) => exception is not ThreadAbortException;

    public void OnFatalException(object? sender = null, string? context = null, Exception? exception = null)
    {
        LogFatal(exception, context ?? "fatal error");
        Console.Error.Flush();
        Environment.FailFast($"Engram silo stopping: {context}", exception);
    }

    [LoggerMessage(Level = LogLevel.Critical, Message = "Silo stopping at once: {Context}")]
    private partial void LogFatal(Exception? exception, string context);
}
