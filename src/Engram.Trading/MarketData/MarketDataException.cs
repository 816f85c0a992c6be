namespace Engram.Trading.MarketData;

public enum MarketDataErrorKind
{
    /// <summary>The exchange does not list the symbol (Binance -1121).</summary>
    InvalidSymbol,
    /// <summary>A request parameter was refused (other Binance 4xx).</summary>
    BadRequest,
    RateLimited,
    Unavailable,
    Timeout,
    /// <summary>The body could not be read as the expected JSON.</summary>
    BadResponse,
    NoData,
}

/// <summary>
/// Any failure to obtain market data. <see cref="Exception.Message"/> is written for the end user:
/// the bot may show it as is.
/// </summary>
public sealed class MarketDataException : Exception
{
    public MarketDataException(MarketDataErrorKind kind, string message, Exception? inner = null)
        : base(message, inner)
    {
        Kind = kind;
    }

    public MarketDataErrorKind Kind { get; }

    /// <summary>Binance error code from the body, when there was one (e.g. -1121).</summary>
    public int? ExchangeCode { get; init; }
}
