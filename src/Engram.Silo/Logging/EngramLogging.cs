using Engram.Silo.Configuration;
using Serilog;
using Serilog.Events;

namespace Engram.Silo.Logging;

public static class EngramLogging
{
    /// <summary>The seed's line shape: <c>timestamp - source - level - message</c>.</summary>
    public const string OutputTemplate =
        "{Timestamp:yyyy-MM-dd HH:mm:ss,fff} - {SourceContext} - {Level:u} - {Message:lj}{NewLine}{Exception}";

    /// <summary>
    /// Serilog to the console and a rolling <c>logs/engram_bot.log</c>, at the level of
    /// <c>LOG_LEVEL</c>. Both sinks render through <see cref="RedactingFormatter"/>, so a bot
    /// token or API key cannot reach a log line even when a library puts it in a URL.
    /// </summary>
    public static WebApplicationBuilder AddEngramLogging(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var level = ParseLevel(configuration["Logging:Level"]);
        var logDirectory = configuration["Logging:Directory"] is { Length: > 0 } dir ? dir : "logs";
        var secrets = EngramConfiguration.SecretKeys.Select(k => configuration[k]).OfType<string>();
        var formatter = new RedactingFormatter(OutputTemplate, secrets);

        var console = configuration.GetValue("Logging:Console", true);
        builder.Services.AddSerilog(logger => logger
            .MinimumLevel.Is(level)
            // Framework categories are chatty at Information; keep their warnings and errors.
            .MinimumLevel.Override("Microsoft", Max(level, LogEventLevel.Warning))
            .MinimumLevel.Override("System.Net.Http", Max(level, LogEventLevel.Warning))
            .MinimumLevel.Override("Orleans", Max(level, LogEventLevel.Warning))
            .MinimumLevel.Override("Polly", Max(level, LogEventLevel.Warning))
            .MinimumLevel.Override("Orleans.Runtime.Silo", Max(level, LogEventLevel.Information))
            .MinimumLevel.Override("Orleans.Runtime.MembershipService", Max(level, LogEventLevel.Information))
            .MinimumLevel.Override("Microsoft.Hosting.Lifetime", Max(level, LogEventLevel.Information))
            // A start-up problem is said once, in one line, by Program; not again here with its stack trace.
            .Filter.ByExcluding(e => e.Exception is { } ex && StartupFailure.Explain(ex, configuration).Count > 0)
            .Enrich.FromLogContext()
            .WriteTo.Conditional(_ => console, sink => sink.Console(formatter))
            .WriteTo.File(formatter, Path.Combine(logDirectory, "engram_bot.log"),
                rollingInterval: RollingInterval.Day, retainedFileCountLimit: 14,
                fileSizeLimitBytes: 50_000_000, rollOnFileSizeLimit: true, shared: true));
        return builder;
    }

    /// <summary>Accepts Serilog names and the seed's Python-style names (INFO, WARNING, CRITICAL).</summary>
    public static LogEventLevel ParseLevel(string? value) => value?.Trim().ToUpperInvariant() switch
    {
        null or "" => LogEventLevel.Information,
        "TRACE" or "VERBOSE" => LogEventLevel.Verbose,
        "DEBUG" => LogEventLevel.Debug,
        "INFO" or "INFORMATION" => LogEventLevel.Information,
        "WARN" or "WARNING" => LogEventLevel.Warning,
        "ERROR" => LogEventLevel.Error,
        "CRITICAL" or "FATAL" => LogEventLevel.Fatal,
        _ => throw new InvalidOperationException($"LOG_LEVEL '{value}' is not a level: use DEBUG, INFO, WARNING, ERROR or CRITICAL"),
    };

    private static LogEventLevel Max(LogEventLevel a, LogEventLevel b) => a > b ? a : b;
}
