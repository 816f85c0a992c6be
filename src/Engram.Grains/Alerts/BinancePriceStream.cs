using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;
using Engram.Abstractions.Alerts;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Engram.Grains.Alerts;

/// <summary>
/// The silo's Binance market data WebSocket: one connection to <c>{BaseUrl}/ws</c> carrying a
/// <c>&lt;symbol&gt;@miniTicker</c> subscription (1 update/s) for every price watch activated on this silo, changed
/// live with <c>SUBSCRIBE</c>/<c>UNSUBSCRIBE</c> as watches come and go. Each tick's close price goes to the symbol's
/// <see cref="IPriceWatchGrain.OnPriceAsync"/>.
/// <para>
/// Binance's rules (web-socket-streams.md): at most 5 incoming messages per second per connection (pings, pongs and
/// subscription requests alike; beyond that the connection is dropped and repeat offenders are banned), at most 1024
/// streams per connection, connections end at 24 h, and the server may announce <c>serverShutdown</c>. So requests are
/// batched and spaced, streams beyond 1024 stay on REST polling, and the connection is renewed before 24 h.
/// </para>
/// <para>
/// Any failure (refused connect, close frame, receive error, missed keep-alive pong) ends the connection; the next one
/// is opened after an exponential backoff with jitter and resubscribes everything watched. While there is no connection,
/// or a symbol's ticks are older than <see cref="BinancePriceStreamOptions.StaleAfter"/>, <see cref="IsLive"/> is false
/// and the price watch polls REST.
/// </para>
/// </summary>
public sealed partial class BinancePriceStream(
    IGrainFactory grains,
    IOptions<BinancePriceStreamOptions> options,
    TimeProvider clock,
    ILogger<BinancePriceStream> logger) : BackgroundService, IPriceStream
{
    private const int MaxStreamsPerConnection = 1024;
    private const int MaxStreamsPerRequest = 100;
    private const int MaxMessageBytes = 1 << 20;

    /// <summary>Binance allows 5 incoming messages/s, our keep-alive pings and pongs included: stay well below.</summary>
    private static readonly TimeSpan RequestSpacing = TimeSpan.FromMilliseconds(300);

    private readonly BinancePriceStreamOptions settings = options.Value;

    /// <summary>Watched symbols as the grains name them; events carry upper-case symbols, hence case-insensitive.</summary>
    private readonly ConcurrentDictionary<string, SymbolFeed> watched = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Wakes the subscription pump (or the idle wait) when the watched set changed; one pending signal is enough.</summary>
    private readonly Channel<bool> watchesChanged = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    private long nextRequestId;
    private volatile bool connected;

    public void Watch(string symbol)
    {
        if (!IsValidSymbol(symbol))
        {
            LogInvalidSymbol(symbol);
            return;
        }
        if (watched.TryAdd(symbol, new SymbolFeed(symbol)))
            watchesChanged.Writer.TryWrite(true);
    }

    public void Unwatch(string symbol)
    {
        if (watched.TryRemove(symbol, out var feed))
        {
            feed.Retire();
            watchesChanged.Writer.TryWrite(true);
        }
    }

    public bool IsLive(string symbol) =>
        connected && watched.TryGetValue(symbol, out var feed) && feed.LastTickAt is var last && last != 0
        && clock.GetElapsedTime(last) < settings.StaleAfter;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var attempt = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await WaitForWatchesAsync(stoppingToken);
                var outcome = await RunConnectionAsync(stoppingToken);
                if (outcome == Outcome.Renew)
                {
                    attempt = 0;
                    continue; // planned: the next connection opens at once
                }
                if (outcome == Outcome.Healthy)
                    attempt = 0;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                LogConnectionFailed(ex.GetType().Name, ex.Message);
            }
            var delay = Backoff(attempt++);
            LogReconnecting(delay, attempt);
            try
            {
                await Task.Delay(delay, clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    private enum Outcome
    {
        /// <summary>Ended by the server or an error after ticks arrived: the backoff starts over.</summary>
        Healthy,

        /// <summary>Ended before any tick arrived: the backoff keeps growing.</summary>
        Unhealthy,

        /// <summary>Renewed on purpose (connection age, announced server shutdown): reconnect at once.</summary>
        Renew,
    }

    /// <summary>No connection while nothing on this silo is watched.</summary>
    private async Task WaitForWatchesAsync(CancellationToken cancellationToken)
    {
        while (watched.IsEmpty)
        {
            await watchesChanged.Reader.WaitToReadAsync(cancellationToken);
            watchesChanged.Reader.TryRead(out _);
        }
    }

    private async Task<Outcome> RunConnectionAsync(CancellationToken stoppingToken)
    {
        var uri = new Uri(settings.BaseUrl.TrimEnd('/') + "/ws");
        using var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = settings.KeepAliveInterval;
        socket.Options.KeepAliveTimeout = settings.KeepAliveTimeout;
        using (var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken))
        {
            connectTimeout.CancelAfter(settings.ConnectTimeout);
            await socket.ConnectAsync(uri, connectTimeout.Token);
        }
        LogConnected(uri, watched.Count);

        using var aged = new CancellationTokenSource(settings.MaxConnectionAge, clock);
        using var connection = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, aged.Token);
        var session = new Session(socket);
        connected = true;
        var pump = PumpSubscriptionsAsync(session, connection);
        try
        {
            var outcome = await ReceiveAsync(session, connection.Token);
            if (outcome != Outcome.Renew)
                await CloseQuietlyAsync(socket);
            return outcome;
        }
        catch (OperationCanceledException) when (aged.IsCancellationRequested && !stoppingToken.IsCancellationRequested)
        {
            LogRenewing(settings.MaxConnectionAge);
            return Outcome.Renew;
        }
        catch (OperationCanceledException) when (connection.IsCancellationRequested && !stoppingToken.IsCancellationRequested)
        {
            return session.Ticked ? Outcome.Healthy : Outcome.Unhealthy; // the pump could not send
        }
        catch (Exception ex) when (ex is WebSocketException or IOException)
        {
            LogConnectionLost(ex.GetType().Name, ex.Message);
            return session.Ticked ? Outcome.Healthy : Outcome.Unhealthy;
        }
        finally
        {
            connected = false;
            foreach (var feed in watched.Values)
                feed.Forget(); // ticks from this connection must not make the next one look live
            await connection.CancelAsync();
            await pump;
        }
    }

    private async Task<Outcome> ReceiveAsync(Session session, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            while (true)
            {
                var count = 0;
                var oversized = false;
                ValueWebSocketReceiveResult result;
                do
                {
                    if (count == buffer.Length)
                    {
                        if (buffer.Length >= MaxMessageBytes)
                        {
                            oversized = true;
                            count = 0; // keep reading to the end of the message, keeping none of it
                        }
                        else
                        {
                            var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                            buffer.AsSpan(0, count).CopyTo(larger);
                            ArrayPool<byte>.Shared.Return(buffer);
                            buffer = larger;
                        }
                    }
                    result = await session.Socket.ReceiveAsync(buffer.AsMemory(count), cancellationToken);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        LogServerClosed(session.Socket.CloseStatus?.ToString() ?? "none", session.Socket.CloseStatusDescription ?? "");
                        return session.Ticked ? Outcome.Healthy : Outcome.Unhealthy;
                    }
                    count += result.Count;
                }
                while (!result.EndOfMessage);

                if (oversized)
                    LogMalformedFrame(MaxMessageBytes, "message too large");
                else if (result.MessageType != WebSocketMessageType.Text)
                    LogMalformedFrame(count, "binary frame");
                else if (Handle(buffer.AsMemory(0, count), session) == Outcome.Renew)
                    return Outcome.Renew;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>One text message: a miniTicker event (raw, or wrapped as a combined-stream message), a request's answer, or a shutdown notice.</summary>
    private Outcome? Handle(ReadOnlyMemory<byte> message, Session session)
    {
        try
        {
            using var document = JsonDocument.Parse(message);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                LogMalformedFrame(message.Length, $"a JSON {root.ValueKind}, not an object");
                return null;
            }
            if (root.TryGetProperty("stream", out _) && root.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object)
                root = data; // combined stream: {"stream":"btcusdt@miniTicker","data":{...}}
            if (root.TryGetProperty("event", out var wrapped) && wrapped.ValueKind == JsonValueKind.Object)
                root = wrapped; // {"event":{"e":"serverShutdown",...}}

            if (root.TryGetProperty("e", out var type) && type.ValueKind == JsonValueKind.String)
            {
                switch (type.GetString())
                {
                    case "24hrMiniTicker":
                        OnMiniTicker(root, message.Length, session);
                        return null;
                    case "serverShutdown":
                        LogServerShutdown();
                        return Outcome.Renew;
                    default:
                        LogIgnoredEvent(type.GetString() ?? "");
                        return null;
                }
            }
            if (root.TryGetProperty("id", out var id))
            {
                if (root.TryGetProperty("code", out var code))
                    LogRequestRejected(id.ToString(), code.ToString(), root.TryGetProperty("msg", out var msg) ? msg.ToString() : "");
                return null; // {"result":null,"id":N}: a subscription change was accepted
            }
            LogMalformedFrame(message.Length, "neither an event nor an answer");
        }
        catch (JsonException ex)
        {
            LogMalformedFrame(message.Length, ex.Message);
        }
        return null;
    }

    private void OnMiniTicker(JsonElement ticker, int length, Session session)
    {
        if (!ticker.TryGetProperty("s", out var s) || s.ValueKind != JsonValueKind.String
            || !ticker.TryGetProperty("c", out var c) || c.ValueKind != JsonValueKind.String
            || !decimal.TryParse(c.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var price) || price <= 0
            || !ticker.TryGetProperty("E", out var e) || !e.TryGetInt64(out var eventMs) || eventMs is < 0 or > 253_402_300_799_999)
        {
            LogMalformedFrame(length, "miniTicker without a symbol, a positive close price or an event time");
            return;
        }
        session.Ticked = true;
        if (!watched.TryGetValue(s.GetString()!, out var feed))
            return; // unwatched here; its UNSUBSCRIBE may still be on the way
        if (feed.Offer(price, DateTimeOffset.FromUnixTimeMilliseconds(eventMs), clock.GetTimestamp()))
            _ = DeliverAsync(feed); // not awaited: a slow grain must not hold up the socket
    }

    /// <summary>Sends a symbol's newest tick to its price watch, one call at a time; ticks arriving meanwhile replace each other.</summary>
    private async Task DeliverAsync(SymbolFeed feed)
    {
        while (feed.TakePending() is { } tick)
        {
            try
            {
                await grains.GetGrain<IPriceWatchGrain>(feed.Symbol).OnPriceAsync(tick.Price, tick.At);
            }
            catch (Exception ex)
            {
                LogDeliveryFailed(feed.Symbol, ex.GetType().Name, ex.Message);
            }
        }
    }

    /// <summary>
    /// The only sender on the socket (a WebSocket allows one send at a time): brings the connection's subscriptions in
    /// line with the watched set, batching changes and spacing requests to stay inside Binance's message rate.
    /// </summary>
    private async Task PumpSubscriptionsAsync(Session session, CancellationTokenSource connection)
    {
        var cancellationToken = connection.Token;
        var reportedOverflow = false;
        try
        {
            while (true)
            {
                watchesChanged.Reader.TryRead(out _); // changes after this point signal again
                var desired = watched.Keys.Select(StreamName).ToHashSet(StringComparer.Ordinal);
                var stale = session.Subscribed.Where(name => !desired.Contains(name)).Take(MaxStreamsPerRequest).ToList();
                var room = MaxStreamsPerConnection - (session.Subscribed.Count - stale.Count);
                var missing = desired.Where(name => !session.Subscribed.Contains(name)).ToList();
                if (missing.Count > room && !reportedOverflow)
                {
                    LogTooManyStreams(desired.Count, MaxStreamsPerConnection);
                    reportedOverflow = true; // the rest stay on REST polling
                }
                var fresh = missing.Take(Math.Min(room, MaxStreamsPerRequest)).ToList();

                if (stale.Count > 0)
                {
                    await SendAsync(session, "UNSUBSCRIBE", stale, cancellationToken);
                    session.Subscribed.ExceptWith(stale);
                }
                else if (fresh.Count > 0)
                {
                    await SendAsync(session, "SUBSCRIBE", fresh, cancellationToken);
                    session.Subscribed.UnionWith(fresh);
                }
                else
                {
                    await watchesChanged.Reader.WaitToReadAsync(cancellationToken);
                    continue;
                }
                await Task.Delay(RequestSpacing, clock, cancellationToken);
                watchesChanged.Writer.TryWrite(true); // look again: more may be waiting for their batch
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            if (!cancellationToken.IsCancellationRequested)
                LogConnectionLost(ex.GetType().Name, ex.Message);
            await connection.CancelAsync(); // ends the receive loop; the connection is renewed
        }
    }

    private async Task SendAsync(Session session, string method, IReadOnlyList<string> streams, CancellationToken cancellationToken)
    {
        var id = Interlocked.Increment(ref nextRequestId);
        var request = JsonSerializer.SerializeToUtf8Bytes(new SubscriptionRequest(method, streams, id), PriceStreamJson.Default.SubscriptionRequest);
        await session.Socket.SendAsync(request, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
        LogRequestSent(method, streams.Count, id);
    }

    private static async Task CloseQuietlyAsync(ClientWebSocket socket)
    {
        if (socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived))
            return;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", timeout.Token);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException)
        {
            // Best effort: the socket is disposed right after.
        }
    }

    private TimeSpan Backoff(int attempt)
    {
        var ceiling = Math.Min(settings.ReconnectMaxDelay.TotalMilliseconds,
            settings.ReconnectMinDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 30)));
        // Equal jitter: silos that lost the exchange together do not come back together.
        return TimeSpan.FromMilliseconds(ceiling / 2 + Random.Shared.NextDouble() * ceiling / 2);
    }

    private static string StreamName(string symbol) => symbol.ToLowerInvariant() + "@miniTicker";

    /// <summary>Stream names are built from symbols: nothing but letters and digits gets in.</summary>
    private static bool IsValidSymbol(string symbol) =>
        symbol.Length is > 0 and <= 32 && symbol.All(char.IsAsciiLetterOrDigit);

    /// <summary>One connection: its socket and the streams subscribed on it (touched by the pump only).</summary>
    private sealed class Session(ClientWebSocket socket)
    {
        public ClientWebSocket Socket { get; } = socket;
        public HashSet<string> Subscribed { get; } = new(StringComparer.Ordinal);
        public bool Ticked { get; set; }
    }

    /// <summary>A watched symbol: when its last tick arrived, and the newest tick not yet delivered.</summary>
    private sealed class SymbolFeed(string symbol)
    {
        private readonly Lock gate = new();
        private (decimal Price, DateTimeOffset At)? pending;
        private DateTimeOffset newest = DateTimeOffset.MinValue;
        private bool delivering;
        private bool retired;
        private long lastTickAt;

        public string Symbol { get; } = symbol;

        /// <summary><see cref="TimeProvider.GetTimestamp"/> of the last tick on the current connection; 0 for none.</summary>
        public long LastTickAt => Volatile.Read(ref lastTickAt);

        public void Forget() => Volatile.Write(ref lastTickAt, 0);

        /// <summary>Keeps the tick as the one to deliver next; true when the caller must start a delivery.</summary>
        public bool Offer(decimal price, DateTimeOffset at, long receivedAt)
        {
            lock (gate)
            {
                Volatile.Write(ref lastTickAt, receivedAt);
                if (retired || at < newest)
                    return false; // an older event than one already taken
                newest = at;
                pending = (price, at);
                if (delivering)
                    return false; // the running delivery takes it: only the newest matters
                delivering = true;
                return true;
            }
        }

        public (decimal Price, DateTimeOffset At)? TakePending()
        {
            lock (gate)
            {
                var tick = retired ? null : pending;
                pending = null;
                delivering = tick is not null;
                return tick;
            }
        }

        public void Retire()
        {
            lock (gate)
                retired = true;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Price stream connected to {Uri} ({Watched} symbols watched)")]
    private partial void LogConnected(Uri uri, int watched);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Price stream connection failed ({Error}: {Reason})")]
    private partial void LogConnectionFailed(string error, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Price stream connection lost ({Error}: {Reason})")]
    private partial void LogConnectionLost(string error, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Price stream reconnecting in {Delay} (attempt {Attempt}); price watches poll REST meanwhile")]
    private partial void LogReconnecting(TimeSpan delay, int attempt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Price stream closed by the server ({Status} {Description})")]
    private partial void LogServerClosed(string status, string description);

    [LoggerMessage(Level = LogLevel.Information, Message = "Price stream connection is {Age} old: renewing it before Binance's 24 h cut-off")]
    private partial void LogRenewing(TimeSpan age);

    [LoggerMessage(Level = LogLevel.Information, Message = "Price stream server announced a shutdown: reconnecting")]
    private partial void LogServerShutdown();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Price stream frame of {Bytes} bytes skipped: {Reason}")]
    private partial void LogMalformedFrame(int bytes, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Price stream event {EventType} ignored")]
    private partial void LogIgnoredEvent(string eventType);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Price stream request {Id} rejected: {Code} {Reason}")]
    private partial void LogRequestRejected(string id, string code, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Price stream {Method} of {Count} streams sent (id {Id})")]
    private partial void LogRequestSent(string method, int count, long id);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Watched} symbols watched but a Binance connection carries at most {Max} streams; the rest poll REST")]
    private partial void LogTooManyStreams(int watched, int max);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Price tick for {Symbol} not delivered ({Error}: {Reason})")]
    private partial void LogDeliveryFailed(string symbol, string error, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Symbol {Symbol} cannot be streamed (letters and digits only); it polls REST")]
    private partial void LogInvalidSymbol(string symbol);
}

/// <summary>A live subscription change: <c>{"method":"SUBSCRIBE","params":["btcusdt@miniTicker"],"id":1}</c>.</summary>
internal sealed record SubscriptionRequest(
    [property: System.Text.Json.Serialization.JsonPropertyName("method")] string Method,
    [property: System.Text.Json.Serialization.JsonPropertyName("params")] IReadOnlyList<string> Params,
    [property: System.Text.Json.Serialization.JsonPropertyName("id")] long Id);

[System.Text.Json.Serialization.JsonSerializable(typeof(SubscriptionRequest))]
internal sealed partial class PriceStreamJson : System.Text.Json.Serialization.JsonSerializerContext;
