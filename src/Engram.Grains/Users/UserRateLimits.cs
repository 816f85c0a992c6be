namespace Engram.Grains.Users;

/// <summary>What the per-user rate limit says about one message.</summary>
public abstract record RateDecision
{
    public sealed record Allowed : RateDecision;
    /// <summary>The first message over the limit in this window: the user is told, once.</summary>
    public sealed record FirstRefusal(int WaitSeconds) : RateDecision;
    /// <summary>Later messages in the same window: skipped without a reply.</summary>
    public sealed record Refused : RateDecision;

    public static readonly RateDecision Allow = new Allowed();
    public static readonly RateDecision Skip = new Refused();
}

/// <summary>
/// Commands and questions per minute for one user, kept in the user's single activation (in memory:
/// a restart forgives). Fixed one-minute windows: a few bytes per user, no timers, which matters
/// with a hundred thousand users active.
/// </summary>
public sealed class UserRateLimits(UserGrainOptions options, TimeProvider clock)
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    private Counter commands;
    private Counter questions;

    public RateDecision TryAcquire(bool isCommand) =>
        isCommand ? commands.TryAcquire(options.CommandsPerMinute, clock.GetUtcNow()) : questions.TryAcquire(options.QuestionsPerMinute, clock.GetUtcNow());

    private struct Counter
    {
        private DateTimeOffset windowStart;
        private int count;
        private bool told;

        public RateDecision TryAcquire(int limit, DateTimeOffset now)
        {
            if (now - windowStart >= Window)
            {
                windowStart = now;
                count = 0;
                told = false;
            }
            if (count < limit)
            {
                count++;
                return RateDecision.Allow;
            }
            if (told)
                return RateDecision.Skip;
            told = true;
            return new RateDecision.FirstRefusal(Math.Max(1, (int)Math.Ceiling((windowStart + Window - now).TotalSeconds)));
        }
    }
}
