using Engram.Agent;
using Engram.Grains.Telemetry;
using Engram.Silo.Configuration;
using Engram.Silo.Hosting;
using Engram.Telegram;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace Engram.Silo.Operations;

public static class EngramTelemetry
{
    /// <summary>
    /// Metrics through OpenTelemetry: Engram's meters, Orleans', ASP.NET Core's and the runtime's,
    /// readable at <c>/metrics</c> (Prometheus text format) and pushed over OTLP when
    /// <c>Telemetry:OtlpEndpoint</c> (or the standard OTEL_EXPORTER_OTLP_ENDPOINT) is set.
    /// </summary>
    public static WebApplicationBuilder AddEngramTelemetry(this WebApplicationBuilder builder)
    {
        var otlp = builder.Configuration["Telemetry:OtlpEndpoint"] ?? builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"];
        var cluster = builder.Configuration.GetSection(EngramClusterOptions.SectionName).Get<EngramClusterOptions>() ?? new EngramClusterOptions();
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("engram", serviceInstanceId: $"{Environment.MachineName}:{cluster.SiloPort}"))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(EngramMetrics.MeterName, LlmMetrics.MeterName, TelegramMetrics.MeterName, "Microsoft.Orleans")
                    .AddAspNetCoreInstrumentation()
                    .AddRuntimeInstrumentation()
                    .AddPrometheusExporter();
                if (!string.IsNullOrWhiteSpace(otlp))
                    metrics.AddOtlpExporter(o => o.Endpoint = new Uri(otlp));
            });
        return builder;
    }

    public static WebApplication MapEngramMetrics(this WebApplication app)
    {
        app.MapPrometheusScrapingEndpoint("/metrics").ServedOn(app.Listeners().EffectiveOperatorPort);
        return app;
    }
}
