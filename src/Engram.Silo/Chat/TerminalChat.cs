using Engram.Abstractions.Common;
using Engram.Abstractions.Conversation;
using Engram.Abstractions.Delivery;
using Engram.Abstractions.Inbox;
using Engram.Abstractions.Users;

namespace Engram.Silo.Chat;

/// <summary>
/// <c>dotnet run --project src/Engram.Silo -- chat</c>: talk to Engram in the terminal as a local
/// user, with no bot token, on the same path as Telegram: each line is an update for the user's
/// grain, and the replies come back through a transport that prints them.
/// </summary>
public static class TerminalChat
{
    public static bool IsRequested(string[] args) => args.Length > 0 && string.Equals(args[0], "chat", StringComparison.OrdinalIgnoreCase);

    /// <summary>In chat mode the console belongs to the conversation: logs go to the file only, replies to the console.</summary>
    public static void ConfigureForChat(WebApplicationBuilder builder)
    {
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Logging:Console"] = "false" });
        builder.Services.AddSingleton<IMessenger>(new TerminalMessenger(Console.Out));
    }

    public static async Task RunAsync(WebApplication app, TextReader input, TextWriter output)
    {
        await app.StartAsync();
        var grains = app.Services.GetRequiredService<IGrainFactory>();
        var userId = app.Configuration.GetValue<long>("Chat:UserId", 1);
        var user = grains.GetGrain<IUserGrain>(userId);
        // Update ids only need to grow: the clock keeps them new across runs.
        var nextUpdateId = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        output.WriteLine("Engram terminal chat. Type /help for commands, a question in plain words, or /quit to leave.");
        output.WriteLine($"(local user {userId}; logs in logs/engram_bot.log)");
        while (true)
        {
            output.Write("> ");
            var line = await input.ReadLineAsync();
            if (line is null || line.Trim() is "/quit" or "/exit")
                break;
            if (line.Trim().Length == 0)
                continue;
            try
            {
                var update = new InboundUpdate(nextUpdateId++, userId, userId, InboundKind.Text, line, ReceivedAt: DateTimeOffset.UtcNow);
                if (await user.AcceptAsync(update) == UpdateOutcome.Thinking)
                    await WaitForAnswerAsync(user);
            }
            catch (Exception ex) when (ex is TimeoutException or OrleansException or UserStateUnavailableException)
            {
                output.WriteLine("Engram did not answer in time; please try again.");
            }
        }
        await app.StopAsync();
    }

    /// <summary>The answer is printed by the transport when the LLM worker hands it back; the prompt waits for it.</summary>
    private static async Task WaitForAnswerAsync(IUserGrain user)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(5);
        while (await user.CountPendingQuestionsAsync() > 0 && DateTime.UtcNow < deadline)
            await Task.Delay(100);
    }

    internal static void Print(TextWriter output, ChatReply reply)
    {
        if (reply.Kind == ReplyKind.Duplicate)
            return;
        output.WriteLine(reply.Text);
        if (reply.Photo is { } png)
        {
            // The terminal cannot show images: save the chart and say where.
            Directory.CreateDirectory("charts");
            var path = Path.GetFullPath(Path.Combine("charts", $"engram-{DateTime.UtcNow:yyyyMMdd-HHmmss-fff}.png"));
            File.WriteAllBytes(path, png);
            output.WriteLine($"[chart saved to {path}]");
        }
        if (reply.Buttons is { Count: > 0 } buttons)
            output.WriteLine(string.Join("  ", buttons.Select(b => $"[{b.Label}: {b.Command}]")));
        output.WriteLine();
    }

    /// <summary>
    /// The terminal as a transport: every message is printed at once, and a streamed answer word by word. Its final,
    /// checked text then prints only what the words did not already show (a warning, the rest), or in full if it differs.
    /// </summary>
    private sealed class TerminalMessenger(TextWriter output) : IMessenger
    {
        private readonly Lock oneAtATime = new();
        private readonly Dictionary<long, string> drafts = [];
        private long nextDraft;

        public bool IsEnabled => true;

        public Task<DeliveryOutcome> SendAsync(OutgoingMessage message, CancellationToken cancellationToken)
        {
            lock (oneAtATime)
            {
                var reply = message.Reply;
                if (reply.EditMessageId is { } id && drafts.Remove(id, out var printed))
                {
                    // The words are on the screen already; print what the check changed or added.
                    output.WriteLine(reply.Text.StartsWith(printed, StringComparison.Ordinal) ? reply.Text[printed.Length..] : "\n" + reply.Text);
                    reply = reply with { Text = "" };
                    if (reply.Photo is null && reply.Buttons is not { Count: > 0 })
                    {
                        output.WriteLine();
                        return Task.FromResult(DeliveryOutcome.Delivered);
                    }
                }
                Print(output, reply);
            }
            return Task.FromResult(DeliveryOutcome.Delivered);
        }

        public IAsyncDisposable BeginTyping(long chatId) => NoTyping.Instance;

        public IAnswerDraft BeginDraft(long chatId) => new TerminalDraft(this);

        private void Append(TerminalDraft draft, string textSoFar)
        {
            lock (oneAtATime)
            {
                var id = draft.MessageId ?? ++nextDraft;
                var printed = drafts.GetValueOrDefault(id, "");
                // Cleaning can rewrite the tail (a closing tag): print only a clean extension of what is on screen.
                if (textSoFar.Length > printed.Length && textSoFar.StartsWith(printed, StringComparison.Ordinal))
                {
                    output.Write(textSoFar[printed.Length..]);
                    output.Flush();
                    drafts[id] = textSoFar;
                }
                else if (draft.MessageId is null)
                {
                    drafts[id] = printed;
                }
                draft.MessageId = id;
            }
        }

        private sealed class TerminalDraft(TerminalMessenger owner) : IAnswerDraft
        {
            public long? MessageId { get; set; }

            public void Show(string textSoFar) => owner.Append(this, textSoFar);

            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }
}
