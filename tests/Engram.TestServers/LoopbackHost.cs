using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Engram.TestServers;

/// <summary>Starts a Kestrel app on 127.0.0.1; port 0 lets the OS pick, so many servers can run side by side.</summary>
internal static class LoopbackHost
{
    public static Task<(WebApplication App, string BaseUrl)> StartAsync(
        int port, Action<WebApplication> map, CancellationToken cancellationToken) => StartAsync(port, 0, map, cancellationToken);

    /// <summary>Also listens on 127.0.0.2 … 127.0.0.(1+aliases), same port (all of 127/8 is loopback on Linux).</summary>
    public static async Task<(WebApplication App, string BaseUrl)> StartAsync(
        int port, int aliases, Action<WebApplication> map, CancellationToken cancellationToken)
    {
        if (aliases > 0 && port == 0)
            port = FreePort();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(LoopbackHost).Assembly.GetName().Name,
            Args = [],
        });
        // Test output should show the test's story, not Kestrel's.
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, port);
            for (var alias = 1; alias <= aliases; alias++)
                kestrel.Listen(new IPAddress([127, 0, 0, (byte)(1 + alias)]), port);
        });
        // Held long polls and hangs are released by the server's own shutdown token; this only bounds stragglers.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));

        var app = builder.Build();
        map(app);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);

        var addresses = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>();
        return (app, addresses.Addresses.First(a => a.Contains("127.0.0.1", StringComparison.Ordinal)).TrimEnd('/'));
    }

    private static int FreePort()
    {
        using var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    public static async Task StopAsync(WebApplication app)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        try
        {
            await app.StopAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // A client that never reads its response must not make disposal hang a test run.
        }
        await app.DisposeAsync().ConfigureAwait(false);
    }
}
