using Engram.Abstractions.Conversation;
using Engram.Abstractions.Delivery;
using Engram.Abstractions.Inbox;
using Engram.Abstractions.Users;
using Engram.FunctionalTests.Alerts;
using Engram.FunctionalTests.Infrastructure;
using Engram.Grains.Conversation;
using Engram.Grains.Conversation.Commands;
using Microsoft.Extensions.DependencyInjection;

namespace Engram.FunctionalTests.Grains;

/// <summary>A command that fails halfway leaves the user exactly as before, whatever it had changed in memory.</summary>
[Collection(RedisCollection.Name)]
public sealed class FailedCommandTests(RedisServer redis)
{
    /// <summary>Changes the user (a buy), then fails: as a bug, or as a cancellation the dispatcher does not catch.</summary>
    private sealed class HalfwayFailingCommands : ICommandHandler
    {
        public IReadOnlyCollection<string> Commands => ["explode", "cancelled"];

        public Task<ChatReply?> RunAsync(UserSession session, ParsedMessage message)
        {
            Assert.True(session.Buy("SOLUSDT", 5m, 100m).Ok);
            throw message.Command == "explode" ? new OverflowException("P&L overflow") : new OperationCanceledException("gone");
        }
    }

    [Fact]
    public async Task A_command_that_throws_after_changing_the_user_stores_none_of_the_change()
    {
        var messenger = new RecordingMessenger();
        await using var cluster = await UserGrainCluster.StartAsync(redis, "halfway-" + Guid.NewGuid().ToString("N")[..8],
            configureServices: s =>
            {
                s.AddSingleton<IMessenger>(messenger);
                s.AddSingleton<ICommandHandler, HalfwayFailingCommands>();
            });
        var chat = new ChatDriver(cluster.Client, messenger);
        const long user = 6_200_001;
        var grain = cluster.Client.GetGrain<IUserGrain>(user);
        Assert.True((await grain.BuyAsync("BTCUSDT", 1m, 20_000m)).Ok);

        var reply = Assert.Single(await chat.SayAsync(user, "/explode"));
        Assert.Equal(ReplyKind.Error, reply.Kind);
        Assert.Contains("nothing was changed", reply.Text);
        Assert.Equal(["BTCUSDT"], (await grain.GetPortfolioAsync()).Positions.Select(p => p.Symbol));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            grain.AcceptAsync(new InboundUpdate(77_000_001, user, user, InboundKind.Text, "/cancelled", false, null, DateTimeOffset.UtcNow)));
        Assert.Equal(["BTCUSDT"], (await grain.GetPortfolioAsync()).Positions.Select(p => p.Symbol));

        // And what is stored agrees: a fresh activation reads the same portfolio.
        await cluster.DeactivateAsync((IAddressable)grain);
        await cluster.WaitForDeactivationAsync((IAddressable)grain);
        Assert.Equal(["BTCUSDT"], (await grain.GetPortfolioAsync()).Positions.Select(p => p.Symbol));
    }
}
