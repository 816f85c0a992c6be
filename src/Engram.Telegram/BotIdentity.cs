using Telegram.Bot;

namespace Engram.Telegram;

/// <summary>The bot's own username (from getMe at start-up), used to tell commands addressed to it in groups.</summary>
public sealed class BotIdentity(ITelegramBotClient client)
{
    public string Username { get; private set; } = "";

    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        var me = await client.GetMe(cancellationToken);
        Username = me.Username ?? "";
    }
}
