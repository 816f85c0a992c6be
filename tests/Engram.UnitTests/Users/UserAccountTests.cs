using Engram.Abstractions.Users;
using Engram.Grains.Users;

namespace Engram.UnitTests.Users;

public class UserAccountTests
{
    private readonly UserState state = new();
    private readonly UserGrainOptions options = new() { MaxActiveAlerts = 3, HistoryTurns = 4, HistoryMaxChars = 100, MaxTransactions = 5, ProcessedUpdatesKept = 3 };
    private UserAccount Account => new(state, options, TimeProvider.System);

    [Fact]
    public void Positions_are_capped_but_a_held_pair_can_still_be_added_to()
    {
        var capped = new UserAccount(state, new UserGrainOptions { MaxPositions = 2 }, TimeProvider.System);
        Assert.True(capped.Buy("BTCUSDT", 1m, 10m).Ok);
        Assert.True(capped.Buy("ETHUSDT", 1m, 10m).Ok);
        var third = capped.Buy("SOLUSDT", 1m, 10m);
        Assert.False(third.Ok);
        Assert.Contains("the limit is 2", third.Error);
        Assert.True(capped.Buy("BTCUSDT", 1m, 20m).Ok);
        Assert.Equal(2, state.Positions.Count);
    }

    [Fact]
    public void Buying_twice_averages_the_cost()
    {
        Assert.True(Account.Buy("BTCUSDT", 1m, 100m).Ok);
        var receipt = Account.Buy("BTCUSDT", 3m, 200m);

        Assert.True(receipt.Ok);
        Assert.Equal(4m, receipt.Value!.PositionAfter.Amount);
        Assert.Equal(175m, receipt.Value.PositionAfter.AverageCost); // (1*100 + 3*200) / 4
    }

    [Fact]
    public void Selling_realises_profit_against_the_average_cost_and_keeps_the_average()
    {
        Account.Buy("ETHUSDT", 2m, 1000m);
        Account.Buy("ETHUSDT", 2m, 2000m); // average 1500
        var sell = Account.Sell("ETHUSDT", 1m, 1800m);

        Assert.True(sell.Ok);
        Assert.Equal(300m, sell.Value!.Transaction.RealizedPnl);
        Assert.Equal(1500m, sell.Value.PositionAfter.AverageCost);
        Assert.Equal(3m, sell.Value.PositionAfter.Amount);
        var loss = Account.Sell("ETHUSDT", 3m, 1000m);
        Assert.Equal(-1500m, loss.Value!.Transaction.RealizedPnl);
        Assert.Equal(-1200m, state.RealizedPnl);
        Assert.Empty(Account.GetPortfolio().Positions); // a position sold to zero is closed
    }

    [Fact]
    public void Decimal_arithmetic_has_no_float_noise()
    {
        Account.Buy("XRPUSDT", 0.1m, 0.3m);
        Account.Buy("XRPUSDT", 0.2m, 0.3m);
        var position = Account.GetPortfolio().Positions.Single();
        Assert.Equal(0.3m, position.Amount);
        Assert.Equal(0.3m, position.AverageCost);
    }

    [Theory]
    [InlineData(5, 100)]   // more than held
    [InlineData(0, 100)]   // zero
    [InlineData(-1, 100)]  // negative
    [InlineData(1, 0)]     // zero price
    [InlineData(1, -5)]    // negative price
    public void Invalid_sells_are_refused_and_change_nothing(decimal amount, decimal price)
    {
        Account.Buy("BTCUSDT", 2m, 100m);
        var before = System.Text.Json.JsonSerializer.Serialize(state);

        var result = Account.Sell("BTCUSDT", amount, price);

        Assert.False(result.Ok);
        Assert.False(string.IsNullOrWhiteSpace(result.Error));
        Assert.Equal(before, System.Text.Json.JsonSerializer.Serialize(state));
    }

    [Fact]
    public void Selling_what_you_do_not_hold_says_so()
    {
        var result = Account.Sell("SOLUSDT", 1m, 10m);
        Assert.Contains("hold no SOL/USDT", result.Error);
    }

    [Fact]
    public void Transactions_are_bounded_but_positions_stay_exact()
    {
        for (var i = 0; i < 8; i++)
            Account.Buy("BNBUSDT", 1m, 10m);
        Assert.Equal(5, state.Transactions.Count);
        Assert.Equal(8m, state.Positions["BNBUSDT"].Amount);
    }

    [Fact]
    public void Alert_limit_counts_only_active_alerts()
    {
        for (var i = 1; i <= 3; i++)
            Assert.True(Account.AddAlert(new AlertRequest("BTCUSDT", AlertCondition.Above, 1000m * i, 500m)).Ok);

        var refused = Account.AddAlert(new AlertRequest("BTCUSDT", AlertCondition.Above, 9000m, 500m));
        Assert.False(refused.Ok);
        Assert.Contains("limit is 3", refused.Error);

        state.Alerts[0].Triggered = true;
        Assert.True(Account.AddAlert(new AlertRequest("BTCUSDT", AlertCondition.Above, 9000m, 500m)).Ok);
    }

    [Fact]
    public void Alert_already_true_is_refused_with_the_current_price()
    {
        var result = Account.AddAlert(new AlertRequest("BTCUSDT", AlertCondition.Above, 100_000m, 101_234m));
        Assert.False(result.Ok);
        Assert.Equal("BTC/USDT is already above 100,000: 101,234. The alert would fire at once.", result.Error);
        Assert.Empty(state.Alerts);
    }

    [Fact]
    public void Alert_ids_are_never_reused()
    {
        var first = Account.AddAlert(new AlertRequest("BTCUSDT", AlertCondition.Below, 50m, null)).Value!;
        Assert.True(Account.RemoveAlert(first.Id).Ok);
        var second = Account.AddAlert(new AlertRequest("BTCUSDT", AlertCondition.Below, 50m, null)).Value!;
        Assert.NotEqual(first.Id, second.Id);
        Assert.False(Account.RemoveAlert(first.Id).Ok);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    public void Alert_price_must_be_positive(decimal threshold)
    {
        Assert.False(Account.AddAlert(new AlertRequest("BTCUSDT", AlertCondition.Below, threshold, null)).Ok);
    }

    [Fact]
    public void Duplicate_alert_is_refused()
    {
        Account.AddAlert(new AlertRequest("ETHUSDT", AlertCondition.Below, 2000m, 2500m));
        Assert.Contains("already have this alert", Account.AddAlert(new AlertRequest("ETHUSDT", AlertCondition.Below, 2000m, 2500m)).Error);
    }

    [Fact]
    public void History_keeps_the_latest_turns_within_the_character_budget()
    {
        Account.AppendExchange("q1", "a1");
        Account.AppendExchange("q2", "a2");
        Account.AppendExchange("q3", "a3");
        Assert.Equal(["q2", "a2", "q3", "a3"], state.History.Select(t => t.Text));

        Account.AppendExchange("long question", new string('x', 95));
        Assert.Single(state.History); // only the newest answer fits in 100 characters
        Assert.Equal(ChatRole.Assistant, state.History[0].Role);
    }

    [Fact]
    public void Update_ids_are_deduplicated_within_the_window()
    {
        Assert.True(Account.TryMarkUpdateProcessed(10));
        Assert.False(Account.TryMarkUpdateProcessed(10));
        Assert.True(Account.TryMarkUpdateProcessed(11));
        Assert.True(Account.TryMarkUpdateProcessed(12));
        Assert.True(Account.TryMarkUpdateProcessed(13)); // 10 falls out of a window of 3
        Assert.Equal([11L, 12L, 13L], state.ProcessedUpdateIds);
    }

    [Fact]
    public void Settings_fall_back_to_deployment_defaults_until_chosen()
    {
        options.DefaultResponseFormat = ResponseFormat.Detailed;
        Assert.Equal(ResponseFormat.Detailed, Account.GetSettings().ResponseFormat);
        state.Settings.ResponseFormat = ResponseFormat.Raw;
        Assert.Equal(ResponseFormat.Raw, Account.GetSettings().ResponseFormat);

        Assert.False(Account.SetDefaultTimeframe("2h").Ok);
        Assert.Equal("4h", Account.SetDefaultTimeframe("4H").Value!.DefaultTimeframe);
    }
}
