using System.Globalization;
using System.Text;
using Engram.Abstractions.Alerts;
using Engram.Abstractions.Conversation;
using Engram.Abstractions.Users;
using Engram.Grains.Alerts;
using Engram.Trading.MarketData;
using static Engram.Grains.Conversation.ReplyText;

namespace Engram.Grains.Conversation.Commands;

/// <summary>/alert, /alerts and /delalert. The price watches learn of a change after the turn's write.</summary>
public sealed class AlertCommands(SymbolNormalizer symbols, MarketPrices prices, TimeProvider clock) : ICommandHandler
{
    public IReadOnlyCollection<string> Commands { get; } = ["alert", "alerts", "delalert"];

    public Task<ChatReply?> RunAsync(UserSession session, ParsedMessage m) => m.Command switch
    {
        "alert" => AddAsync(session, m.Args),
        "alerts" => ListAsync(session),
        _ => Task.FromResult<ChatReply?>(Delete(session, m.Args)),
    };

    private async Task<ChatReply?> AddAsync(UserSession session, IReadOnlyList<string> args)
    {
        if (AlertCommand.Parse(args) is not { } parsed)
            return Usage("alert", args.Count == 0 ? "Which pair, and when?" : AlertCommand.Problem(args));

        var resolved = await symbols.ResolveAsync(parsed.Pair);
        if (!resolved.IsSuccess)
            return UnknownPair(resolved);
        var symbol = resolved.Symbol!.Symbol;
        if (!resolved.IsVerified)
            return PairNotChecked(symbol);
        if (parsed.Line is { } line)
            return await AddIndicatorAsync(session, parsed, line, resolved.Symbol);
        var price = await prices.TryPriceAsync(symbol);

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
        var result = session.AddAlert(new AlertRequest(symbol, condition, threshold, price, parsed.Repeat, parsed.Cooldown, expires, parsed.Percent));
        if (!result.Ok)
            return ChatReply.Error(result.Error!);
        var alert = result.Value!;
        var now = price is { } p ? $" (now {Money(p)}, {Distance(p, threshold)} away)" : " (current price unavailable right now)";
        return new ChatReply($"🔔 Alert #{alert.Id} set: {Pretty(symbol)} {Word(alert.Condition)} {Money(threshold)}{now}.{Extras(alert)}"
            + (resolved.Symbol.Note is { } note ? "\n" + note : ""),
            Buttons: [new($"Delete #{alert.Id}", $"/delalert {alert.Id}"), new("My alerts", "/alerts")]);
    }

    /// <summary>An indicator alert: checked at each close of its timeframe; the reply gives the reading now.</summary>
    private async Task<ChatReply?> AddIndicatorAsync(UserSession session, AlertCommand parsed, Trading.Indicators.IndicatorLine line, ParsedSymbol pair)
    {
        var spec = new IndicatorSpec(line.Code, parsed.Timeframe ?? session.Settings.DefaultTimeframe);
        var expires = parsed.ExpiresIn is { } lifetime ? clock.GetUtcNow() + lifetime : (DateTimeOffset?)null;
        var result = session.AddAlert(new AlertRequest(pair.Symbol, parsed.Condition, parsed.Threshold, null, parsed.Repeat, parsed.Cooldown, expires, null, spec));
        if (!result.Ok)
            return ChatReply.Error(result.Error!);
        var alert = result.Value!;
        var tf = IndicatorAlerts.TimeframeOf(spec);
        var text = new StringBuilder($"🔔 Alert #{alert.Id} set: {What(alert)}. Checked at every {tf.Code} close.");
        if (await prices.TryIndicatorAsync(pair.Symbol, spec) is { } now)
        {
            text.Append(CultureInfo.InvariantCulture, $"\nNow: {Reading(alert, now.Value, now.Close)} at the {now.CloseTime.UtcDateTime:yyyy-MM-dd HH:mm} UTC close.");
            if (IndicatorAlerts.LineOf(spec) is var l && !l.IsAverage && IndicatorAlertBook.Holds(l, alert.Condition, alert.Threshold, now.Close, now.Value))
                text.Append(" It is there already: I'll tell you the next time it crosses.");
        }
        text.Append(Extras(alert));
        return new ChatReply(text.ToString() + (pair.Note is { } note ? "\n" + note : ""),
            Buttons: [new($"Delete #{alert.Id}", $"/delalert {alert.Id}"), new("My alerts", "/alerts")]);
    }

    /// <summary>"BTC/USDT above 100,000.00" or "BTC/USDT RSI(14) 4h above 70".</summary>
    public static string What(AlertView alert) => alert.Indicator is { } spec
        ? $"{Pretty(alert.Symbol)} {IndicatorAlerts.Describe(spec, alert.Condition, alert.Threshold)}"
        : $"{Pretty(alert.Symbol)} {Word(alert.Condition)} {Money(alert.Threshold)}";

    /// <summary>The reading as the alert compares it: an RSI value, or the close against its average.</summary>
    private static string Reading(AlertView alert, double value, double close)
    {
        var line = IndicatorAlerts.LineOf(alert.Indicator!);
        return line.IsAverage
            ? $"closed at {line.FormatValue(close)}, {line.Name(IndicatorAlerts.TimeframeOf(alert.Indicator!))} at {line.FormatValue(value)}"
            : line.FormatValue(value);
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

    private async Task<ChatReply?> ListAsync(UserSession session)
    {
        var alerts = session.Alerts;
        if (alerts.Count == 0)
            return new ChatReply("You have no active alerts. Set one with /alert BTC above 100000");
        var text = new StringBuilder($"🔔 Your active alerts ({alerts.Count}):\n");
        var buttons = new List<ReplyButton>();
        var symbolsAlerted = alerts.Where(a => a.Indicator is null).Select(a => a.Symbol).Distinct().ToList();
        var quotes = await prices.TryPricesAsync(symbolsAlerted);
        var readings = new Dictionary<(string, IndicatorSpec), (double Value, double Close, DateTimeOffset CloseTime)?>();
        foreach (var key in alerts.Where(a => a.Indicator is not null).Select(a => (a.Symbol, a.Indicator!)).Distinct())
            readings[key] = await prices.TryIndicatorAsync(key.Symbol, key.Item2);
        foreach (var alert in alerts)
        {
            text.Append(CultureInfo.InvariantCulture, $"#{alert.Id} {What(alert)}");
            if (alert.Indicator is { } spec)
                text.Append(readings[(alert.Symbol, spec)] is { } now ? $" — now {Reading(alert, now.Value, now.Close)}" : " — reading unavailable right now");
            else if (quotes.TryGetValue(alert.Symbol, out var p))
                text.Append(CultureInfo.InvariantCulture, $" — now {Money(p)}, {Distance(p, alert.Threshold)} away");
            text.Append(Extras(alert)).Append('\n');
            buttons.Add(new($"🗑 #{alert.Id}", $"/delalert {alert.Id}"));
        }
        return new ChatReply(text.ToString().TrimEnd(), Buttons: buttons);
    }

    private static ChatReply Delete(UserSession session, IReadOnlyList<string> args)
    {
        if (args.Count != 1 || !int.TryParse(args[0].TrimStart('#'), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            return Usage("delalert", args.Count == 0 ? "Which alert? /alerts shows their ids." : $"'{string.Join(' ', args)}' is not an alert id.");
        var result = session.RemoveAlert(id);
        return result.Ok
            ? new ChatReply($"🗑 Deleted alert #{id}: {What(result.Value!)}.")
            : ChatReply.Error(result.Error!);
    }
}
