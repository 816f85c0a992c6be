using Engram.Abstractions.Conversation;
using Engram.Abstractions.Delivery;
using Engram.Abstractions.Inbox;
using Engram.Abstractions.Users;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using Telegram.Bot.Types;
using Telegram.Bot.Types.Enums;

namespace Engram.Telegram;

/// <summary>What became of a batch handed to the router.</summary>
public enum IngressResult
{
    /// <summary>Every update was handled and stored by its user's grain, or deliberately ignored.</summary>
    Accepted = 0,
    /// <summary>The silo stayed full for the whole hold: Telegram should send it again later.</summary>
    Refused = 1,
}

/// <summary>
/// Hands Telegram updates to their senders' grains. Both ingress modes use it: it returns only once
/// every update it was given is handled and stored (or deliberately ignored), which is what lets the
/// poller advance its offset and the webhook answer 200; until then Telegram keeps the update.
/// </summary>
public sealed partial class UpdateRouter(
    IGrainFactory grains,
    IngressGate gate,
    BotIdentity bot,
    IMessenger messenger,
    IOptions<TelegramOptions> options,
    IConnectionMultiplexer redis,
    TelegramMetrics metrics,
    ILogger<UpdateRouter> logger)
{
    private readonly IReadOnlySet<long> allowed = options.Value.AllowedUserIds;

    /// <summary>
    /// Accepts a batch: different users in parallel, each user's updates in order, each waiting up
    /// to <paramref name="hold"/> for room on this silo (the poller waits as long as it takes).
    /// </summary>
    public async Task<IngressResult> AcceptAsync(IReadOnlyList<Update> updates, TimeSpan hold, CancellationToken cancellationToken = default)
    {
        var routed = new List<InboundUpdate>(updates.Count);
        foreach (var update in updates)
        {
            if (await ToInboundAsync(update) is { } inbound)
                routed.Add(inbound);
        }
        if (routed.Count == 1)
            return await AcceptAsync(routed[0], hold, cancellationToken);
        var results = await Task.WhenAll(routed.GroupBy(u => u.UserId).Select(async perUser =>
        {
            foreach (var update in perUser)
            {
                if (await AcceptAsync(update, hold, cancellationToken) == IngressResult.Refused)
                    return IngressResult.Refused;
            }
            return IngressResult.Accepted;
        }));
        return results.Contains(IngressResult.Refused) ? IngressResult.Refused : IngressResult.Accepted;
    }

    /// <summary>While a silo is failing over, a user's grain is briefly unreachable: the update is tried again this long.</summary>
    private static readonly TimeSpan FailoverPatience = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan FailoverRetry = TimeSpan.FromMilliseconds(200);

    private async Task<IngressResult> AcceptAsync(InboundUpdate update, TimeSpan hold, CancellationToken cancellationToken)
    {
        using var room = await gate.EnterAsync(update.UserId, hold, cancellationToken);
        if (room is null)
            return IngressResult.Refused;
        var patience = hold == Timeout.InfiniteTimeSpan || hold > FailoverPatience ? FailoverPatience : hold;
        var giveUpAt = DateTime.UtcNow + patience;
        while (true)
        {
            try
            {
                await grains.GetGrain<IUserGrain>(update.UserId).AcceptAsync(update);
                break;
            }
            catch (OrleansMessageRejectionException ex) when (DateTime.UtcNow < giveUpAt)
            {
                // The grain's silo died and is not yet declared dead (or its grains are in the directory's hold):
                // this update waits alone, the rest of the batch goes on; the grain drops a repeat by its id.
                LogFailoverRetry(update.UserId, ex.GetType().Name);
                await Task.Delay(FailoverRetry, cancellationToken);
            }
        }
        metrics.UpdatesAccepted(1);
        return IngressResult.Accepted;
    }

    /// <summary>
    /// The update as the user grain takes it, or null when Engram deliberately ignores it. The allow-list is checked
    /// last, on what would be handled: a stranger's group chatter or join is not an update for Engram at all.
    /// </summary>
    internal async Task<InboundUpdate?> ToInboundAsync(Update update)
    {
        var inbound = Classify(update);
        if (inbound is null || allowed.Count == 0 || allowed.Contains(inbound.UserId))
            return inbound;
        metrics.UpdateIgnored("not-allowed");
        if (!inbound.IsGroup)
            await RefuseOnceAsync(inbound);
        return null;
    }

    private InboundUpdate? Classify(Update update)
    {
        var now = DateTimeOffset.UtcNow;
        switch (update)
        {
            case { Message: { From: { IsBot: false } from } message }:
            {
                var isGroup = message.Chat.Type is ChatType.Group or ChatType.Supergroup;
                var text = message.Text;
                if (text is null)
                {
                    // Stickers, photos, voice, joins and leaves: a polite word in private, silence in groups.
                    var service = message.NewChatMembers is not null || message.LeftChatMember is not null;
                    return isGroup || service ? null : new InboundUpdate(update.Id, from.Id, message.Chat.Id, InboundKind.Unsupported, "", false, null, now);
                }
                if (isGroup && !IsAddressedToBot(text))
                    return null;
                return new InboundUpdate(update.Id, from.Id, message.Chat.Id, InboundKind.Text, StripBotName(text), isGroup, null, now);
            }
            case { CallbackQuery: { From: var from, Data: { } data } query }:
            {
                var chatId = query.Message?.Chat.Id ?? from.Id;
                var isGroup = query.Message?.Chat.Type is ChatType.Group or ChatType.Supergroup;
                // Buttons carry their owner: pressing someone else's "delete alert" in a group must not touch your own #3.
                var (owner, command) = CallbackData.Parse(data);
                if (owner is null || owner != from.Id)
                {
                    LogForeignButton(from.Id, owner);
                    return new InboundUpdate(update.Id, from.Id, chatId, InboundKind.Button, "/__foreign_button", isGroup, query.Id, now);
                }
                return new InboundUpdate(update.Id, from.Id, chatId, InboundKind.Button, command, isGroup, query.Id, now);
            }
            default:
                // Edited messages, channel posts, membership changes, polls…: acknowledged, not answered.
                metrics.UpdateIgnored(update.Type.ToString());
                return null;
        }
    }

    /// <summary>In a group the bot answers commands meant for it: /cmd or /cmd@ThisBot, or a message that mentions it.</summary>
    private bool IsAddressedToBot(string text)
    {
        var trimmed = text.TrimStart();
        if (trimmed.StartsWith('/'))
        {
            var first = trimmed.Split(' ', 2)[0];
            var at = first.IndexOf('@');
            return at < 0 || string.Equals(first[(at + 1)..], bot.Username, StringComparison.OrdinalIgnoreCase);
        }
        return bot.Username.Length > 0 && trimmed.Contains("@" + bot.Username, StringComparison.OrdinalIgnoreCase);
    }

    private string StripBotName(string text) =>
        bot.Username.Length == 0 ? text : text.Replace("@" + bot.Username, "", StringComparison.OrdinalIgnoreCase).Trim();

    private const string RefusalText = "Sorry, this Engram bot is private. Ask its operator to add your Telegram user id.";

    /// <summary>
    /// Someone outside the allow-list, in a private chat, gets one polite refusal per
    /// <see cref="TelegramOptions.RefusalRepeatAfter"/> (cluster-wide, so the keys expire and do not pile up), sent
    /// through the messenger like any reply, within Telegram's limits. A refusal is a courtesy: its failure is logged
    /// and never holds up or fails the batch.
    /// </summary>
    private async Task RefuseOnceAsync(InboundUpdate update)
    {
        try
        {
            var key = $"engram:telegram:refused:{update.UserId}";
            var db = redis.GetDatabase();
            if (!await db.StringSetAsync(key, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), options.Value.RefusalRepeatAfter, When.NotExists))
                return;
            LogRefused(update.UserId);
            _ = SendRefusalAsync(update, key); // the messenger may wait for the chat's send limit: not on the ingress path
        }
        catch (RedisException ex)
        {
            LogRefusalFailed(update.UserId, ex.GetType().Name);
        }
    }

    private async Task SendRefusalAsync(InboundUpdate update, string key)
    {
        try
        {
            using var budget = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var outcome = await messenger.SendAsync(new OutgoingMessage(update.UserId, update.ChatId, ChatReply.Notice(RefusalText), update.CallbackQueryId), budget.Token);
            if (outcome == DeliveryOutcome.RetryLater)
                await redis.GetDatabase().KeyDeleteAsync(key); // not sent: their next message tries again
        }
        catch (Exception ex)
        {
            LogRefusalFailed(update.UserId, ex.GetType().Name);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refusal to user {UserId} (not on the allow-list) not sent: {Error}")]
    private partial void LogRefusalFailed(long userId, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "User {UserId} is not on the allow-list; refused once")]
    private partial void LogRefused(long userId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "User {UserId}'s grain is failing over ({Error}); the update is tried again")]
    private partial void LogFailoverRetry(long userId, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "User {UserId} pressed a button that belongs to user {OwnerId}")]
    private partial void LogForeignButton(long userId, long? ownerId);
}

/// <summary>Inline button data: <c>owner|command</c>, within Telegram's 64 bytes.</summary>
public static class CallbackData
{
    public static string Create(long ownerId, string command)
    {
        var data = $"{ownerId}|{command}";
        return System.Text.Encoding.UTF8.GetByteCount(data) <= 64 ? data : throw new ArgumentException($"Button command too long: {command}");
    }

    public static (long? Owner, string Command) Parse(string data)
    {
        var bar = data.IndexOf('|');
        return bar > 0 && long.TryParse(data.AsSpan(0, bar), out var owner) ? (owner, data[(bar + 1)..]) : (null, data);
    }
}
