using Engram.Abstractions.Conversation;
using Engram.Abstractions.Delivery;
using Engram.Abstractions.Inbox;
using Engram.Abstractions.Users;
using Engram.FunctionalTests.Alerts;
using Engram.FunctionalTests.Infrastructure;
using Engram.TestServers;
using Microsoft.Extensions.DependencyInjection;

namespace Engram.FunctionalTests.Grains;

/// <summary>While the model is slow, one user's questions wait in order up to a bound; past it they are refused at once.</summary>
[Collection(RedisCollection.Name)]
public sealed class PendingQuestionsTests(RedisServer redis)
{
    [Fact]
    public async Task Questions_past_the_bound_are_refused_and_the_waiting_ones_are_all_answered()
    {
        await using var llm = await OpenAiServer.StartAsync();
        llm.DefaultReply = ScriptedReply.Text("Answer from the model.") with { Delay = TimeSpan.FromMilliseconds(700) };
        var messenger = new RecordingMessenger();
        await using var cluster = await UserGrainCluster.StartAsync(redis, "pending-" + Guid.NewGuid().ToString("N")[..8],
            llmEndpoint: llm.Endpoint.ToString(),
            settings: new Dictionary<string, string?> { ["Users:MaxPendingQuestions"] = "3" },
            configureServices: s => s.AddSingleton<IMessenger>(messenger));
        const long user = 6_300_001;
        var grain = cluster.Client.GetGrain<IUserGrain>(user);

        var outcomes = new List<UpdateOutcome>();
        for (var i = 1; i <= 5; i++)
            outcomes.Add(await grain.AcceptAsync(new InboundUpdate(78_000_000 + i, user, user, InboundKind.Text, $"question {i}?", false, null, DateTimeOffset.UtcNow)));
        Assert.Equal([UpdateOutcome.Thinking, UpdateOutcome.Thinking, UpdateOutcome.Thinking, UpdateOutcome.Answered, UpdateOutcome.Answered], outcomes);
        Assert.Contains("3 questions waiting", Assert.Single(messenger.ForUpdate(78_000_004)).Text);

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (await grain.CountPendingQuestionsAsync() > 0 && DateTime.UtcNow < deadline)
            await Task.Delay(50);
        for (var i = 1; i <= 3; i++)
            Assert.Contains(messenger.ForUpdate(78_000_000 + i), r => r.Text.Contains("Answer from the model.", StringComparison.Ordinal));
        Assert.Equal(3, llm.Requests.Count); // the refused ones never reached the model
    }
}
