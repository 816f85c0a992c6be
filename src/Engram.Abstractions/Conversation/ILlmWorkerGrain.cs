namespace Engram.Abstractions.Conversation;

/// <summary>
/// Calls the LLM. A stateless worker: each silo runs activations locally, and the silo's
/// concurrency gate (<c>llm:MaxConcurrentRequests</c>) decides how many reach the server at once.
/// </summary>
public interface ILlmWorkerGrain : IGrainWithIntegerKey
{
    /// <summary>An LLM answer may take a minute or more; the default 30 s grain timeout would cut it off.</summary>
    [ResponseTimeout("00:04:00")]
    Task<LlmAnswer> AskAsync(LlmRequest request);

    /// <summary>How many questions are in flight and waiting on this silo.</summary>
    Task<(int InFlight, int Queued, int Capacity)> GetLoadAsync();

    Task<LlmHealth> CheckHealthAsync();
}
