using Engram.Abstractions.Conversation;
using Engram.Abstractions.Users;

namespace Engram.Silo.Chat;

/// <summary>
/// <c>dotnet run --project src/Engram.Silo -- chat</c>: talk to Engram in the terminal as a local
/// user, through the same user grain, commands and formats as Telegram, with no bot token.
/// </summary>
public static class TerminalChat
{
    public static bool IsRequested(string[] args) => args.Length > 0 && string.Equals(args[0], "chat", StringComparison.OrdinalIgnoreCase);

    /// <summary>In chat mode the console belongs to the conversation; logs go to the file only.</summary>
    public static void ConfigureForChat(WebApplicationBuilder builder) =>
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Logging:Console"] = "false" });

    public static async Task RunAsync(WebApplication app, TextReader input, TextWriter output)
    {
        await app.StartAsync();
        var grains = app.Services.GetRequiredService<IGrainFactory>();
        var userId = app.Configuration.GetValue<long>("Chat:UserId", 1);
        var user = grains.GetGrain<IUserGrain>(userId);
        var notices = new ConsoleObserver(output);
        var observer = grains.CreateObjectReference<IReplyObserver>(notices);

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
                foreach (var reply in await user.HandleMessageAsync(new IncomingMessage(line, userId, Observer: observer)))
                    Print(output, reply);
            }
            catch (Exception ex) when (ex is TimeoutException or OrleansException)
            {
                output.WriteLine("Engram did not answer in time; please try again.");
            }
        }
        grains.DeleteObjectReference<IReplyObserver>(observer);
        await app.StopAsync();
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

    private sealed class ConsoleObserver(TextWriter output) : IReplyObserver
    {
        public Task OnReplyAsync(ChatReply reply)
        {
            Print(output, reply);
            return Task.CompletedTask;
        }
    }
}
