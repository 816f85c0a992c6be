namespace Engram.Silo.Operations;

public static class EngramShutdown
{
    /// <summary>
    /// SIGTERM (docker stop, systemctl stop) stops the host in order: the Telegram poller releases its
    /// lease at once so another silo takes over, in-flight answers get up to <c>Shutdown:Timeout</c>
    /// to finish, and the silo leaves the cluster cleanly so its grains move without waiting for
    /// failure detection.
    /// </summary>
    public static WebApplicationBuilder AddEngramShutdown(this WebApplicationBuilder builder)
    {
        var timeout = builder.Configuration.GetValue("Shutdown:Timeout", TimeSpan.FromSeconds(45));
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = timeout);
        return builder;
    }
}
