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
// lives beside its extension method.
var builder = WebApplication.CreateBuilder(args);

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

/// <summary>Visible to the functional tests that start silos in-process.</summary>
public partial class Program;
