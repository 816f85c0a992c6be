using System.ComponentModel.DataAnnotations;
using Engram.Abstractions.Users;

namespace Engram.Grains.Users;

/// <summary>Limits and defaults for every user's grain. Section <c>Users</c>.</summary>
public sealed class UserGrainOptions
{
    public const string SectionName = "Users";

    /// <summary>Active (not yet triggered) alerts a user may hold.</summary>
    [Range(1, 10_000)] public int MaxActiveAlerts { get; set; } = 50;

    /// <summary>Different pairs one user may hold: every /portfolio prices each of them.</summary>
    [Range(1, 1_000)] public int MaxPositions { get; set; } = 50;

    /// <summary>Conversation turns (question + answer = 2) kept as LLM context.</summary>
    [Range(0, 200)] public int HistoryTurns { get; set; } = 10;

    /// <summary>Upper bound on the characters of kept history, so one long answer cannot crowd the prompt.</summary>
    [Range(0, 1_000_000)] public int HistoryMaxChars { get; set; } = 8_000;

    /// <summary>Buy/sell entries kept in the transaction list (positions are exact regardless).</summary>
    [Range(1, 100_000)] public int MaxTransactions { get; set; } = 1_000;

    /// <summary>Telegram update ids remembered for de-duplication of redelivered updates.</summary>
    [Range(1, 100_000)] public int ProcessedUpdatesKept { get; set; } = 256;

    /// <summary>Commands a user may send per minute before being asked to slow down.</summary>
    [Range(1, 10_000)] public int CommandsPerMinute { get; set; } = 30;

    /// <summary>Free-text questions (LLM calls) a user may ask per minute.</summary>
    [Range(1, 10_000)] public int QuestionsPerMinute { get; set; } = 10;

    /// <summary>Questions one user may have waiting for the model (answered one at a time, in order); past it they are refused.</summary>
    [Range(1, 100)] public int MaxPendingQuestions { get; set; } = 5;

    /// <summary>
    /// A message the transport keeps refusing (a revoked token, a long outage) is dropped after this long: a day-old
    /// reply or alert is news to nobody, and the outbox must not grow for ever.
    /// </summary>
    public TimeSpan UndeliveredMaxAge { get; set; } = TimeSpan.FromDays(1);

    /// <summary>Messages a user's outbox holds waiting for the transport; past it the oldest are dropped.</summary>
    [Range(10, 10_000)] public int MaxUndelivered { get; set; } = 200;

    /// <summary>A repeating alert that fires more often than this in an hour is paused, with a notice (TradingView's lesson: a flapping alert is noise).</summary>
    [Range(1, 1_000)] public int MaxAlertFiresPerHour { get; set; } = 10;

    /// <summary>Deployment defaults for users who have not chosen (from agent/trading config).</summary>
    public ResponseFormat DefaultResponseFormat { get; set; } = ResponseFormat.Clean;
    public string DefaultTimeframe { get; set; } = "1h";
    public RiskTolerance DefaultRiskTolerance { get; set; } = RiskTolerance.Medium;
}
