using System.Diagnostics.CodeAnalysis;

namespace Engram.Charts;

public enum ChartErrorKind
{
    None,

    /// <summary>Fewer candles than the indicators need; the message names the pair, timeframe and counts.</summary>
    NotEnoughHistory,

    /// <summary>The request itself is unusable (no positions, negative value, size out of range…).</summary>
    InvalidRequest,

    /// <summary>No usable font is installed, so every label would be blank (install fonts-dejavu-core).</summary>
    FontMissing,
}

/// <summary>
/// A rendered PNG or the reason there is none. Errors are expected outcomes (a new listing, an empty portfolio),
/// so they come back as values with a message fit to show the user, not as exceptions.
/// </summary>
public sealed class ChartResult
{
    private ChartResult(byte[]? png, ChartErrorKind errorKind, string? error)
    {
        Png = png;
        ErrorKind = errorKind;
        Error = error;
    }

    /// <summary>The encoded PNG; shared with the cache, so treat it as read-only.</summary>
    public byte[]? Png { get; }

    public ChartErrorKind ErrorKind { get; }

    /// <summary>A sentence fit for the chat, e.g. "Not enough history for BTCUSDT 1h: 12 candles, need at least 30".</summary>
    public string? Error { get; }

    [MemberNotNullWhen(true, nameof(Png))]
    [MemberNotNullWhen(false, nameof(Error))]
    public bool IsSuccess => Png is not null;

    public static ChartResult Success(byte[] png) => new(png ?? throw new ArgumentNullException(nameof(png)), ChartErrorKind.None, null);

    public static ChartResult Failure(ChartErrorKind kind, string message)
    {
        if (kind == ChartErrorKind.None)
        {
            throw new ArgumentOutOfRangeException(nameof(kind), "A failure needs an error kind.");
        }

        return new(null, kind, message);
    }

    public override string ToString() => IsSuccess ? $"PNG, {Png.Length} bytes" : $"{ErrorKind}: {Error}";
}
