using System.Diagnostics;
using Engram.Abstractions.Alerts;
using Engram.Abstractions.Conversation;
using Engram.Abstractions.Delivery;
using Engram.Abstractions.Users;
using Engram.FunctionalTests.Grains;
using Engram.FunctionalTests.Infrastructure;
using Engram.Grains.Alerts;
using Engram.TestServers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.TestingHost;
using Xunit.Abstractions;

namespace Engram.FunctionalTests.Alerts;

/// <summary>
/// A silo whose price watches get pushed ticks from <see cref="BinancePriceStream"/> connected to a real local
/// WebSocket server speaking Binance's stream protocol. The scripted REST price never crosses unless a test says so:
/// a crossing comes from the stream, or from the REST fallback when the stream is not live.
/// </summary>
public sealed class PriceStreamFixture(IMessageSink sink) : IAsyncLifetime
{
    private readonly RedisServer redis = new(sink);

    public ScriptedPrices Prices { get; } = new();
    public RecordingMessenger Messenger { get; } = new();
    public BinanceStreamServer Exchange { get; private set; } = null!;
    public InProcessTestCluster Cluster { get; private set; } = null!;

    /// <summary>The silo's stream, as the price watches see it.</summary>
    public BinancePriceStream Stream => Cluster.Silos[0].ServiceProvider.GetRequiredService<BinancePriceStream>();

    public async Task InitializeAsync()
    {
        await redis.InitializeAsync();
        Exchange = await BinanceStreamServer.StartAsync();
        // The cluster's market data is the CSV provider, so the stream is switched on explicitly.
        var streamSettings = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["PriceStream:Enabled"] = "true",
            ["PriceStream:BaseUrl"] = Exchange.BaseUrl,
            ["PriceStream:StaleAfter"] = "00:00:01",
            ["PriceStream:ReconnectMinDelay"] = "00:00:00.100",
            ["PriceStream:ReconnectMaxDelay"] = "00:00:00.800",
        }).Build();
        Cluster = await UserGrainCluster.StartAsync(redis, "pricestream-" + Guid.NewGuid().ToString("N")[..8],
            settings: new Dictionary<string, string?> { ["Alerts:PollInterval"] = "00:00:00.200", ["Users:MaxActiveAlerts"] = "1000" },
            configureServices: services =>
            {
                services.AddSingleton<IAlertPriceSource>(Prices);
                services.AddSingleton<IMessenger>(Messenger);
                services.AddBinancePriceStream(streamSettings);
            });
    }

    public async Task DisposeAsync()
    {
        await Cluster.DisposeAsync();
        await Exchange.DisposeAsync();
        await redis.DisposeAsync();
    }
}

public sealed class PriceStreamTests(PriceStreamFixture fixture) : IClassFixture<PriceStreamFixture>
{
    private static long nextUser = 9_000_000;
    private static int nextSymbol;
    private static readonly TimeSpan Prompt = TimeSpan.FromSeconds(2);
    private readonly long user = Interlocked.Increment(ref nextUser);
    private readonly string symbol = $"S{Interlocked.Increment(ref nextSymbol)}USDT";

    private BinanceStreamServer Exchange => fixture.Exchange;

    private async Task AddAlert(AlertCondition condition, decimal threshold, decimal current)
    {
        var result = await fixture.Cluster.Client.GetGrain<IUserGrain>(user)
            .AddAlertAsync(new AlertRequest(symbol, condition, threshold, current, false, null, null));
        Assert.True(result.Ok, result.Error);
    }

    private async Task<IReadOnlyList<ChatReply>> WaitForNotification(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (fixture.Messenger.To(user).Count == 0 && DateTime.UtcNow < deadline)
            await Task.Delay(20);
        return fixture.Messenger.To(user);
    }

    private static Task<bool> Eventually(Func<bool> condition, TimeSpan timeout) => Eventually(() => Task.FromResult(condition()), timeout);

    private static async Task<bool> Eventually(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition() && DateTime.UtcNow < deadline)
            await Task.Delay(20);
        return await condition();
    }

    /// <summary>Pushes <paramref name="price"/> for the symbol every 200 ms (Binance pushes miniTickers every second) until cancelled.</summary>
    private Task KeepTicking(decimal price, CancellationToken cancellationToken) => Task.Run(async () =>
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            await Exchange.PushMiniTickerAsync(symbol, price);
            try
            {
                await Task.Delay(200, cancellationToken);
            }
            catch (OperationCanceledException)
            {
            }
        }
    });

    [Fact]
    public async Task A_streamed_tick_fires_the_alert_at_once_and_the_symbol_is_unsubscribed_after()
    {
        fixture.Prices.Set(symbol, 100m);
        await AddAlert(AlertCondition.Above, 110m, 100m);
        Assert.True(await Exchange.WaitForSubscriptionAsync(symbol), "the watch's symbol was never subscribed");

        await Exchange.PushMiniTickerAsync(symbol, 105m);
        await Task.Delay(400);
        Assert.Empty(fixture.Messenger.To(user));
        Assert.True(await Eventually(() => fixture.Stream.IsLive(symbol), Prompt), "the stream never went live");

        var clock = Stopwatch.StartNew();
        Assert.Equal(1, await Exchange.PushMiniTickerAsync(symbol, 111m));
        var sent = await WaitForNotification(Prompt);
        Assert.Contains("is above 110: 111 at", Assert.Single(sent).Text);
        Assert.True(clock.Elapsed < Prompt, $"took {clock.Elapsed}");

        // Nothing is armed on the symbol any more: the watch stops and so does the stream.
        Assert.True(await Exchange.WaitForSubscriptionAsync(symbol, subscribed: false), "the symbol stayed subscribed");
        Assert.False(fixture.Stream.IsLive(symbol));
        Assert.Equal(0, Exchange.LimitViolations);
    }

    [Fact]
    public async Task After_the_server_ends_the_connection_the_stream_reconnects_resubscribes_and_fires()
    {
        fixture.Prices.Set(symbol, 50m);
        await AddAlert(AlertCondition.Below, 40m, 50m);
        Assert.True(await Exchange.WaitForSubscriptionAsync(symbol));

        // A close frame (as at Binance's 24 h mark), then a connection cut without one.
        foreach (var graceful in new[] { true, false })
        {
            var accepted = Exchange.AcceptedConnections;
            await Exchange.DropAllAsync(graceful);
            Assert.True(await Eventually(() => Exchange.AcceptedConnections > accepted, TimeSpan.FromSeconds(5)), "no reconnection");
            Assert.True(await Exchange.WaitForSubscriptionAsync(symbol), "not resubscribed after reconnecting");
        }

        Assert.Equal(1, await Exchange.PushMiniTickerAsync(symbol, 39m));
        Assert.Contains("is below 40: 39 at", Assert.Single(await WaitForNotification(Prompt)).Text);
        Assert.Equal(0, Exchange.LimitViolations);
    }

    [Fact]
    public async Task While_the_exchange_refuses_connections_the_watch_falls_back_to_REST()
    {
        fixture.Prices.Set(symbol, 200m);
        await AddAlert(AlertCondition.Above, 210m, 200m);
        Assert.True(await Exchange.WaitForSubscriptionAsync(symbol));
        using var ticking = new CancellationTokenSource();
        var ticker = KeepTicking(205m, ticking.Token);
        try
        {
            Assert.True(await Eventually(() => fixture.Stream.IsLive(symbol), Prompt));

            // While the stream is live the watch does not poll REST, so a crossing REST price goes unseen.
            fixture.Prices.Set(symbol, 215m);
            await Task.Delay(800);
            Assert.Empty(fixture.Messenger.To(user));

            fixture.Prices.Set(symbol, 205m);
            Exchange.RefuseConnections = true;
            await Exchange.DropAllAsync(graceful: false);
            Assert.True(await Eventually(() => Exchange.RefusedConnections >= 2, TimeSpan.FromSeconds(3)), "the stream did not keep trying to reconnect");
            Assert.False(fixture.Stream.IsLive(symbol)); // still watched, but nothing arrives

            fixture.Prices.Set(symbol, 215m);
            Assert.Contains("is above 210: 215 at", Assert.Single(await WaitForNotification(Prompt)).Text);
        }
        finally
        {
            Exchange.RefuseConnections = false;
            await ticking.CancelAsync();
            await ticker;
        }
    }

    [Fact]
    public async Task A_stream_gone_quiet_goes_stale_and_the_watch_polls_REST()
    {
        fixture.Prices.Set(symbol, 30m);
        await AddAlert(AlertCondition.Above, 31m, 30m);
        Assert.True(await Exchange.WaitForSubscriptionAsync(symbol));
        using var ticking = new CancellationTokenSource();
        var ticker = KeepTicking(30.5m, ticking.Token);
        Assert.True(await Eventually(() => fixture.Stream.IsLive(symbol), Prompt));
        fixture.Prices.Set(symbol, 32m);
        await Task.Delay(600);
        Assert.Empty(fixture.Messenger.To(user));

        await ticking.CancelAsync(); // connected, subscribed, but no more ticks
        await ticker;
        var quiet = Stopwatch.StartNew();
        Assert.Contains("is above 31: 32 at", Assert.Single(await WaitForNotification(TimeSpan.FromSeconds(1) + Prompt)).Text);
        Assert.True(quiet.Elapsed >= TimeSpan.FromSeconds(0.5), $"REST took over after {quiet.Elapsed}, before the ticks were stale");
        Assert.Equal(1, Exchange.OpenConnections);
    }

    [Fact]
    public async Task Malformed_and_unexpected_frames_are_skipped_without_dropping_the_connection()
    {
        fixture.Prices.Set(symbol, 9m);
        await AddAlert(AlertCondition.Above, 10m, 9m);
        Assert.True(await Exchange.WaitForSubscriptionAsync(symbol));
        var accepted = Exchange.AcceptedConnections;

        // Every one of these would cross the threshold if it were taken for a tick.
        var kline = File.ReadAllText(Path.Combine(RepositoryPaths.SharedData, "binance-api", "recorded_ws_kline_BTCUSDT_5m_2021-09-14.json"))
            .Replace("BTCUSDT", symbol, StringComparison.Ordinal);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        string[] frames =
        [
            "not json",
            "{\"e\":\"24hrMini",
            "[1,2,3]",
            "{}",
            $"{{\"e\":\"24hrMiniTicker\",\"E\":{now},\"s\":\"{symbol}\",\"c\":\"eleven\"}}",
            $"{{\"e\":\"24hrMiniTicker\",\"E\":{now},\"s\":\"{symbol}\",\"c\":11}}",
            $"{{\"e\":\"24hrMiniTicker\",\"s\":\"{symbol}\",\"c\":\"11\"}}",
            $"{{\"e\":\"24hrMiniTicker\",\"E\":{now},\"c\":\"11\"}}",
            $"{{\"stream\":\"{symbol.ToLowerInvariant()}@miniTicker\",\"data\":\"11\"}}",
            kline, // an event type we never subscribe to (its close k.c is 46673.53)
            "{\"code\":2,\"msg\":\"Invalid request\",\"id\":99}",
        ];
        foreach (var frame in frames)
            Assert.Equal(1, await Exchange.PushRawAsync(frame));
        Assert.Equal(1, await Exchange.PushBinaryAsync([0x7b, 0x00, 0xff]));
        await Task.Delay(600);
        Assert.Empty(fixture.Messenger.To(user));
        Assert.Equal(accepted, Exchange.AcceptedConnections);
        Assert.True(Exchange.IsSubscribed(symbol));

        // A good tick, in the combined-stream wrapping, still gets through on the same connection.
        var data = $"{{\"e\":\"24hrMiniTicker\",\"E\":{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()},\"s\":\"{symbol}\",\"c\":\"12.00000000\",\"o\":\"9\",\"h\":\"12\",\"l\":\"9\",\"v\":\"1\",\"q\":\"1\"}}";
        await Exchange.PushRawAsync($"{{\"stream\":\"{symbol.ToLowerInvariant()}@miniTicker\",\"data\":{data}}}");
        Assert.Contains("is above 10: 12 at", Assert.Single(await WaitForNotification(Prompt)).Text);
        Assert.Equal(accepted, Exchange.AcceptedConnections);
    }

    [Fact]
    public async Task A_burst_of_ticks_leaves_the_watch_with_the_newest_price()
    {
        fixture.Prices.Set(symbol, 1_000m);
        await AddAlert(AlertCondition.Above, 5_000m, 1_000m);
        Assert.True(await Exchange.WaitForSubscriptionAsync(symbol));
        for (var i = 1; i <= 300; i++)
            await Exchange.PushMiniTickerAsync(symbol, 1_000m + i);
        var watch = fixture.Cluster.Client.GetGrain<IPriceWatchGrain>(symbol);
        Assert.True(await Eventually(async () => (await watch.GetStatusAsync()).LastPrice == 1_300m, Prompt));
        Assert.Empty(fixture.Messenger.To(user));
    }

    [Fact]
    public async Task Many_watches_at_once_are_batched_within_Binances_request_rate()
    {
        var symbols = Enumerable.Range(0, 250).Select(i => $"{symbol}X{i}").ToList();
        var requestsBefore = Exchange.Requests.Count;
        foreach (var s in symbols)
            fixture.Stream.Watch(s);
        try
        {
            Assert.True(await Eventually(() => symbols.All(Exchange.IsSubscribed), TimeSpan.FromSeconds(5)), "not all subscribed");
            var subscribes = Exchange.Requests.Skip(requestsBefore).Count(r => r.Contains("\"SUBSCRIBE\"", StringComparison.Ordinal));
            Assert.InRange(subscribes, 3, 5); // 100 streams a request at most
        }
        finally
        {
            foreach (var s in symbols)
                fixture.Stream.Unwatch(s);
        }
        Assert.True(await Eventually(() => !symbols.Any(Exchange.IsSubscribed), TimeSpan.FromSeconds(5)), "not all unsubscribed");
        Assert.Equal(0, Exchange.LimitViolations);
    }

    [Fact]
    public async Task A_connection_is_renewed_before_Binances_24_hour_cut_off_and_resubscribed()
    {
        // A stream of its own, whose connections age out after a second instead of 23 hours.
        var stream = new BinancePriceStream(fixture.Cluster.Client, Options.Create(new BinancePriceStreamOptions
        {
            BaseUrl = Exchange.BaseUrl,
            MaxConnectionAge = TimeSpan.FromSeconds(1),
            StaleAfter = TimeSpan.FromSeconds(1),
        }), TimeProvider.System, NullLogger<BinancePriceStream>.Instance);
        var accepted = Exchange.AcceptedConnections;
        await stream.StartAsync(CancellationToken.None);
        try
        {
            stream.Watch(symbol);
            Assert.True(await Eventually(() => Exchange.AcceptedConnections >= accepted + 3, TimeSpan.FromSeconds(5)), "connections were not renewed");
            Assert.True(await Exchange.WaitForSubscriptionAsync(symbol));
            await Exchange.PushMiniTickerAsync(symbol, 1m);
            Assert.True(await Eventually(() => stream.IsLive(symbol), Prompt));
        }
        finally
        {
            await stream.StopAsync(CancellationToken.None);
            stream.Dispose();
        }
        Assert.True(await Exchange.WaitForSubscriptionAsync(symbol, subscribed: false), "the stopped stream's connection stayed open");
    }
}
