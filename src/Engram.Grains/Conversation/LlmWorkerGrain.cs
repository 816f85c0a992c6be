using System.Diagnostics;
using Engram.Abstractions.Conversation;
using Engram.Abstractions.Delivery;
using Engram.Abstractions.Users;
using Engram.Agent;
using Microsoft.Extensions.Logging;
using OpenAI.Models;
using Orleans.Concurrency;

namespace Engram.Grains.Conversation;

/// <summary>
/// Calls the LLM for a user grain. A stateless worker runs on the caller's silo; it is reentrant so
/// that one activation can hold many questions while they wait on the LLM, and the silo's
/// <see cref="LlmGate"/> (not the number of activations) bounds what reaches the server.
/// </summary>
[StatelessWorker, Reentrant]
internal sealed partial class LlmWorkerGrain(LlmAgent agent, LlmHealthProbe health, IMessenger messenger, ILogger<LlmWorkerGrain> logger) : Grain, ILlmWorkerGrain
{
    public async Task AnswerAsync(LlmRequest request)
    {
        LlmAnswer answer;
        // "typing…" until the first words, which then grow in a draft message; the asking user grain is free meanwhile.
        var typing = new TypingUntilFirstWords(messenger.BeginTyping(request.ChatId));
        var draft = messenger.BeginDraft(request.ChatId);
        try
        {
            answer = await agent.AskAsync(request, text =>
            {
                typing.Stop();
                draft.Show(text);
            });
        }
        finally
        {
            // Both are cosmetic: neither may keep the answer from the user grain.
            try
            {
                await typing.StopAsync();
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogCosmeticFailed("typing", ex.GetType().Name);
            }
            try
            {
                await draft.DisposeAsync(); // the last draft edit is done before the final text can replace it
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogCosmeticFailed("draft", ex.GetType().Name);
            }
        }
        answer = answer with { DraftMessageId = draft.MessageId };
        try
        {
            await GrainFactory.GetGrain<IUserGrain>(request.UserId).OnAnswerAsync(request.UpdateId, answer);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The user grain keeps the question and asks again (its recovery reminder).
            LogHandBackFailed(request.UserId, request.UpdateId, ex.GetType().Name);
        }
    }

    /// <summary>The typing indicator, stopped once (from the stream's callback or at the end, whichever comes first).</summary>
    private sealed class TypingUntilFirstWords(IAsyncDisposable typing)
    {
        private IAsyncDisposable? running = typing;
        private Task stopped = Task.CompletedTask;

        public void Stop()
        {
            if (Interlocked.Exchange(ref running, null) is { } indicator)
                stopped = indicator.DisposeAsync().AsTask();
        }

        public Task StopAsync()
        {
            Stop();
            return stopped;
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Stopping the {What} indicator failed ({Error}); the answer goes on")]
    private partial void LogCosmeticFailed(string what, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not hand the answer to update {UpdateId} back to user {UserId} ({Error}); the user grain asks again")]
    private partial void LogHandBackFailed(long userId, long updateId, string error);

    public Task<(int InFlight, int Queued, int Capacity)> GetLoadAsync() =>
        Task.FromResult((agent.Gate.InFlight, agent.Gate.Queued, agent.Gate.Capacity));

    public Task<LlmHealth> CheckHealthAsync() => health.CheckAsync(agent.Gate);
}

/// <summary>Asks the server for its model list (<c>GET /v1/models</c>) at most every 30 s, for /status.</summary>
public sealed class LlmHealthProbe(LlmClientFactory clients, TimeProvider clock)
{
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(30);
    private readonly SemaphoreSlim oneAtATime = new(1, 1);
    private LlmHealth? last;

    public async Task<LlmHealth> CheckAsync(LlmGate gate)
    {
        await oneAtATime.WaitAsync();
        try
        {
            if (last is null || clock.GetUtcNow() - last.CheckedAt > CacheFor)
                last = await ProbeAsync();
            return last with { InFlight = gate.InFlight, Queued = gate.Queued };
        }
        finally
        {
            oneAtATime.Release();
        }
    }

    private async Task<LlmHealth> ProbeAsync()
    {
        var started = Stopwatch.GetTimestamp();
        if (clients.ProbeClient is not { } client)
            return new LlmHealth(true, clients.Model, clients.Endpoint, null, clock.GetUtcNow(), "Azure OpenAI: not probed", AgentTools.Names, 0, 0);
        try
        {
            // The probe client does not retry, so a stopped server answers "connection refused" at once;
            // this token only bounds a server that accepts the connection and then says nothing.
            using var cts = new CancellationTokenSource(LlmClientFactory.ProbeTimeout + TimeSpan.FromSeconds(1));
            OpenAIModelCollection models = await client.GetOpenAIModelClient().GetModelsAsync(cts.Token);
            var latency = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            var listed = models.Any(m => string.Equals(m.Id, clients.Model, StringComparison.OrdinalIgnoreCase));
            return new LlmHealth(true, clients.Model, clients.Endpoint, latency, clock.GetUtcNow(),
                listed ? null : $"model {clients.Model} is not in the server's list ({string.Join(", ", models.Select(m => m.Id).Take(5))})",
                AgentTools.Names, 0, 0);
        }
        catch (Exception ex) when (ex is System.ClientModel.ClientResultException or HttpRequestException or OperationCanceledException
            or TimeoutException or AggregateException or System.Net.Sockets.SocketException or System.Text.Json.JsonException or InvalidOperationException)
        {
            return new LlmHealth(false, clients.Model, clients.Endpoint, null, clock.GetUtcNow(),
                LlmErrors.Explain(ex, clients.Endpoint, LlmClientFactory.ProbeTimeout), AgentTools.Names, 0, 0);
        }
    }
}
