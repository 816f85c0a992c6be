using Engram.Abstractions.Alerts;
using Engram.Abstractions.Delivery;
using Engram.Abstractions.Users;
using Engram.FunctionalTests.Grains;
using Engram.FunctionalTests.Infrastructure;
using Engram.Grains.Alerts;
using Microsoft.Extensions.DependencyInjection;

namespace Engram.FunctionalTests.Alerts;

[Collection(RedisCollection.Name)]
public sealed class ClusterRestartTests(RedisServer redis)
{
    /// <summary>The whole cluster stops and a new one starts on the same Redis: alerts are still armed and fire once.</summary>
    [Fact]
    public async Task Alerts_stay_armed_across_a_restart_of_the_whole_cluster()
    {
        var serviceId = "restart-" + Guid.NewGuid().ToString("N")[..8];
        var prices = new ScriptedPrices();
        prices.Set("RSTUSDT", 10m);
        var settings = new Dictionary<string, string?> { ["Alerts:PollInterval"] = "00:00:00.200" };

        await using (var before = await UserGrainCluster.StartAsync(redis, serviceId, settings: settings,
            configureServices: s => { s.AddSingleton<IAlertPriceSource>(prices); s.AddSingleton<IMessenger>(new RecordingMessenger()); }))
        {
            var added = await before.Client.GetGrain<IUserGrain>(77).AddAlertAsync(new AlertRequest("RSTUSDT", AlertCondition.Above, 12m, 10m));
            Assert.True(added.Ok);
        }

        var messenger = new RecordingMessenger();
        await using var after = await UserGrainCluster.StartAsync(redis, serviceId, settings: settings,
            configureServices: s => { s.AddSingleton<IAlertPriceSource>(prices); s.AddSingleton<IMessenger>(messenger); });
        // Nobody calls the user: the price watch's persisted index is what re-arms it (revived by its reminder or a status call).
        Assert.Equal(1, (await after.Client.GetGrain<IPriceWatchGrain>("RSTUSDT").GetStatusAsync()).Armed);
        prices.Set("RSTUSDT", 13m);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (messenger.To(77).Count == 0 && DateTime.UtcNow < deadline)
            await Task.Delay(50);
        await Task.Delay(500);
        Assert.Contains("is above 12: 13", Assert.Single(messenger.To(77)).Text);
    }
}
