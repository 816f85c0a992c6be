using System.Diagnostics.Metrics;

namespace Engram.Agent;

/// <summary>LLM and tool metrics (meter <c>Engram.Llm</c>).</summary>
public sealed class LlmMetrics
{
    public const string MeterName = "Engram.Llm";

    private readonly Counter<long> calls;
    private readonly Histogram<double> latency;
    private readonly Counter<long> toolCalls;
    private readonly Histogram<double> toolLatency;
    private readonly Counter<long> checkedAnswers;
    private readonly Counter<long> unverifiedFigures;

    public LlmMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        calls = meter.CreateCounter<long>("engram.llm.calls", description: "Questions sent to the LLM, by outcome");
        latency = meter.CreateHistogram<double>("engram.llm.latency", unit: "ms", description: "Time to an LLM answer (tool rounds included)");
        toolCalls = meter.CreateCounter<long>("engram.tool.calls", description: "Tool calls, by tool and result");
        toolLatency = meter.CreateHistogram<double>("engram.tool.latency", unit: "ms", description: "Tool execution time");
        checkedAnswers = meter.CreateCounter<long>("engram.llm.checked_answers", description: "Model answers whose figures were checked, by whether every figure was verified");
        unverifiedFigures = meter.CreateCounter<long>("engram.llm.unverified_figures", description: "Figures in model answers that no tool result or user data supports");
    }

    /// <summary>One model answer checked: <paramref name="unverified"/> of its <paramref name="figures"/> matched nothing.</summary>
    public void FiguresChecked(int figures, int unverified)
    {
        checkedAnswers.Add(1, new KeyValuePair<string, object?>("all_verified", unverified == 0 ? "true" : "false"));
        if (unverified > 0)
            unverifiedFigures.Add(unverified);
    }

    public void Answered(string outcome, double elapsedMs)
    {
        calls.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
        latency.Record(elapsedMs, new KeyValuePair<string, object?>("outcome", outcome));
    }

    public void Tool(string name, bool failed, double elapsedMs)
    {
        var tags = new[] { new KeyValuePair<string, object?>("tool", name), new KeyValuePair<string, object?>("result", failed ? "error" : "ok") };
        toolCalls.Add(1, tags);
        toolLatency.Record(elapsedMs, tags);
    }
}
