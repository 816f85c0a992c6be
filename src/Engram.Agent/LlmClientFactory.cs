using System.ClientModel;
using System.ClientModel.Primitives;
using Azure.AI.OpenAI;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenAI;

namespace Engram.Agent;

/// <summary>
/// Builds the chat client once per silo: the OpenAI client for any OpenAI-compatible server
/// (LM Studio by default, or <c>ENGRAM_LLM_ENDPOINT</c>), or the Azure OpenAI client, wrapped in
/// Microsoft.Extensions.AI function invocation so the model can call Engram's tools.
/// </summary>
public sealed class LlmClientFactory(IOptions<LmStudioOptions> lmStudio, IOptions<LlmOptions> llm, ILoggerFactory loggers)
{
    /// <summary>The client refuses an empty key; LM Studio ignores whatever is sent.</summary>
    public const string PlaceholderApiKey = "lm-studio";

    /// <summary>How long the health check waits for the server's model list.</summary>
    public static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);

    private readonly Lazy<(IChatClient Chat, OpenAIClient? Raw)> clients = new(() => Create(lmStudio.Value, llm.Value, loggers));
    private readonly Lazy<OpenAIClient?> probe = new(() => CreateProbe(lmStudio.Value, llm.Value));

    public IChatClient ChatClient => clients.Value.Chat;

    /// <summary>The underlying OpenAI client of <see cref="ChatClient"/> (null for Azure), with its retries.</summary>
    public OpenAIClient? OpenAI => clients.Value.Raw;

    /// <summary>
    /// A client for the health check only (null for Azure): no retries and a <see cref="ProbeTimeout"/> network
    /// timeout, so a stopped server shows as "connection refused" at once instead of a cancellation after the
    /// retry backoff of <see cref="ChatClient"/>.
    /// </summary>
    public OpenAIClient? ProbeClient => probe.Value;

    public string Model => llm.Value.UsesAzure ? llm.Value.AzureDeployment! : lmStudio.Value.Model;

    /// <summary>The endpoint for /status and logs: scheme, host, port and path, never a key or user info.</summary>
    public string Endpoint => LlmErrors.Redact(llm.Value.UsesAzure ? new Uri(llm.Value.AzureEndpoint!).GetLeftPart(UriPartial.Authority) : BaseUrl(lmStudio.Value, llm.Value));

    public static string BaseUrl(LmStudioOptions lm, LlmOptions llm) =>
        !string.IsNullOrWhiteSpace(llm.Endpoint) ? llm.Endpoint.TrimEnd('/') : $"http://{lm.Host}:{lm.Port}/v1";

    private static OpenAIClient? CreateProbe(LmStudioOptions lm, LlmOptions llm)
    {
        if (llm.UsesAzure)
            return null;
        var key = new ApiKeyCredential(string.IsNullOrWhiteSpace(llm.ApiKey) ? PlaceholderApiKey : llm.ApiKey);
        return new OpenAIClient(key, new OpenAIClientOptions
        {
            Endpoint = new Uri(BaseUrl(lm, llm)),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
            NetworkTimeout = ProbeTimeout,
        });
    }

    private static (IChatClient, OpenAIClient?) Create(LmStudioOptions lm, LlmOptions llm, ILoggerFactory loggers)
    {
        var key = new ApiKeyCredential(string.IsNullOrWhiteSpace(llm.ApiKey) ? PlaceholderApiKey : llm.ApiKey);
        // Network errors, 408, 429 and 5xx are retried with backoff; other 4xx are not (they would fail again).
        var retry = new ClientRetryPolicy(lm.MaxRetries);
        var perRequest = TimeSpan.FromSeconds(lm.Timeout);

        OpenAIClient client;
        string model;
        if (llm.UsesAzure)
        {
            client = new AzureOpenAIClient(new Uri(llm.AzureEndpoint!), key, new AzureOpenAIClientOptions { RetryPolicy = retry, NetworkTimeout = perRequest });
            model = llm.AzureDeployment!;
        }
        else
        {
            client = new OpenAIClient(key, new OpenAIClientOptions { Endpoint = new Uri(BaseUrl(lm, llm)), RetryPolicy = retry, NetworkTimeout = perRequest });
            model = lm.Model;
        }

        var chat = client.GetChatClient(model).AsIChatClient()
            .AsBuilder()
            .UseFunctionInvocation(loggers, invoker =>
            {
                invoker.MaximumIterationsPerRequest = llm.MaxToolRounds;
                // Tool errors (bad arguments, unknown symbol) go back to the model so it can correct itself.
                invoker.IncludeDetailedErrors = true;
                invoker.MaximumConsecutiveErrorsPerRequest = 3;
                invoker.AllowConcurrentInvocation = true;
            })
            .Build();
        return (chat, llm.UsesAzure ? null : client);
    }
}
