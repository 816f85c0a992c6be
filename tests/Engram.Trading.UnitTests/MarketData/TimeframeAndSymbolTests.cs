using Engram.Trading.MarketData;
using Engram.Trading.UnitTests.Infrastructure;
using Microsoft.Extensions.Options;

namespace Engram.Trading.UnitTests.MarketData;

public sealed class TimeframeTests
{
    [Theory]
    [InlineData("1m", "1m")]
    [InlineData("5m", "5m")]
    [InlineData("15M", "15m")]
    [InlineData("30m", "30m")]
    [InlineData("1h", "1h")]
    [InlineData(" 1H ", "1h")]
    [InlineData("60m", "1h")]
    [InlineData("hourly", "1h")]
    [InlineData("4 hours", "4h")]
    [InlineData("4h", "4h")]
    [InlineData("daily", "1d")]
    [InlineData("1D", "1d")]
    [InlineData("1w", "1w")]
    [InlineData("weekly", "1w")]
    public void Parses_codes_and_words(string text, string code)
    {
        Assert.Equal(code, Timeframe.Parse(text).Code);
    }

    [Theory]
    [InlineData("2h")]
    [InlineData("")]
    [InlineData(null)]
    [InlineData("1M5")]
    public void Unknown_timeframe_lists_the_valid_ones(string? text)
    {
        Assert.False(Timeframe.TryParse(text, out _));
        var ex = Assert.Throws<ArgumentException>(() => Timeframe.Parse(text));
        Assert.Contains("1m, 5m, 15m, 30m, 1h, 4h, 1d, 1w", ex.Message);
    }

    [Fact]
    public void Durations_and_periods()
    {
        Assert.Equal(TimeSpan.FromHours(4), Timeframe.H4.Duration);
        Assert.Equal(8760, Timeframe.H1.PeriodsPerYear, 9);
        Assert.Equal(24, Timeframe.H1.PeriodsPerDay, 9);
        Assert.Equal(8, Timeframe.All.Count);
    }

    [Theory]
    [InlineData("swing trade on the 4h chart", "4h")]
    [InlineData("looking at 15 min candles", "15m")]
    [InlineData("daily view please", "1d")]
    public void Finds_a_timeframe_in_free_text(string text, string code)
    {
        Assert.True(Timeframe.TryFind(text, out var tf));
        Assert.Equal(code, tf.Value.Code);
    }
}

public sealed class SymbolNormalizerTests
{
    [Theory]
    [InlineData("BTC", "BTCUSDT", false)]
    [InlineData("btc", "BTCUSDT", false)]
    [InlineData("BTC/USD", "BTCUSDT", true)]
    [InlineData("btcusd", "BTCUSDT", true)]
    [InlineData("BTC/USDT", "BTCUSDT", false)]
    [InlineData("BTC-USDT", "BTCUSDT", false)]
    [InlineData("btcusdt", "BTCUSDT", false)]
    [InlineData("bitcoin", "BTCUSDT", false)]
    [InlineData("Bitcoin/USD", "BTCUSDT", true)]
    [InlineData("ethereum", "ETHUSDT", false)]
    [InlineData("ETH/BTC", "ETHBTC", false)]
    [InlineData("solana", "SOLUSDT", false)]
    [InlineData("ripple", "XRPUSDT", false)]
    [InlineData("xrp", "XRPUSDT", false)]
    [InlineData("binance coin", "BNBUSDT", false)]
    [InlineData("BNB", "BNBUSDT", false)]
    [InlineData("shiba inu usdt", "SHIBUSDT", false)]
    [InlineData("WBTC", "WBTCUSDT", false)]
    public void Parses_the_ways_people_write_pairs(string input, string symbol, bool usdNote)
    {
        var parsed = SymbolNormalizer.Parse(input);
        Assert.NotNull(parsed);
        Assert.Equal(symbol, parsed.Symbol);
        Assert.Equal(usdNote, parsed.Note is not null);
        if (usdNote)
        {
            Assert.Contains("USDT", parsed.Note);
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("what is bitcoin doing today")]
    [InlineData("BTC$")]
    public void Refuses_text_that_is_not_a_pair(string input)
    {
        Assert.Null(SymbolNormalizer.Parse(input));
    }

    [Fact]
    public async Task Resolves_against_the_exchange_list_and_suggests_close_symbols()
    {
        var normalizer = new SymbolNormalizer(new CsvMarketDataProvider(SharedData.Directory), Options.Create(new MarketDataOptions()), TimeProvider.System);

        var ok = await normalizer.ResolveAsync("eth");
        Assert.True(ok.IsSuccess);
        Assert.Equal("ETHUSDT", ok.Symbol!.Symbol);

        var typo = await normalizer.ResolveAsync("BTCC");
        Assert.False(typo.IsSuccess);
        Assert.Equal("BTCUSDT", typo.Suggestions[0]);
        Assert.Contains("BTCUSDT", typo.Error);

        var otherQuote = await normalizer.ResolveAsync("ETH/BTC");
        Assert.False(otherQuote.IsSuccess);
        Assert.Equal("ETHUSDT", otherQuote.Suggestions[0]);

        var nonsense = await normalizer.ResolveAsync("hello world how are you");
        Assert.False(nonsense.IsSuccess);
        Assert.Contains("does not look like a trading pair", nonsense.Error);
    }

    [Fact]
    public async Task When_the_exchange_list_is_unreachable_the_last_good_one_decides_and_without_one_nothing_is_verified()
    {
        var exchange = new FlakyList(new CsvMarketDataProvider(SharedData.Directory));
        var clock = new ManualClock { Now = DateTimeOffset.UtcNow };
        var normalizer = new SymbolNormalizer(exchange, Options.Create(new MarketDataOptions()), clock);

        exchange.Down = true;
        var blind = await normalizer.ResolveAsync("NOTACOIN");
        Assert.True(blind.IsSuccess);      // a read may still try (the candles will refuse it)
        Assert.False(blind.IsVerified);    // but nothing may be stored for it

        exchange.Down = false;
        Assert.True((await normalizer.ResolveAsync("eth")).IsVerified);
        clock.Now += TimeSpan.FromDays(2); // the cached list has expired
        exchange.Down = true;
        Assert.True((await normalizer.ResolveAsync("eth")).IsVerified);
        var unknown = await normalizer.ResolveAsync("NOTACOIN");
        Assert.False(unknown.IsSuccess);
        Assert.Contains("not listed", unknown.Error);
    }

    private sealed class ManualClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; }
        public override DateTimeOffset GetUtcNow() => Now;
    }

    private sealed class FlakyList(IMarketDataProvider inner) : IMarketDataProvider
    {
        public bool Down { get; set; }
        public Task<IReadOnlyList<Candle>> GetCandlesAsync(string symbol, Timeframe timeframe, int limit, CancellationToken cancellationToken = default) => inner.GetCandlesAsync(symbol, timeframe, limit, cancellationToken);
        public Task<double> GetPriceAsync(string symbol, CancellationToken cancellationToken = default) => inner.GetPriceAsync(symbol, cancellationToken);
        public Task<IReadOnlyDictionary<string, double>> GetPricesAsync(IReadOnlyCollection<string> symbols, CancellationToken cancellationToken = default) => inner.GetPricesAsync(symbols, cancellationToken);
        public Task<Ticker24h> Get24hTickerAsync(string symbol, CancellationToken cancellationToken = default) => inner.Get24hTickerAsync(symbol, cancellationToken);
        public Task<IReadOnlyList<SymbolInfo>> GetSymbolsAsync(CancellationToken cancellationToken = default) =>
            Down ? throw new MarketDataException(MarketDataErrorKind.Unavailable, "exchangeInfo unreachable") : inner.GetSymbolsAsync(cancellationToken);
    }

    [Fact]
    public void Suggestions_skip_symbols_that_are_not_trading()
    {
        SymbolInfo[] list = [new("BCCUSDT", "BCC", "USDT", "BREAK"), new("BTCUSDT", "BTC", "USDT", "TRADING")];
        var suggestions = SymbolNormalizer.Suggest(SymbolNormalizer.Parse("BCH")!, list);
        Assert.Equal(["BTCUSDT"], suggestions);
    }

    [Theory]
    [InlineData("kitten", "sitting", 3)]
    [InlineData("BTC", "BTC", 0)]
    [InlineData("", "ETH", 3)]
    public void Levenshtein_distance(string a, string b, int expected)
    {
        Assert.Equal(expected, SymbolNormalizer.Levenshtein(a, b));
    }
}
