using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Engram.Abstractions.Conversation;
using Engram.Abstractions.Delivery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Telegram.Bot;
using Telegram.Bot.Types;
using Telegram.Bot.Types.Enums;

namespace Engram.Telegram;

public static class TelegramRegistration
{
    public const string WebhookPath = "/telegram/webhook";
    public const string SecretHeader = "X-Telegram-Bot-Api-Secret-Token";

    /// <summary>The Telegram transport, when a bot token is configured; otherwise nothing (the terminal chat still works).</summary>
    public static IServiceCollection AddEngramTelegram(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<TelegramOptions>().Bind(configuration.GetSection(TelegramOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        var options = configuration.GetSection(TelegramOptions.SectionName).Get<TelegramOptions>() ?? new TelegramOptions();
        if (!options.Enabled)
            return services;

        services.AddHttpClient("telegram", http => http.Timeout = TimeSpan.FromSeconds(options.PollTimeoutSeconds + 20));
        services.AddSingleton<ITelegramBotClient>(sp =>
        {
            var o = sp.GetRequiredService<IOptions<TelegramOptions>>().Value;
            // Retries on 429 are the messenger's job (it knows the outbox); the client must not retry on its own.
            var clientOptions = new TelegramBotClientOptions(o.BotToken!, string.IsNullOrWhiteSpace(o.ApiBaseUrl) ? null : o.ApiBaseUrl.TrimEnd('/'))
            {
                RetryCount = 0,
                RetryThreshold = 0,
            };
            return new TelegramBotClient(clientOptions, sp.GetRequiredService<IHttpClientFactory>().CreateClient("telegram"));
        });
        services.AddSingleton<BotIdentity>();
        services.AddSingleton<TelegramMetrics>();
        services.AddSingleton<IngressGate>();
        services.AddSingleton<UpdateRouter>();
        services.AddSingleton<PollerLease>();
        services.AddSingleton<TelegramMessenger>();
        services.RemoveAll<IMessenger>();
        services.AddSingleton<IMessenger>(sp => sp.GetRequiredService<TelegramMessenger>());
        services.AddHostedService<TelegramStartup>();
        if (options.Mode == IngressMode.Polling)
        {
            services.AddSingleton<TelegramPoller>();
            services.AddHostedService(sp => sp.GetRequiredService<TelegramPoller>());
        }
        return services;
    }

    /// <summary>
    /// POST /telegram/webhook on every silo: 401 without the right secret header (nothing touched),
    /// 200 only after the update is handled and stored by its user's grain (so Telegram retries otherwise),
    /// 503 when the silo stayed full for the whole hold or the user's grain could not store it.
    /// </summary>
    /// <returns>The webhook endpoint (for the host to say which listener serves it), or null when not in webhook mode.</returns>
    public static IEndpointConventionBuilder? MapEngramTelegram(this IEndpointRouteBuilder app)
    {
        var options = app.ServiceProvider.GetRequiredService<IOptions<TelegramOptions>>().Value;
        if (!options.Enabled || options.Mode != IngressMode.Webhook)
            return null;
        var secret = Encoding.UTF8.GetBytes(options.WebhookSecret!);
        return app.MapPost(WebhookPath, async (HttpRequest request, UpdateRouter router, IngressGate gate) =>
        {
            var given = Encoding.UTF8.GetBytes(request.Headers[SecretHeader].ToString());
            if (!CryptographicOperations.FixedTimeEquals(given, secret))
                return Results.Unauthorized();
            Update? update;
            try
            {
                update = await JsonSerializer.DeserializeAsync<Update>(request.Body, JsonBotAPI.Options, request.HttpContext.RequestAborted);
            }
            catch (JsonException)
            {
                return Results.BadRequest();
            }
            if (update is null)
                return Results.BadRequest();
            // Held here while the silo is full (the brake Telegram respects: it sends at most
            // max_connections at once); refused only past the hold, and then Telegram retries.
            try
            {
                if (await router.AcceptAsync([update], options.WebhookHold, request.HttpContext.RequestAborted) == IngressResult.Accepted)
                    return Results.Ok();
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Storage away, a silo lost mid-call: nothing was confirmed, so Telegram sends it again.
                gate.CountFailure(ex);
            }
            request.HttpContext.Response.Headers.RetryAfter = "1";
            return Results.StatusCode(StatusCodes.Status503ServiceUnavailable);
        });
    }
}

/// <summary>At start-up: learn the bot's name, publish the command menu, and register the webhook in webhook mode.</summary>
internal sealed partial class TelegramStartup(ITelegramBotClient client, BotIdentity identity, IOptions<TelegramOptions> options, ILogger<TelegramStartup> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromSeconds(1);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await identity.LoadAsync(stoppingToken);
                await client.SetMyCommands(CommandCatalog.All.Select(c => new BotCommand { Command = c.Name, Description = c.Description }), cancellationToken: stoppingToken);
                var o = options.Value;
                if (o.Mode == IngressMode.Webhook)
                    await client.SetWebhook(o.WebhookUrl!, secretToken: o.WebhookSecret, maxConnections: o.WebhookMaxConnections,
                        allowedUpdates: [UpdateType.Message, UpdateType.CallbackQuery], cancellationToken: stoppingToken);
                LogReady(identity.Username, o.Mode.ToString());
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogStartupFailed(ex.GetType().Name, ex.Message, delay.TotalSeconds);
                try { await Task.Delay(delay, stoppingToken); } catch (OperationCanceledException) { return; }
                delay = TimeSpan.FromSeconds(Math.Min(60, delay.TotalSeconds * 2));
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Telegram bot @{Username} ready ({Mode})")]
    private partial void LogReady(string username, string mode);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Telegram start-up failed ({Error}: {Reason}); retrying in {Seconds} s")]
    private partial void LogStartupFailed(string error, string reason, double seconds);
}
