using Engram.Abstractions.Common;
using Engram.Abstractions.Conversation;
using Engram.Abstractions.Users;
using Engram.Grains.Users;

namespace Engram.Grains.Conversation;

/// <summary>
/// What a command handler sees of one user during one grain turn: the user's data and the rules
/// that change it (<see cref="UserAccount"/>), in memory. The user grain writes everything a turn
/// changed once, after the handler returns, together with the replies; then it tells the price
/// watches about <see cref="AlertChanges"/> and the LLM worker about <see cref="Question"/>.
/// </summary>
public sealed class UserSession(long userId, long chatId, long updateId, UserAccount account)
{
    public long UserId => userId;
    public long ChatId => chatId;
    public long UpdateId => updateId;

    public EffectiveSettings Settings => account.GetSettings();
    public IReadOnlyList<AlertView> Alerts => account.GetAlerts(includeTriggered: false);
    public PortfolioView Portfolio => account.GetPortfolio();
    public IReadOnlyList<ChatTurn> History => account.State.History;

    /// <summary>Whether earlier questions of this user are still with the LLM worker.</summary>
    public bool HasPendingQuestions => account.State.PendingQuestions.Count > 0;

    /// <summary>True when this turn's question would be one too many waiting for the model.</summary>
    public bool TooManyQuestionsWaiting => Question is not null && account.State.PendingQuestions.Count >= account.Options.MaxPendingQuestions;

    public int QuestionsWaiting => account.State.PendingQuestions.Count;

    /// <summary>Takes back this turn's question (it was refused): nothing is handed to the LLM worker.</summary>
    public void WithdrawQuestion() => Question = null;

    /// <summary>Alerts added (true) or removed (false) in this turn, for the price watches once stored.</summary>
    public List<(AlertView Alert, bool Added)> AlertChanges { get; } = [];

    /// <summary>The handler failed half-way: what it changed in memory must not be stored.</summary>
    public bool DiscardChanges { get; set; }

    /// <summary>A question this turn hands to the LLM worker once stored.</summary>
    public PendingQuestion? Question { get; private set; }

    public IReadOnlyList<string> Watchlist => account.State.Watchlist;

    public DigestSchedule? Digest => account.State.Digest;

    /// <summary>The digest schedule changed in this turn: the digest shard learns of it once stored.</summary>
    public bool DigestChanged { get; private set; }

    public (IReadOnlyList<string> Added, IReadOnlyList<string> OverLimit) Watch(IReadOnlyList<string> symbols, int max) => account.Watch(symbols, max);

    public bool Unwatch(string symbol) => account.Unwatch(symbol);

    /// <summary>Sets (or with null, stops) the digest; a new schedule keeps what the old one last sent, so no slot goes twice.</summary>
    public void SetDigest(DigestSchedule? schedule)
    {
        if (schedule is not null && account.State.Digest is { } old)
        {
            schedule.LastSlot = old.LastSlot;
            schedule.LastPortfolioValue = old.LastPortfolioValue;
        }
        account.State.Digest = schedule;
        DigestChanged = true;
    }

    public OperationResult<AlertView> AddAlert(AlertRequest request) => Track(account.AddAlert(request), added: true);

    public OperationResult<AlertView> RemoveAlert(int alertId) => Track(account.RemoveAlert(alertId), added: false);

    public OperationResult<TradeReceipt> Buy(string symbol, decimal amount, decimal price) => account.Buy(symbol, amount, price);

    public OperationResult<TradeReceipt> Sell(string symbol, decimal amount, decimal price) => account.Sell(symbol, amount, price);

    public EffectiveSettings SetResponseFormat(ResponseFormat format)
    {
        account.State.Settings.ResponseFormat = format;
        return account.GetSettings();
    }

    public OperationResult<EffectiveSettings> SetDefaultTimeframe(string timeframe) => account.SetDefaultTimeframe(timeframe);

    public EffectiveSettings SetRiskTolerance(RiskTolerance tolerance)
    {
        account.State.Settings.RiskTolerance = tolerance;
        return account.GetSettings();
    }

    public void ResetHistory() => account.State.History.Clear();

    public void AppendExchange(string question, string answer) => account.AppendExchange(question, answer);

    /// <summary>Hands a question to the LLM worker (after this turn's write); its answer comes in a later turn.</summary>
    public void Ask(PendingQuestion question)
    {
        question.UpdateId = updateId;
        question.ChatId = chatId;
        Question = question;
    }

    private OperationResult<AlertView> Track(OperationResult<AlertView> result, bool added)
    {
        if (result.Ok)
            AlertChanges.Add((result.Value!, added));
        return result;
    }
}
