using System.Globalization;
using System.Text;
using Engram.Abstractions.Conversation;
using Engram.Abstractions.Users;
using Engram.Charts;
using Engram.Trading.MarketData;
using static Engram.Grains.Conversation.ReplyText;

namespace Engram.Grains.Conversation.Commands;

/// <summary>/portfolio, /portfolio chart, /buy and /sell.</summary>
public sealed class PortfolioCommands(SymbolNormalizer symbols, MarketPrices prices, IChartRenderer charts, TimeProvider clock) : ICommandHandler
{
    public IReadOnlyCollection<string> Commands { get; } = ["portfolio", "buy", "sell"];

    public Task<ChatReply?> RunAsync(UserSession session, ParsedMessage m) => m.Command switch
    {
        "portfolio" when m.Args.Count == 1 && m.Args[0].Equals("chart", StringComparison.OrdinalIgnoreCase) => ChartAsync(session),
        "portfolio" when m.Args.Count == 0 => ShowAsync(session),
        "portfolio" => Task.FromResult<ChatReply?>(Usage("portfolio")),
        "buy" => TradeAsync(session, m.Args, TradeSide.Buy),
        _ => TradeAsync(session, m.Args, TradeSide.Sell),
    };

    private async Task<ChatReply?> ShowAsync(UserSession session)
    {
        var portfolio = session.Portfolio;
        if (portfolio.Positions.Count == 0 && portfolio.RecentTransactions.Count == 0)
            return new ChatReply("Your portfolio is empty. Record a purchase with /buy BTC 0.1 65000 (or without a price to use the current one).");
        var text = new StringBuilder("💼 Your portfolio\n");
        decimal totalValue = 0, totalCost = 0;
        var priced = true;
        // Every position priced by one exchange request, not one after another.
        var quotes = await prices.TryPricesAsync(portfolio.Positions.Select(p => p.Symbol).ToList());
        foreach (var position in portfolio.Positions)
        {
            decimal? quote = quotes.TryGetValue(position.Symbol, out var q) ? q : null;
            text.Append(CultureInfo.InvariantCulture, $"{Pretty(position.Symbol)}: {Number(position.Amount)} @ avg {Money(position.AverageCost)}");
            if (quote is { } price)
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

    private async Task<ChatReply?> ChartAsync(UserSession session)
    {
        var portfolio = session.Portfolio;
        if (portfolio.Positions.Count == 0)
            return ChatReply.Error("Your portfolio is empty, so there is nothing to chart yet. Record a purchase with /buy BTC 0.1");
        var positions = new List<PortfolioPosition>();
        foreach (var position in portfolio.Positions)
        {
            if (await prices.TryPriceAsync(position.Symbol) is not { } price)
                return ChatReply.Error($"I couldn't get the current {Pretty(position.Symbol)} price for the chart; please try again shortly.");
            positions.Add(new PortfolioPosition(Pretty(position.Symbol), (double)(position.Amount * price), (double)(position.Amount * price - position.CostBasis)));
        }
        var chart = await Task.Run(() => charts.RenderPortfolioChart(new PortfolioChartRequest(positions, clock.GetUtcNow())));
        return chart.IsSuccess
            ? new ChatReply("💼 Allocation by current value, and unrealised P&L per position.", Photo: chart.Png)
            : ChatReply.Error(chart.Error!);
    }

    private async Task<ChatReply?> TradeAsync(UserSession session, IReadOnlyList<string> args, TradeSide side)
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
            return UnknownPair(resolved);
        var symbol = resolved.Symbol!.Symbol;
        if (!resolved.IsVerified)
            return PairNotChecked(symbol);
        price ??= await prices.TryPriceAsync(symbol);
        if (price is null)
            return ChatReply.Error($"I couldn't get the current {Pretty(symbol)} price. Give the price yourself, e.g. /{command} {resolved.Symbol.BaseAsset} {Number(amount)} 65000");

        var result = side == TradeSide.Buy ? session.Buy(symbol, amount, price.Value) : session.Sell(symbol, amount, price.Value);
        if (!result.Ok)
            return ChatReply.Error(result.Error!);
        var receipt = result.Value!;
        var text = side == TradeSide.Buy
            ? $"✅ Bought {Number(amount)} {Pretty(symbol)} at {Money(price.Value)}. You now hold {Number(receipt.PositionAfter.Amount)} at an average {Money(receipt.PositionAfter.AverageCost)}."
            : $"✅ Sold {Number(amount)} {Pretty(symbol)} at {Money(price.Value)}: realised {Signed(receipt.Transaction.RealizedPnl)}. You now hold {Number(receipt.PositionAfter.Amount)}. Total realised P&L {Signed(receipt.TotalRealizedPnl)}.";
        return new ChatReply(text + (args.Count == 2 ? " (current market price)" : ""));
    }
}
