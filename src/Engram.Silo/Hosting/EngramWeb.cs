using Engram.Silo.Configuration;
using Microsoft.Extensions.Options;
using Orleans.Dashboard;

namespace Engram.Silo.Hosting;

public static class EngramWeb
{
    /// <summary>
    /// Kestrel listens on the API port (health, status, webhook) and, when enabled, on a separate
    /// dashboard port. The dashboard shows grain state with no authentication of its own, so it
    /// binds to loopback unless an operator deliberately opens it (behind a proxy with auth).
    /// </summary>
    public static WebApplicationBuilder AddEngramWeb(this WebApplicationBuilder builder)
    {
        var http = builder.Configuration.GetSection(HttpEndpointOptions.SectionName).Get<HttpEndpointOptions>() ?? new HttpEndpointOptions();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            Listen(kestrel, http.BindAddress, http.Port);
            if (http.DashboardEnabled)
                Listen(kestrel, http.DashboardBindAddress, http.DashboardPort);
        });
        return builder;
    }

    public static WebApplication MapEngramDashboard(this WebApplication app)
    {
        var http = app.Services.GetRequiredService<IOptions<HttpEndpointOptions>>().Value;
        if (http.DashboardEnabled)
            app.MapOrleansDashboard().RequireHost($"*:{http.DashboardPort}");
        return app;
    }

    private static void Listen(Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions kestrel, string address, int port)
    {
        switch (address)
        {
            case "*": kestrel.ListenAnyIP(port); break;
            case "localhost": kestrel.ListenLocalhost(port); break;
            default: kestrel.Listen(System.Net.IPAddress.Parse(address), port); break;
        }
    }
}
