using Engram.Abstractions.Users;
using Engram.FunctionalTests.Infrastructure;
using Orleans.TestingHost;

namespace Engram.FunctionalTests.Grains;

[Collection(RedisCollection.Name)]
public sealed class UserGrainTests(RedisServer redis) : IAsyncLifetime
{
    private readonly string serviceId = "grain-tests-" + Guid.NewGuid().ToString("N")[..8];
    private InProcessTestCluster cluster = null!;

    public async Task InitializeAsync() => cluster = await UserGrainCluster.StartAsync(redis, serviceId);

    public async Task DisposeAsync() => await cluster.DisposeAsync();

    private IUserGrain User(long id) => cluster.Client.GetGrain<IUserGrain>(id);

    [Fact]
    public async Task Portfolio_and_alerts_survive_deactivation()
    {
        var user = User(1001);
        Assert.True((await user.BuyAsync("BTCUSDT", 0.5m, 60_000m)).Ok);
        Assert.True((await user.BuyAsync("BTCUSDT", 0.5m, 70_000m)).Ok);
        Assert.True((await user.AddAlertAsync(new AlertRequest("BTCUSDT", AlertCondition.Above, 100_000m, 65_000m))).Ok);
        await user.SetResponseFormatAsync(ResponseFormat.Detailed);

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
    public async Task Redelivered_update_ids_are_dropped()
    {
        var user = User(1003);
        Assert.True(await user.TryMarkUpdateProcessedAsync(555));
        Assert.False(await user.TryMarkUpdateProcessedAsync(555));
        await cluster.DeactivateAsync((IAddressable)user);
        await cluster.WaitForDeactivationAsync((IAddressable)user);
        Assert.False(await user.TryMarkUpdateProcessedAsync(555)); // remembered across activations
    }

    [Fact]
    public async Task History_is_kept_and_reset()
    {
        var user = User(1004);
        await user.AppendExchangeAsync("should I buy bitcoin?", "Here is what the indicators say...");
        Assert.Equal(2, (await user.GetHistoryAsync()).Count);
        await user.ResetHistoryAsync();
        Assert.Empty(await user.GetHistoryAsync());
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
