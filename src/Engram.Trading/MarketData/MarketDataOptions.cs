namespace Engram.Trading.MarketData;

public enum MarketDataProviderKind
{
    Binance,
    Csv,
}

/// <summary>Configuration section <c>MarketData</c>.</summary>
public sealed class MarketDataOptions
{
    public const string SectionName = "MarketData";

    /// <summary><c>Binance</c> (live public REST) or <c>Csv</c> (files in <see cref="CsvDirectory"/>).</summary>
    public MarketDataProviderKind Provider { get; set; } = MarketDataProviderKind.Binance;

    /// <summary>The host maps the env var BINANCE_BASE_URL here.</summary>
    public string BinanceBaseUrl { get; set; } = "https://api.binance.com";

    /// <summary>Directory of <c>binance_SYMBOL_TF.csv</c> files; required when <see cref="Provider"/> is Csv.</summary>
    public string? CsvDirectory { get; set; }

    /// <summary>Time allowed for one HTTP attempt.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Time allowed for a call including all retries and their delays.</summary>
    public TimeSpan TotalTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Retries after the first attempt, on 5xx, 408, 429, network errors and attempt timeouts.</summary>
    public int MaxRetries { get; set; } = 3;

    /// <summary>First backoff delay; doubles per retry (with jitter). A Retry-After header wins over it.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How long the exchange's symbol list is reused before it is fetched again.</summary>
    public TimeSpan SymbolListCacheDuration { get; set; } = TimeSpan.FromHours(6);

    internal IEnumerable<string> Validate()
    {
        if (Provider == MarketDataProviderKind.Binance
            && (!Uri.TryCreate(BinanceBaseUrl, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)))
        {
            yield return $"MarketData:BinanceBaseUrl must be an absolute http(s) URL, got '{BinanceBaseUrl}'.";
        }

        if (Provider == MarketDataProviderKind.Csv && (string.IsNullOrWhiteSpace(CsvDirectory) || !Directory.Exists(CsvDirectory)))
        {
            yield return $"MarketData:CsvDirectory must name an existing directory when MarketData:Provider is Csv, got '{CsvDirectory}'.";
        }

        if (AttemptTimeout <= TimeSpan.Zero || TotalTimeout < AttemptTimeout)
        {
            yield return "MarketData:AttemptTimeout must be positive and no longer than MarketData:TotalTimeout.";
        }

        if (MaxRetries is < 0 or > 10)
        {
            yield return "MarketData:MaxRetries must be between 0 and 10.";
        }

        if (RetryBaseDelay < TimeSpan.Zero)
        {
            yield return "MarketData:RetryBaseDelay must not be negative.";
        }
    }
}
