using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Engram.Agent;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OpenAI;

namespace Engram.UnitTests.Conversation;

public class LlmErrorsTests
{
    private const string LmStudio = "http://localhost:1234/v1";
    private const string Refused = " (connection refused): start LM Studio's server (lms server start, or the Developer tab) or set ENGRAM_LLM_ENDPOINT";

    /// <summary>A loopback port nothing listens on: bound by the system, then released.</summary>
    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    [Fact]
    public async Task A_refused_connection_names_the_endpoint_and_what_to_do()
    {
        var endpoint = $"http://127.0.0.1:{FreePort()}/v1";
        using var http = new HttpClient();

        var error = await Assert.ThrowsAnyAsync<Exception>(() => http.GetAsync(endpoint + "/models"));

        Assert.Equal($"not reachable at {endpoint}{Refused}", LlmErrors.Explain(error, endpoint));
    }

    [Fact]
    public async Task A_refused_connection_through_the_openai_client_and_its_retries_reads_the_same()
    {
        var endpoint = $"http://127.0.0.1:{FreePort()}/v1";
        var client = new OpenAIClient(new ApiKeyCredential("sk-never-shown"), new OpenAIClientOptions
        {
            Endpoint = new Uri(endpoint),
            RetryPolicy = new ClientRetryPolicy(0),
        });

        var error = await Assert.ThrowsAnyAsync<Exception>(() => client.GetOpenAIModelClient().GetModelsAsync());
        var text = LlmErrors.Explain(error, endpoint);
        // What the retry policy throws once every attempt failed.
        var retried = LlmErrors.Explain(new AggregateException("Retry failed after 4 tries.", error, error), endpoint);

        Assert.Equal($"not reachable at {endpoint}{Refused}", text);
        Assert.Equal(text, retried);
        Assert.DoesNotContain("sk-never-shown", text);
    }

    [Fact]
    public void An_unknown_host_is_named()
    {
        var error = new HttpRequestException("Name or service not known (llm.example:1234)", new SocketException((int)SocketError.HostNotFound));

        var text = LlmErrors.Explain(error, "http://llm.example:1234/v1");

        Assert.StartsWith("host not found: llm.example (from http://llm.example:1234/v1)", text);
        Assert.Contains("ENGRAM_LLM_ENDPOINT", text);
        Assert.Contains("extra_hosts", LlmErrors.Explain(error, "http://host.docker.internal:1234/v1"));
    }

    [Fact]
    public void A_cancellation_is_a_timeout_with_its_length()
    {
        Assert.Equal($"no answer from {LmStudio} within 5 s", LlmErrors.Explain(new TaskCanceledException("A task was canceled."), LmStudio, TimeSpan.FromSeconds(5)));
        Assert.Equal($"no answer from {LmStudio} in time", LlmErrors.Explain(new TimeoutException(), LmStudio));
    }

    [Theory]
    [InlineData(HttpStatusCode.Unauthorized, $"{LmStudio} refused the API key (HTTP 401): check ENGRAM_LLM_API_KEY")]
    [InlineData(HttpStatusCode.Forbidden, $"{LmStudio} refused the API key (HTTP 403): check ENGRAM_LLM_API_KEY")]
    [InlineData(HttpStatusCode.NotFound, $"no such model or path at {LmStudio} (HTTP 404): check ENGRAM_MODEL / the endpoint")]
    public async Task Http_statuses_say_which_setting_to_check(HttpStatusCode status, string expected)
    {
        var error = await FailWithAsync(status);

        Assert.Equal(expected, LlmErrors.Explain(error, LmStudio));
    }

    [Fact]
    public async Task A_server_error_keeps_the_status_and_the_first_line()
    {
        var text = LlmErrors.Explain(await FailWithAsync(HttpStatusCode.InternalServerError), LmStudio);

        Assert.StartsWith($"{LmStudio} failed (HTTP 500): ", text);
        Assert.DoesNotContain("sk-never-shown", text);
    }

    [Fact]
    public void Anything_else_is_its_type_and_first_line_shortened()
    {
        Assert.Equal("InvalidOperationException: first line", LlmErrors.Explain(new InvalidOperationException("first line\nsecond line"), LmStudio));

        var text = LlmErrors.Explain(new InvalidOperationException(new string('x', 500)), LmStudio);
        Assert.True(text.Length < 260, text);
        Assert.EndsWith("…", text);
    }

    [Fact]
    public void Credentials_in_the_endpoint_or_the_message_are_never_printed()
    {
        var error = new InvalidOperationException("request to http://bob:hunter2@llm.example/v1 failed");
        var refused = new HttpRequestException("Connection refused", new SocketException((int)SocketError.ConnectionRefused));

        Assert.DoesNotContain("hunter2", LlmErrors.Explain(error, "http://bob:hunter2@llm.example/v1"));
        Assert.Equal($"not reachable at http://llm.example:8080/v1{Refused}", LlmErrors.Explain(refused, "http://bob:hunter2@llm.example:8080/v1?api-key=k"));
        Assert.Equal("http://llm.example/v1", LlmErrors.Redact("http://bob:hunter2@llm.example/v1"));
        Assert.Equal(LmStudio, LlmErrors.Redact(LmStudio));
    }

    [Fact]
    public void The_factory_endpoint_hides_user_info_and_has_a_probe_client()
    {
        var factory = new LlmClientFactory(
            Options.Create(new LmStudioOptions()),
            Options.Create(new LlmOptions { Endpoint = "http://bob:hunter2@llm.example:8080/v1" }),
            NullLoggerFactory.Instance);

        Assert.Equal("http://llm.example:8080/v1", factory.Endpoint);
        Assert.NotNull(factory.ProbeClient);
    }

    /// <summary>The exception the OpenAI client throws when the server answers <paramref name="status"/>.</summary>
    private static async Task<Exception> FailWithAsync(HttpStatusCode status)
    {
        using var http = new HttpClient(new StatusHandler(status));
        var client = new OpenAIClient(new ApiKeyCredential("sk-never-shown"), new OpenAIClientOptions
        {
            Endpoint = new Uri(LmStudio),
            RetryPolicy = new ClientRetryPolicy(0),
            Transport = new HttpClientPipelineTransport(http),
        });
        return await Assert.ThrowsAnyAsync<Exception>(() => client.GetOpenAIModelClient().GetModelsAsync());
    }

    private sealed class StatusHandler(HttpStatusCode status) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(status)
            {
                Content = new StringContent("""{"error":{"message":"something went wrong","type":"server_error"}}""", Encoding.UTF8, "application/json"),
            });
    }
}
