namespace Engram.Silo.Configuration;

/// <summary>
/// Builds Engram's configuration: <c>appsettings.json</c> → <c>config/engram_config.json</c> →
/// environment variables, later sources overriding earlier ones. The short environment
/// variables users already know (<c>LMSTUDIO_HOST</c>, <c>TELEGRAM_BOT_TOKEN</c>, …) are mapped
/// onto their configuration keys last, so they win over both files.
/// </summary>
public static class EngramConfiguration
{
    /// <summary>Short environment variable → configuration key.</summary>
    public static readonly IReadOnlyDictionary<string, string> EnvironmentAliases = new Dictionary<string, string>
    {
        ["LMSTUDIO_HOST"] = "lmstudio:host",
        ["LMSTUDIO_PORT"] = "lmstudio:port",
        ["ENGRAM_MODEL"] = "lmstudio:model",
        ["ENGRAM_LLM_ENDPOINT"] = "llm:endpoint",
        ["ENGRAM_LLM_API_KEY"] = "llm:api_key",
        ["ENGRAM_RESPONSE_FORMAT"] = "agent:response_format",
        ["TELEGRAM_BOT_TOKEN"] = "telegram:bot_token",
        ["TELEGRAM_API_BASE_URL"] = "telegram:api_base_url",
        ["ENGRAM_ALLOWED_USERS"] = "telegram:allowed_users",
        ["ENGRAM_REDIS"] = "Redis:ConnectionString",
        ["BINANCE_BASE_URL"] = "MarketData:BinanceBaseUrl",
        ["BINANCE_WS_URL"] = "PriceStream:BaseUrl",
        ["LOG_LEVEL"] = "Logging:Level",
    };

    /// <summary>Configuration keys that hold secrets and must never be logged or shown.</summary>
    public static readonly IReadOnlyList<string> SecretKeys = ["telegram:bot_token", "llm:api_key", "Redis:ConnectionString", "Cluster:TlsCertificatePassword", "Http:DashboardPassword"];

    public static IConfigurationBuilder AddEngramConfiguration(this IConfigurationBuilder configuration, string contentRoot, IDictionary<string, string?>? environment = null)
    {
        // The seed's file; relative to the working directory first (how operators run it), then the content root.
        var configFile = Path.Combine(Directory.GetCurrentDirectory(), "config", "engram_config.json");
        if (!File.Exists(configFile))
            configFile = Path.Combine(contentRoot, "config", "engram_config.json");
        configuration.AddJsonFile(configFile, optional: true, reloadOnChange: false);

        configuration.AddEnvironmentVariables();
        configuration.AddInMemoryCollection(MapAliases(environment ?? ReadEnvironment()));
        return configuration;
    }

    internal static Dictionary<string, string?> MapAliases(IDictionary<string, string?> environment)
    {
        var mapped = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (variable, key) in EnvironmentAliases)
        {
            if (environment.TryGetValue(variable, out var value) && !string.IsNullOrWhiteSpace(value))
                mapped[key] = value.Trim();
        }
        return mapped;
    }

    private static Dictionary<string, string?> ReadEnvironment()
    {
        var result = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry entry in Environment.GetEnvironmentVariables())
            result[(string)entry.Key] = entry.Value as string;
        return result;
    }
}
