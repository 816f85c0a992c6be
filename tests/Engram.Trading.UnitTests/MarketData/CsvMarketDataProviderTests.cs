using Engram.Trading.MarketData;
using Engram.Trading.UnitTests.Infrastructure;

namespace Engram.Trading.UnitTests.MarketData;

public sealed class CsvMarketDataProviderTests
{
    private readonly CsvMarketDataProvider _provider = new(SharedData.Directory);

    [Fact]
    public async Task Serves_the_last_candles_in_ascending_order()
    {
        var all = SharedData.Candles("binance_BTCUSDT_1h.csv");
        Assert.Equal(45_024, all.Length); // row count documented in shared/data/README.md
        var candles = await _provider.GetCandlesAsync("BTCUSDT", Timeframe.H1, 500);
        Assert.Equal(500, candles.Count);
        Assert.Equal(all[^1], candles[^1]);
        Assert.Equal(all[^500], candles[0]);
        Assert.True(candles.Zip(candles.Skip(1)).All(p => p.First.OpenTimeMs < p.Second.OpenTimeMs));

        var everything = await _provider.GetCandlesAsync("btcusdt", Timeframe.H1, int.MaxValue);
        Assert.Equal(all.Length, everything.Count);
    }

    [Fact]
    public async Task Known_prints_are_where_the_data_readme_says()
    {
        // BTC 69000 high on 2021-11-10.
        var daily = await _provider.GetCandlesAsync("BTCUSDT", Timeframe.D1, int.MaxValue);
        var day = daily.Single(c => c.OpenTime == new DateTimeOffset(2021, 11, 10, 0, 0, 0, TimeSpan.Zero));
        Assert.Equal(69000, day.High);
    }

    [Fact]
    public async Task Price_and_ticker_come_from_the_most_recent_file()
    {
        var daily = SharedData.Candles("binance_BTCUSDT_1d.csv");
        Assert.Equal(daily[^1].Close, await _provider.GetPriceAsync("BTCUSDT"));
        var ticker = await _provider.Get24hTickerAsync("BTCUSDT");
        Assert.Equal(daily[^1].Close, ticker.LastPrice);
        Assert.Equal(daily[^1].High, ticker.HighPrice);
        Assert.Equal(daily[^1].Volume, ticker.Volume);
        Assert.Equal(daily[^1].OpenTime.AddDays(1), ticker.CloseTime);
    }

    [Fact]
    public async Task Ticker_from_hourly_candles_covers_24_of_them()
    {
        var hourly = SharedData.Candles("binance_SOLUSDT_1h.csv");
        var ticker = Ticker24h.FromCandles("SOLUSDT", hourly, Timeframe.H1);
        var day = hourly[^24..];
        Assert.Equal(day.Max(c => c.High), ticker.HighPrice);
        Assert.Equal(day.Min(c => c.Low), ticker.LowPrice);
        Assert.Equal((day[^1].Close - day[0].Open) / day[0].Open * 100, ticker.PriceChangePercent, 9);
        Assert.Equal(day.Sum(c => c.Volume), ticker.Volume, 6);
        await Task.CompletedTask;
    }

    [Fact]
    public async Task Symbols_are_the_files_present()
    {
        var symbols = await _provider.GetSymbolsAsync();
        Assert.Equal(["BNBUSDT", "BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT"], symbols.Select(s => s.Symbol));
        Assert.All(symbols, s => Assert.Equal("USDT", s.QuoteAsset));
        Assert.Equal("BTC", symbols[1].BaseAsset);
    }

    [Fact]
    public async Task Missing_symbol_or_timeframe_is_a_clear_error()
    {
        var unknown = await Assert.ThrowsAsync<MarketDataException>(() => _provider.GetCandlesAsync("DOGEUSDT", Timeframe.H1, 10));
        Assert.Equal(MarketDataErrorKind.InvalidSymbol, unknown.Kind);

        var noTf = await Assert.ThrowsAsync<MarketDataException>(() => _provider.GetCandlesAsync("BTCUSDT", Timeframe.H4, 10));
        Assert.Equal(MarketDataErrorKind.NoData, noTf.Kind);
        Assert.Contains("1h", noTf.Message);
    }

    [Fact]
    public void A_broken_row_is_reported_with_its_line()
    {
        var dir = Directory.CreateTempSubdirectory("engram-csv-");
        try
        {
            var path = Path.Combine(dir.FullName, "binance_BTCUSDT_1h.csv");
            File.WriteAllLines(path, ["open_time_ms,open,high,low,close,volume", "1000,1,2,0.5,1.5,10", "2000,1,2,x,1.5,10"]);
            var ex = Assert.Throws<MarketDataException>(() => CsvMarketDataProvider.ParseFile(path));
            Assert.Contains("line 3", ex.Message);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
