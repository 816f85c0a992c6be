using Orleans.Concurrency;

namespace Engram.Abstractions.Conversation;

/// <summary>
/// Calls the LLM. A stateless worker: each silo runs activations locally, and the silo's
/// concurrency gate (<c>llm:MaxConcurrentRequests</c>) decides how many reach the server at once.
/// </summary>
public interface ILlmWorkerGrain : IGrainWithIntegerKey
{
    /// <summary>
    /// Answers a question and hands the answer to the asking user grain (<c>IUserGrain.OnAnswerAsync</c>).
    /// One-way, so the user grain's turn ends at once and a minute-long answer blocks nobody; the
    /// user grain keeps the question until the answer arrives and asks again after a crash.
    /// </summary>
    [OneWay]
    Task AnswerAsync(LlmRequest request);

    /// <summary>How many questions are in flight and waiting on this silo.</summary>
    Task<(int InFlight, int Queued, int Capacity)> GetLoadAsync();

    Task<LlmHealth> CheckHealthAsync();
}
