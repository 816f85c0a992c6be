using Engram.Abstractions.Alerts;
using Engram.Abstractions.Users;
using Engram.Grains.Alerts;

namespace Engram.FunctionalTests.Alerts;

/// <summary>The alert engine with a scripted price source: user grains, price watch grains, real Redis.</summary>
public sealed class AlertEngineTests(AlertFixture fixture) : IClassFixture<AlertFixture>
{
    private static long nextUser = 8_000_000;
    private static int nextSymbol;
    private readonly long user = Interlocked.Increment(ref nextUser);
    // Each test watches its own symbol, so tests do not see each other's prices.
    private readonly string symbol = $"T{Interlocked.Increment(ref nextSymbol)}USDT";

    private IUserGrain User(long? id = null) => fixture.Cluster.Client.GetGrain<IUserGrain>(id ?? user);

    private async Task<int> AddAlert(AlertCondition condition, decimal threshold, decimal current, long? id = null, bool repeat = false,
        TimeSpan? cooldown = null, DateTimeOffset? expires = null)
    {
        var result = await User(id).AddAlertAsync(new AlertRequest(symbol, condition, threshold, current, repeat, cooldown, expires));
        Assert.True(result.Ok, result.Error);
        return result.Value!.Id;
    }

    private async Task<IReadOnlyList<Engram.Abstractions.Conversation.ChatReply>> WaitForNotifications(long id, int count, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (fixture.Messenger.To(id).Count < count && DateTime.UtcNow < deadline)
            await Task.Delay(50);
        return fixture.Messenger.To(id);
    }

    [Fact]
    public async Task A_crossing_up_notifies_once_with_price_time_and_buttons()
    {
        fixture.Prices.Set(symbol, 19_000m);
        var id = await AddAlert(AlertCondition.Above, 20_000m, 19_000m);
        await Task.Delay(600);
        Assert.Empty(fixture.Messenger.To(user));

        fixture.Prices.Set(symbol, 20_500m);
        var sent = await WaitForNotifications(user, 1);
        await Task.Delay(800); // more ticks above the threshold
        var notification = Assert.Single(fixture.Messenger.To(user));
        Assert.Contains($"is above 20,000.00: 20,500.00 at", notification.Text);
        Assert.Contains($"Alert #{id}", notification.Text);
        Assert.Contains(notification.Buttons!, b => b.Command.StartsWith("/alert ", StringComparison.Ordinal));
        Assert.Contains(notification.Buttons!, b => b.Command.StartsWith("/analyze ", StringComparison.Ordinal));
        var alert = Assert.Single(await User().GetAlertsAsync(includeTriggered: true));
        Assert.True(alert.Triggered);
        Assert.Empty(await User().GetAlertsAsync());
    }

    [Fact]
    public async Task A_gap_down_over_the_threshold_fires_with_the_gap_price()
    {
        fixture.Prices.Set(symbol, 19_000m);
        await AddAlert(AlertCondition.Below, 18_000m, 19_000m);
        await Task.Delay(400);
        fixture.Prices.Set(symbol, 15_000m);
        var sent = await WaitForNotifications(user, 1);
        Assert.Contains("is below 18,000.00: 15,000.00", Assert.Single(sent).Text);
    }

    [Fact]
    public async Task One_price_fires_exactly_the_alerts_it_crosses_among_many()
    {
        fixture.Prices.Set(symbol, 100m);
        var users = Enumerable.Range(0, 40).Select(i => user * 100 + i).ToList();
        // Thresholds 101..140 above the price: a move to 130.5 crosses the first 30.
        for (var i = 0; i < users.Count; i++)
            await AddAlert(AlertCondition.Above, 101m + i, 100m, users[i]);
        fixture.Prices.Set(symbol, 130.5m);
        foreach (var u in users.Take(30))
            Assert.Single(await WaitForNotifications(u, 1));
        await Task.Delay(600);
        foreach (var u in users.Skip(30))
            Assert.Empty(fixture.Messenger.To(u));
        var status = await fixture.Cluster.Client.GetGrain<IPriceWatchGrain>(symbol).GetStatusAsync();
        Assert.Equal(10, status.Armed);
    }

    [Fact]
    public async Task A_repeating_alert_rearms_only_after_cooldown_and_a_move_back_across()
    {
        fixture.Prices.Set(symbol, 95m);
        await AddAlert(AlertCondition.Above, 100m, 95m, repeat: true, cooldown: TimeSpan.FromSeconds(1));
        fixture.Prices.Set(symbol, 101m);
        await WaitForNotifications(user, 1);

        // Flapping at the threshold (inside the 0.1% band) and staying above do not re-arm it.
        foreach (var p in new[] { 100.5m, 99.95m, 100.2m, 99.95m, 101m })
        {
            fixture.Prices.Set(symbol, p);
            await Task.Delay(300);
        }
        Assert.Single(fixture.Messenger.To(user));

        fixture.Prices.Set(symbol, 98m); // back across, cooldown over: re-armed
        await Task.Delay(600);
        fixture.Prices.Set(symbol, 102m);
        var sent = await WaitForNotifications(user, 2);
        Assert.Equal(2, sent.Count);
        Assert.Equal(2, Assert.Single(await User().GetAlertsAsync()).TimesTriggered);
    }

    [Fact]
    public async Task An_expired_alert_does_not_fire_and_is_no_longer_listed()
    {
        fixture.Prices.Set(symbol, 50m);
        await AddAlert(AlertCondition.Above, 60m, 50m, expires: DateTimeOffset.UtcNow.AddSeconds(1));
        var watch = fixture.Cluster.Client.GetGrain<IPriceWatchGrain>(symbol);
        Assert.True((await watch.GetStatusAsync()).Watching);
        await Task.Delay(1500);
        Assert.Empty(await User().GetAlertsAsync());
        // The watch dropped it on its own (the owner was not asked) and, with nothing left, stopped watching.
        var status = await watch.GetStatusAsync();
        Assert.Equal(0, status.Armed);
        Assert.False(status.Watching);
        fixture.Prices.Set(symbol, 70m);
        await Task.Delay(800);
        Assert.Empty(fixture.Messenger.To(user));

        // The owner's state forgets it too at the next alert, so short-lived alerts set again and again cannot pile up.
        fixture.Prices.Set(symbol, 70m);
        await AddAlert(AlertCondition.Above, 80m, 70m);
        Assert.Single(await User().GetAlertsAsync(includeTriggered: true));
    }

    [Fact]
    public async Task Watched_symbols_share_one_price_request_per_poll()
    {
        var symbols = Enumerable.Range(1, 8).Select(i => $"{symbol[..^4]}N{i}USDT").ToList();
        foreach (var s in symbols)
        {
            fixture.Prices.Set(s, 100m);
            Assert.True((await User().AddAlertAsync(new AlertRequest(s, AlertCondition.Above, 200m, 100m, false, null, null))).Ok);
        }
        await Task.Delay(600); // every watch has had a poll
        var before = fixture.Prices.Requests;
        var started = DateTime.UtcNow;
        await Task.Delay(2000);
        var requests = fixture.Prices.Requests - before;
        var polls = (DateTime.UtcNow - started) / TimeSpan.FromMilliseconds(200);
        Assert.InRange(requests, 1, (int)polls + 2); // one request per poll, not one per symbol (8 × polls)
        foreach (var s in symbols)
            Assert.Equal(100m, (await fixture.Cluster.Client.GetGrain<IPriceWatchGrain>(s).GetStatusAsync()).LastPrice);
    }

    [Fact]
    public async Task A_deleted_alert_leaves_the_index_and_never_fires()
    {
        fixture.Prices.Set(symbol, 10m);
        var id = await AddAlert(AlertCondition.Below, 9m, 10m);
        Assert.True((await User().RemoveAlertAsync(id)).Ok);
        Assert.Equal(0, (await fixture.Cluster.Client.GetGrain<IPriceWatchGrain>(symbol).GetStatusAsync()).Armed);
        fixture.Prices.Set(symbol, 8m);
        await Task.Delay(600);
        Assert.Empty(fixture.Messenger.To(user));
    }

    [Fact]
    public async Task An_index_that_lost_an_alert_heals_from_the_user_grain()
    {
        fixture.Prices.Set(symbol, 10m);
        var id = await AddAlert(AlertCondition.Above, 11m, 10m);
        var watch = fixture.Cluster.Client.GetGrain<IPriceWatchGrain>(symbol);
        await watch.RemoveAsync(new AlertEntry(11m, user, id, AlertCondition.Above)); // the index forgets it
        Assert.Equal(0, (await watch.GetStatusAsync()).Armed);

        await fixture.Cluster.DeactivateAsync((IAddressable)User());
        await fixture.Cluster.WaitForDeactivationAsync((IAddressable)User());
        await User().GetAlertsAsync(); // reactivation re-syncs its alerts
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while ((await watch.GetStatusAsync()).Armed == 0 && DateTime.UtcNow < deadline)
            await Task.Delay(50);

        fixture.Prices.Set(symbol, 12m);
        Assert.Single(await WaitForNotifications(user, 1));
    }

    [Fact]
    public async Task Alert_command_parses_relative_repeat_and_expiry()
    {
        var parsed = Engram.Grains.Conversation.AlertCommand.Parse(["BTC", "+5%", "repeat", "30m", "for", "7d"])!;
        Assert.Equal(5m, parsed.Percent);
        Assert.True(parsed.Repeat);
        Assert.Equal(TimeSpan.FromMinutes(30), parsed.Cooldown);
        Assert.Equal(TimeSpan.FromDays(7), parsed.ExpiresIn);
        Assert.Null(Engram.Grains.Conversation.AlertCommand.Parse(["BTC", "+0%"]));
        Assert.Null(Engram.Grains.Conversation.AlertCommand.Parse(["BTC", "above", "100", "sometimes"]));
        await Task.CompletedTask;
    }
}
