using Engram.Silo.Configuration;
using Engram.Silo.Health;
using Engram.Silo.Hosting;
using Engram.Silo.Logging;
using Engram.Silo.Storage;

// Engram silo: one member of the cluster. Each line wires one capability; the code for it
// lives beside its extension method.
var builder = WebApplication.CreateBuilder(args);

builder.Configuration.AddEngramConfiguration(builder.Environment.ContentRootPath);
builder.AddEngramLogging();
builder.AddEngramOptions();
var redis = builder.AddEngramStorage();
builder.AddEngramCluster(redis);
builder.AddEngramHealth();
builder.AddEngramWeb();

var app = builder.Build();

app.MapEngramHealth();
app.MapEngramDashboard();

app.Logger.LogInformation("Engram silo starting; storage at {Redis}", redis.Describe());
await app.RunAsync();

/// <summary>Visible to the functional tests that start silos in-process.</summary>
public partial class Program;
