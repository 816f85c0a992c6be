using Engram.Abstractions.Delivery;
using Engram.Abstractions.Users;
using Engram.FunctionalTests.Alerts;
using Engram.FunctionalTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Engram.FunctionalTests.Grains;

/// <summary>A transport that keeps refusing (a revoked token, a long outage) leaves every user's outbox bounded in size and age.</summary>
[Collection(RedisCollection.Name)]
public sealed class UndeliveredMessagesTests(RedisServer redis)
{
    [Fact]
    public async Task The_outbox_keeps_the_newest_messages_up_to_its_bound_and_gives_up_on_day_old_ones()
    {
        var messenger = new RecordingMessenger { Failing = true };
        await using var cluster = await UserGrainCluster.StartAsync(redis, "undelivered-" + Guid.NewGuid().ToString("N")[..8],
            settings: new Dictionary<string, string?>
            {
                ["Users:MaxUndelivered"] = "10",
                ["Users:UndeliveredMaxAge"] = "00:00:03",
                ["Users:CommandsPerMinute"] = "100",
            },
            configureServices: s => s.AddSingleton<IMessenger>(messenger));
        var chat = new ChatDriver(cluster.Client, messenger);
        const long user = 6_100_001;
        var grain = cluster.Client.GetGrain<IUserGrain>(user);

        // 14 replies while the transport is down: the outbox holds 10, the 4 oldest gave way.
        var updates = new List<long>();
        for (var i = 0; i < 14; i++)
        {
            Assert.Empty(await chat.SayAsync(user, "/help"));
            updates.Add(chat.LastUpdateId);
        }
        messenger.Failing = false;
        await grain.DeliverOutboxAsync();
        await SentAsync(messenger, 10);
        Assert.Equal(10, messenger.Sent.Count); // the bound, counted in messages (a first-time user's reply may be two)
        Assert.All(updates.Take(4), id => Assert.Empty(messenger.ForUpdate(id)));
        Assert.All(updates.Skip(5), id => Assert.Single(messenger.ForUpdate(id)));

        // A reply refused for longer than Users:UndeliveredMaxAge is dropped at its next failed attempt; a fresh one waits.
        messenger.Failing = true;
        await chat.SayAsync(user, "/help");
        var stale = chat.LastUpdateId;
        await Task.Delay(TimeSpan.FromSeconds(3.5));
        await chat.SayAsync(user, "/help");
        var fresh = chat.LastUpdateId;
        messenger.Failing = false;
        await grain.DeliverOutboxAsync();
        await SentAsync(messenger, 11);
        Assert.Empty(messenger.ForUpdate(stale));
        Assert.Equal(11, messenger.Sent.Count);
        Assert.Single(messenger.ForUpdate(fresh));
    }

    /// <summary>Delivery is a one-way turn: wait for it (a little longer, to see that nothing more comes).</summary>
    private static async Task SentAsync(RecordingMessenger messenger, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (messenger.Sent.Count < count && DateTime.UtcNow < deadline)
            await Task.Delay(20);
        await Task.Delay(300);
    }
}
