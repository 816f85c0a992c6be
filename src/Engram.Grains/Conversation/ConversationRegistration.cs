using Engram.Abstractions.Delivery;
using Engram.Agent;
using Engram.Charts;
using Engram.Grains.Alerts;
using Engram.Grains.Market;
using Engram.Trading.Tools;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Engram.Grains.Conversation;

public static class ConversationRegistration
{
    /// <summary>
    /// The conversation: market data behind the cache grains, the trading tools, the LLM client,
    /// the silo's LLM concurrency gate and the command/question handler the user grains use.
    /// </summary>
    public static IServiceCollection AddEngramConversation(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddCachedMarketData(configuration);
        services.TryAddSingleton<ILiveTrackRecord, Signals.GrainLiveTrackRecord>();
        services.AddEngramCharts(configuration);
        services.AddSingleton<LlmClientFactory>();
        services.AddSingleton<LlmGate>();
        services.AddSingleton<LlmAgent>();
        services.AddSingleton<LlmHealthProbe>();
        services.AddSingleton<Commands.MarketPrices>();
        services.AddSingleton<Commands.PriceCharts>();
        services.AddSingleton<Commands.ICommandHandler, Commands.AccountCommands>();
        services.AddSingleton<Commands.ICommandHandler, Commands.MarketCommands>();
        services.AddSingleton<Commands.ICommandHandler, Commands.AlertCommands>();
        services.AddSingleton<Commands.ICommandHandler, Commands.PortfolioCommands>();
        services.AddSingleton<Commands.ICommandHandler, Commands.WatchCommands>();
        services.AddSingleton<Digests.DigestBuilder>();
        services.AddOptions<Digests.DigestOptions>().Bind(configuration.GetSection(Digests.DigestOptions.SectionName));
        services.AddSingleton<Questions>();
        services.AddSingleton<ConversationService>();
        services.AddMetrics();
        services.AddSingleton<Telemetry.EngramMetrics>();
        services.AddSingleton<LlmMetrics>();
        services.AddOptions<AlertOptions>().Bind(configuration.GetSection(AlertOptions.SectionName));
        services.TryAddSingleton<IAlertPriceSource, MarketAlertPriceSource>();
        services.AddBinancePriceStream(configuration);
        services.TryAddSingleton<IPriceStream, NoPriceStream>();
        services.TryAddSingleton<PriceFeed>();
        services.TryAddSingleton<IPriceFeed>(sp => sp.GetRequiredService<PriceFeed>());
        services.AddHostedService(sp => sp.GetRequiredService<PriceFeed>());
        services.AddHostedService<RecoveryOnSiloLoss>();
        services.TryAddSingleton<Operations.IOperationalStatus, Operations.NoOperationalStatus>();
        // Replaced by the Telegram messenger when a bot token is configured.
        services.TryAddSingleton<IMessenger, NoTransportMessenger>();
        return services;
    }
}
