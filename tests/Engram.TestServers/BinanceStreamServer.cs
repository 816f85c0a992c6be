using System.Collections.Concurrent;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Engram.TestServers;

/// <summary>
/// A real WebSocket stand-in for Binance's market data streams (web-socket-streams.md): raw streams at <c>/ws</c>
/// and <c>/ws/&lt;stream&gt;</c>, combined streams at <c>/stream?streams=a/b</c> (events wrapped as
/// <c>{"stream":..,"data":..}</c>), live <c>SUBSCRIBE</c>/<c>UNSUBSCRIBE</c>/<c>LIST_SUBSCRIPTIONS</c> answered as
/// Binance answers them, and Binance's limits: a connection sending more than 5 messages in a second, or holding more
/// than 1024 streams, is disconnected (and counted in <see cref="LimitViolations"/>). Tests push
/// <c>&lt;symbol&gt;@miniTicker</c> events, arbitrary frames, drop connections and refuse new ones.
/// </summary>
public sealed class BinanceStreamServer : IAsyncDisposable
{
    private const int MaxIncomingPerSecond = 5;
    private const int MaxStreams = 1024;

    private readonly ConcurrentDictionary<int, Connection> _connections = new();
    private readonly CancellationTokenSource _stopping = new();
    private WebApplication? _app;
    private int _nextConnection;
    private int _accepted;
    private int _refused;
    private int _violations;

    private BinanceStreamServer()
    {
    }

    /// <summary>e.g. <c>ws://127.0.0.1:40123</c>; pass it as <c>PriceStream:BaseUrl</c>.</summary>
    public string BaseUrl { get; private set; } = "";

    /// <summary>While true, WebSocket handshakes are answered 503 (as a down or rate-limiting endpoint would).</summary>
    public bool RefuseConnections { get; set; }

    /// <summary>Handshakes accepted so far.</summary>
    public int AcceptedConnections => Volatile.Read(ref _accepted);

    /// <summary>Handshakes refused while <see cref="RefuseConnections"/> was set.</summary>
    public int RefusedConnections => Volatile.Read(ref _refused);

    /// <summary>Connections dropped for breaking Binance's limits (message rate, stream count, malformed requests).</summary>
    public int LimitViolations => Volatile.Read(ref _violations);

    public int OpenConnections => _connections.Count;

    /// <summary>Every request message received, in order, as text (for assertions on batching).</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    public static async Task<BinanceStreamServer> StartAsync(int port = 0, CancellationToken cancellationToken = default)
    {
        var server = new BinanceStreamServer();
        (server._app, var httpUrl) = await LoopbackHost.StartAsync(port, app =>
        {
            app.UseWebSockets();
            app.Map("/ws/{**stream}", context => server.Accept(context, combined: false, SplitStreams(context.Request.RouteValues["stream"]?.ToString())));
            app.Map("/ws", context => server.Accept(context, combined: false, []));
            app.Map("/stream", context => server.Accept(context, combined: true, SplitStreams(context.Request.Query["streams"].ToString())));
        }, cancellationToken).ConfigureAwait(false);
        server.BaseUrl = "ws" + httpUrl["http".Length..];
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        foreach (var connection in _connections.Values)
            connection.Socket.Abort();
        if (_app is not null)
            await LoopbackHost.StopAsync(_app).ConfigureAwait(false);
        _app = null;
        _stopping.Dispose();
    }

    // ---------------------------------------------------------------- scripting and inspection

    /// <summary>True when an open connection is subscribed to <c>&lt;symbol&gt;@miniTicker</c>.</summary>
    public bool IsSubscribed(string symbol) => _connections.Values.Any(c => c.Has(MiniTicker(symbol)));

    public async Task<bool> WaitForSubscriptionAsync(string symbol, bool subscribed = true, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (IsSubscribed(symbol) != subscribed && DateTime.UtcNow < deadline)
            await Task.Delay(20).ConfigureAwait(false);
        return IsSubscribed(symbol) == subscribed;
    }

    /// <summary>
    /// Pushes a <c>24hrMiniTicker</c> event with close price <paramref name="close"/> to every connection subscribed
    /// to the symbol; returns how many received it.
    /// </summary>
    public Task<int> PushMiniTickerAsync(string symbol, decimal close, DateTimeOffset? eventTime = null)
    {
        var price = close.ToString("0.00000000", CultureInfo.InvariantCulture);
        var data = new JsonObject
        {
            ["e"] = "24hrMiniTicker",
            ["E"] = (eventTime ?? DateTimeOffset.UtcNow).ToUnixTimeMilliseconds(),
            ["s"] = symbol.ToUpperInvariant(),
            ["c"] = price,
            ["o"] = price,
            ["h"] = price,
            ["l"] = price,
            ["v"] = "0.00000000",
            ["q"] = "0.00000000",
        };
        return PushAsync(MiniTicker(symbol), data);
    }

    /// <summary>Sends <paramref name="text"/> as one text frame, untouched, to every open connection.</summary>
    public async Task<int> PushRawAsync(string text)
    {
        var sent = 0;
        foreach (var connection in _connections.Values)
            sent += await connection.TrySendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text).ConfigureAwait(false) ? 1 : 0;
        return sent;
    }

    /// <summary>Sends a binary frame to every open connection (Binance's JSON streams never do).</summary>
    public async Task<int> PushBinaryAsync(byte[] bytes)
    {
        var sent = 0;
        foreach (var connection in _connections.Values)
            sent += await connection.TrySendAsync(bytes, WebSocketMessageType.Binary).ConfigureAwait(false) ? 1 : 0;
        return sent;
    }

    /// <summary>Ends every open connection: with a close frame (as at Binance's 24 h mark), or by aborting the TCP connection.</summary>
    public async Task DropAllAsync(bool graceful)
    {
        foreach (var connection in _connections.Values)
        {
            if (graceful)
                await connection.CloseAsync(WebSocketCloseStatus.EndpointUnavailable, "going away").ConfigureAwait(false);
            else
                connection.Socket.Abort();
        }
    }

    public static string MiniTicker(string symbol) => symbol.ToLowerInvariant() + "@miniTicker";

    // ---------------------------------------------------------------- protocol

    private async Task<int> PushAsync(string stream, JsonObject data)
    {
        var sent = 0;
        foreach (var connection in _connections.Values.Where(c => c.Has(stream)))
        {
            var payload = connection.Combined ? new JsonObject { ["stream"] = stream, ["data"] = data.DeepClone() }.ToJsonString() : data.ToJsonString();
            sent += await connection.TrySendAsync(Encoding.UTF8.GetBytes(payload), WebSocketMessageType.Text).ConfigureAwait(false) ? 1 : 0;
        }
        return sent;
    }

    private static string[] SplitStreams(string? streams) =>
        string.IsNullOrEmpty(streams) ? [] : streams.Split('/', StringSplitOptions.RemoveEmptyEntries);

    private async Task Accept(HttpContext context, bool combined, string[] streams)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }
        if (RefuseConnections)
        {
            Interlocked.Increment(ref _refused);
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return;
        }
        using var socket = await context.WebSockets.AcceptWebSocketAsync().ConfigureAwait(false);
        Interlocked.Increment(ref _accepted);
        var connection = new Connection(socket, combined, streams);
        var id = Interlocked.Increment(ref _nextConnection);
        _connections[id] = connection;
        using var aborted = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
        try
        {
            await ServeAsync(connection, aborted.Token).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The client went away, or a test dropped the connection.
        }
        finally
        {
            _connections.TryRemove(id, out _);
        }
    }

    private async Task ServeAsync(Connection connection, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        var window = new Queue<DateTime>();
        while (true)
        {
            var count = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                result = await connection.Socket.ReceiveAsync(buffer.AsMemory(count), cancellationToken).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await connection.CloseAsync(WebSocketCloseStatus.NormalClosure, "").ConfigureAwait(false);
                    return;
                }
                count += result.Count;
            }
            while (!result.EndOfMessage && count < buffer.Length);

            var text = Encoding.UTF8.GetString(buffer, 0, count);
            Requests.Enqueue(text);
            var now = DateTime.UtcNow;
            window.Enqueue(now);
            while (window.Count > 0 && now - window.Peek() >= TimeSpan.FromSeconds(1))
                window.Dequeue();
            if (window.Count > MaxIncomingPerSecond)
            {
                await ViolateAsync(connection, "Too many requests").ConfigureAwait(false);
                return;
            }
            if (await AnswerAsync(connection, text).ConfigureAwait(false) is false)
                return;
        }
    }

    /// <summary>Answers one request as Binance does; false when the connection was closed for it.</summary>
    private async Task<bool> AnswerAsync(Connection connection, string text)
    {
        JsonNode? request;
        try
        {
            request = JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            await connection.SendJsonAsync(new JsonObject { ["code"] = 3, ["msg"] = "Invalid JSON: expected value at line 1 column 1" }).ConfigureAwait(false);
            return true;
        }
        var id = request?["id"]?.DeepClone();
        var method = request?["method"]?.GetValueKind() == JsonValueKind.String ? request["method"]!.GetValue<string>() : null;
        var parameters = request?["params"] as JsonArray;
        switch (method)
        {
            case "SUBSCRIBE" or "UNSUBSCRIBE" when parameters is not null && parameters.All(p => p?.GetValueKind() == JsonValueKind.String):
                var names = parameters.Select(p => p!.GetValue<string>()).ToList();
                if (names.Any(n => n.Split('@')[0] is var symbol && symbol != symbol.ToLowerInvariant()))
                {
                    await connection.SendJsonAsync(new JsonObject { ["code"] = 2, ["msg"] = "Invalid request: stream names must be lowercase", ["id"] = id }).ConfigureAwait(false);
                    return true;
                }
                if (method == "SUBSCRIBE" ? !connection.Subscribe(names, MaxStreams) : !connection.Unsubscribe(names))
                {
                    await ViolateAsync(connection, "Too many streams").ConfigureAwait(false);
                    return false;
                }
                await connection.SendJsonAsync(new JsonObject { ["result"] = null, ["id"] = id }).ConfigureAwait(false);
                return true;
            case "LIST_SUBSCRIPTIONS":
                await connection.SendJsonAsync(new JsonObject { ["result"] = new JsonArray(connection.Streams.Select(s => (JsonNode?)s).ToArray()), ["id"] = id }).ConfigureAwait(false);
                return true;
            default:
                await connection.SendJsonAsync(new JsonObject { ["code"] = 2, ["msg"] = $"Invalid request: unknown variant {method}", ["id"] = id }).ConfigureAwait(false);
                return true;
        }
    }

    private async Task ViolateAsync(Connection connection, string reason)
    {
        Interlocked.Increment(ref _violations);
        await connection.CloseAsync(WebSocketCloseStatus.PolicyViolation, reason).ConfigureAwait(false);
    }

    /// <summary>One client connection: its socket (one send at a time) and its subscribed streams.</summary>
    private sealed class Connection(WebSocket socket, bool combined, IEnumerable<string> initial)
    {
        private readonly SemaphoreSlim _send = new(1, 1);
        private readonly HashSet<string> _streams = new(initial, StringComparer.Ordinal);

        public WebSocket Socket { get; } = socket;
        public bool Combined { get; } = combined;

        public string[] Streams
        {
            get { lock (_streams) return _streams.ToArray(); }
        }

        public bool Has(string stream)
        {
            lock (_streams)
                return _streams.Contains(stream);
        }

        public bool Subscribe(IEnumerable<string> names, int max)
        {
            lock (_streams)
            {
                _streams.UnionWith(names);
                return _streams.Count <= max;
            }
        }

        public bool Unsubscribe(IEnumerable<string> names)
        {
            lock (_streams)
                _streams.ExceptWith(names);
            return true;
        }

        public Task<bool> SendJsonAsync(JsonObject message) =>
            TrySendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), WebSocketMessageType.Text);

        public async Task<bool> TrySendAsync(byte[] bytes, WebSocketMessageType type)
        {
            await _send.WaitAsync().ConfigureAwait(false);
            try
            {
                if (Socket.State != WebSocketState.Open)
                    return false;
                await Socket.SendAsync(bytes, type, endOfMessage: true, CancellationToken.None).ConfigureAwait(false);
                return true;
            }
            catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or OperationCanceledException)
            {
                return false;
            }
            finally
            {
                _send.Release();
            }
        }

        public async Task CloseAsync(WebSocketCloseStatus status, string description)
        {
            await _send.WaitAsync().ConfigureAwait(false);
            try
            {
                if (Socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
                {
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                    await Socket.CloseOutputAsync(status, description, timeout.Token).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or OperationCanceledException)
            {
            }
            finally
            {
                _send.Release();
            }
        }
    }
}
