using System.Diagnostics.Metrics;

namespace Engram.Grains.Telemetry;

/// <summary>
/// Engram's own metrics (meter <c>Engram</c>), exported over OTLP and at /metrics in Prometheus
/// format. Counters are per silo; a dashboard sums them across the cluster.
/// </summary>
public sealed class EngramMetrics
{
    public const string MeterName = "Engram";

    private readonly Counter<long> messages;
    private readonly Counter<long> commands;
    private readonly Counter<long> errors;
    private readonly UpDownCounter<long> activeUsers;
    private readonly UpDownCounter<long> activeAlerts;
    private readonly Counter<long> alertsTriggered;

    public EngramMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        messages = meter.CreateCounter<long>("engram.messages.processed", description: "Messages (commands and questions) handled");
        commands = meter.CreateCounter<long>("engram.commands.executed", description: "Commands executed, by command name");
        errors = meter.CreateCounter<long>("engram.errors", description: "Failures by kind");
        activeUsers = meter.CreateUpDownCounter<long>("engram.users.active", description: "User grains active on this silo");
        activeAlerts = meter.CreateUpDownCounter<long>("engram.alerts.active", description: "Alerts armed in this silo's price watches");
        alertsTriggered = meter.CreateCounter<long>("engram.alerts.triggered", description: "Alert crossings notified");
    }

    public void MessageProcessed(bool isCommand) => messages.Add(1, new KeyValuePair<string, object?>("kind", isCommand ? "command" : "question"));
    public void CommandExecuted(string name) => commands.Add(1, new KeyValuePair<string, object?>("command", name));
    public void Error(string kind) => errors.Add(1, new KeyValuePair<string, object?>("kind", kind));
    public void UserActivated() => activeUsers.Add(1);
    public void UserDeactivated() => activeUsers.Add(-1);
    public void AlertsArmed(int delta) => activeAlerts.Add(delta);
    public void AlertTriggered() => alertsTriggered.Add(1);
}
