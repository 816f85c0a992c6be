using Orleans.Hosting;

namespace Engram.Grains;

/// <summary>
/// Reminders are how work left behind by a silo that died (a question waiting for the LLM, a
/// price watch with armed alerts) is picked up again: nothing else remembers it. Orleans' default
/// minimum period of one minute would leave such a user waiting a minute or more, so recovery
/// reminders tick faster, and each silo re-reads its share of the reminder table often enough
/// that a read missed during a Redis outage does not leave reminders unscheduled for long.
/// </summary>
public static class RecoveryReminders
{
    /// <summary>A user grain's: a question at the LLM or a notification not yet sent.</summary>
    public const string UserWork = "recover";

    /// <summary>A price watch's: alerts armed, firing or waiting to re-arm.</summary>
    public const string PriceWatch = "keep-watching";

    /// <summary>An indicator watch's: alerts armed or firing.</summary>
    public const string IndicatorWatch = "keep-watching-indicators";

    /// <summary>A digest shard's: users scheduled (one reminder per shard, none per user).</summary>
    public const string DigestShard = "send-digests";

    /// <summary>How often a recovery reminder ticks while it exists (a silo's death wakes them at once: <see cref="RecoveryOnSiloLoss"/>).</summary>
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(15);

    /// <summary>How often each silo re-reads its range of the reminder table (Orleans' default is 5 minutes).</summary>
    public static readonly TimeSpan TableRefresh = TimeSpan.FromMinutes(1);

    public static ISiloBuilder ConfigureRecoveryReminders(this ISiloBuilder silo) =>
        silo.Configure<ReminderOptions>(o =>
        {
            o.MinimumReminderPeriod = Period;
            o.RefreshReminderListPeriod = TableRefresh;
        });
}
