using System.Reflection;
using Engram.Agent;
using Engram.Charts;
using Engram.Grains.Alerts;
using Engram.Grains.Users;
using Engram.Telegram;
using Engram.Trading.MarketData;
using Engram.Trading.Tools;
using Microsoft.Extensions.Configuration;

namespace Engram.Silo.Configuration;

/// <summary>
/// Every setting Engram reads, as configuration keys (<c>section:key</c>), so deployment files can
/// be checked against it: a misspelt variable in a compose or systemd file is otherwise ignored silently.
/// </summary>
public static class KnownSettings
{
    private static readonly (string Section, Type Options)[] Sections =
    [
        (LmStudioOptions.SectionName, typeof(LmStudioOptions)),
        (LlmOptions.SectionName, typeof(LlmOptions)),
        (AgentOptions.SectionName, typeof(AgentOptions)),
        (TradingOptions.SectionName, typeof(TradingOptions)),
        (MarketDataOptions.SectionName, typeof(MarketDataOptions)),
        (RedisOptions.SectionName, typeof(RedisOptions)),
        (EngramClusterOptions.SectionName, typeof(EngramClusterOptions)),
        (HttpEndpointOptions.SectionName, typeof(HttpEndpointOptions)),
        (UserGrainOptions.SectionName, typeof(UserGrainOptions)),
        (TelegramOptions.SectionName, typeof(TelegramOptions)),
        (AlertOptions.SectionName, typeof(AlertOptions)),
        (Engram.Grains.Digests.DigestOptions.SectionName, typeof(Engram.Grains.Digests.DigestOptions)),
        (ChartOptions.SectionName, typeof(ChartOptions)),
        (BinancePriceStreamOptions.SectionName, typeof(BinancePriceStreamOptions)),
    ];

    /// <summary>Keys read directly rather than through an options class.</summary>
    private static readonly string[] Direct =
    [
        "Logging:Level", "Logging:Directory", "Logging:Console", "Telemetry:OtlpEndpoint", "Shutdown:Timeout", "Chat:UserId",
    ];

    public static IReadOnlySet<string> Keys { get; } = Build();

    /// <summary>The configuration key of an options class's member (<c>UserGrainOptions</c>, <c>CommandsPerMinute</c> → <c>Users:CommandsPerMinute</c>).</summary>
    public static string? KeyFor(string optionsTypeName, string member)
    {
        foreach (var (section, type) in Sections)
        {
            if (type.Name != optionsTypeName && type.FullName != optionsTypeName)
                continue;
            var property = type.GetProperty(member, BindingFlags.Public | BindingFlags.Instance);
            return $"{section}:{property?.GetCustomAttribute<ConfigurationKeyNameAttribute>()?.Name ?? member}";
        }
        return null;
    }

    /// <summary>
    /// True for an environment variable Engram (or .NET itself) reads: a known alias such as
    /// <c>TELEGRAM_BOT_TOKEN</c>, a <c>Section__Key</c> form of a known key, or a DOTNET_/ASPNETCORE_ runtime setting.
    /// </summary>
    public static bool IsKnownEnvironmentVariable(string name)
    {
        if (EngramConfiguration.EnvironmentAliases.ContainsKey(name))
            return true;
        if (name.StartsWith("DOTNET_", StringComparison.Ordinal) || name.StartsWith("ASPNETCORE_", StringComparison.Ordinal) || name.StartsWith("OTEL_", StringComparison.Ordinal))
            return true;
        return Keys.Contains(name.Replace("__", ":", StringComparison.Ordinal));
    }

    private static HashSet<string> Build()
    {
        var keys = new HashSet<string>(Direct, StringComparer.OrdinalIgnoreCase);
        foreach (var (section, type) in Sections)
        {
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
                keys.Add($"{section}:{property.GetCustomAttribute<ConfigurationKeyNameAttribute>()?.Name ?? property.Name}");
        }
        return keys;
    }
}
