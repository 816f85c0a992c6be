using Engram.Abstractions.Conversation;
using Engram.Abstractions.Inbox;
using Engram.Abstractions.Users;
using Engram.FunctionalTests.Alerts;

namespace Engram.FunctionalTests.Infrastructure;

/// <summary>
/// Talks to a user grain the way the Telegram ingress does: each message is an update for
/// <see cref="IUserGrain.AcceptAsync"/>, and the replies are what the transport was given for it
/// (a question's answer arrives later, from the LLM worker, and is waited for).
/// </summary>
public sealed class ChatDriver(IGrainFactory grains, RecordingMessenger messenger)
{
    private static long nextUpdateId = 10_000_000;

    public long LastUpdateId { get; private set; }

    public async Task<IReadOnlyList<ChatReply>> SayAsync(long userId, string text, long? chatId = null, string? callbackQueryId = null)
    {
        var updateId = LastUpdateId = Interlocked.Increment(ref nextUpdateId);
        var kind = callbackQueryId is null ? InboundKind.Text : InboundKind.Button;
        var user = grains.GetGrain<IUserGrain>(userId);
        var outcome = await user.AcceptAsync(new InboundUpdate(updateId, userId, chatId ?? userId, kind, text, chatId < 0, callbackQueryId, DateTimeOffset.UtcNow));
        if (outcome == UpdateOutcome.Thinking)
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (await user.CountPendingQuestionsAsync() > 0)
            {
                if (DateTime.UtcNow > deadline)
                    throw new TimeoutException($"No answer to '{text}' within 60 s");
                await Task.Delay(20);
            }
        }
        return messenger.ForUpdate(updateId).Where(r => r.Kind != ReplyKind.Duplicate).ToList();
    }
}
