using Engram.Charts;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

public static class ChartsServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="ChartRenderer"/> and, as <see cref="IChartRenderer"/>, the <see cref="CachedChartRenderer"/>
    /// in front of it, both singletons, with options from section <c>Charts</c> validated at start-up.
    /// </summary>
    public static IServiceCollection AddEngramCharts(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ChartOptions>()
            .Bind(configuration.GetSection(ChartOptions.SectionName))
            .Validate(o => !o.Validate().Any(), "Charts options are invalid (MinCandles ≥ 2, CacheCapacity ≥ 1, at least one font family).")
            .ValidateOnStart();
        services.AddSingleton(sp => new ChartRenderer(sp.GetRequiredService<IOptions<ChartOptions>>().Value));
        services.AddSingleton<IChartRenderer>(sp => new CachedChartRenderer(
            sp.GetRequiredService<ChartRenderer>(), sp.GetRequiredService<IOptions<ChartOptions>>().Value.CacheCapacity));
        return services;
    }
}
