using Engram.Trading.MarketData;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Engram.Grains.Alerts;

/// <summary>Section <c>PriceStream</c>: the Binance WebSocket push feed of <see cref="BinancePriceStream"/>.</summary>
public sealed class BinancePriceStreamOptions
{
    public const string SectionName = "PriceStream";

    /// <summary>
    /// Null (default): on when <c>MarketData:Provider</c> is Binance and its REST prices come from binance.com, or
    /// <see cref="BaseUrl"/> is set explicitly; so a silo whose REST prices come from a stand-in or the testnet never
    /// mixes in live exchange prices. True forces it on, false off.
    /// </summary>
    public bool? Enabled { get; set; }

    /// <summary>The market data stream host; <c>/ws</c> is appended. Tests point it at a local <c>ws://127.0.0.1:port</c>.</summary>
    public string BaseUrl { get; set; } = "wss://stream.binance.com:9443";

    /// <summary>A symbol is live only while its last tick is younger than this (miniTicker pushes once a second).</summary>
    public TimeSpan StaleAfter { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>First reconnect delay; doubles per failed attempt, with jitter, up to <see cref="ReconnectMaxDelay"/>.</summary>
    public TimeSpan ReconnectMinDelay { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Time allowed for the WebSocket handshake.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Binance ends every connection at 24 h; we reconnect on our own terms before that.</summary>
    public TimeSpan MaxConnectionAge { get; set; } = TimeSpan.FromHours(23);

    /// <summary>
    /// How often we ping the server (WebSocket ping frames); a connection whose pong does not come back within
    /// <see cref="KeepAliveTimeout"/> is aborted and reconnected. Server pings are answered by the runtime.
    /// </summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(30);

    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(20);

    internal bool IsEnabled(MarketDataProviderKind provider, string restBaseUrl, bool baseUrlConfigured) =>
        Enabled ?? (provider == MarketDataProviderKind.Binance && (baseUrlConfigured
            || (Uri.TryCreate(restBaseUrl, UriKind.Absolute, out var rest) && (rest.Host == "binance.com" || rest.Host.EndsWith(".binance.com", StringComparison.OrdinalIgnoreCase)))));

    internal IEnumerable<string> Validate()
    {
        if (!Uri.TryCreate(BaseUrl, UriKind.Absolute, out var uri) || (uri.Scheme != "ws" && uri.Scheme != "wss"))
            yield return $"PriceStream:BaseUrl must be an absolute ws(s) URL, got '{BaseUrl}'.";
        if (StaleAfter <= TimeSpan.Zero)
            yield return "PriceStream:StaleAfter must be positive.";
        if (ReconnectMinDelay <= TimeSpan.Zero || ReconnectMaxDelay < ReconnectMinDelay)
            yield return "PriceStream:ReconnectMinDelay must be positive and no longer than PriceStream:ReconnectMaxDelay.";
        if (ConnectTimeout <= TimeSpan.Zero)
            yield return "PriceStream:ConnectTimeout must be positive.";
        if (MaxConnectionAge <= TimeSpan.Zero || MaxConnectionAge >= TimeSpan.FromHours(24))
            yield return "PriceStream:MaxConnectionAge must be positive and under 24 h (Binance closes connections at 24 h).";
        if (KeepAliveInterval <= TimeSpan.Zero || KeepAliveTimeout <= TimeSpan.Zero)
            yield return "PriceStream:KeepAliveInterval and PriceStream:KeepAliveTimeout must be positive.";
    }
}

public static class PriceStreamRegistration
{
    /// <summary>
    /// When enabled (by default: Binance market data read from binance.com, see <see cref="BinancePriceStreamOptions.Enabled"/>): one <see cref="BinancePriceStream"/> per
    /// silo as its <see cref="IPriceStream"/> (in place of <see cref="NoPriceStream"/>) and as a hosted service,
    /// options from section <c>PriceStream</c> validated at start-up.
    /// </summary>
    public static IServiceCollection AddBinancePriceStream(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection(BinancePriceStreamOptions.SectionName);
        var market = configuration.GetSection(MarketDataOptions.SectionName);
        var enabled = (section.Get<BinancePriceStreamOptions>() ?? new BinancePriceStreamOptions()).IsEnabled(
            market.GetValue(nameof(MarketDataOptions.Provider), MarketDataProviderKind.Binance),
            market[nameof(MarketDataOptions.BinanceBaseUrl)] ?? new MarketDataOptions().BinanceBaseUrl,
            baseUrlConfigured: !string.IsNullOrWhiteSpace(section[nameof(BinancePriceStreamOptions.BaseUrl)]));
        if (!enabled)
            return services;

        services.AddOptions<BinancePriceStreamOptions>()
            .Bind(section)
            .Validate(o => !o.Validate().Any(), "PriceStream options are invalid (ws(s) BaseUrl, positive delays, MaxConnectionAge under 24 h).")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<BinancePriceStream>();
        // Takes the place of the NoPriceStream fallback whichever was registered first, but not of a test's own stream.
        if (services.FirstOrDefault(d => d.ServiceType == typeof(IPriceStream) && d.ImplementationType == typeof(NoPriceStream)) is { } fallback)
            services.Remove(fallback);
        services.TryAddSingleton<IPriceStream>(sp => sp.GetRequiredService<BinancePriceStream>());
        services.AddHostedService(sp => sp.GetRequiredService<BinancePriceStream>());
        return services;
    }
}
