using System.Globalization;
using Engram.Trading.Indicators;
using Engram.Trading.MarketData;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Engram.Trading.Tools;

/// <summary>
/// The four tools as the bot and the LLM call them: user-facing strings in, a <see cref="ToolResult{T}"/> out.
/// Every expected failure (unknown symbol, bad timeframe, too little history, exchange down) comes back as a
/// <see cref="ToolError"/> with a message for the user; only cancellation and programming errors throw.
/// Thread-safe; register as a singleton.
/// </summary>
public sealed partial class TradingToolService(
    IMarketDataProvider provider,
    SymbolNormalizer symbols,
    IOptions<TradingOptions> options,
    ILogger<TradingToolService> logger,
    TimeProvider clock,
    ILiveTrackRecord? liveRecord = null)
{
    /// <summary>A failing live record is logged at most this often, not once per signal.</summary>
    private static readonly TimeSpan RecordFailureLogEvery = TimeSpan.FromMinutes(1);
    private long lastRecordFailureLog;

    private TradingOptions Options => options.Value;

    /// <summary>analyze_market(pair, timeframe).</summary>
    public Task<ToolResult<MarketAnalysis>> AnalyzeMarketAsync(string pair, string? timeframe = null, CancellationToken cancellationToken = default) =>
        Run<MarketAnalysis>(async () =>
        {
            if (!TryTimeframe(timeframe, out var tf, out var tfError))
            {
                return tfError;
            }

            var resolved = await symbols.ResolveAsync(pair, cancellationToken).ConfigureAwait(false);
            if (!resolved.IsSuccess)
            {
                return UnknownSymbol(resolved);
            }

            var symbol = resolved.Symbol!;
            var candlesTask = provider.GetCandlesAsync(symbol.Symbol, tf, Options.AnalysisCandles, cancellationToken);
            var tickerTask = provider.Get24hTickerAsync(symbol.Symbol, cancellationToken);
            var candles = await candlesTask.ConfigureAwait(false);
            var ticker = await tickerTask.ConfigureAwait(false);
            return TradingTools.AnalyzeMarket(symbol.Symbol, tf, candles, ticker, Notes(symbol));
        });

    /// <summary>
    /// generate_signal(pair, context). <paramref name="context"/> is free text: a timeframe in it ("4h", "daily")
    /// wins, then a style ("scalp" 5m, "short-term"/"intraday" 1h, "swing" 4h, "long-term"/"position" 1d);
    /// anything else falls back to the default timeframe.
    /// </summary>
    public Task<ToolResult<TradingSignal>> GenerateSignalAsync(string pair, string? context = null, CancellationToken cancellationToken = default) =>
        Run<TradingSignal>(async () =>
        {
            var resolved = await symbols.ResolveAsync(pair, cancellationToken).ConfigureAwait(false);
            if (!resolved.IsSuccess)
            {
                return UnknownSymbol(resolved);
            }

            var symbol = resolved.Symbol!;
            var (tf, contextNote) = TimeframeFromContext(context, DefaultTimeframe);
            // One fetch serves the signal (its last AnalysisCandles) and its backtest (all of them).
            var candles = await provider.GetCandlesAsync(symbol.Symbol, tf, Math.Max(Options.AnalysisCandles, Options.ConfidenceCandles), cancellationToken).ConfigureAwait(false);
            var notes = Notes(symbol);
            if (contextNote is not null)
            {
                notes.Add(contextNote);
            }

            var signal = TradingTools.GenerateSignal(symbol.Symbol, tf, candles, notes, Options.AnalysisCandles);
            return await WithLiveRecordAsync(signal, cancellationToken).ConfigureAwait(false);
        });

    /// <summary>Records the signal and adds how Engram's earlier ones did; the signal stands without it if the record fails.</summary>
    private async Task<TradingSignal> WithLiveRecordAsync(TradingSignal signal, CancellationToken cancellationToken)
    {
        if (liveRecord is null)
        {
            return signal;
        }

        try
        {
            return signal with { LiveRecord = await liveRecord.RecordAsync(signal, cancellationToken).ConfigureAwait(false) };
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            var now = clock.GetUtcNow().UtcTicks;
            var last = Interlocked.Read(ref lastRecordFailureLog);
            if (now - last >= RecordFailureLogEvery.Ticks && Interlocked.CompareExchange(ref lastRecordFailureLog, now, last) == last)
            {
                LogLiveRecordFailed(logger, signal.Symbol, signal.Timeframe, ex.GetType().Name, ex.Message);
            }

            return signal with { Notes = [.. signal.Notes, "The live track record could not be read just now; the backtest above still holds."] };
        }
    }

    /// <summary>get_confidence_score for a signal returned by <see cref="GenerateSignalAsync"/>.</summary>
    public Task<ToolResult<ConfidenceReport>> GetConfidenceScoreAsync(TradingSignal signal, CancellationToken cancellationToken = default) =>
        GetConfidenceScoreAsync(signal.Symbol, signal.Action.ToString(), signal.Timeframe, cancellationToken);

    /// <summary>get_confidence_score(signal, data): <paramref name="signal"/> is BUY, SELL or HOLD.</summary>
    public Task<ToolResult<ConfidenceReport>> GetConfidenceScoreAsync(string pair, string signal, string? timeframe = null, CancellationToken cancellationToken = default) =>
        Run<ConfidenceReport>(async () =>
        {
            if (!Enum.TryParse<SignalAction>(signal?.Trim(), ignoreCase: true, out var action) || !Enum.IsDefined(action))
            {
                return new ToolError(ToolErrorCode.InvalidSignal, $"Unknown signal '{signal}'. Use BUY, SELL or HOLD.", ["BUY", "SELL", "HOLD"]);
            }

            if (!TryTimeframe(timeframe, out var tf, out var tfError))
            {
                return tfError;
            }

            var resolved = await symbols.ResolveAsync(pair, cancellationToken).ConfigureAwait(false);
            if (!resolved.IsSuccess)
            {
                return UnknownSymbol(resolved);
            }

            var candles = await provider.GetCandlesAsync(resolved.Symbol!.Symbol, tf, Options.ConfidenceCandles, cancellationToken).ConfigureAwait(false);
            return TradingTools.ScoreConfidence(resolved.Symbol.Symbol, tf, candles, action);
        });

    /// <summary>
    /// assess_risk(pair, position_size). <paramref name="positionSize"/>: "0.5", "0.5 BTC", "$1000", "1000 USDT".
    /// <paramref name="riskTolerance"/>: low / medium / high (default from options). <paramref name="equity"/>, in
    /// the quote currency, turns the suggestion into an amount.
    /// </summary>
    public Task<ToolResult<RiskAssessment>> AssessRiskAsync(string pair, string positionSize, string? riskTolerance = null,
        double? equity = null, CancellationToken cancellationToken = default) =>
        Run<RiskAssessment>(async () =>
        {
            var toleranceText = string.IsNullOrWhiteSpace(riskTolerance) ? Options.DefaultRiskTolerance : riskTolerance;
            if (!RiskToleranceParser.TryParse(toleranceText, out var tolerance))
            {
                return new ToolError(ToolErrorCode.InvalidRiskTolerance, $"Unknown risk tolerance '{riskTolerance}'. Use low, medium or high.", ["low", "medium", "high"]);
            }

            if (equity is { } e && !(e > 0 && double.IsFinite(e)))
            {
                return new ToolError(ToolErrorCode.InvalidPositionSize, "Equity must be a positive amount.");
            }

            var resolved = await symbols.ResolveAsync(pair, cancellationToken).ConfigureAwait(false);
            if (!resolved.IsSuccess)
            {
                return UnknownSymbol(resolved);
            }

            var symbol = resolved.Symbol!;
            if (!PositionSize.TryParse(positionSize, symbol.BaseAsset, symbol.QuoteAsset, out var size, out var sizeError))
            {
                return new ToolError(ToolErrorCode.InvalidPositionSize, sizeError);
            }

            var candlesTask = provider.GetCandlesAsync(symbol.Symbol, Timeframe.D1, Options.RiskCandles, cancellationToken);
            var priceTask = provider.GetPriceAsync(symbol.Symbol, cancellationToken);
            var candles = await candlesTask.ConfigureAwait(false);
            var price = await priceTask.ConfigureAwait(false);
            var riskPct = tolerance switch
            {
                RiskTolerance.Low => Options.LowRiskPercent,
                RiskTolerance.High => Options.HighRiskPercent,
                _ => Options.MediumRiskPercent,
            };
            return TradingTools.AssessRisk(symbol, candles, size, tolerance, riskPct, price, equity, Notes(symbol));
        });

    /// <summary>
    /// propose_alert(pair, condition, price): checks the pair and the level against the current price and returns the
    /// /alert command a button will send. It creates nothing; only the user's tap does.
    /// </summary>
    public Task<ToolResult<AlertProposal>> ProposeAlertAsync(string pair, string condition, double price, CancellationToken cancellationToken = default) =>
        Run<AlertProposal>(async () =>
        {
            var side = condition?.Trim().ToLowerInvariant();
            if (side is not ("above" or "below"))
            {
                return new ToolError(ToolErrorCode.InvalidAlert, $"Unknown condition '{condition}'. Use above or below.", ["above", "below"]);
            }

            if (!(price > 0 && double.IsFinite(price)))
            {
                return new ToolError(ToolErrorCode.InvalidAlert, "The alert price must be a positive number.");
            }

            var resolved = await symbols.ResolveAsync(pair, cancellationToken).ConfigureAwait(false);
            if (!resolved.IsSuccess)
            {
                return UnknownSymbol(resolved);
            }

            var symbol = resolved.Symbol!;
            var now = await provider.GetPriceAsync(symbol.Symbol, cancellationToken).ConfigureAwait(false);
            if (side == "above" ? now >= price : now <= price)
            {
                return new ToolError(ToolErrorCode.InvalidAlert,
                    $"{symbol.Symbol} is already {side} {ToolText.FormatPrice(price)} (now {ToolText.FormatPrice(now)}); an alert would fire at once.");
            }

            var level = ToolText.Price(price);
            var command = $"/alert {symbol.BaseAsset}/{symbol.QuoteAsset} {side} {level.ToString("0.########", System.Globalization.CultureInfo.InvariantCulture)}";
            return new AlertProposal(symbol.Symbol, side, level, ToolText.Price(now), ToolText.Pct((price / now - 1) * 100), command,
                $"🔔 Set: {symbol.BaseAsset} {side} {ToolText.FormatPrice(level)}");
        });

    /// <summary>
    /// An indicator alert for the user to confirm: the line (<c>rsi</c>/<c>ema</c>/<c>sma</c> with a period, <c>volume</c>,
    /// <c>change</c> over a span), checked, with its value at the last close. Creates nothing.
    /// </summary>
    public Task<ToolResult<IndicatorAlertProposal>> ProposeIndicatorAlertAsync(string pair, string indicator, int? period, string? timeframe,
        string condition, double level, CancellationToken cancellationToken = default) =>
        Run<IndicatorAlertProposal>(async () =>
        {
            var side = condition?.Trim().ToLowerInvariant() ?? "";
            var word = indicator?.Trim().ToLowerInvariant() ?? "";
            IndicatorLine line;
            Timeframe tf;
            if (word == "change")
            {
                if (!IndicatorLine.TryParseSpan(timeframe ?? "24h", out var span) || !IndicatorLine.TryChange(span, out line, out tf))
                {
                    return new ToolError(ToolErrorCode.InvalidAlert, $"A change is over a span like 24h, 4h, 30m or 7d, not '{timeframe}'.");
                }
            }
            else
            {
                if (!IndicatorLine.TryParse(word + (period?.ToString(CultureInfo.InvariantCulture) ?? ""), out line))
                {
                    return new ToolError(ToolErrorCode.InvalidAlert,
                        $"Unknown indicator '{indicator}{period}'. Use rsi (period 2-50, default 14), ema or sma (period 2-200), volume, or change.",
                        ["rsi", "ema", "sma", "volume", "change"]);
                }

                if (!TryTimeframe(timeframe, out tf, out var tfError))
                {
                    return tfError;
                }
            }

            if (!line.IsAverage && !(double.IsFinite(level) && Math.Abs(level) < 1e9))
            {
                return new ToolError(ToolErrorCode.InvalidAlert, "The level must be a number: RSI 70, volume 2 (times the average), change 5 (percent).");
            }

            var threshold = line.IsAverage ? 0m : (decimal)level;

            if (line.AlertProblem(side, threshold) is { } problem)
            {
                return new ToolError(ToolErrorCode.InvalidAlert, problem);
            }

            var resolved = await symbols.ResolveAsync(pair, cancellationToken).ConfigureAwait(false);
            if (!resolved.IsSuccess)
            {
                return UnknownSymbol(resolved);
            }

            var symbol = resolved.Symbol!;
            var candles = await provider.GetCandlesAsync(symbol.Symbol, tf, IndicatorLine.Window, cancellationToken).ConfigureAwait(false);
            var close = candles.Select(c => c.Close).ToArray();
            var series = line.Compute(close, candles.Select(c => c.Volume).ToArray());
            double? now = series.Length > 0 && !double.IsNaN(series[^1]) ? Math.Round(series[^1], 4) : null;
            var command = line.AlertCommand(symbol.BaseAsset, tf, side, threshold);
            var what = line.IsAverage ? $"{(side == "crosses" ? "crosses" : "crosses " + side)} {line.Name(tf)}" : $"{line.Name(tf)} {side} {command.Split(' ')[^1]}";
            return new IndicatorAlertProposal(symbol.Symbol, line.Name(tf), tf.Code, side, line.IsAverage ? null : level, now,
                line.IsAverage && close.Length > 0 ? close[^1] : null,
                candles.Count > 0 ? candles[^1].OpenTime + tf.Duration : null, command, $"🔔 Set: {symbol.BaseAsset} {what}");
        });

    /// <summary>Picks the timeframe for generate_signal from free text; the note explains a fallback.</summary>
    public static (Timeframe Timeframe, string? Note) TimeframeFromContext(string? context, Timeframe fallback)
    {
        if (string.IsNullOrWhiteSpace(context))
        {
            return (fallback, null);
        }

        if (Timeframe.TryFind(context, out var explicitTf))
        {
            return (explicitTf.Value, null);
        }

        var text = context.ToLowerInvariant();
        Timeframe? styled =
            text.Contains("scalp", StringComparison.Ordinal) ? Timeframe.M5
            : text.Contains("swing", StringComparison.Ordinal) ? Timeframe.H4
            : text.Contains("long", StringComparison.Ordinal) || text.Contains("position", StringComparison.Ordinal) || text.Contains("invest", StringComparison.Ordinal) ? Timeframe.D1
            : text.Contains("short", StringComparison.Ordinal) || text.Contains("intraday", StringComparison.Ordinal) || text.Contains("day trad", StringComparison.Ordinal) ? Timeframe.H1
            : null;
        return styled is { } tf ? (tf, null) : (fallback, $"Context '{context}' did not name a timeframe; used {fallback}.");
    }

    private Timeframe DefaultTimeframe => Timeframe.Parse(Options.DefaultTimeframe);

    private bool TryTimeframe(string? text, out Timeframe timeframe, out ToolError error)
    {
        error = null!;
        if (string.IsNullOrWhiteSpace(text))
        {
            timeframe = DefaultTimeframe;
            return true;
        }

        if (Timeframe.TryParse(text, out timeframe))
        {
            return true;
        }

        error = new ToolError(ToolErrorCode.InvalidTimeframe, Timeframe.UnknownMessage(text), Timeframe.All.Select(t => t.Code).ToList());
        return false;
    }

    private static ToolError UnknownSymbol(SymbolResolution resolution) =>
        new(ToolErrorCode.UnknownSymbol, resolution.Error ?? "Unknown trading pair.", resolution.Suggestions);

    private static List<string> Notes(ParsedSymbol symbol) => symbol.Note is null ? [] : [symbol.Note];

    private async Task<ToolResult<T>> Run<T>(Func<Task<ToolResult<T>>> tool) where T : class, IToolResult
    {
        try
        {
            return await tool().ConfigureAwait(false);
        }
        catch (InsufficientHistoryException ex)
        {
            return new ToolError(ToolErrorCode.InsufficientHistory, ex.Message);
        }
        catch (MarketDataException ex) when (ex.Kind == MarketDataErrorKind.InvalidSymbol)
        {
            return new ToolError(ToolErrorCode.UnknownSymbol, ex.Message);
        }
        catch (MarketDataException ex)
        {
            LogMarketDataFailure(logger, ex.Kind, ex.Message);
            return new ToolError(ex.Kind == MarketDataErrorKind.NoData ? ToolErrorCode.InsufficientHistory : ToolErrorCode.MarketDataUnavailable, ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Live track record of {Symbol} {Timeframe} unavailable ({Error}: {Message}); signals go out without it (logged at most once a minute)")]
    private static partial void LogLiveRecordFailed(ILogger logger, string symbol, string timeframe, string error, string message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Market data failure ({Kind}): {Message}")]
    private static partial void LogMarketDataFailure(ILogger logger, MarketDataErrorKind kind, string message);
}
