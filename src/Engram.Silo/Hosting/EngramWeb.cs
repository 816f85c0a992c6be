using Engram.Silo.Configuration;
using Microsoft.Extensions.Options;
using Orleans.Dashboard;

namespace Engram.Silo.Hosting;

/// <summary>
/// The listeners (local ports) an endpoint answers on. It is decided by the port the connection came
/// in on, never by the Host header, which the client chooses (and a reverse proxy rewrites).
/// </summary>
public sealed record ServedOn(params int[] Ports);

public static class EngramWeb
{
    /// <summary>
    /// Kestrel listens on three ports by purpose: public (the webhook and health checks), operator
    /// (health, /status, /metrics; loopback by default) and, when enabled, the Dashboard, which shows
    /// grain state with no authentication of its own: it binds to loopback, and elsewhere only with
    /// <c>Http:DashboardPassword</c> set.
    /// </summary>
    public static WebApplicationBuilder AddEngramWeb(this WebApplicationBuilder builder)
    {
        var http = builder.Configuration.GetSection(HttpEndpointOptions.SectionName).Get<HttpEndpointOptions>() ?? new HttpEndpointOptions();
        StartupFailure.EnsurePortFree(http.BindAddress, http.Port, "Http:Port");
        StartupFailure.EnsurePortFree(http.OperatorBindAddress, http.EffectiveOperatorPort, "Http:OperatorPort");
        if (http.DashboardEnabled)
            StartupFailure.EnsurePortFree(http.DashboardBindAddress, http.DashboardPort, "Http:DashboardPort");
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            Listen(kestrel, http.BindAddress, http.Port);
            Listen(kestrel, http.OperatorBindAddress, http.EffectiveOperatorPort);
            if (http.DashboardEnabled)
                Listen(kestrel, http.DashboardBindAddress, http.DashboardPort);
        });
        return builder;
    }

    public static HttpEndpointOptions Listeners(this WebApplication app) => app.Services.GetRequiredService<IOptions<HttpEndpointOptions>>().Value;

    public static TBuilder ServedOn<TBuilder>(this TBuilder endpoints, params int[] ports) where TBuilder : IEndpointConventionBuilder =>
        endpoints.WithMetadata(new ServedOn(ports));

    /// <summary>
    /// Answers 404 for an endpoint reached on a listener it is not served on, and for any endpoint
    /// that does not say where it is served (fail closed: a new endpoint is public only on purpose).
    /// </summary>
    public static WebApplication UseListenerRouting(this WebApplication app)
    {
        app.Use((context, next) =>
        {
            if (context.GetEndpoint() is { } endpoint
                && endpoint.Metadata.GetMetadata<ServedOn>()?.Ports.Contains(context.Connection.LocalPort) != true)
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }
            return next(context);
        });
        return app;
    }

    public static WebApplication MapEngramDashboard(this WebApplication app)
    {
        var http = app.Listeners();
        if (!http.DashboardEnabled)
            return app;
        if (!string.IsNullOrEmpty(http.DashboardPassword))
            app.UseBasicPassword(http.DashboardPort, http.DashboardPassword);
        else if (http.DashboardExposure is { } warning)
            app.Logger.LogWarning("{Warning}", warning);
        app.MapOrleansDashboard().ServedOn(http.DashboardPort);
        return app;
    }

    /// <summary>Everything on <paramref name="port"/> asks for the password (HTTP Basic, any user name), compared in constant time.</summary>
    private static void UseBasicPassword(this WebApplication app, int port, string password)
    {
        var expected = System.Text.Encoding.UTF8.GetBytes(password);
        app.Use((context, next) =>
        {
            if (context.Connection.LocalPort != port || HasPassword(context.Request.Headers.Authorization.ToString(), expected))
                return next(context);
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.WWWAuthenticate = "Basic realm=\"Engram Dashboard\", charset=\"UTF-8\"";
            return Task.CompletedTask;
        });
    }

    private static bool HasPassword(string authorization, byte[] expected)
    {
        const string scheme = "Basic ";
        if (!authorization.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
            return false;
        byte[] decoded;
        try
        {
            decoded = Convert.FromBase64String(authorization[scheme.Length..].Trim());
        }
        catch (FormatException)
        {
            return false;
        }
        var colon = Array.IndexOf(decoded, (byte)':');
        return colon >= 0 && System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(decoded.AsSpan(colon + 1), expected);
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
