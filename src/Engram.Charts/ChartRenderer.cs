namespace Engram.Charts;

/// <summary>
/// Renders chat charts with ScottPlot. Stateless apart from the resolved font: every call builds its own plots
/// and Skia surface, so one instance may be used from any number of threads at once.
/// </summary>
public sealed class ChartRenderer : IChartRenderer
{
    private readonly ChartOptions _options;
    private readonly Lazy<string?> _fontFamily;

    public ChartRenderer(ChartOptions? options = null)
    {
        _options = options ?? new ChartOptions();
        var errors = _options.Validate().ToList();
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", errors), nameof(options));
        }

        _fontFamily = new Lazy<string?>(() => ChartFonts.Resolve(_options.FontFamilies));
    }

    public ChartOptions Options => _options;

    /// <summary>The font family labels are drawn with, or null when none of the configured ones is installed.</summary>
    public string? FontFamily => _fontFamily.Value;

    public ChartResult RenderPriceChart(PriceChartRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (Check(request.Size) is { } sizeError)
        {
            return sizeError;
        }

        if (string.IsNullOrWhiteSpace(request.Symbol))
        {
            return ChartResult.Failure(ChartErrorKind.InvalidRequest, "A price chart needs a symbol.");
        }

        if (request.Timeframe.Code is null)
        {
            return ChartResult.Failure(ChartErrorKind.InvalidRequest, "A price chart needs a timeframe.");
        }

        var count = request.Candles?.Count ?? 0;
        if (count < _options.MinCandles)
        {
            return ChartResult.Failure(ChartErrorKind.NotEnoughHistory,
                $"Not enough history for {request.Symbol.ToUpperInvariant()} {request.Timeframe.Code}: " +
                $"{count} candle{(count == 1 ? "" : "s")}, need at least {_options.MinCandles}.");
        }

        if (request.VisibleCandles < _options.MinCandles)
        {
            return ChartResult.Failure(ChartErrorKind.InvalidRequest,
                $"A price chart shows at least {_options.MinCandles} candles (asked for {request.VisibleCandles}).");
        }

        foreach (var alert in request.Alerts ?? [])
        {
            if (!double.IsFinite(alert.Price) || alert.Price <= 0)
            {
                return ChartResult.Failure(ChartErrorKind.InvalidRequest, $"Alert level '{alert.Label}' has an invalid price {alert.Price}.");
            }
        }

        return FontFamily is { } font
            ? ChartResult.Success(PriceChart.Render(request, font))
            : FontMissing();
    }

    public ChartResult RenderPortfolioChart(PortfolioChartRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (Check(request.Size) is { } sizeError)
        {
            return sizeError;
        }

        if (request.Positions is null || request.Positions.Count == 0)
        {
            return ChartResult.Failure(ChartErrorKind.InvalidRequest, "The portfolio has no positions to chart.");
        }

        foreach (var p in request.Positions)
        {
            if (string.IsNullOrWhiteSpace(p.Symbol) || !double.IsFinite(p.Value) || p.Value < 0 || !double.IsFinite(p.Pnl))
            {
                return ChartResult.Failure(ChartErrorKind.InvalidRequest,
                    $"Position '{p.Symbol}' has an invalid value ({p.Value}) or P&L ({p.Pnl}).");
            }
        }

        if (request.Positions.Sum(p => p.Value) <= 0)
        {
            return ChartResult.Failure(ChartErrorKind.InvalidRequest, "The portfolio's total value is zero, so there is no allocation to chart.");
        }

        return FontFamily is { } font
            ? ChartResult.Success(PortfolioChart.Render(request, font))
            : FontMissing();
    }

    private ChartResult FontMissing() => ChartResult.Failure(ChartErrorKind.FontMissing,
        $"Charts are unavailable: none of the fonts {string.Join(", ", _options.FontFamilies)} is installed " +
        "(on Debian: apt-get install fonts-dejavu-core).");

    private static ChartResult? Check(ChartSize size) =>
        size.Width < ChartSize.Minimum.Width || size.Height < ChartSize.Minimum.Height
        || size.Width > ChartSize.Maximum.Width || size.Height > ChartSize.Maximum.Height
            ? ChartResult.Failure(ChartErrorKind.InvalidRequest,
                $"Chart size {size} is outside {ChartSize.Minimum}..{ChartSize.Maximum}.")
            : null;
}
