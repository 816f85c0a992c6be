using System.Diagnostics.Metrics;

namespace Engram.Telegram;

/// <summary>Counters for operators (exported with the rest of Engram's metrics).</summary>
public sealed class TelegramMetrics
{
    public const string MeterName = "Engram.Telegram";

    private readonly Counter<long> accepted;
    private readonly Counter<long> ignored;
    private readonly Counter<long> sent;
    private readonly Counter<long> tooManyRequests;
    private readonly Counter<long> failures;

    public TelegramMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        accepted = meter.CreateCounter<long>("engram.telegram.updates.accepted", description: "Updates handled and stored by their users' grains");
        ignored = meter.CreateCounter<long>("engram.telegram.updates.ignored", description: "Updates acknowledged but not handled, by reason");
        sent = meter.CreateCounter<long>("engram.telegram.messages.sent", description: "Messages delivered to Telegram");
        tooManyRequests = meter.CreateCounter<long>("engram.telegram.429", description: "429 Too Many Requests answers from Telegram");
        failures = meter.CreateCounter<long>("engram.telegram.errors", description: "Telegram API errors by status");
    }

    public void UpdatesAccepted(int count) => accepted.Add(count);
    public void UpdateIgnored(string reason) => ignored.Add(1, new KeyValuePair<string, object?>("reason", reason));
    public void MessageSent() => sent.Add(1);
    public void TooManyRequests() => tooManyRequests.Add(1);
    public void Error(int status) => failures.Add(1, new KeyValuePair<string, object?>("status", status));
}
