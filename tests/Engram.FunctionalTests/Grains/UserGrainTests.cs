using Engram.Abstractions.Conversation;
using Engram.Abstractions.Delivery;
using Engram.Abstractions.Inbox;
using Engram.Abstractions.Users;
using Engram.FunctionalTests.Alerts;
using Engram.FunctionalTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace Engram.FunctionalTests.Grains;

[Collection(RedisCollection.Name)]
public sealed class UserGrainTests(RedisServer redis) : IAsyncLifetime
{
    private readonly string serviceId = "grain-tests-" + Guid.NewGuid().ToString("N")[..8];
    private readonly RecordingMessenger messenger = new();
    private InProcessTestCluster cluster = null!;
    private ChatDriver chat = null!;

    public async Task InitializeAsync()
    {
        cluster = await UserGrainCluster.StartAsync(redis, serviceId, configureServices: s => s.AddSingleton<IMessenger>(messenger));
        chat = new ChatDriver(cluster.Client, messenger);
    }

    public async Task DisposeAsync() => await cluster.DisposeAsync();

    private IUserGrain User(long id) => cluster.Client.GetGrain<IUserGrain>(id);

    [Fact]
    public async Task Portfolio_and_alerts_survive_deactivation()
    {
        var user = User(1001);
        Assert.True((await user.BuyAsync("BTCUSDT", 0.5m, 60_000m)).Ok);
        Assert.True((await user.BuyAsync("BTCUSDT", 0.5m, 70_000m)).Ok);
        Assert.True((await user.AddAlertAsync(new AlertRequest("BTCUSDT", AlertCondition.Above, 100_000m, 65_000m))).Ok);
        Assert.Contains("detailed", Assert.Single(await chat.SayAsync(1001, "/format detailed")).Text);

        await cluster.DeactivateAsync((IAddressable)user);
        await cluster.WaitForDeactivationAsync((IAddressable)user);

        var portfolio = await user.GetPortfolioAsync();
        var position = Assert.Single(portfolio.Positions);
        Assert.Equal(1m, position.Amount);
        Assert.Equal(65_000m, position.AverageCost);
        Assert.Equal(100_000m, Assert.Single(await user.GetAlertsAsync()).Threshold);
        Assert.Equal(ResponseFormat.Detailed, (await user.GetSettingsAsync()).ResponseFormat);
    }

    [Fact]
    public async Task Refused_operations_return_reasons_and_persist_nothing()
    {
        var user = User(1002);
        var sell = await user.SellAsync("ETHUSDT", 1m, 2000m);
        Assert.False(sell.Ok);
        Assert.Contains("hold no ETH/USDT", sell.Error);

        for (var i = 1; i <= 5; i++)
            Assert.True((await user.AddAlertAsync(new AlertRequest("ETHUSDT", AlertCondition.Below, 1000m + i, null))).Ok);
        var sixth = await user.AddAlertAsync(new AlertRequest("ETHUSDT", AlertCondition.Below, 900m, null));
        Assert.Contains("limit is 5", sixth.Error);

        await cluster.DeactivateAsync((IAddressable)user);
        await cluster.WaitForDeactivationAsync((IAddressable)user);
        Assert.Equal(5, (await user.GetAlertsAsync()).Count);
        Assert.Empty((await user.GetPortfolioAsync()).Positions);
    }

    [Fact]
    public async Task Redelivered_updates_run_once_and_are_answered_once()
    {
        var user = User(1003);
        var buy = new InboundUpdate(555, 1003, 1003, InboundKind.Text, "/buy ETH 1 2000");
        Assert.Equal(UpdateOutcome.Answered, await user.AcceptAsync(buy));
        Assert.Equal(UpdateOutcome.Duplicate, await user.AcceptAsync(buy));
        await cluster.DeactivateAsync((IAddressable)user);
        await cluster.WaitForDeactivationAsync((IAddressable)user);
        Assert.Equal(UpdateOutcome.Duplicate, await user.AcceptAsync(buy)); // remembered across activations

        Assert.Equal(1m, Assert.Single((await user.GetPortfolioAsync()).Positions).Amount);
        Assert.Contains("Bought 1 ETH/USDT", Assert.Single(messenger.ForUpdate(555)).Text);
    }

    [Fact]
    public async Task A_flood_gets_one_slow_down_notice_and_its_excess_is_skipped()
    {
        // Users:CommandsPerMinute is 30 by default.
        var replies = new List<ChatReply>();
        for (var i = 0; i < 40; i++)
            replies.AddRange(await chat.SayAsync(1006, "/help"));
        Assert.Equal(30, replies.Count(r => r.Text.StartsWith("Commands:", StringComparison.Ordinal)));
        Assert.Contains("Slow down", Assert.Single(replies, r => r.Kind == ReplyKind.Notice).Text);
    }

    [Fact]
    public async Task Reset_forgets_the_history_only()
    {
        Assert.Contains("Bought", Assert.Single(await chat.SayAsync(1004, "/buy BTC 1 100")).Text);
        Assert.Contains("forgot our conversation", Assert.Single(await chat.SayAsync(1004, "/reset")).Text);
        Assert.Empty(await User(1004).GetHistoryAsync());
        Assert.Single((await User(1004).GetPortfolioAsync()).Positions);
    }

    /// <summary>
    /// Two clusters sharing one ServiceId and one Redis each hold an activation of the same user
    /// (as can happen briefly during a failover). The one with the stale ETag must re-read and
    /// re-apply its change rather than overwrite the other's.
    /// </summary>
    [Fact]
    public async Task Etag_conflict_is_resolved_by_rereading_not_overwriting()
    {
        await using var second = await UserGrainCluster.StartAsync(redis, serviceId);
        var here = User(1005);
        var there = second.Client.GetGrain<IUserGrain>(1005);

        Assert.Empty((await here.GetPortfolioAsync()).Positions);  // both activations read the empty state
        Assert.Empty((await there.GetPortfolioAsync()).Positions);

        Assert.True((await here.BuyAsync("BTCUSDT", 1m, 100m)).Ok);
        Assert.True((await there.BuyAsync("ETHUSDT", 2m, 10m)).Ok); // stale ETag: conflict, re-read, re-apply

        var merged = await there.GetPortfolioAsync();
        Assert.Equal(["BTCUSDT", "ETHUSDT"], merged.Positions.Select(p => p.Symbol));
    }
}
