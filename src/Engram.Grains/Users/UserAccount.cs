using System.Globalization;
using Engram.Abstractions.Common;
using Engram.Abstractions.Users;
using Engram.Grains.Alerts;

namespace Engram.Grains.Users;

/// <summary>
/// The domain rules for one user's state, with no Orleans in them so they can be unit tested.
/// Every method validates first and only then mutates, so a refused operation leaves the
/// state exactly as it was.
/// </summary>
public sealed class UserAccount(UserState state, UserGrainOptions options, TimeProvider clock)
{
    /// <summary>Timeframes a user may pick as default (the exchange's kline intervals Engram serves).</summary>
    public static readonly IReadOnlyList<string> Timeframes = ["1m", "5m", "15m", "30m", "1h", "4h", "1d", "1w"];

    // Prices above this are certainly a typo; it also keeps decimal arithmetic far from overflow.
    private const decimal MaxPrice = 1_000_000_000_000m;
    private const decimal MaxAmount = 1_000_000_000_000m;
    private const int TriggeredAlertsKept = 20;

    public UserState State => state;

    public UserGrainOptions Options => options;

    // ---------------------------------------------------------------- alerts

    public OperationResult<AlertView> AddAlert(AlertRequest request)
    {
        if (string.IsNullOrWhiteSpace(request.Symbol))
            return OperationResult<AlertView>.Fail("Which pair? For example: /alert BTC above 100000");
        if (request.Indicator is { } indicator)
        {
            if (IndicatorAlerts.Problem(indicator, request.Condition, request.Threshold) is { } problem)
                return OperationResult<AlertView>.Fail(problem);
        }
        else if (request.Threshold <= 0 || request.Threshold > MaxPrice || request.Condition == AlertCondition.Crosses)
            return OperationResult<AlertView>.Fail($"The alert price must be a positive number, e.g. /alert {Pretty(request.Symbol)} above 100000");
        else if (request.CurrentPrice is { } now && IsAlreadyTrue(request.Condition, request.Threshold, now))
        {
            var word = request.Condition == AlertCondition.Above ? "above" : "below";
            return OperationResult<AlertView>.Fail(
                $"{Pretty(request.Symbol)} is already {word} {Format(request.Threshold)}: {Format(now)}. The alert would fire at once.");
        }

        if (request.ExpiresAt is { } expires && expires <= clock.GetUtcNow())
            return OperationResult<AlertView>.Fail("The expiry must be in the future, e.g. /alert ETH below 2000 for 7d");
        var active = state.Alerts.Count(IsActive);
        if (active >= options.MaxActiveAlerts)
            return OperationResult<AlertView>.Fail(
                $"You already have {active} active alerts, the limit is {options.MaxActiveAlerts}. Remove one with /delalert <id>.");

        var duplicate = state.Alerts.FirstOrDefault(a => IsActive(a) && a.Symbol == request.Symbol
            && a.Condition == request.Condition && a.Threshold == request.Threshold && a.Indicator == request.Indicator);
        if (duplicate is not null)
            return OperationResult<AlertView>.Fail($"You already have this alert (#{duplicate.Id}).");

        // Expired alerts are dropped here, so setting short-lived alerts again and again cannot grow the state.
        var createdAt = clock.GetUtcNow();
        state.Alerts.RemoveAll(a => !a.Triggered && a.ExpiresAt <= createdAt);
        var alert = new PriceAlert
        {
            Id = state.NextAlertId++,
            Symbol = request.Symbol,
            Condition = request.Condition,
            Threshold = request.Threshold,
            CreatedAt = createdAt,
            CreationPrice = request.CurrentPrice,
            Repeat = request.Repeat,
            Cooldown = request.Repeat ? request.Cooldown ?? TimeSpan.FromHours(1) : null,
            ExpiresAt = request.ExpiresAt,
            RelativePercent = request.RelativePercent,
            Indicator = request.Indicator,
        };
        state.Alerts.Add(alert);
        return OperationResult<AlertView>.Success(ToView(alert));
    }

    public OperationResult<AlertView> RemoveAlert(int alertId)
    {
        var index = state.Alerts.FindIndex(a => a.Id == alertId);
        if (index < 0)
            return OperationResult<AlertView>.Fail($"There is no alert #{alertId}. /alerts lists yours.");
        var alert = state.Alerts[index];
        state.Alerts.RemoveAt(index);
        return OperationResult<AlertView>.Success(ToView(alert));
    }

    public IReadOnlyList<AlertView> GetAlerts(bool includeTriggered) =>
        state.Alerts.Where(a => includeTriggered || IsActive(a)).Select(ToView).ToList();

    /// <summary>Armed: not fired (one-shot) and not expired.</summary>
    public bool IsActive(PriceAlert alert) => !alert.Triggered && (alert.ExpiresAt is not { } expires || expires > clock.GetUtcNow());

    /// <summary>
    /// A crossing reported by the symbol's price watch. Returns what to do with the index entry and,
    /// when a notification is due, the alert as it is now (the caller writes both in one write).
    /// Idempotent: the same crossing (same time) reported twice notifies once.
    /// </summary>
    public (AlertFiredResult Result, PriceAlert? Notify) OnAlertFired(AlertFired fired)
    {
        var alert = state.Alerts.FirstOrDefault(a => a.Id == fired.AlertId && a.Symbol == fired.Symbol);
        if (alert is null || alert.Condition != fired.Condition || alert.Threshold != fired.Threshold)
            return (new AlertFiredResult(AlertFiredOutcome.Gone), null);
        if (alert.TriggeredAt is { } last && fired.At <= last)
            return (Rearm(alert, fired), null); // this crossing again, or an older one sent late: already notified
        if (!IsActive(alert))
            return (new AlertFiredResult(AlertFiredOutcome.Gone), null);

        alert.TriggeredAt = fired.At;
        alert.TriggerPrice = fired.Price;
        alert.TimesTriggered++;
        if (!alert.Repeat)
            alert.Triggered = true;
        else if (FiredTooOften(alert, fired.At))
            alert.Triggered = alert.Paused = true;
        // Keep a short history of fired one-shot alerts; the state must not grow without bound.
        var done = state.Alerts.Where(a => a.Triggered).OrderBy(a => a.TriggeredAt).ToList();
        if (done.Count > TriggeredAlertsKept)
        {
            var oldest = done.Take(done.Count - TriggeredAlertsKept).ToHashSet();
            state.Alerts.RemoveAll(oldest.Contains);
        }
        return (Rearm(alert, fired), alert);
    }

    private static AlertFiredResult Rearm(PriceAlert alert, AlertFired fired) =>
        alert.Paused ? new AlertFiredResult(AlertFiredOutcome.NotifiedPaused)
        : alert.Repeat ? new AlertFiredResult(AlertFiredOutcome.NotifiedRearm, fired.At + (alert.Cooldown ?? TimeSpan.FromHours(1)))
        : new AlertFiredResult(AlertFiredOutcome.Notified);

    /// <summary>Counts this firing among the last hour's; more than the limit pauses a repeating alert.</summary>
    private bool FiredTooOften(PriceAlert alert, DateTimeOffset at)
    {
        var recent = alert.RecentFires ??= [];
        recent.RemoveAll(t => t <= at - TimeSpan.FromHours(1));
        recent.Add(at);
        return recent.Count > options.MaxAlertFiresPerHour;
    }

    public static bool IsAlreadyTrue(AlertCondition condition, decimal threshold, decimal price) =>
        condition == AlertCondition.Above ? price >= threshold : price <= threshold;

    // ---------------------------------------------------------------- watchlist

    /// <summary>Adds symbols not yet watched, in order, up to <paramref name="max"/>; returns those added and those over the limit.</summary>
    public (IReadOnlyList<string> Added, IReadOnlyList<string> OverLimit) Watch(IReadOnlyList<string> symbols, int max)
    {
        var added = new List<string>();
        var over = new List<string>();
        foreach (var symbol in symbols.Distinct())
        {
            if (state.Watchlist.Contains(symbol))
                continue;
            if (state.Watchlist.Count >= max)
            {
                over.Add(symbol);
                continue;
            }
            state.Watchlist.Add(symbol);
            added.Add(symbol);
        }
        return (added, over);
    }

    public bool Unwatch(string symbol) => state.Watchlist.Remove(symbol);

    // ---------------------------------------------------------------- portfolio

    public OperationResult<TradeReceipt> Buy(string symbol, decimal amount, decimal price)
    {
        if (ValidateTrade(symbol, amount, price, "buy") is { } error)
            return OperationResult<TradeReceipt>.Fail(error);

        state.Positions.TryGetValue(symbol, out var position);
        if (position is null && state.Positions.Count >= options.MaxPositions)
            return OperationResult<TradeReceipt>.Fail(
                $"You already hold {state.Positions.Count} different pairs, the limit is {options.MaxPositions}. Sell one out before adding {Pretty(symbol)}.");
        position ??= new Position();
        var newAmount = position.Amount + amount;
        // Average cost: the weighted mean of what is held and what was bought.
        var newAverage = (position.Amount * position.AverageCost + amount * price) / newAmount;

        position.Amount = newAmount;
        position.AverageCost = newAverage;
        state.Positions[symbol] = position;

        var tx = Record(TradeSide.Buy, symbol, amount, price, realized: 0m);
        return OperationResult<TradeReceipt>.Success(new TradeReceipt(tx, ToView(symbol, position), state.RealizedPnl));
    }

    public OperationResult<TradeReceipt> Sell(string symbol, decimal amount, decimal price)
    {
        if (ValidateTrade(symbol, amount, price, "sell") is { } error)
            return OperationResult<TradeReceipt>.Fail(error);
        if (!state.Positions.TryGetValue(symbol, out var position) || position.Amount <= 0)
            return OperationResult<TradeReceipt>.Fail($"You hold no {Pretty(symbol)}. Record a purchase first, e.g. /buy {Pretty(symbol)} 0.1");
        if (amount > position.Amount)
            return OperationResult<TradeReceipt>.Fail(
                $"You hold {Format(position.Amount)} {Pretty(symbol)}; you cannot sell {Format(amount)}.");

        // Average-cost method: a sell realises (price - average cost) per unit; the average is unchanged.
        var realized = (price - position.AverageCost) * amount;
        position.Amount -= amount;
        state.RealizedPnl += realized;

        PositionView after;
        if (position.Amount == 0)
        {
            state.Positions.Remove(symbol);
            after = new PositionView(symbol, 0m, 0m);
        }
        else
        {
            after = ToView(symbol, position);
        }

        var tx = Record(TradeSide.Sell, symbol, amount, price, realized);
        return OperationResult<TradeReceipt>.Success(new TradeReceipt(tx, after, state.RealizedPnl));
    }

    public PortfolioView GetPortfolio(int recent = 10) => new(
        state.Positions.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => ToView(p.Key, p.Value)).ToList(),
        state.RealizedPnl,
        state.Transactions.TakeLast(recent).ToList());

    private static string? ValidateTrade(string symbol, decimal amount, decimal price, string verb)
    {
        if (string.IsNullOrWhiteSpace(symbol))
            return $"Which pair? For example: /{verb} BTC 0.1";
        if (amount <= 0)
            return $"The amount must be more than zero, e.g. /{verb} {Pretty(symbol)} 0.1";
        if (amount > MaxAmount)
            return "That amount is too large to be real.";
        if (price <= 0)
            return $"The price must be more than zero, e.g. /{verb} {Pretty(symbol)} 0.1 65000";
        if (price > MaxPrice)
            return "That price is too large to be real.";
        return null;
    }

    private Transaction Record(TradeSide side, string symbol, decimal amount, decimal price, decimal realized)
    {
        var tx = new Transaction { Side = side, Symbol = symbol, Amount = amount, Price = price, Time = clock.GetUtcNow(), RealizedPnl = realized };
        state.Transactions.Add(tx);
        var excess = state.Transactions.Count - options.MaxTransactions;
        if (excess > 0)
            state.Transactions.RemoveRange(0, excess);
        return tx;
    }

    // ---------------------------------------------------------------- settings

    public EffectiveSettings GetSettings() => new(
        state.Settings.ResponseFormat ?? options.DefaultResponseFormat,
        state.Settings.DefaultTimeframe ?? options.DefaultTimeframe,
        state.Settings.RiskTolerance ?? options.DefaultRiskTolerance);

    public OperationResult<EffectiveSettings> SetDefaultTimeframe(string timeframe)
    {
        var normalized = timeframe?.Trim() ?? "";
        var match = Timeframes.FirstOrDefault(t => t == normalized)
            ?? Timeframes.FirstOrDefault(t => string.Equals(t, normalized, StringComparison.OrdinalIgnoreCase) && t != "1m");
        if (match is null)
            return OperationResult<EffectiveSettings>.Fail($"Unknown timeframe '{normalized}'. Use one of: {string.Join(" ", Timeframes)}");
        state.Settings.DefaultTimeframe = match;
        return OperationResult<EffectiveSettings>.Success(GetSettings());
    }

    // ---------------------------------------------------------------- history and updates

    public void AppendExchange(string question, string answer)
    {
        var now = clock.GetUtcNow();
        state.History.Add(new ChatTurn { Role = ChatRole.User, Text = question, At = now });
        state.History.Add(new ChatTurn { Role = ChatRole.Assistant, Text = answer, At = now });
        TrimHistory();
    }

    private void TrimHistory()
    {
        var excess = state.History.Count - options.HistoryTurns;
        if (excess > 0)
            state.History.RemoveRange(0, excess);
        // Then drop the oldest turns until the kept text fits the character budget.
        var total = state.History.Sum(t => t.Text.Length);
        while (state.History.Count > 0 && total > options.HistoryMaxChars)
        {
            total -= state.History[0].Text.Length;
            state.History.RemoveAt(0);
        }
    }

    public bool TryMarkUpdateProcessed(long updateId)
    {
        if (state.ProcessedUpdateIds.Contains(updateId))
            return false;
        state.ProcessedUpdateIds.Add(updateId);
        var excess = state.ProcessedUpdateIds.Count - options.ProcessedUpdatesKept;
        if (excess > 0)
            state.ProcessedUpdateIds.RemoveRange(0, excess);
        return true;
    }

    // ---------------------------------------------------------------- helpers

    public static AlertView ToView(PriceAlert a) =>
        new(a.Id, a.Symbol, a.Condition, a.Threshold, a.CreatedAt, a.CreationPrice, a.Triggered, a.TriggeredAt,
            a.Repeat, a.Cooldown, a.ExpiresAt, a.RelativePercent, a.TimesTriggered, a.Indicator, a.Paused);

    private static PositionView ToView(string symbol, Position p) => new(symbol, p.Amount, p.AverageCost);

    /// <summary>BTCUSDT → BTC/USDT for messages.</summary>
    public static string Pretty(string symbol) =>
        symbol.EndsWith("USDT", StringComparison.Ordinal) && symbol.Length > 4 ? $"{symbol[..^4]}/USDT" : symbol;

    public static string Format(decimal value) => value.ToString("#,0.########", CultureInfo.InvariantCulture);
}
