using Engram.Grains.Conversation;
using Engram.Silo.Chat;
using Engram.Silo.Configuration;
using Engram.Silo.Health;
using Engram.Silo.Hosting;
using Engram.Silo.Logging;
using Engram.Silo.Operations;
using Engram.Silo.Storage;
using Engram.Telegram;
using Microsoft.Extensions.Options;

// Engram silo: one member of the cluster. Each line wires one capability; the code for it
// lives beside its extension method. Relative paths in settings are taken from the directory
// Engram was started in (the csproj keeps `dotnet run` there too); appsettings.json comes with the build.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
try
{
    builder.Configuration.AddEngramConfiguration(builder.Environment.ContentRootPath);
    if (TerminalChat.IsRequested(args))
        TerminalChat.ConfigureForChat(builder);
    builder.AddEngramLogging();
    builder.AddEngramOptions();
    var redis = builder.AddEngramStorage();
    builder.AddEngramCluster(redis);
    builder.Services.AddEngramConversation(builder.Configuration);
    builder.Services.AddEngramTelegram(builder.Configuration);
    builder.AddEngramHealth();
    builder.AddEngramTelemetry();
    builder.AddEngramShutdown();
    builder.AddEngramWeb();

    var app = builder.Build();

    app.UseListenerRouting();
    app.MapEngramHealth();
    app.MapEngramStatus();
    app.MapEngramMetrics();
    app.MapEngramDashboard();
    app.MapEngramTelegram()?.ServedOn(app.Listeners().Port);

    app.Logger.LogInformation("Engram silo starting; storage at {Redis}", redis.Describe());
    if (TerminalChat.IsRequested(args))
        await TerminalChat.RunAsync(app, Console.In, Console.Out);
    else
        await app.RunAsync();
    return 0;
}
catch (Exception ex) when (StartupFailure.Explain(ex, builder.Configuration) is { Count: > 0 } problems)
{
    // A setting or the surroundings (Redis, a port): one line each, no stack trace.
    foreach (var problem in problems)
        Console.Error.WriteLine($"Engram cannot start: {problem}");
    return StartupFailure.ExitCode;
}

/// <summary>Visible to the functional tests that start silos in-process.</summary>
public partial class Program;
