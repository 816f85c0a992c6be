using Engram.Trading.MarketData;
using Engram.Trading.Tools;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;

namespace Microsoft.Extensions.DependencyInjection;

public static class MarketDataServiceCollectionExtensions
{
    /// <summary>Name of the HttpClient (and its resilience pipeline) used for Binance.</summary>
    public const string BinanceHttpClientName = "binance";

    /// <summary>
    /// Registers market data (sections <c>MarketData</c> and <c>Trading</c>, validated at start-up), the provider
    /// chosen by <c>MarketData:Provider</c>, <see cref="SymbolNormalizer"/> and <see cref="TradingToolService"/>,
    /// all singletons.
    /// </summary>
    public static IServiceCollection AddEngramMarketData(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<MarketDataOptions>()
            .Bind(configuration.GetSection(MarketDataOptions.SectionName))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<MarketDataOptions>>(new Validator<MarketDataOptions>(o => o.Validate()));
        services.AddOptions<TradingOptions>()
            .Bind(configuration.GetSection(TradingOptions.SectionName))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<TradingOptions>>(new Validator<TradingOptions>(o => o.Validate()));
        services.TryAddSingleton(TimeProvider.System);

        var binance = services.AddHttpClient<BinanceMarketDataProvider>(BinanceHttpClientName, (sp, client) =>
            {
                var o = sp.GetRequiredService<IOptions<MarketDataOptions>>().Value;
                client.BaseAddress = new Uri(o.BinanceBaseUrl.TrimEnd('/') + "/");
                // Backstop only: the resilience pipeline's total timeout fires first.
                client.Timeout = o.TotalTimeout + TimeSpan.FromSeconds(5);
            })
            // The provider is a singleton holding its HttpClient, so connections are recycled by the handler
            // (DNS changes are picked up) instead of by the factory rotating handlers.
            .UseSocketsHttpHandler((handler, _) => handler.PooledConnectionLifetime = TimeSpan.FromMinutes(5))
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan);
        binance.AddResilienceHandler("binance-pipeline", static (builder, context) =>
            {
                var o = context.ServiceProvider.GetRequiredService<IOptions<MarketDataOptions>>().Value;
                // Outer total timeout bounds the whole call, retries and their delays included.
                builder.AddTimeout(new HttpTimeoutStrategyOptions { Name = "total", Timeout = o.TotalTimeout });
                if (o.MaxRetries > 0)
                {
                    builder.AddRetry(new HttpRetryStrategyOptions
                    {
                        Name = "retry",
                        MaxRetryAttempts = o.MaxRetries,
                        BackoffType = DelayBackoffType.Exponential,
                        UseJitter = true,
                        Delay = o.RetryBaseDelay,
                        // Binance sends Retry-After with 429/418; waiting less gets the IP banned for longer.
                        ShouldRetryAfterHeader = true,
                        // 5xx, 408, 429, HttpRequestException and attempt timeouts. Other 4xx (bad symbol,
                        // bad parameter) would fail the same way again, so they are not retried.
                        ShouldHandle = static args => ValueTask.FromResult(HttpClientResiliencePredicates.IsTransient(args.Outcome)),
                    });
                }

                builder.AddTimeout(new HttpTimeoutStrategyOptions { Name = "attempt", Timeout = o.AttemptTimeout });
            });
        // Added after the pipeline, so inside it: every attempt, retries included, respects a 429/418 cooldown.
        binance.AddHttpMessageHandler(sp => new ExchangeCooldownHandler(sp.GetRequiredService<ExchangeCooldown>()));
        services.TryAddSingleton<ExchangeCooldown>();

        services.TryAddSingleton<CsvMarketDataProvider>();
        services.TryAddSingleton<IMarketDataProvider>(sp =>
            sp.GetRequiredService<IOptions<MarketDataOptions>>().Value.Provider == MarketDataProviderKind.Csv
                ? sp.GetRequiredService<CsvMarketDataProvider>()
                : sp.GetRequiredService<BinanceMarketDataProvider>());
        services.TryAddSingleton<SymbolNormalizer>();
        services.TryAddSingleton<TradingToolService>();
        return services;
    }

    /// <summary>Reports every problem at once, with the configuration key in each message.</summary>
    private sealed class Validator<T>(Func<T, IEnumerable<string>> validate) : IValidateOptions<T> where T : class
    {
        public ValidateOptionsResult Validate(string? name, T options)
        {
            var failures = validate(options).ToList();
            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }
    }
}
