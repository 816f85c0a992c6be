using System.ClientModel;
using System.Globalization;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Engram.Agent;

/// <summary>
/// Turns what the LLM client throws into one sentence for /status and the logs: what failed, at which
/// endpoint, and what to do about it. The endpoint is printed without user info or query (which may
/// carry credentials), and no API key is ever part of the text.
/// </summary>
public static partial class LlmErrors
{
    private const int MaxLength = 200;
    private const int MaxDepth = 16;

    /// <summary>
    /// Explains <paramref name="error"/>, looking through wrappers (the retry policy's
    /// <see cref="AggregateException"/>, <see cref="ClientResultException"/>, <see cref="HttpRequestException"/>)
    /// for the cause: a refused connection, an unknown host, a timeout, an HTTP status.
    /// </summary>
    /// <param name="endpoint">The server's base URL as configured; credentials in it are not printed.</param>
    /// <param name="timeout">The time allowed, named in the timeout message when known.</param>
    public static string Explain(Exception error, string endpoint, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(error);
        var url = Redact(endpoint);
        var causes = Causes(error);

        if (causes.OfType<SocketException>().FirstOrDefault() is { } socket && FromSocket(socket.SocketErrorCode, url, timeout) is { } explained)
            return explained;

        foreach (var http in causes.OfType<HttpRequestException>())
        {
            switch (http.HttpRequestError)
            {
                case HttpRequestError.NameResolutionError:
                    return HostNotFound(url);
                case HttpRequestError.ConnectionError:
                    return $"not reachable at {url} (connection failed): start LM Studio's server (lms server start, or the Developer tab) or set ENGRAM_LLM_ENDPOINT";
                case HttpRequestError.SecureConnectionError:
                    return $"TLS handshake with {url} failed: check the scheme (http or https) and the server's certificate";
            }
        }

        if (causes.OfType<ClientResultException>().FirstOrDefault(c => c.Status > 0) is { } result)
            return FromStatus(result, url);

        if (causes.Any(c => c is TimeoutException or OperationCanceledException))
            return NoAnswer(url, timeout);

        var shown = causes.FirstOrDefault(c => c is not AggregateException) ?? error;
        return $"{shown.GetType().Name}: {Shorten(Scrub(shown.Message))}";
    }

    /// <summary>
    /// <paramref name="endpoint"/> without user info, query or fragment ("http://user:pass@host/v1?key=x" →
    /// "http://host/v1"); returned unchanged when it has none, and as "(invalid URL)" when it cannot be parsed
    /// but looks like it holds credentials.
    /// </summary>
    public static string Redact(string endpoint)
    {
        if (string.IsNullOrWhiteSpace(endpoint))
            return "(no endpoint)";
        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri))
            return endpoint.Contains('@') || endpoint.Contains('?') ? "(invalid URL)" : endpoint;
        if (uri.UserInfo.Length == 0 && uri.Query.Length == 0 && uri.Fragment.Length == 0)
            return endpoint;
        return uri.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped).TrimEnd('/');
    }

    /// <summary>The exception, then its causes: inner exceptions, and for an aggregate its last attempt first.</summary>
    private static List<Exception> Causes(Exception error)
    {
        var causes = new List<Exception>();
        var pending = new Stack<Exception>();
        pending.Push(error);
        while (pending.Count > 0 && causes.Count < MaxDepth)
        {
            var current = pending.Pop();
            causes.Add(current);
            if (current is AggregateException aggregate)
            {
                // Pushed oldest first so the latest attempt is looked at first.
                foreach (var inner in aggregate.InnerExceptions)
                    pending.Push(inner);
            }
            else if (current.InnerException is { } inner)
            {
                pending.Push(inner);
            }
        }
        return causes;
    }

    private static string? FromSocket(SocketError code, string url, TimeSpan? timeout) => code switch
    {
        SocketError.ConnectionRefused =>
            $"not reachable at {url} (connection refused): start LM Studio's server (lms server start, or the Developer tab) or set ENGRAM_LLM_ENDPOINT",
        SocketError.HostNotFound or SocketError.TryAgain or SocketError.NoData => HostNotFound(url),
        SocketError.TimedOut => NoAnswer(url, timeout),
        SocketError.HostUnreachable or SocketError.NetworkUnreachable or SocketError.NetworkDown =>
            $"not reachable at {url} (no route to the host): check ENGRAM_LLM_ENDPOINT and the network",
        SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown =>
            $"{url} closed the connection: is the server there an OpenAI-compatible API?",
        _ => null,
    };

    private static string HostNotFound(string url)
    {
        var host = Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri.Host : url;
        var docker = string.Equals(host, "host.docker.internal", StringComparison.OrdinalIgnoreCase)
            ? " (on Linux, Docker resolves host.docker.internal only with extra_hosts: host.docker.internal:host-gateway)"
            : "";
        return $"host not found: {host} (from {url}) does not resolve{docker}: check ENGRAM_LLM_ENDPOINT";
    }

    private static string NoAnswer(string url, TimeSpan? timeout) => timeout is { } t
        ? string.Create(CultureInfo.InvariantCulture, $"no answer from {url} within {t.TotalSeconds:0.#} s")
        : $"no answer from {url} in time";

    private static string FromStatus(ClientResultException result, string url) => result.Status switch
    {
        401 or 403 => $"{url} refused the API key (HTTP {result.Status}): check ENGRAM_LLM_API_KEY",
        404 => $"no such model or path at {url} (HTTP 404): check ENGRAM_MODEL / the endpoint",
        429 => $"{url} is busy or rate-limited (HTTP 429): {Shorten(Scrub(result.Message))}",
        >= 500 => $"{url} failed (HTTP {result.Status}): {Shorten(Scrub(result.Message))}",
        _ => $"HTTP {result.Status} from {url}: {Shorten(Scrub(result.Message))}",
    };

    /// <summary>First line, without credentials of any URL in it.</summary>
    private static string Scrub(string message)
    {
        var line = message.Split('\n', 2)[0].Trim();
        return UserInfo().Replace(line, "://");
    }

    private static string Shorten(string text) => text.Length <= MaxLength ? text : text[..MaxLength] + "…";

    [GeneratedRegex(@"://[^/\s@]+@")]
    private static partial Regex UserInfo();
}
