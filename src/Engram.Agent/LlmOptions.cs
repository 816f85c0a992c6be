using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;

namespace Engram.Agent;

/// <summary>The local LLM server (section <c>lmstudio</c>, the seed's shape).</summary>
public sealed class LmStudioOptions
{
    public const string SectionName = "lmstudio";

    [Required] public string Host { get; set; } = "localhost";
    [Range(1, 65535)] public int Port { get; set; } = 1234;
    [Required] public string Model { get; set; } = "glm-4.7-flash";
    /// <summary>Overall time for one answer, in seconds (every tool round and retry included).</summary>
    [Range(1, 180)] public int Timeout { get; set; } = 60;
    [ConfigurationKeyName("max_retries"), Range(0, 10)] public int MaxRetries { get; set; } = 3;
}

/// <summary>Which LLM server and how hard Engram may use it (section <c>llm</c>).</summary>
public sealed class LlmOptions : IValidatableObject
{
    public const string SectionName = "llm";

    /// <summary>Full base URL of any OpenAI-compatible server (<c>ENGRAM_LLM_ENDPOINT</c>); overrides lmstudio host/port.</summary>
    public string? Endpoint { get; set; }

    /// <summary>API key for that server (<c>ENGRAM_LLM_API_KEY</c>). LM Studio ignores it, but the client needs one.</summary>
    [ConfigurationKeyName("api_key")] public string? ApiKey { get; set; }

    /// <summary>An Azure OpenAI resource (e.g. https://name.openai.azure.com/); uses <see cref="AzureDeployment"/>.</summary>
    [ConfigurationKeyName("azure_endpoint")] public string? AzureEndpoint { get; set; }
    [ConfigurationKeyName("azure_deployment")] public string? AzureDeployment { get; set; }

    /// <summary>Questions sent to the LLM at once by one silo; the rest wait in a queue.</summary>
    [Range(1, 256)] public int MaxConcurrentRequests { get; set; } = 4;

    /// <summary>Questions allowed to wait; past that the user is told Engram is busy.</summary>
    [Range(0, 100_000)] public int MaxQueuedRequests { get; set; } = 200;

    /// <summary>Longest wait in the queue, in seconds, before the user is told to try again.</summary>
    [Range(1, 120)] public int QueueTimeout { get; set; } = 60;

    /// <summary>Rounds of tool calls the model may make for one question.</summary>
    [Range(1, 20)] public int MaxToolRounds { get; set; } = 5;

    /// <summary>
    /// Ask the server to stream answers, so the reply grows in the chat while the model writes. A server that does not
    /// stream is asked again without, and this silo stops asking it to stream.
    /// </summary>
    public bool Stream { get; set; } = true;

    /// <summary>Longest question passed to the model; longer ones are refused before any LLM call.</summary>
    [Range(10, 100_000)] public int MaxQuestionChars { get; set; } = 2_000;

    public bool UsesAzure => !string.IsNullOrWhiteSpace(AzureEndpoint);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!string.IsNullOrWhiteSpace(Endpoint) && !Uri.TryCreate(Endpoint, UriKind.Absolute, out _))
            yield return new ValidationResult($"llm:endpoint (ENGRAM_LLM_ENDPOINT) must be an absolute URL, e.g. http://localhost:11434/v1", [nameof(Endpoint)]);
        if (UsesAzure && !Uri.TryCreate(AzureEndpoint, UriKind.Absolute, out _))
            yield return new ValidationResult("llm:azure_endpoint must be an absolute URL", [nameof(AzureEndpoint)]);
        if (UsesAzure && (string.IsNullOrWhiteSpace(AzureDeployment) || string.IsNullOrWhiteSpace(ApiKey)))
            yield return new ValidationResult("llm:azure_endpoint needs llm:azure_deployment and llm:api_key", [nameof(AzureDeployment)]);
    }
}
