using System.Diagnostics;
using Engram.Trading.MarketData;
using Engram.Trading.Tools;
using Engram.Trading.UnitTests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Engram.Trading.UnitTests.MarketData;

/// <summary>The Binance client, wired by AddEngramMarketData, against a real local HTTP server.</summary>
public sealed class BinanceMarketDataProviderTests : IAsyncLifetime
{
    private static readonly TimeSpan AttemptTimeout = TimeSpan.FromMilliseconds(400);
    private static readonly TimeSpan TotalTimeout = TimeSpan.FromSeconds(3);
    private const int MaxRetries = 2;

    private FakeBinanceServer _server = null!;
    private ServiceProvider _services = null!;

    public async Task InitializeAsync()
    {
        _server = await FakeBinanceServer.StartAsync();
        _services = Build(_server.BaseAddress);
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _server.DisposeAsync();
    }

    private IMarketDataProvider Provider => _services.GetRequiredService<IMarketDataProvider>();

    private static ServiceProvider Build(Uri baseAddress, TimeProvider? time = null, Dictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["MarketData:Provider"] = "Binance",
            ["MarketData:BinanceBaseUrl"] = baseAddress.ToString(),
            ["MarketData:AttemptTimeout"] = AttemptTimeout.ToString(),
            ["MarketData:TotalTimeout"] = TotalTimeout.ToString(),
            ["MarketData:MaxRetries"] = MaxRetries.ToString(),
            ["MarketData:RetryBaseDelay"] = "00:00:00.020",
        };
        foreach (var (k, v) in extra ?? [])
        {
            settings[k] = v;
        }

        var services = new ServiceCollection().AddLogging();
        if (time is not null)
        {
            services.AddSingleton(time);
        }

        services.AddEngramMarketData(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        return services.BuildServiceProvider(validateScopes: true);
    }

    [Fact]
    public void The_binance_provider_is_the_one_registered()
    {
        Assert.IsType<BinanceMarketDataProvider>(Provider);
    }

    [Fact]
    public async Task Klines_page_backwards_and_equal_the_csv()
    {
        var csv = SharedData.Candles("binance_BTCUSDT_1h.csv");
        var candles = await Provider.GetCandlesAsync("BTCUSDT", Timeframe.H1, 1500);
        Assert.Equal(csv[^1500..], candles);
        Assert.Equal(2, _server.Requests("/api/v3/klines"));
    }

    [Fact]
    public async Task The_still_open_last_kline_is_dropped()
    {
        var csv = SharedData.Candles("binance_ETHUSDT_1h.csv");
        // "Now" is half-way through the last candle the server has, so that candle is still open.
        var now = csv[^1].OpenTime.AddMinutes(30);
        await using var services = Build(_server.BaseAddress, new FixedTimeProvider(now));
        var candles = await services.GetRequiredService<IMarketDataProvider>().GetCandlesAsync("ETHUSDT", Timeframe.H1, 10);
        Assert.Equal(10, candles.Count);
        Assert.Equal(csv[^2], candles[^1]);
    }

    [Fact]
    public async Task Ticker_price_and_symbols_parse_the_recorded_bodies()
    {
        var ticker = await Provider.Get24hTickerAsync("BTCUSDT");
        Assert.Equal(47174.97, ticker.LastPrice);
        Assert.Equal(49436.43, ticker.HighPrice);
        Assert.Equal(46749.55, ticker.LowPrice);
        Assert.Equal(-3.531, ticker.PriceChangePercent);
        Assert.Equal(33136.69765, ticker.Volume);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1639734042763), ticker.CloseTime);

        Assert.Equal(1074.99, await Provider.GetPriceAsync("ETHUSDT"));

        var symbols = await Provider.GetSymbolsAsync();
        Assert.Equal(["BTCUSDT", "ETHUSDT", "BNBUSDT", "XRPUSDT", "SOLUSDT", "BCCUSDT"], symbols.Select(s => s.Symbol));
        Assert.Equal("BREAK", symbols.Single(s => s.Symbol == "BCCUSDT").Status);
        Assert.Equal(("XRP", "USDT"), (symbols[3].BaseAsset, symbols[3].QuoteAsset));
    }

    [Fact]
    public async Task Invalid_symbol_is_a_clear_error_after_exactly_one_request()
    {
        var ex = await Assert.ThrowsAsync<MarketDataException>(() => Provider.GetCandlesAsync("NOPEUSDT", Timeframe.H1, 10));
        Assert.Equal(MarketDataErrorKind.InvalidSymbol, ex.Kind);
        Assert.Equal(-1121, ex.ExchangeCode);
        Assert.Equal("Binance does not list the symbol 'NOPEUSDT'.", ex.Message);
        Assert.Equal(1, _server.Requests("/api/v3/klines"));
    }

    [Fact]
    public async Task Several_prices_come_from_one_request_and_an_unlisted_symbol_costs_one_more()
    {
        var prices = await Provider.GetPricesAsync(["BTCUSDT", "ETHUSDT", "BNBBTC"]);
        Assert.Equal(3, prices.Count);
        Assert.Equal(1074.99, prices["ETHUSDT"]);
        Assert.Equal(1, _server.Requests("/api/v3/ticker/price"));

        // One delisted symbol fails a symbols= request as a whole (-1121): the full list is asked once instead.
        prices = await Provider.GetPricesAsync(["BTCUSDT", "GONEUSDT"]);
        Assert.Equal(["BTCUSDT"], prices.Keys);
        Assert.Equal(3, _server.Requests("/api/v3/ticker/price"));
    }

    [Fact]
    public async Task A_418_ban_stops_every_request_until_its_retry_after_has_passed()
    {
        // As Binance does: once banned, every request gets 418 until the ban ends (a slow first answer may be retried).
        DateTime? bannedUntil = null;
        _server.Fault = async (ctx, _) =>
        {
            bannedUntil ??= DateTime.UtcNow.AddSeconds(2);
            if (DateTime.UtcNow >= bannedUntil)
            {
                return false;
            }

            ctx.Response.Headers.RetryAfter = "2";
            await FakeBinanceServer.SendAsync(ctx, 418, """{"code":-1003,"msg":"Way too many requests; IP banned until 1700000000000."}""");
            return true;
        };
        var ex = await Assert.ThrowsAsync<MarketDataException>(() => Provider.GetPriceAsync("ETHUSDT"));
        Assert.Equal(MarketDataErrorKind.RateLimited, ex.Kind);
        var seen = _server.TotalRequests;

        // During the ban nothing is sent, whatever is asked: each call fails at once with when to come back.
        var refused = await Assert.ThrowsAsync<MarketDataException>(() => Provider.GetCandlesAsync("BTCUSDT", Timeframe.H1, 10));
        Assert.Equal(MarketDataErrorKind.RateLimited, refused.Kind);
        Assert.Contains("back in about", refused.Message);
        await Assert.ThrowsAsync<MarketDataException>(() => Provider.GetPricesAsync(["BTCUSDT", "ETHUSDT"]));
        Assert.Equal(seen, _server.TotalRequests);

        await Task.Delay(TimeSpan.FromSeconds(2.3));
        Assert.Equal(1074.99, await Provider.GetPriceAsync("ETHUSDT"));
        Assert.Equal(seen + 1, _server.TotalRequests);
    }

    [Fact]
    public async Task Too_many_requests_waits_for_retry_after_then_succeeds()
    {
        _server.Fault = async (ctx, attempt) =>
        {
            if (attempt > 1)
            {
                return false;
            }

            ctx.Response.Headers.RetryAfter = "1";
            await FakeBinanceServer.SendAsync(ctx, 429, """{"code":-1003,"msg":"Too many requests."}""");
            return true;
        };
        var watch = Stopwatch.StartNew();
        Assert.Equal(1074.99, await Provider.GetPriceAsync("ETHUSDT"));
        Assert.Equal(2, _server.Requests("/api/v3/ticker/price"));
        // Honoured Retry-After rather than the 20 ms backoff.
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(900), $"retried after {watch.Elapsed}");
    }

    [Fact]
    public async Task Server_errors_are_retried_and_then_reported()
    {
        _server.Fault = async (ctx, attempt) =>
        {
            if (attempt > 2)
            {
                return false;
            }

            await FakeBinanceServer.SendAsync(ctx, 503, "<html>Service Unavailable</html>");
            return true;
        };
        Assert.Equal(1074.99, await Provider.GetPriceAsync("ETHUSDT"));
        Assert.Equal(3, _server.Requests("/api/v3/ticker/price"));

        _server.Fault = async (ctx, _) =>
        {
            await FakeBinanceServer.SendAsync(ctx, 500, """{"code":-1000,"msg":"An unknown error occurred."}""");
            return true;
        };
        var ex = await Assert.ThrowsAsync<MarketDataException>(() => Provider.Get24hTickerAsync("BTCUSDT"));
        Assert.Equal(MarketDataErrorKind.Unavailable, ex.Kind);
        Assert.Contains("HTTP 500", ex.Message);
        Assert.Equal(1 + MaxRetries, _server.Requests("/api/v3/ticker/24hr"));
    }

    [Fact]
    public async Task A_hanging_server_times_out_within_the_configured_time()
    {
        _server.Fault = async (ctx, _) =>
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, ctx.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
            return true;
        };
        var watch = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<MarketDataException>(() => Provider.GetPriceAsync("ETHUSDT"));
        watch.Stop();
        Assert.Equal(MarketDataErrorKind.Timeout, ex.Kind);
        Assert.Contains("did not answer in time", ex.Message);
        // Every attempt timed out (attempt timeouts count as transient) and the whole call stayed in budget.
        Assert.Equal(1 + MaxRetries, _server.Requests("/api/v3/ticker/price"));
        Assert.True(watch.Elapsed < TotalTimeout + TimeSpan.FromSeconds(1), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task Malformed_json_is_a_clear_error_and_not_retried()
    {
        _server.Fault = async (ctx, _) =>
        {
            await FakeBinanceServer.SendAsync(ctx, 200, """[[1660000000000,"1.0","2.0" """);
            return true;
        };
        var ex = await Assert.ThrowsAsync<MarketDataException>(() => Provider.GetCandlesAsync("BTCUSDT", Timeframe.H1, 10));
        Assert.Equal(MarketDataErrorKind.BadResponse, ex.Kind);
        Assert.Contains("could not read", ex.Message);
        Assert.Equal(1, _server.Requests("/api/v3/klines"));
    }

    [Theory]
    [InlineData("""{"symbol":"ETHUSDT"}""")]
    [InlineData("""{"symbol":"ETHUSDT","price":"abc"}""")]
    [InlineData("""{"symbol":"ETHUSDT","price":"-5"}""")]
    [InlineData("""[1,2,3]""")]
    public async Task Well_formed_json_of_the_wrong_shape_never_becomes_a_number(string body)
    {
        _server.Fault = async (ctx, _) =>
        {
            await FakeBinanceServer.SendAsync(ctx, 200, body);
            return true;
        };
        var ex = await Assert.ThrowsAsync<MarketDataException>(() => Provider.GetPriceAsync("ETHUSDT"));
        Assert.Equal(MarketDataErrorKind.BadResponse, ex.Kind);
    }

    [Fact]
    public async Task Tools_run_end_to_end_over_http()
    {
        var tools = _services.GetRequiredService<TradingToolService>();
        var analysis = await tools.AnalyzeMarketAsync("btc/usd", "1h");
        Assert.True(analysis.IsSuccess, analysis.ToSummary());
        Assert.Equal("BTCUSDT", analysis.Value.Symbol);
        Assert.Contains(analysis.Value.Notes, n => n.Contains("USDT", StringComparison.Ordinal));
        Assert.Equal(SharedData.Candles("binance_BTCUSDT_1h.csv")[^1].Close, analysis.Value.Price);
        // The recorded 24h ticker is from 2021, the candles end in 2022: they must not be mixed.
        Assert.Equal("candles", analysis.Value.Day.Source);

        var unknown = await tools.AnalyzeMarketAsync("BTCC", "1h");
        Assert.False(unknown.IsSuccess);
        Assert.Equal(ToolErrorCode.UnknownSymbol, unknown.Error.Code);
        Assert.Contains("BTCUSDT", unknown.Error.Suggestions);

        var halted = await tools.AnalyzeMarketAsync("BCCUSDT", "1h");
        Assert.Contains("not trading", halted.Error!.Message);
    }

    [Fact]
    public void Bad_configuration_is_refused_at_start_with_the_key_named()
    {
        using var services = Build(_server.BaseAddress, extra: new() { ["MarketData:BinanceBaseUrl"] = "not a url", ["Trading:HighRiskPercent"] = "0.1" });
        var ex = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<MarketDataOptions>>().Value);
        Assert.Contains("MarketData:BinanceBaseUrl", ex.Message);
        var trading = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<TradingOptions>>().Value);
        Assert.Contains("risk percents", trading.Message);
    }

    private sealed class FixedTimeProvider(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
