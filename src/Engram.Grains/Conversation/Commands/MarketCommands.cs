using System.Diagnostics;
using Engram.Abstractions.Conversation;
using Engram.Abstractions.Users;
using Engram.Trading.MarketData;
using Engram.Trading.Tools;
using static Engram.Grains.Conversation.ReplyText;

namespace Engram.Grains.Conversation.Commands;

/// <summary>/analyze, /signal, /risk and /chart: every number computed by the trading tools.</summary>
public sealed class MarketCommands(TradingToolService trading, SymbolNormalizer symbols, PriceCharts charts) : ICommandHandler
{
    public IReadOnlyCollection<string> Commands { get; } = ["analyze", "signal", "risk", "chart"];

    public Task<ChatReply?> RunAsync(UserSession session, ParsedMessage m) => m.Command switch
    {
        "analyze" => AnalyzeAsync(session, m.Args),
        "signal" => SignalAsync(session, m.Args),
        "risk" => RiskAsync(session, m.Args),
        _ => ChartAsync(session, m.Args),
    };

    /// <summary>The analysis is computed now; the model is asked only to comment on it, and the reply comes with its answer.</summary>
    private async Task<ChatReply?> AnalyzeAsync(UserSession session, IReadOnlyList<string> args)
    {
        if (args.Count is < 1 or > 2)
            return Usage("analyze", args.Count == 0 ? "Which pair?" : "Too many arguments.");
        var settings = session.Settings;
        var started = Stopwatch.GetTimestamp();
        var result = await trading.AnalyzeMarketAsync(args[0], args.Count > 1 ? args[1] : settings.DefaultTimeframe);
        if (!result.IsSuccess)
            return ToolError(result.Error!);

        var summary = result.ToSummary();
        var invocation = new ToolInvocation("analyze_market",
            System.Text.Json.JsonSerializer.Serialize(new { pair = result.Value!.Symbol, timeframe = result.Value.Timeframe }),
            result.ToJson(), summary, Stopwatch.GetElapsedTime(started).TotalMilliseconds, false, result.Value.LastCandleCloseTime);
        var detailed = settings.ResponseFormat == ResponseFormat.Detailed;
        session.Ask(new PendingQuestion
        {
            Question = $"Comment on this analysis of {result.Value.Symbol} {result.Value.Timeframe}.",
            Precomputed = [invocation],
            Lead = summary,
            ChartSymbol = detailed ? result.Value.Symbol : null,
            ChartTimeframe = detailed ? result.Value.Timeframe : null,
        });
        return null;
    }

    private async Task<ChatReply?> SignalAsync(UserSession session, IReadOnlyList<string> args)
    {
        if (args.Count is < 1 or > 2)
            return Usage("signal", args.Count == 0 ? "Which pair?" : "Too many arguments.");
        var settings = session.Settings;
        var signal = await trading.GenerateSignalAsync(args[0], args.Count > 1 ? args[1] : settings.DefaultTimeframe);
        if (!signal.IsSuccess)
            return ToolError(signal.Error!);
        // The signal carries its figures and its backtest, so one tool result is the whole reply.
        return new ChatReply(settings.ResponseFormat == ResponseFormat.Raw ? signal.ToJson() : signal.ToSummary());
    }

    private async Task<ChatReply?> RiskAsync(UserSession session, IReadOnlyList<string> args)
    {
        if (args.Count < 2)
            return Usage("risk", args.Count == 0 ? "Which pair, and what position size?" : "What position size? An amount (0.5) or a value ($1000).");
        var settings = session.Settings;
        var result = await trading.AssessRiskAsync(args[0], string.Join(' ', args.Skip(1)), settings.RiskTolerance.ToString().ToLowerInvariant());
        if (!result.IsSuccess)
            return ToolError(result.Error!, "risk");
        return new ChatReply(settings.ResponseFormat == ResponseFormat.Raw ? result.ToJson() : result.ToSummary());
    }

    private async Task<ChatReply?> ChartAsync(UserSession session, IReadOnlyList<string> args)
    {
        if (args.Count is < 1 or > 2)
            return Usage("chart", args.Count == 0 ? "Which pair?" : "Too many arguments.");
        var timeframeText = args.Count > 1 ? args[1] : session.Settings.DefaultTimeframe;
        if (!Timeframe.TryParse(timeframeText, out var timeframe))
            return ChatReply.Error(Timeframe.UnknownMessage(timeframeText));
        var resolved = await symbols.ResolveAsync(args[0]);
        if (!resolved.IsSuccess)
            return UnknownPair(resolved);
        var chart = await charts.RenderAsync(session, resolved.Symbol!.Symbol, timeframe);
        if (!chart.IsSuccess)
            return ChatReply.Error(chart.Error!);
        return new ChatReply($"📈 {Pretty(resolved.Symbol.Symbol)} {timeframe.Code}: candles, EMA 20/50, Bollinger Bands, volume and RSI; dashed lines are your alerts.",
            Photo: chart.Png, Buttons: [new("Analyze", $"/analyze {resolved.Symbol.BaseAsset} {timeframe.Code}")]);
    }
}
