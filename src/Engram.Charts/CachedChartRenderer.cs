using System.Globalization;
using System.Text;

namespace Engram.Charts;

/// <summary>
/// Serves the same PNG again while nothing that is drawn has changed: a closed candle never changes, so a price
/// chart is identified by symbol, timeframe, last candle open time, candle count, view, the alert levels and the
/// size. Asking again for the same chart (several users, a refresh button) costs a dictionary lookup instead of
/// a render. Errors are not cached. Bounded by <see cref="ChartOptions.CacheCapacity"/>, least recently used out.
/// </summary>
public sealed class CachedChartRenderer : IChartRenderer
{
    private readonly IChartRenderer _inner;
    private readonly LruCache<ChartKey, ChartResult> _cache;

    public CachedChartRenderer(IChartRenderer inner, int capacity = 64)
    {
        _inner = inner ?? throw new ArgumentNullException(nameof(inner));
        _cache = new LruCache<ChartKey, ChartResult>(capacity);
    }

    /// <summary>Images currently held.</summary>
    public int Count => _cache.Count;

    public ChartResult RenderPriceChart(PriceChartRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Candles is not { Count: > 0 } candles)
        {
            return _inner.RenderPriceChart(request);
        }

        var key = new ChartKey(
            $"price|{request.Symbol.ToUpperInvariant()}|{request.Timeframe.Code}|{candles[^1].OpenTimeMs}|{candles[0].OpenTimeMs}|{candles.Count}" +
            $"|{request.VisibleCandles}|{request.Source}|{AlertsKey(request.Alerts)}",
            request.Size);
        return GetOrRender(key, () => _inner.RenderPriceChart(request));
    }

    public ChartResult RenderPortfolioChart(PortfolioChartRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Positions is null)
        {
            return _inner.RenderPortfolioChart(request);
        }

        var text = new StringBuilder("portfolio|")
            .Append(request.AsOf.UtcTicks).Append('|').Append(request.QuoteAsset).Append('|').Append(request.Title);
        foreach (var p in request.Positions)
        {
            text.Append('|').Append(p.Symbol).Append('=').Append(R(p.Value)).Append('/').Append(R(p.Pnl));
        }

        return GetOrRender(new ChartKey(text.ToString(), request.Size), () => _inner.RenderPortfolioChart(request));
    }

    private ChartResult GetOrRender(ChartKey key, Func<ChartResult> render)
    {
        if (_cache.TryGet(key, out var cached))
        {
            return cached;
        }

        var result = render();
        return result.IsSuccess ? _cache.GetOrAdd(key, result) : result;
    }

    /// <summary>
    /// The alert levels as exact text, order-independent. Kept as text rather than a hash so that two different
    /// sets of levels can never share an image.
    /// </summary>
    private static string AlertsKey(IReadOnlyList<AlertLevel>? alerts)
    {
        if (alerts is null || alerts.Count == 0)
        {
            return "";
        }

        return string.Join(";", alerts
            .OrderBy(a => a.Price)
            .ThenBy(a => a.Label, StringComparer.Ordinal)
            .Select(a => $"{R(a.Price)}={a.Label}"));
    }

    private static string R(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private readonly record struct ChartKey(string Text, ChartSize Size);
}
