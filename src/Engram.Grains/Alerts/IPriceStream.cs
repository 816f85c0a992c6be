namespace Engram.Grains.Alerts;

/// <summary>
/// A push price feed on this silo (Binance WebSocket streams). A price watch asks for its symbol
/// when it activates here; ticks are delivered to the symbol's <see cref="IPriceWatchGrain.OnPriceAsync"/>.
/// While the stream is live for a symbol, the watch skips its REST polling (the fallback).
/// </summary>
public interface IPriceStream
{
    void Watch(string symbol);
    void Unwatch(string symbol);

    /// <summary>True when a tick for <paramref name="symbol"/> arrived recently over a connected stream.</summary>
    bool IsLive(string symbol);
}

/// <summary>No push feed configured: price watches poll REST.</summary>
public sealed class NoPriceStream : IPriceStream
{
    public void Watch(string symbol) { }
    public void Unwatch(string symbol) { }
    public bool IsLive(string symbol) => false;
}
