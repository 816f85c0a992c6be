using System.Globalization;
using System.Text.RegularExpressions;

namespace Engram.ChaosTests.Load;

/// <summary>An alert the bot confirmed ("🔔 Alert #N set"), and whether the driver still expects it to be active.</summary>
public sealed record ExpectedAlert(int Id, string Symbol, string Condition, decimal Threshold, bool WillCross)
{
    public bool Deleted { get; set; }
}

/// <summary>
/// One Telegram user: sends a message, waits for its reply, thinks a little, sends the next. What
/// it expects of its own account comes only from replies it saw: a buy counts when the bot said
/// "✅ Bought", an alert when it said "Alert #N set" — so the final check compares the cluster's
/// state with what it told the user.
/// </summary>
public sealed partial class SimulatedUser(long id, ChatLedger ledger, ChaosScenario scenario)
{
    private readonly Random random = new(scenario.Seed ^ (int)id);

    public long Id => id;
    public Dictionary<string, (decimal Amount, decimal AverageCost)> Positions { get; } = new(StringComparer.Ordinal);
    public List<ExpectedAlert> Alerts { get; } = [];
    public int Refused { get; private set; }
    public bool Stalled { get; private set; }
    public bool AlertsPlaced { get; private set; }
    public string? StallReason { get; private set; }

    /// <summary>The run's opening: a greeting and three alerts on the symbols whose prices the driver moves.</summary>
    public async Task RunOpeningAsync(CancellationToken cancellationToken)
    {
        try
        {
            await StepAsync("/start", cancellationToken);
            var offset = id % 10 / 10m;
            await AlertAsync(ChaosScenario.AlertSymbol, "above", scenario.UpThreshold + offset, willCross: true, cancellationToken);
            await AlertAsync(ChaosScenario.AlertSymbol, "below", scenario.DownThreshold - offset, willCross: true, cancellationToken);
            await AlertAsync("BTC", "above", 1_000_000m, willCross: false, cancellationToken);
        }
        finally
        {
            AlertsPlaced = true;
        }
    }

    /// <summary>The rest of the run: a random mix of trades, questions and look-ups.</summary>
    public async Task RunStepsAsync(int steps, CancellationToken cancellationToken)
    {
        for (var step = 0; step < steps && !Stalled; step++)
        {
            await Task.Delay(random.Next(0, scenario.MaxThinkMs), cancellationToken);
            var roll = random.Next(100);
            if (roll < 30)
                await BuyAsync(cancellationToken);
            else if (roll < 45 && Positions.Count > 0)
                await SellAsync(cancellationToken);
            else if (roll < 65)
                await StepAsync(Questions[random.Next(Questions.Length)], cancellationToken);
            else if (roll < 80)
                await StepAsync("/portfolio", cancellationToken);
            else if (roll < 90)
                await StepAsync("/alerts", cancellationToken);
            else if (roll < 95 && Alerts.FirstOrDefault(a => !a.WillCross && !a.Deleted) is { } never)
                await DeleteAsync(never, cancellationToken);
            else
                await StepAsync("/status", cancellationToken);
        }
    }

    /// <summary>The final look at the account, as the user sees it.</summary>
    public async Task RunFinalAsync(CancellationToken cancellationToken)
    {
        // Read by content, not by position: a duplicate earlier in the chat must not hide the final state.
        FinalPortfolio = await AskForAsync("/portfolio", r => r.StartsWith("💼 Your portfolio", StringComparison.Ordinal) || r.StartsWith("Your portfolio is empty", StringComparison.Ordinal), cancellationToken);
        FinalAlerts = await AskForAsync("/alerts", r => r.StartsWith("🔔 Your active alerts", StringComparison.Ordinal) || r.StartsWith("You have no active alerts", StringComparison.Ordinal), cancellationToken);
    }

    private async Task<string?> AskForAsync(string command, Func<string, bool> isAnswer, CancellationToken cancellationToken)
    {
        var log = ledger[id];
        int before;
        lock (log)
            before = log.Replies.Count;
        await StepAsync(command, cancellationToken);
        for (var waited = 0; waited < 100; waited++)
        {
            lock (log)
            {
                if (log.Replies.Skip(before).Select(r => r.Text).LastOrDefault(isAnswer) is { } answer)
                    return answer;
            }
            await Task.Delay(100, cancellationToken);
        }
        return null;
    }

    public string? FinalPortfolio { get; private set; }
    public string? FinalAlerts { get; private set; }

    private static readonly string[] Questions =
    [
        "how is my portfolio doing?",
        "what do you think about bitcoin right now?",
        "hello, what can you do?",
        "is it a good time to take profit on my portfolio?",
    ];

    private async Task BuyAsync(CancellationToken cancellationToken)
    {
        var (symbol, basePrice) = random.Next(2) == 0 ? ("BTCUSDT", 20_000m) : ("ETHUSDT", 1_500m);
        var amount = random.Next(1, 10) / 10m;
        var price = basePrice + random.Next(-200, 200);
        var reply = await StepAsync($"/buy {symbol[..^4]} {Number(amount)} {Number(price)}", cancellationToken);
        if (reply?.StartsWith("✅ Bought", StringComparison.Ordinal) == true)
        {
            var (held, average) = Positions.GetValueOrDefault(symbol);
            var total = held + amount;
            // Engram's rule: the weighted mean of what is held and what was bought (same decimal arithmetic).
            Positions[symbol] = (total, (held * average + amount * price) / total);
        }
        else if (reply is not null)
        {
            Refused++;
        }
    }

    private async Task SellAsync(CancellationToken cancellationToken)
    {
        var (symbol, (held, average)) = Positions.ElementAt(random.Next(Positions.Count));
        var amount = random.Next(3) == 0 ? held : Math.Max(0.1m, Math.Round(held * random.Next(1, 10) / 10m, 1));
        amount = Math.Min(amount, held);
        // No price: the current one, from the Binance stand-in through the quote cache grain.
        var reply = await StepAsync($"/sell {symbol[..^4]} {Number(amount)}", cancellationToken);
        if (reply?.StartsWith("✅ Sold", StringComparison.Ordinal) == true)
        {
            if (held == amount)
                Positions.Remove(symbol);
            else
                Positions[symbol] = (held - amount, average);
        }
        else if (reply is not null)
        {
            Refused++;
        }
    }

    private async Task AlertAsync(string pair, string condition, decimal threshold, bool willCross, CancellationToken cancellationToken)
    {
        var reply = await StepAsync($"/alert {pair} {condition} {Number(threshold)}", cancellationToken);
        if (reply is not null && AlertSet().Match(reply) is { Success: true } set)
            Alerts.Add(new ExpectedAlert(int.Parse(set.Groups[1].Value, CultureInfo.InvariantCulture), pair, condition, threshold, willCross));
        else if (reply is not null)
            Refused++;
    }

    private async Task DeleteAsync(ExpectedAlert alert, CancellationToken cancellationToken)
    {
        var reply = await StepAsync($"/delalert {alert.Id}", cancellationToken);
        if (reply?.StartsWith($"🗑 Deleted alert #{alert.Id}", StringComparison.Ordinal) == true)
            alert.Deleted = true;
        else if (reply is not null)
            Refused++;
    }

    /// <summary>Sends one message and waits for its reply; null (and the user stops) when none comes in time.</summary>
    public async Task<string?> StepAsync(string text, CancellationToken cancellationToken)
    {
        if (Stalled)
            return null;
        var update = ledger.Send(id, text);
        var index = ledger[id].Updates.Count;
        if (!await ledger.WaitForRepliesAsync(id, index, scenario.ReplyTimeout, cancellationToken))
        {
            Stalled = true;
            StallReason = $"no reply to update {update.UpdateId} '{text}' within {scenario.ReplyTimeout.TotalSeconds:0} s";
            return null;
        }
        return update.Reply?.Text;
    }

    [GeneratedRegex(@"^🔔 Alert #(\d+) set")]
    private static partial Regex AlertSet();

    public static string Number(decimal value) => value.ToString("0.########", CultureInfo.InvariantCulture);
}
