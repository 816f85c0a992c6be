using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Engram.Abstractions.Conversation;
using Engram.Abstractions.Users;
using Engram.Grains.Conversation.Commands;
using Engram.Grains.Users;
using Engram.Trading.Tools;
using NodaTime;

namespace Engram.Grains.Digests;

/// <summary>
/// A digest, computed in code from the trading tools: per watched symbol the price, 24h change, RSI, trend and signal;
/// then the portfolio's value and its change since the last digest. A symbol's line is shared by every user whose
/// digest falls within half a minute of another's (100,000 digests at 08:00 analyse each symbol a few times, not
/// 100,000 times).
/// </summary>
public sealed class DigestBuilder(TradingToolService tools, MarketPrices prices, TimeProvider clock)
{
    private static readonly TimeSpan LineReuse = TimeSpan.FromSeconds(30);
    private readonly ConcurrentDictionary<(string Symbol, string Timeframe), (DateTimeOffset At, string Line)> lines = new();

    public async Task<(ChatReply Reply, decimal? PortfolioValue)> BuildAsync(IReadOnlyList<string> watchlist, PortfolioView portfolio,
        string timeframe, DigestSchedule schedule, DateTimeOffset slot)
    {
        var zone = DigestSlots.Zone(schedule.TimeZone) ?? DateTimeZone.Utc;
        var local = Instant.FromDateTimeOffset(slot).InZone(zone).ToString("ddd d MMM HH:mm", CultureInfo.InvariantCulture);
        var text = new StringBuilder($"📰 Your digest for {local} ({zone.Id}), {timeframe} candles\n");
        if (watchlist.Count == 0)
            text.Append("Your watchlist is empty: /watch BTC ETH SOL adds to it.\n");
        foreach (var line in await LinesAsync(watchlist, timeframe))
            text.Append("• ").Append(line).Append('\n');

        decimal? value = null;
        if (portfolio.Positions.Count > 0)
        {
            var quotes = await prices.TryPricesAsync(portfolio.Positions.Select(p => p.Symbol).ToList());
            if (portfolio.Positions.All(p => quotes.ContainsKey(p.Symbol)))
            {
                value = portfolio.Positions.Sum(p => p.Amount * quotes[p.Symbol]);
                var since = schedule.LastPortfolioValue is { } last && last != 0
                    ? $", {Conversation.ReplyText.Signed(value.Value - last)} ({(value.Value - last) / last * 100:+0.00;-0.00;0.00}%) since the last digest"
                    : ", the first digest to track it";
                text.Append(CultureInfo.InvariantCulture, $"💼 Portfolio: {Alerts.AlertNotification.Money(value.Value)} USDT{since}.\n");
            }
            else
            {
                text.Append("💼 Portfolio: prices unavailable right now; /portfolio shows it when they are back.\n");
            }
        }
        List<ReplyButton> buttons = watchlist.Count > 0
            ? [new($"📈 Chart {Base(watchlist[0])} {timeframe}", $"/chart {Base(watchlist[0])} {timeframe}"), new("Watchlist", "/watchlist")]
            : [new("Watch BTC ETH SOL", "/watch BTC ETH SOL")];
        if (portfolio.Positions.Count > 0)
            buttons.Add(new("Portfolio", "/portfolio"));
        return (new ChatReply(text.ToString().TrimEnd(), ReplyKind.Digest, buttons), value);
    }

    /// <summary>One line per symbol: "BTC/USDT 43,210.00 (+2.31% 24h) · RSI 61.2 · uptrend · signal HOLD".</summary>
    public async Task<IReadOnlyList<string>> LinesAsync(IReadOnlyList<string> symbols, string timeframe) =>
        await Task.WhenAll(symbols.Select(symbol => LineAsync(symbol, timeframe)));

    private async Task<string> LineAsync(string symbol, string timeframe)
    {
        var now = clock.GetUtcNow();
        if (lines.TryGetValue((symbol, timeframe), out var cached) && now - cached.At < LineReuse)
            return cached.Line;
        var analysis = await tools.AnalyzeMarketAsync(symbol, timeframe);
        if (!analysis.IsSuccess)
            return $"{UserAccount.Pretty(symbol)}: unavailable right now ({analysis.Error!.Message})";
        var a = analysis.Value!;
        var signal = await tools.GenerateSignalAsync(symbol, timeframe);
        var action = signal.IsSuccess ? $" · signal {signal.Value!.Action.ToString().ToUpperInvariant()}" : "";
        var line = string.Create(CultureInfo.InvariantCulture,
            $"{UserAccount.Pretty(symbol)} {Alerts.AlertNotification.Money((decimal)a.Price)} ({a.Day.ChangePct:+0.00;-0.00;0.00}% 24h) · RSI {a.Momentum.Rsi:0.0} · {a.Trend.Direction}{action}");
        lines[(symbol, timeframe)] = (now, line);
        return line;
    }

    private static string Base(string symbol) => symbol.EndsWith("USDT", StringComparison.Ordinal) ? symbol[..^4] : symbol;
}
