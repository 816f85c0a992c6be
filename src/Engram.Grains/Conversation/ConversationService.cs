using System.Diagnostics;
using System.Globalization;
using System.Text;
using Engram.Abstractions.Common;
using Engram.Abstractions.Conversation;
using Engram.Abstractions.Users;
using Engram.Agent;
using Engram.Charts;
using Engram.Grains.Users;
using Engram.Trading.MarketData;
using Engram.Trading.Tools;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Engram.Grains.Conversation;

/// <summary>
/// Turns one message into replies: commands are parsed and run in code; anything else is a
/// question for the LLM worker. It runs inside the user's grain turn and changes the user's data
/// only through that grain, so one user's messages are handled strictly in order.
/// </summary>
public sealed partial class ConversationService(
    IGrainFactory grains,
    TradingToolService trading,
    SymbolNormalizer symbols,
    IMarketDataProvider market,
    IOptions<LlmOptions> llm,
    Telemetry.EngramMetrics metrics,
    IChartRenderer charts,
    Operations.IOperationalStatus operations,
    TimeProvider clock,
    ILogger<ConversationService> logger)
{
    public const string Disclaimer = "Engram explains market data; it is not financial advice. Every figure comes from Engram's own calculations on exchange data.";
    private static readonly DateTimeOffset ProcessStarted = Process.GetCurrentProcess().StartTime.ToUniversalTime();

    /// <param name="notify">Receives interim notices (queued…) before the reply; null to skip them.</param>
    public async Task<IReadOnlyList<ChatReply>> HandleAsync(long userId, IUserGrain user, IncomingMessage message, Func<ChatReply, Task>? notify = null)
    {
        var parsed = ParsedMessage.Parse(message.Text);
        notify ??= message.Observer is { } observer ? observer.OnReplyAsync : null;
        metrics.MessageProcessed(parsed.IsCommand);
        if (parsed.IsCommand)
            metrics.CommandExecuted(CommandCatalog.Find(parsed.Command!) is { } known ? known.Name : "unknown");
        try
        {
            if (!parsed.IsCommand)
                return [await AskAsync(userId, user, parsed.Text, notify)];
            return [await RunCommandAsync(userId, user, parsed)];
        }
        catch (UserStateUnavailableException ex)
        {
            metrics.Error("storage");
            return [ChatReply.Error(ex.Message)];
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            metrics.Error("conversation");
            LogFailed(ex, userId, parsed.Command ?? "question");
            return [ChatReply.Error("Something went wrong on my side and nothing was changed. Please try again in a moment.")];
        }
    }

    private Task<ChatReply> RunCommandAsync(long userId, IUserGrain user, ParsedMessage m) => m.Command switch
    {
        "start" => Task.FromResult(Start()),
        "help" => Task.FromResult(Help()),
        "status" => StatusAsync(user),
        "analyze" => AnalyzeAsync(userId, user, m.Args),
        "chart" => ChartAsync(user, m.Args),
        "signal" => SignalAsync(user, m.Args),
        "risk" => RiskAsync(user, m.Args),
        "alert" => AddAlertAsync(user, m.Args),
        "alerts" => AlertsAsync(user),
        "delalert" => DeleteAlertAsync(user, m.Args),
        "portfolio" => m.Args.Count == 1 && m.Args[0].Equals("chart", StringComparison.OrdinalIgnoreCase) ? PortfolioChartAsync(user)
            : m.Args.Count == 0 ? PortfolioAsync(user) : Task.FromResult(Usage("portfolio")),
        "buy" => TradeAsync(user, m.Args, TradeSide.Buy),
        "sell" => TradeAsync(user, m.Args, TradeSide.Sell),
        "format" => FormatAsync(user, m.Args),
        "reset" => ResetAsync(user),
        // The Telegram ingress replaces a button pressed by someone other than its owner with this.
        "__foreign_button" => Task.FromResult(ChatReply.Error("That button belongs to someone else's message; it did nothing.")),
        _ => Task.FromResult(Unknown(m.Command!)),
    };

    // ------------------------------------------------------------------ simple commands

    private static ChatReply Start() => new(
        "👋 Welcome to Engram, your trading assistant.\n\n" +
        "I analyse crypto markets with indicators computed from real exchange data, give signals with their historical track record, " +
        "assess risk, watch prices for you and keep your portfolio. Ask me anything in plain words (\"should I buy bitcoin now?\") or use a command:\n" +
        "/analyze BTC 4h · /signal ETH · /risk BTC 0.5 · /alert BTC above 100000 · /portfolio · /help\n\n" + Disclaimer);

    private static ChatReply Help()
    {
        var text = new StringBuilder("Commands:\n");
        foreach (var c in CommandCatalog.All)
            text.Append(c.Usage).Append(" — ").Append(c.Description).Append(". e.g. ").Append(c.Example).Append('\n');
        text.Append("\nOr just ask a question in your own words. Pairs: BTC, ETH/USDT, solana…; timeframes: ").Append(string.Join(" ", AgentTools.Timeframes)).Append('.');
        return new ChatReply(text.ToString());
    }

    private static ChatReply Unknown(string command)
    {
        var closest = CommandCatalog.Closest(command);
        return ChatReply.Error(closest is null
            ? $"I don't know /{command}. /help lists every command."
            : $"I don't know /{command}. Did you mean /{closest.Name}? {closest.Usage}\n/help lists every command.");
    }

    private static ChatReply Usage(string command, string? problem = null) =>
        ChatReply.Error((problem is null ? "" : problem + "\n") + CommandCatalog.UsageOf(command));

    private async Task<ChatReply> StatusAsync(IUserGrain user)
    {
        var worker = grains.GetGrain<ILlmWorkerGrain>(0);
        var healthTask = worker.CheckHealthAsync();
        var hostsTask = grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true);
        var alerts = await user.GetAlertsAsync();
        var health = await healthTask;
        var hosts = await hostsTask;
        var uptime = clock.GetUtcNow() - ProcessStarted;
        var text = new StringBuilder("Engram status\n");
        text.Append(health.Reachable
            ? $"🧠 AI model: {health.Model} reachable ({health.LatencyMs:0} ms)"
            : $"🧠 AI model: {health.Model} NOT reachable — answers come from the tools alone");
        if (health.Error is not null && health.Reachable)
            text.Append(" — ").Append(health.Error);
        text.Append(CultureInfo.InvariantCulture, $"\n   checked {health.CheckedAt.UtcDateTime:HH:mm:ss} UTC; {health.InFlight} question(s) in flight, {health.Queued} queued\n");
        text.Append(CultureInfo.InvariantCulture, $"🔧 Tools: {health.ToolNames.Count} ({string.Join(", ", health.ToolNames)})\n");
        text.Append(CultureInfo.InvariantCulture, $"🖥 Cluster: {hosts.Count} silo(s) active\n");
        foreach (var line in await operations.DescribeAsync())
            text.Append(line).Append('\n');
        text.Append(CultureInfo.InvariantCulture, $"🔔 Your active alerts: {alerts.Count}\n");
        text.Append(CultureInfo.InvariantCulture, $"⏱ Uptime: {(int)uptime.TotalDays}d {uptime.Hours}h {uptime.Minutes}m");
        return new ChatReply(text.ToString());
    }

    private static async Task<ChatReply> ResetAsync(IUserGrain user)
    {
        await user.ResetHistoryAsync();
        return new ChatReply("🧹 Done: I forgot our conversation. Your alerts, portfolio and settings are unchanged.");
    }

    private static async Task<ChatReply> FormatAsync(IUserGrain user, IReadOnlyList<string> args)
    {
        if (args.Count != 1 || !Enum.TryParse<ResponseFormat>(args[0], ignoreCase: true, out var format) || !Enum.IsDefined(format) || int.TryParse(args[0], out _))
        {
            var current = (await user.GetSettingsAsync()).ResponseFormat.ToString().ToLowerInvariant();
            return Usage("format", args.Count == 0 ? $"Your answers are shown as: {current}." : $"'{string.Join(' ', args)}' is not a format.")
                with { Buttons = [new("clean", "/format clean"), new("detailed", "/format detailed"), new("raw", "/format raw")] };
        }
        await user.SetResponseFormatAsync(format);
        return new ChatReply($"✅ Answers will now be {format.ToString().ToLowerInvariant()}." + format switch
        {
            ResponseFormat.Detailed => " You'll see the tools used, the data time, the model and timings.",
            ResponseFormat.Raw => " You'll see the model's unfiltered output and the tool results as JSON.",
            _ => "",
        });
    }

    // ------------------------------------------------------------------ trading commands

    private async Task<ChatReply> AnalyzeAsync(long userId, IUserGrain user, IReadOnlyList<string> args)
    {
        if (args.Count is < 1 or > 2)
            return Usage("analyze", args.Count == 0 ? "Which pair?" : "Too many arguments.");
        var settings = await user.GetSettingsAsync();
        var started = Stopwatch.GetTimestamp();
        var result = await trading.AnalyzeMarketAsync(args[0], args.Count > 1 ? args[1] : settings.DefaultTimeframe);
        if (!result.IsSuccess)
            return ToolError(result.Error!);

        var summary = result.ToSummary();
        var invocation = new ToolInvocation("analyze_market",
            System.Text.Json.JsonSerializer.Serialize(new { pair = result.Value!.Symbol, timeframe = result.Value.Timeframe }),
            result.ToJson(), summary, Stopwatch.GetElapsedTime(started).TotalMilliseconds, false, result.Value.LastCandleCloseTime);
        // The numbers are final; the model is asked only to comment on them.
        var answer = await AskWorkerAsync(userId, user, settings, $"Comment on this analysis of {result.Value.Symbol} {result.Value.Timeframe}.", null, [invocation]);
        var text = ReplyFormatter.Format(answer, settings.ResponseFormat, lead: summary);
        if (settings.ResponseFormat == ResponseFormat.Detailed
            && await RenderPriceChartAsync(user, result.Value.Symbol, Timeframe.Parse(result.Value.Timeframe)) is { IsSuccess: true } chart)
            return new ChatReply(text, Photo: chart.Png);
        return new ChatReply(text);
    }

    private async Task<ChatReply> SignalAsync(IUserGrain user, IReadOnlyList<string> args)
    {
        if (args.Count is < 1 or > 2)
            return Usage("signal", args.Count == 0 ? "Which pair?" : "Too many arguments.");
        var settings = await user.GetSettingsAsync();
        var signal = await trading.GenerateSignalAsync(args[0], args.Count > 1 ? args[1] : settings.DefaultTimeframe);
        if (!signal.IsSuccess)
            return ToolError(signal.Error!);
        var confidence = await trading.GetConfidenceScoreAsync(signal.Value!);
        var text = signal.ToSummary().Replace("\n" + ToolText.Disclaimer, "", StringComparison.Ordinal) + "\n\n" + confidence.ToSummary();
        if (settings.ResponseFormat == ResponseFormat.Raw)
            text = signal.ToJson() + "\n\n" + confidence.ToJson();
        return new ChatReply(text);
    }

    private async Task<ChatReply> RiskAsync(IUserGrain user, IReadOnlyList<string> args)
    {
        if (args.Count < 2)
            return Usage("risk", args.Count == 0 ? "Which pair, and what position size?" : "What position size? An amount (0.5) or a value ($1000).");
        var settings = await user.GetSettingsAsync();
        var result = await trading.AssessRiskAsync(args[0], string.Join(' ', args.Skip(1)), settings.RiskTolerance.ToString().ToLowerInvariant());
        if (!result.IsSuccess)
            return ToolError(result.Error!, "risk");
        return new ChatReply(settings.ResponseFormat == ResponseFormat.Raw ? result.ToJson() : result.ToSummary());
    }

    private async Task<ChatReply> ChartAsync(IUserGrain user, IReadOnlyList<string> args)
    {
        if (args.Count is < 1 or > 2)
            return Usage("chart", args.Count == 0 ? "Which pair?" : "Too many arguments.");
        var settings = await user.GetSettingsAsync();
        var timeframeText = args.Count > 1 ? args[1] : settings.DefaultTimeframe;
        if (!Timeframe.TryParse(timeframeText, out var timeframe))
            return ChatReply.Error(Timeframe.UnknownMessage(timeframeText));
        var resolved = await symbols.ResolveAsync(args[0]);
        if (!resolved.IsSuccess)
            return ToolError(new ToolError(ToolErrorCode.UnknownSymbol, resolved.Error ?? "Unknown pair.", resolved.Suggestions));
        var chart = await RenderPriceChartAsync(user, resolved.Symbol!.Symbol, timeframe);
        if (!chart.IsSuccess)
            return ChatReply.Error(chart.Error!);
        return new ChatReply($"📈 {Pretty(resolved.Symbol.Symbol)} {timeframe.Code}: candles, EMA 20/50, Bollinger Bands, volume and RSI; dashed lines are your alerts.",
            Photo: chart.Png, Buttons: [new("Analyze", $"/analyze {resolved.Symbol.BaseAsset} {timeframe.Code}")]);
    }

    /// <summary>The chart of a pair with the user's alert levels; rendered on the thread pool so the grain's scheduler is never blocked.</summary>
    private async Task<ChartResult> RenderPriceChartAsync(IUserGrain user, string symbol, Timeframe timeframe)
    {
        IReadOnlyList<Candle> candles;
        try
        {
            candles = await market.GetCandlesAsync(symbol, timeframe, 150);
        }
        catch (MarketDataException ex)
        {
            return ChartResult.Failure(ChartErrorKind.InvalidRequest, ex.Message);
        }
        var alerts = (await user.GetAlertsAsync()).Where(a => a.Symbol == symbol)
            .Select(a => new AlertLevel($"#{a.Id} {(a.Condition == AlertCondition.Above ? "above" : "below")}", (double)a.Threshold)).ToList();
        return await Task.Run(() => charts.RenderPriceChart(new PriceChartRequest(symbol, timeframe, candles, alerts)));
    }

    private async Task<ChatReply> PortfolioChartAsync(IUserGrain user)
    {
        var portfolio = await user.GetPortfolioAsync();
        if (portfolio.Positions.Count == 0)
            return ChatReply.Error("Your portfolio is empty, so there is nothing to chart yet. Record a purchase with /buy BTC 0.1");
        var positions = new List<PortfolioPosition>();
        foreach (var position in portfolio.Positions)
        {
            if (await TryPriceAsync(position.Symbol) is not { } price)
                return ChatReply.Error($"I couldn't get the current {Pretty(position.Symbol)} price for the chart; please try again shortly.");
            positions.Add(new PortfolioPosition(Pretty(position.Symbol), (double)(position.Amount * price), (double)(position.Amount * price - position.CostBasis)));
        }
        var chart = await Task.Run(() => charts.RenderPortfolioChart(new PortfolioChartRequest(positions, clock.GetUtcNow())));
        return chart.IsSuccess
            ? new ChatReply("💼 Allocation by current value, and unrealised P&L per position.", Photo: chart.Png)
            : ChatReply.Error(chart.Error!);
    }

    private static ChatReply ToolError(ToolError error, string? command = null)
    {
        var text = error.Message;
        if (error.Suggestions.Count > 0 && error.Code == ToolErrorCode.UnknownSymbol)
            text += "\nDid you mean: " + string.Join(", ", error.Suggestions.Take(5)) + "?";
        if (command is not null && error.Code == ToolErrorCode.InvalidPositionSize)
            text += "\n" + CommandCatalog.UsageOf(command);
        return ChatReply.Error(text);
    }

    // ------------------------------------------------------------------ alerts

    private async Task<ChatReply> AddAlertAsync(IUserGrain user, IReadOnlyList<string> args)
    {
        if (AlertCommand.Parse(args) is not { } parsed)
            return Usage("alert", args.Count == 0 ? "Which pair, and when?" : AlertCommand.Problem(args));

        var resolved = await symbols.ResolveAsync(parsed.Pair);
        if (!resolved.IsSuccess)
            return ToolError(new ToolError(ToolErrorCode.UnknownSymbol, resolved.Error ?? "Unknown pair.", resolved.Suggestions));
        var symbol = resolved.Symbol!.Symbol;
        var price = await TryPriceAsync(symbol);

        var condition = parsed.Condition;
        var threshold = parsed.Threshold;
        if (parsed.Percent is { } percent)
        {
            // A move relative to now needs now.
            if (price is not { } current)
                return ChatReply.Error($"I couldn't get the current {Pretty(symbol)} price to set a {percent:+0.##;-0.##}% alert. Try again, or give a price: /alert {resolved.Symbol.BaseAsset} above 100000");
            condition = percent > 0 ? AlertCondition.Above : AlertCondition.Below;
            threshold = Math.Round(current * (1 + percent / 100m), 8);
        }

        var expires = parsed.ExpiresIn is { } lifetime ? clock.GetUtcNow() + lifetime : (DateTimeOffset?)null;
        var result = await user.AddAlertAsync(new AlertRequest(symbol, condition, threshold, price, parsed.Repeat, parsed.Cooldown, expires, parsed.Percent));
        if (!result.Ok)
            return ChatReply.Error(result.Error!);
        var alert = result.Value!;
        var now = price is { } p ? $" (now {Money(p)}, {Distance(p, threshold)} away)" : " (current price unavailable right now)";
        return new ChatReply($"🔔 Alert #{alert.Id} set: {Pretty(symbol)} {Word(alert.Condition)} {Money(threshold)}{now}.{Extras(alert)}"
            + (resolved.Symbol.Note is { } note ? "\n" + note : ""),
            Buttons: [new($"Delete #{alert.Id}", $"/delalert {alert.Id}"), new("My alerts", "/alerts")]);
    }

    private static string Extras(AlertView alert)
    {
        var parts = new List<string>();
        if (alert.RelativePercent is { } pct)
            parts.Add($"{pct:+0.##;-0.##}% from when it was set");
        if (alert.Repeat)
            parts.Add($"repeats, {Alerts.AlertNotification.Duration(alert.Cooldown ?? TimeSpan.FromHours(1))} cooldown");
        if (alert.ExpiresAt is { } expires)
            parts.Add($"expires {expires.UtcDateTime:yyyy-MM-dd HH:mm} UTC");
        return parts.Count == 0 ? "" : " " + string.Join("; ", parts) + ".";
    }

    private async Task<ChatReply> AlertsAsync(IUserGrain user)
    {
        var alerts = await user.GetAlertsAsync();
        if (alerts.Count == 0)
            return new ChatReply("You have no active alerts. Set one with /alert BTC above 100000");
        var text = new StringBuilder($"🔔 Your active alerts ({alerts.Count}):\n");
        var buttons = new List<ReplyButton>();
        foreach (var alert in alerts)
        {
            var price = await TryPriceAsync(alert.Symbol);
            text.Append(CultureInfo.InvariantCulture, $"#{alert.Id} {Pretty(alert.Symbol)} {Word(alert.Condition)} {Money(alert.Threshold)}");
            text.Append(price is { } p ? $" — now {Money(p)}, {Distance(p, alert.Threshold)} away" : "");
            text.Append(Extras(alert)).Append('\n');
            buttons.Add(new($"🗑 #{alert.Id}", $"/delalert {alert.Id}"));
        }
        return new ChatReply(text.ToString().TrimEnd(), Buttons: buttons);
    }

    private static async Task<ChatReply> DeleteAlertAsync(IUserGrain user, IReadOnlyList<string> args)
    {
        if (args.Count != 1 || !int.TryParse(args[0].TrimStart('#'), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            return Usage("delalert", args.Count == 0 ? "Which alert? /alerts shows their ids." : $"'{string.Join(' ', args)}' is not an alert id.");
        var result = await user.RemoveAlertAsync(id);
        return result.Ok
            ? new ChatReply($"🗑 Deleted alert #{id}: {Pretty(result.Value!.Symbol)} {Word(result.Value.Condition)} {Money(result.Value.Threshold)}.")
            : ChatReply.Error(result.Error!);
    }

    // ------------------------------------------------------------------ portfolio

    private async Task<ChatReply> PortfolioAsync(IUserGrain user)
    {
        var portfolio = await user.GetPortfolioAsync();
        if (portfolio.Positions.Count == 0 && portfolio.RecentTransactions.Count == 0)
            return new ChatReply("Your portfolio is empty. Record a purchase with /buy BTC 0.1 65000 (or without a price to use the current one).");
        var text = new StringBuilder("💼 Your portfolio\n");
        decimal totalValue = 0, totalCost = 0;
        var priced = true;
        foreach (var position in portfolio.Positions)
        {
            text.Append(CultureInfo.InvariantCulture, $"{Pretty(position.Symbol)}: {Number(position.Amount)} @ avg {Money(position.AverageCost)}");
            if (await TryPriceAsync(position.Symbol) is { } price)
            {
                var value = position.Amount * price;
                var pnl = value - position.CostBasis;
                totalValue += value;
                totalCost += position.CostBasis;
                text.Append(CultureInfo.InvariantCulture, $" — now {Money(price)}, value {Money(value)}, unrealised {Signed(pnl)} ({Pct(pnl, position.CostBasis)})\n");
            }
            else
            {
                priced = false;
                text.Append(" — current price unavailable\n");
            }
        }
        if (portfolio.Positions.Count > 0 && priced)
            text.Append(CultureInfo.InvariantCulture, $"Total value {Money(totalValue)}, unrealised {Signed(totalValue - totalCost)} ({Pct(totalValue - totalCost, totalCost)})\n");
        text.Append(CultureInfo.InvariantCulture, $"Realised P&L: {Signed(portfolio.RealizedPnl)}");
        return new ChatReply(text.ToString(), Buttons: portfolio.Positions.Count > 0 ? [new("📊 Chart", "/portfolio chart")] : null);
    }

    private async Task<ChatReply> TradeAsync(IUserGrain user, IReadOnlyList<string> args, TradeSide side)
    {
        var command = side == TradeSide.Buy ? "buy" : "sell";
        if (args.Count is < 2 or > 3)
            return Usage(command, args.Count == 0 ? "Which pair and how much?" : args.Count == 1 ? "How much?" : "Too many arguments.");
        if (!TryParseAmount(args[1], out var amount) || amount <= 0)
            return Usage(command, $"'{args[1]}' is not an amount above zero.");
        decimal? price = null;
        if (args.Count == 3)
        {
            if (!TryParseAmount(args[2], out var given) || given <= 0)
                return Usage(command, $"'{args[2]}' is not a price above zero.");
            price = given;
        }

        var resolved = await symbols.ResolveAsync(args[0]);
        if (!resolved.IsSuccess)
            return ToolError(new ToolError(ToolErrorCode.UnknownSymbol, resolved.Error ?? "Unknown pair.", resolved.Suggestions));
        var symbol = resolved.Symbol!.Symbol;
        price ??= await TryPriceAsync(symbol);
        if (price is null)
            return ChatReply.Error($"I couldn't get the current {Pretty(symbol)} price. Give the price yourself, e.g. /{command} {resolved.Symbol.BaseAsset} {Number(amount)} 65000");

        var result = side == TradeSide.Buy ? await user.BuyAsync(symbol, amount, price.Value) : await user.SellAsync(symbol, amount, price.Value);
        if (!result.Ok)
            return ChatReply.Error(result.Error!);
        var receipt = result.Value!;
        var text = side == TradeSide.Buy
            ? $"✅ Bought {Number(amount)} {Pretty(symbol)} at {Money(price.Value)}. You now hold {Number(receipt.PositionAfter.Amount)} at an average {Money(receipt.PositionAfter.AverageCost)}."
            : $"✅ Sold {Number(amount)} {Pretty(symbol)} at {Money(price.Value)}: realised {Signed(receipt.Transaction.RealizedPnl)}. You now hold {Number(receipt.PositionAfter.Amount)}. Total realised P&L {Signed(receipt.TotalRealizedPnl)}.";
        return new ChatReply(text + (args.Count == 2 ? " (current market price)" : ""));
    }

    // ------------------------------------------------------------------ free text

    private async Task<ChatReply> AskAsync(long userId, IUserGrain user, string question, Func<ChatReply, Task>? notify)
    {
        if (question.Length == 0)
            return ChatReply.Error("Ask me something, e.g. \"how is bitcoin doing?\", or send /help.");
        if (question.Length > llm.Value.MaxQuestionChars)
            return ChatReply.Error($"That message is {question.Length} characters; please keep questions under {llm.Value.MaxQuestionChars}.");

        var settings = await user.GetSettingsAsync();
        var answer = await AskWorkerAsync(userId, user, settings, question, notify, null);
        if (answer.Outcome == LlmOutcome.Busy)
            return ChatReply.Notice(answer.CleanText);
        await user.AppendExchangeAsync(question, answer.CleanText);
        return new ChatReply(ReplyFormatter.Format(answer, settings.ResponseFormat));
    }

    private async Task<LlmAnswer> AskWorkerAsync(long userId, IUserGrain user, EffectiveSettings settings, string question, Func<ChatReply, Task>? notify, IReadOnlyList<ToolInvocation>? precomputed)
    {
        var worker = grains.GetGrain<ILlmWorkerGrain>(0);
        var load = await worker.GetLoadAsync();
        if (load.InFlight >= load.Capacity && notify is not null)
        {
            // Say so at once rather than leave the user wondering; the answer follows when a slot frees.
            await notify(ChatReply.Notice($"⏳ I'm busy with other questions; yours is queued ({load.Queued + 1} waiting)."));
        }
        var context = new UserContext(await user.GetPortfolioAsync(), await user.GetAlertsAsync(), settings);
        return await worker.AskAsync(new LlmRequest(userId, question, await user.GetHistoryAsync(), context, precomputed));
    }

    // ------------------------------------------------------------------ helpers

    private async Task<decimal?> TryPriceAsync(string symbol)
    {
        try
        {
            var price = await market.GetPriceAsync(symbol);
            return double.IsFinite(price) && price > 0 ? (decimal)price : null;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogPriceUnavailable(symbol, ex.GetType().Name);
            return null;
        }
    }

    /// <summary>"100000", "100,000", "$100000", "1e5", "0.5": invariant culture; NaN and infinities cannot parse into decimal.</summary>
    internal static bool TryParseAmount(string text, out decimal value)
    {
        var cleaned = text.Trim().TrimStart('$').Replace(",", "", StringComparison.Ordinal).Replace("_", "", StringComparison.Ordinal);
        var multiplier = 1m;
        if (cleaned.EndsWith('k') || cleaned.EndsWith('K')) { multiplier = 1_000m; cleaned = cleaned[..^1]; }
        else if (cleaned.EndsWith('m') || cleaned.EndsWith('M')) { multiplier = 1_000_000m; cleaned = cleaned[..^1]; }
        if (decimal.TryParse(cleaned, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && value < 1_000_000_000_000m)
        {
            value *= multiplier;
            return true;
        }
        value = 0;
        return false;
    }

    private static string Pretty(string symbol) => UserAccount.Pretty(symbol);
    private static string Word(AlertCondition c) => c == AlertCondition.Above ? "above" : "below";
    private static string Number(decimal v) => UserAccount.Format(v);
    private static string Money(decimal v) => Alerts.AlertNotification.Money(v);
    private static string Signed(decimal v) => (v > 0 ? "+" : v < 0 ? "−" : "") + Money(Math.Abs(v));
    private static string Pct(decimal part, decimal whole) => whole == 0 ? "n/a" : (part / whole * 100).ToString("+0.##;−0.##;0", CultureInfo.InvariantCulture) + "%";
    private static string Distance(decimal price, decimal threshold) => (Math.Abs(threshold - price) / price * 100).ToString("0.##", CultureInfo.InvariantCulture) + "%";

    [LoggerMessage(Level = LogLevel.Error, Message = "Handling {Command} for user {UserId} failed")]
    private partial void LogFailed(Exception ex, long userId, string command);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Price of {Symbol} unavailable: {Reason}")]
    private partial void LogPriceUnavailable(string symbol, string reason);
}
