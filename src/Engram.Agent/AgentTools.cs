using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Engram.Abstractions.Conversation;
using Engram.Trading.Tools;
using Microsoft.Extensions.AI;

namespace Engram.Agent;

/// <summary>
/// The tool schema the model sees: the four trading tools and three user-scoped tools (propose_alert only proposes). Each tool
/// has a hand-written JSON schema (precise descriptions, the timeframe enum) and parses its own
/// arguments, so a malformed call becomes an error the model can read, never an exception.
/// A toolset is built per question: the user-scoped tools close over that user's snapshot only.
/// </summary>
public sealed class AgentTools
{
    public static readonly IReadOnlyList<string> Timeframes = ["1m", "5m", "15m", "30m", "1h", "4h", "1d", "1w"];

    public static readonly IReadOnlyList<string> Names =
        ["analyze_market", "generate_signal", "get_confidence_score", "assess_risk", "get_portfolio", "list_alerts", "propose_alert"];

    /// <summary>Alerts one answer may propose; each becomes a button under it.</summary>
    public const int MaxProposals = 3;

    private static readonly JsonSerializerOptions ViewJson = new(JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    private readonly ConcurrentQueue<ToolInvocation> invocations = new();
    private readonly ConcurrentQueue<ReplyButton> proposals = new();

    /// <summary>The alerts the model proposed, as the buttons that set them (owner-bound like every button).</summary>
    public IReadOnlyList<ReplyButton> ProposedAlerts => proposals.ToArray();

    public AgentTools(TradingToolService trading, UserContext user)
    {
        var timeframeEnum = JsonSerializer.Serialize(Timeframes);
        Functions =
        [
            new Tool("analyze_market",
                "Technical analysis of a trading pair computed from real exchange candles: trend (price vs EMA 20/50/200, EMA slope), " +
                "momentum (RSI 14, MACD histogram), volatility (ATR %, Bollinger width), support/resistance levels, 24h change and volume, " +
                "and the close time of the last candle used. Call it for any question about a coin's price, trend or outlook.",
                $$$"""{"type":"object","properties":{"pair":{"type":"string","description":"Trading pair or coin, e.g. BTC/USDT, ETHUSDT, SOL, bitcoin. USD quotes are read as USDT."},"timeframe":{"type":"string","enum":{{{timeframeEnum}}},"description":"Candle interval. Default 1h."}},"required":["pair"]}""",
                async (args, ct) => await Record(trading.AnalyzeMarketAsync(Str(args, "pair"), OptStr(args, "timeframe"), ct))),
            new Tool("generate_signal",
                "BUY, SELL or HOLD for a pair from five documented indicator rules: the current price and its candle close time, every rule with " +
                "the indicator values it read, its threshold and its vote, entry with ATR-based stop-loss and take-profit for BUY/SELL, the horizon " +
                "in candles, and the backtested hit rate of the same signal on this pair. Use before giving any trade idea.",
                """{"type":"object","properties":{"pair":{"type":"string","description":"Trading pair or coin, e.g. BTC/USDT."},"context":{"type":"string","description":"Optional trading style or timeframe in words, e.g. 'short-term', 'swing', '4h', 'long-term'. Picks the timeframe; unknown text is ignored."}},"required":["pair"]}""",
                async (args, ct) => await Record(trading.GenerateSignalAsync(Str(args, "pair"), OptStr(args, "context"), ct))),
            new Tool("get_confidence_score",
                "How reliable a signal has been historically: replays the same signal rules over the pair's past candles (no look-ahead) and " +
                "reports the hit rate, average and worst outcome, sample size and a Wilson lower bound with a grade. Call it after generate_signal.",
                $$$"""{"type":"object","properties":{"signal":{"type":"string","enum":["BUY","SELL","HOLD"],"description":"The signal to score, usually the action generate_signal returned."},"data":{"type":"object","description":"Which market the signal is for.","properties":{"pair":{"type":"string","description":"Trading pair, e.g. BTC/USDT."},"timeframe":{"type":"string","enum":{{{timeframeEnum}}},"description":"The signal's timeframe. Default 1h."}},"required":["pair"]}},"required":["signal","data"]}""",
                async (args, ct) =>
                {
                    var data = Obj(args, "data");
                    return await Record(trading.GetConfidenceScoreAsync(Str(data, "pair"), Str(args, "signal"), OptStr(data, "timeframe"), ct));
                }),
            new Tool("assess_risk",
                "Risk of holding a position: daily volatility, 95% historical VaR and expected shortfall for the position, maximum drawdown, " +
                "ATR stop distance, and a suggested position size for the user's risk tolerance. For the user's own holding, call get_portfolio first.",
                """{"type":"object","properties":{"pair":{"type":"string","description":"Trading pair, e.g. BTC/USDT."},"position_size":{"type":"string","description":"Amount of the asset ('0.5', '0.5 BTC') or a quote value ('$1000', '1000 USDT')."}},"required":["pair","position_size"]}""",
                async (args, ct) => await Record(trading.AssessRiskAsync(Str(args, "pair"), Str(args, "position_size"),
                    user.Settings.RiskTolerance.ToString().ToLowerInvariant(), cancellationToken: ct))),
            new Tool("get_portfolio",
                "The calling user's own recorded portfolio: positions (symbol, amount, average cost), realised P&L and recent buys/sells. " +
                "Only this user's data; no arguments.",
                """{"type":"object","properties":{}}""",
                (_, _) => Task.FromResult(View(user.Portfolio, $"{user.Portfolio.Positions.Count} position(s)"))),
            new Tool("list_alerts",
                "The calling user's own active price alerts (id, symbol, above/below, price). Only this user's data; no arguments.",
                """{"type":"object","properties":{}}""",
                (_, _) => Task.FromResult(View(user.Alerts.Where(a => !a.Triggered).ToList(), $"{user.Alerts.Count(a => !a.Triggered)} active alert(s)"))),
            new Tool("propose_alert",
                "Propose an alert for the user to set with one tap: checked against the market now and shown as a button under your answer. " +
                "It creates nothing; only the user's tap sets the alert. Use when the user asks to be told when a price goes above or below a level, " +
                "or when an indicator does: RSI above/below a level, the price crossing a moving average, volume over its average, a change over a span. " +
                "Indicator alerts are checked at each candle close of their timeframe.",
                $$$"""{"type":"object","properties":{"pair":{"type":"string","description":"Trading pair or coin, e.g. BTC/USDT, ETH."},"condition":{"type":"string","enum":["above","below","crosses"],"description":"above or below the level; for a moving average: crosses (either way), above or below (the price crossing it that way)."},"price":{"type":"number","description":"A price alert's level, in the pair's quote currency. Omit for an indicator alert."},"indicator":{"type":"string","enum":["rsi","ema","sma","volume","change"],"description":"Omit for a price alert. rsi: RSI level 0-100; ema/sma: the price crossing the average; volume: candle volume as a multiple of its 20-candle average; change: % change over a span."},"period":{"type":"integer","description":"rsi (default 14) or ema/sma period (e.g. 50, 200)."},"timeframe":{"type":"string","description":"Candle timeframe for rsi/ema/sma/volume (e.g. 1h, 4h, 1d; default 1h); for change, the span (e.g. 24h, 4h, 7d)."},"level":{"type":"number","description":"The indicator level: RSI 70, volume 2 (twice the average), change 5 or -5 (percent). Not used for a moving average."}},"required":["pair","condition"]}""",
                async (args, ct) => proposals.Count >= MaxProposals
                    ? new ToolOutput(JsonSerializer.SerializeToElement(new { error = $"At most {MaxProposals} alerts can be proposed in one answer." }), "Too many proposals.", true, null)
                    : args.ContainsKey("indicator") && Str(args, "indicator") is { Length: > 0 } indicator && indicator != "price"
                        ? await Record(Propose(trading.ProposeIndicatorAlertAsync(Str(args, "pair"), indicator, OptionalInt(args, "period"), OptStr(args, "timeframe"),
                            Str(args, "condition"), args.ContainsKey("level") ? Num(args, "level") : 0, ct)))
                        : await Record(Propose(trading.ProposeAlertAsync(Str(args, "pair"), Str(args, "condition"), Num(args, "price"), ct)))),
        ];
        foreach (var tool in Functions.Cast<Tool>())
            tool.Recorder = invocations;
    }

    public IReadOnlyList<AITool> Functions { get; }

    /// <summary>Every call the model made, in order.</summary>
    public IReadOnlyList<ToolInvocation> Invocations => invocations.ToArray();

    private async Task<ToolResult<AlertProposal>> Propose(Task<ToolResult<AlertProposal>> call)
    {
        var result = await call;
        if (result.IsSuccess)
            proposals.Enqueue(new ReplyButton(result.Value.ButtonLabel, result.Value.Command));
        return result;
    }

    private async Task<ToolResult<IndicatorAlertProposal>> Propose(Task<ToolResult<IndicatorAlertProposal>> call)
    {
        var result = await call;
        if (result.IsSuccess)
            proposals.Enqueue(new ReplyButton(result.Value.ButtonLabel, result.Value.Command));
        return result;
    }

    private static int? OptionalInt(IReadOnlyDictionary<string, JsonElement> args, string name) =>
        args.TryGetValue(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n) ? n
        : args.TryGetValue(name, out value) && value.ValueKind == JsonValueKind.String && int.TryParse(value.GetString(), out n) ? n : null;

    private static double Num(IReadOnlyDictionary<string, JsonElement> args, string name) =>
        args.TryGetValue(name, out var value) ? value.ValueKind switch
        {
            JsonValueKind.Number => value.GetDouble(),
            JsonValueKind.String when double.TryParse(value.GetString()?.Replace(",", "", StringComparison.Ordinal), System.Globalization.NumberStyles.Float,
                System.Globalization.CultureInfo.InvariantCulture, out var parsed) => parsed,
            _ => throw new ToolArgumentException($"Argument '{name}' must be a number."),
        } : throw new ToolArgumentException($"Missing required argument '{name}'.");

    private static async Task<ToolOutput> Record<T>(Task<ToolResult<T>> call) where T : class, IToolResult
    {
        var result = await call;
        return new ToolOutput(JsonDocument.Parse(result.ToJson()).RootElement.Clone(), result.ToSummary(), !result.IsSuccess, DataTimestamp(result.Value));
    }

    private static ToolOutput View(object value, string summary) =>
        new(JsonSerializer.SerializeToElement(value, ViewJson), summary, false, null);

    public static DateTimeOffset? DataTimestamp(object? result) => result switch
    {
        MarketAnalysis a => a.LastCandleCloseTime,
        TradingSignal s => s.LastCandleCloseTime,
        _ => null,
    };

    private static string Str(IReadOnlyDictionary<string, JsonElement> args, string name) =>
        OptStr(args, name) ?? throw new ToolArgumentException($"Missing required argument '{name}'.");

    private static string? OptStr(IReadOnlyDictionary<string, JsonElement> args, string name) =>
        args.TryGetValue(name, out var value) ? value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Number => value.GetRawText(),
            JsonValueKind.Null or JsonValueKind.Undefined => null,
            _ => throw new ToolArgumentException($"Argument '{name}' must be a string."),
        } : null;

    private static IReadOnlyDictionary<string, JsonElement> Obj(IReadOnlyDictionary<string, JsonElement> args, string name)
    {
        if (!args.TryGetValue(name, out var value))
            throw new ToolArgumentException($"Missing required argument '{name}'.");
        if (value.ValueKind == JsonValueKind.String && value.GetString() is { } text && text.TrimStart().StartsWith('{'))
            value = JsonDocument.Parse(text).RootElement; // some models send nested objects as strings
        if (value.ValueKind != JsonValueKind.Object)
            throw new ToolArgumentException($"Argument '{name}' must be an object like {{\"pair\":\"BTC/USDT\",\"timeframe\":\"1h\"}}.");
        return value.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone());
    }

    /// <summary>What a tool produced: JSON for the model, a summary for people, and whether it failed.</summary>
    private sealed record ToolOutput(JsonElement Json, string Summary, bool IsError, DateTimeOffset? DataTimestamp);

    /// <summary>An AIFunction with an explicit schema whose errors go back to the model as a JSON error.</summary>
    private sealed class Tool(string name, string description, string schema,
        Func<IReadOnlyDictionary<string, JsonElement>, CancellationToken, Task<ToolOutput>> invoke) : AIFunction
    {
        private readonly JsonElement jsonSchema = JsonDocument.Parse(schema).RootElement.Clone();

        public ConcurrentQueue<ToolInvocation> Recorder { get; set; } = new();
        public override string Name => name;
        public override string Description => description;
        public override JsonElement JsonSchema => jsonSchema;

        protected override async ValueTask<object?> InvokeCoreAsync(AIFunctionArguments arguments, CancellationToken cancellationToken)
        {
            var started = Stopwatch.GetTimestamp();
            var args = arguments.ToDictionary(a => a.Key, a => ToElement(a.Value));
            var argsJson = JsonSerializer.Serialize(args);
            ToolOutput output;
            try
            {
                output = await invoke(args, cancellationToken);
            }
            catch (Exception ex) when (ex is ToolArgumentException or JsonException or FormatException or InvalidOperationException)
            {
                // The model reads this and can correct its call; the user never sees an exception.
                var message = $"Invalid arguments for {name}: {ex.Message}";
                output = new ToolOutput(JsonSerializer.SerializeToElement(new { error = message }), message, true, null);
            }
            var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            Recorder.Enqueue(new ToolInvocation(name, argsJson, output.Json.GetRawText(), output.Summary, elapsed, output.IsError, output.DataTimestamp));
            return output.Json;
        }

        private static JsonElement ToElement(object? value) => value switch
        {
            JsonElement e => e,
            null => default,
            _ => JsonSerializer.SerializeToElement(value),
        };
    }
}

public sealed class ToolArgumentException(string message) : Exception(message);
