using System.Diagnostics;
using System.Globalization;
using System.Text;
using Engram.Abstractions.Conversation;
using Engram.Abstractions.Users;
using Engram.Agent;
using static Engram.Grains.Conversation.ReplyText;

namespace Engram.Grains.Conversation.Commands;

/// <summary>/start, /help, /status, /format and /reset.</summary>
public sealed class AccountCommands(IGrainFactory grains, Operations.IOperationalStatus operations, TimeProvider clock) : ICommandHandler
{
    private static readonly DateTimeOffset ProcessStarted = Process.GetCurrentProcess().StartTime.ToUniversalTime();

    public IReadOnlyCollection<string> Commands { get; } = ["start", "help", "status", "format", "reset"];

    public async Task<ChatReply?> RunAsync(UserSession session, ParsedMessage m) => m.Command switch
    {
        "start" => Start(),
        "help" => Help(),
        "status" => await StatusAsync(session),
        "format" => Format(session, m.Args),
        _ => Reset(session),
    };

    private static ChatReply Start() => new(
        "👋 Welcome to Engram, your trading assistant.\n\n" +
        "I analyse crypto markets with indicators computed from real exchange data, give signals with their historical track record, " +
        "assess risk, watch prices and indicators for you, send you a daily digest and keep your portfolio. " +
        "Ask me anything in plain words (\"should I buy bitcoin now?\") or use a command:\n" +
        "/analyze BTC 4h · /signal ETH · /risk BTC 0.5 · /alert BTC above 100000 · /alert BTC rsi 4h above 70 · " +
        "/watch BTC ETH SOL · /digest 08:00 Europe/Berlin · /portfolio · /help\n\n" + Disclaimer);

    private static ChatReply Help()
    {
        var text = new StringBuilder("Commands:\n");
        foreach (var c in CommandCatalog.All)
            text.Append(c.Usage).Append(" — ").Append(c.Description).Append(". e.g. ").Append(c.Example).Append('\n');
        text.Append("\nOr just ask a question in your own words. Pairs: BTC, ETH/USDT, solana…; timeframes: ").Append(string.Join(" ", AgentTools.Timeframes)).Append('.');
        return new ChatReply(text.ToString());
    }

    private async Task<ChatReply> StatusAsync(UserSession session)
    {
        var healthTask = grains.GetGrain<ILlmWorkerGrain>(0).CheckHealthAsync();
        var hostsTask = grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true);
        var health = await healthTask;
        var hosts = await hostsTask;
        var uptime = clock.GetUtcNow() - ProcessStarted;
        var text = new StringBuilder("Engram status\n");
        text.Append(health.Reachable
            ? $"🧠 AI model: {health.Model} reachable ({health.LatencyMs:0} ms)"
            : $"🧠 AI model: {health.Model} NOT reachable — answers come from the tools alone");
        // Why it is not reachable (or what is off while it is), in words with the URL: "not reachable at
        // http://localhost:1234/v1 (connection refused): start LM Studio's server …".
        if (health.Error is not null)
            text.Append(health.Reachable ? " — " : "\n   ").Append(health.Error);
        text.Append(CultureInfo.InvariantCulture, $"\n   checked {health.CheckedAt.UtcDateTime:HH:mm:ss} UTC; {health.InFlight} question(s) in flight, {health.Queued} queued\n");
        text.Append(CultureInfo.InvariantCulture, $"🔧 Tools: {health.ToolNames.Count} ({string.Join(", ", health.ToolNames)})\n");
        text.Append(CultureInfo.InvariantCulture, $"🖥 Cluster: {hosts.Count} silo(s) active\n");
        foreach (var line in await operations.DescribeAsync())
            text.Append(line).Append('\n');
        text.Append(CultureInfo.InvariantCulture, $"🔔 Your active alerts: {session.Alerts.Count}\n");
        text.Append(CultureInfo.InvariantCulture, $"⏱ Uptime: {(int)uptime.TotalDays}d {uptime.Hours}h {uptime.Minutes}m");
        return new ChatReply(text.ToString());
    }

    private static ChatReply Reset(UserSession session)
    {
        session.ResetHistory();
        return new ChatReply("🧹 Done: I forgot our conversation. Your alerts, portfolio and settings are unchanged.");
    }

    private static ChatReply Format(UserSession session, IReadOnlyList<string> args)
    {
        if (args.Count != 1 || !Enum.TryParse<ResponseFormat>(args[0], ignoreCase: true, out var format) || !Enum.IsDefined(format) || int.TryParse(args[0], out _))
        {
            var current = session.Settings.ResponseFormat.ToString().ToLowerInvariant();
            var usage = Usage("format", args.Count == 0 ? $"Your answers are shown as: {current}." : $"'{string.Join(' ', args)}' is not a format.");
            return usage with { Buttons = [new("clean", "/format clean"), new("detailed", "/format detailed"), new("raw", "/format raw")] };
        }
        session.SetResponseFormat(format);
        return new ChatReply($"✅ Answers will now be {format.ToString().ToLowerInvariant()}." + format switch
        {
            ResponseFormat.Detailed => " You'll see the tools used, the data time, the model and timings.",
            ResponseFormat.Raw => " You'll see the model's unfiltered output and the tool results as JSON.",
            _ => "",
        });
    }
}
