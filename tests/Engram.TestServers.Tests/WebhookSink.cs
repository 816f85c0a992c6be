using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Engram.TestServers.Tests;

/// <summary>The bot's side of a webhook: records what Telegram (here BotApiServer) POSTs and answers as scripted.</summary>
internal sealed class WebhookSink : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<int> _statuses = new();

    public sealed record Received(string Body, string? SecretToken, string? ContentType);

    private WebhookSink(WebApplication app) => _app = app;

    public ConcurrentQueue<Received> Requests { get; } = new();

    public string Url { get; private set; } = "";

    /// <summary>Body returned with a 200 (e.g. a webhook reply carrying a Bot API method); empty by default.</summary>
    public string? ReplyJson { get; set; }

    /// <summary>Statuses for the next requests, in order; 200 once they are used up.</summary>
    public void AnswerNext(params int[] statuses)
    {
        foreach (var status in statuses)
            _statuses.Enqueue(status);
    }

    public static async Task<WebhookSink> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var sink = new WebhookSink(app);
        app.MapPost("/hook", async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync();
            sink.Requests.Enqueue(new Received(body, context.Request.Headers["X-Telegram-Bot-Api-Secret-Token"].FirstOrDefault(), context.Request.ContentType));
            context.Response.StatusCode = sink._statuses.TryDequeue(out var status) ? status : 200;
            if (context.Response.StatusCode == 200 && sink.ReplyJson is { } reply)
            {
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync(reply);
            }
        });
        await app.StartAsync();
        sink.Url = app.Urls.Single().TrimEnd('/') + "/hook";
        return sink;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
