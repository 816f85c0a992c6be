using System.Globalization;
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

    [Theory]
    [InlineData("BTCUSDT")]
    [InlineData("ETHUSDT")]
    [InlineData("SOLUSDT")]
    [InlineData("BNBUSDT")]
    [InlineData("XRPUSDT")]
    public void Every_symbols_world_ends_where_its_hourly_file_ends(string symbol)
    {
        // The 1h files end 2022-10-11 10:00 (README), before the 1d files (2026-03) and the 1m/5m fragments (2025-08).
        var hourly = SharedData.Candles($"binance_{symbol}_1h.csv");
        Assert.Equal(hourly[^1].OpenTime.AddHours(1), _provider.NowFor(symbol));
        Assert.Equal(new DateTimeOffset(2022, 10, 11, 11, 0, 0, TimeSpan.Zero), _provider.NowFor(symbol.ToLowerInvariant()));
        // The 2025 fragments hold nothing up to then and drop out; 4h and 1w are folded from 1h and 1d.
        Assert.Equal([Timeframe.H1, Timeframe.H4, Timeframe.D1, Timeframe.W1], _provider.TimeframesFor(symbol));
    }

    [Fact]
    public async Task Price_and_ticker_are_the_last_close_of_the_hourly_chart()
    {
        var hourly = SharedData.Candles("binance_BTCUSDT_1h.csv");
        var chart = await _provider.GetCandlesAsync("BTCUSDT", Timeframe.H1, 150);
        var price = await _provider.GetPriceAsync("BTCUSDT");
        Assert.Equal(hourly[^1].Close, price);
        Assert.Equal(chart[^1].Close, price);
        Assert.Equal(19093.63, price); // the figure README's terminal chat shows

        var ticker = await _provider.Get24hTickerAsync("btcusdt");
        var day = hourly[^24..];
        Assert.Equal("BTCUSDT", ticker.Symbol);
        Assert.Equal(price, ticker.LastPrice);
        Assert.Equal(day[0].Open, ticker.OpenPrice);
        Assert.Equal(day.Max(c => c.High), ticker.HighPrice);
        Assert.Equal(day.Min(c => c.Low), ticker.LowPrice);
        Assert.Equal(_provider.NowFor("BTCUSDT"), ticker.CloseTime);

        var prices = await _provider.GetPricesAsync(["BTCUSDT", "ETHUSDT", "DOGEUSDT"]);
        Assert.Equal(2, prices.Count);
        Assert.Equal(price, prices["BTCUSDT"]);
        Assert.Equal(SharedData.Candles("binance_ETHUSDT_1h.csv")[^1].Close, prices["ETHUSDT"]);
    }

    [Fact]
    public async Task Four_hour_candles_are_folded_from_their_hourly_candles()
    {
        const long fourHoursMs = 4 * 3_600_000L;
        var hourly = await _provider.GetCandlesAsync("BTCUSDT", Timeframe.H1, int.MaxValue);
        var fourHourly = await _provider.GetCandlesAsync("BTCUSDT", Timeframe.H4, int.MaxValue);
        Assert.InRange(fourHourly.Count, hourly.Count / 4, hourly.Count / 4 + 100);

        var i = 0;
        var full = 0;
        foreach (var bar in fourHourly)
        {
            Assert.Equal(0, bar.OpenTimeMs % fourHoursMs);
            // No hourly candle falls between two 4h candles: each belongs to the bucket its open time is in.
            Assert.InRange(hourly[i].OpenTimeMs, bar.OpenTimeMs, bar.OpenTimeMs + fourHoursMs - 1);
            var parts = new List<Candle>();
            while (i < hourly.Count && hourly[i].OpenTimeMs < bar.OpenTimeMs + fourHoursMs)
            {
                parts.Add(hourly[i++]);
            }

            // Binance's maintenance gaps leave a few buckets short; the rest hold four hours.
            Assert.InRange(parts.Count, 1, 4);
            full += parts.Count == 4 ? 1 : 0;
            Assert.Equal(parts[0].Open, bar.Open);
            Assert.Equal(parts.Max(c => c.High), bar.High);
            Assert.Equal(parts.Min(c => c.Low), bar.Low);
            Assert.Equal(parts[^1].Close, bar.Close);
            Assert.Equal(parts.Sum(c => c.Volume), bar.Volume, tolerance: 1e-9 * Math.Max(1, bar.Volume));
        }

        // 27 gaps in the file (README), each shortening at most the bucket it starts in and the one it ends in.
        Assert.InRange(fourHourly.Count - full, 1, 2 * 27);
        // Only the bucket still forming at now (08:00, with 08:00-10:00 in it) is left out.
        Assert.Equal(3, hourly.Count - i);
        Assert.Equal(new DateTimeOffset(2022, 10, 11, 4, 0, 0, TimeSpan.Zero), fourHourly[^1].OpenTime);
    }

    [Fact]
    public async Task Weekly_candles_open_on_mondays_and_end_before_now()
    {
        var weekly = await _provider.GetCandlesAsync("BTCUSDT", Timeframe.W1, int.MaxValue);
        Assert.All(weekly, w => Assert.Equal(DayOfWeek.Monday, w.OpenTime.DayOfWeek));
        Assert.All(weekly, w => Assert.Equal(TimeSpan.Zero, w.OpenTime.TimeOfDay));
        Assert.Equal(new DateTimeOffset(2022, 10, 3, 0, 0, 0, TimeSpan.Zero), weekly[^1].OpenTime);

        var daily = await _provider.GetCandlesAsync("BTCUSDT", Timeframe.D1, int.MaxValue);
        var week = daily.Where(d => d.OpenTime >= weekly[^1].OpenTime && d.OpenTime < weekly[^1].OpenTime.AddDays(7)).ToList();
        Assert.Equal(7, week.Count);
        Assert.Equal(week[0].Open, weekly[^1].Open);
        Assert.Equal(week.Max(d => d.High), weekly[^1].High);
        Assert.Equal(week.Min(d => d.Low), weekly[^1].Low);
        Assert.Equal(week[^1].Close, weekly[^1].Close);
    }

    [Fact]
    public async Task The_daily_series_is_cut_at_the_worlds_now()
    {
        var now = _provider.NowFor("BTCUSDT");
        var file = SharedData.Candles("binance_BTCUSDT_1d.csv");
        var daily = await _provider.GetCandlesAsync("BTCUSDT", Timeframe.D1, int.MaxValue);

        Assert.True(file[^1].OpenTime > now, "the 1d file runs past the hourly one");
        Assert.Equal(file.Where(c => c.OpenTime.AddDays(1) <= now), daily);
        Assert.Equal(new DateTimeOffset(2022, 10, 10, 0, 0, 0, TimeSpan.Zero), daily[^1].OpenTime);
        Assert.InRange(now - daily[^1].OpenTime.AddDays(1), TimeSpan.Zero, TimeSpan.FromDays(1));

        var eth = await _provider.GetCandlesAsync("ETHUSDT", Timeframe.D1, 1);
        Assert.Equal(1290.03, eth[^1].Close); // what /analyze ETH 1d shows
    }

    [Fact]
    public async Task A_world_is_built_from_what_a_directory_holds()
    {
        var dir = Directory.CreateTempSubdirectory("engram-world-");
        try
        {
            // 1h from 00:00 to 09:00 (a gap at 05:00), 1d running on for days, a 1m fragment from the next week.
            const long h = 3_600_000, d = 24 * h;
            var day0 = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
            Write("binance_TESTUSDT_1h.csv", Enumerable.Range(0, 10).Where(k => k != 5).Select(k => Row(day0 + k * h, 10 + k)));
            Write("binance_TESTUSDT_1d.csv", Enumerable.Range(-3, 10).Select(k => Row(day0 + k * d, 100 + k)));
            Write("binance_TESTUSDT_1m.csv", Enumerable.Range(0, 5).Select(k => Row(day0 + 8 * d + k * 60_000, 5)));
            Write("binance_TESTUSDT_1h_2025-01_2025-02.csv", [Row(day0 - 20 * d, 1)]); // not a provider file name: were it read, now would be 20 days earlier

            var provider = new CsvMarketDataProvider(dir.FullName);
            Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(day0 + 10 * h), provider.NowFor("TESTUSDT"));
            Assert.Equal(19.5, await provider.GetPriceAsync("TESTUSDT")); // the 09:00 close
            // The 1d candles of 2024-01-01 onwards close after now; the three before it stay.
            var daily = await provider.GetCandlesAsync("TESTUSDT", Timeframe.D1, 100);
            Assert.Equal(3, daily.Count);
            Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(day0 - d), daily[^1].OpenTime);
            // 00-04, 04-08 (three hours: 05:00 is missing); 08-12 is still forming at 10:00.
            var fourHourly = await provider.GetCandlesAsync("TESTUSDT", Timeframe.H4, 100);
            Assert.Equal([day0, day0 + 4 * h], fourHourly.Select(c => c.OpenTimeMs));
            Assert.Equal(new Candle(day0 + 4 * h, 14, 17 + 1, 14 - 1, 17 + 0.5, 3), fourHourly[1]);

            var outside = await Assert.ThrowsAsync<MarketDataException>(() => provider.GetCandlesAsync("TESTUSDT", Timeframe.M1, 10));
            Assert.Equal(MarketDataErrorKind.NoData, outside.Kind);
            Assert.Equal("No 1m data for TESTUSDT; available timeframes: 1h, 4h, 1d, 1w.", outside.Message);
        }
        finally
        {
            dir.Delete(recursive: true);
        }

        void Write(string name, IEnumerable<string> rows) =>
            File.WriteAllLines(Path.Combine(dir.FullName, name), ["open_time_ms,open,high,low,close,volume", .. rows]);

        // open p, high p + 1, low p - 1, close p + 0.5, volume 1
        static string Row(long openTimeMs, double p) =>
            string.Create(CultureInfo.InvariantCulture, $"{openTimeMs},{p},{p + 1},{p - 1},{p + 0.5},1");
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

        Assert.Equal("No market data for the symbol 'DOGEUSDT'.", unknown.Message);
        Assert.Equal(MarketDataErrorKind.InvalidSymbol, (await Assert.ThrowsAsync<MarketDataException>(() => _provider.GetPriceAsync("DOGEUSDT"))).Kind);
        Assert.Equal(MarketDataErrorKind.InvalidSymbol, (await Assert.ThrowsAsync<MarketDataException>(() => _provider.Get24hTickerAsync("DOGEUSDT"))).Kind);
        Assert.Equal(MarketDataErrorKind.InvalidSymbol, Assert.Throws<MarketDataException>(() => _provider.NowFor("DOGEUSDT")).Kind);
        Assert.Empty(_provider.TimeframesFor("DOGEUSDT"));

        // The 5m file holds August 2025, after the world's now (2022-10-11): no 5m candles in it.
        var noTf = await Assert.ThrowsAsync<MarketDataException>(() => _provider.GetCandlesAsync("BTCUSDT", Timeframe.M5, 10));
        Assert.Equal(MarketDataErrorKind.NoData, noTf.Kind);
        Assert.Equal("No 5m data for BTCUSDT; available timeframes: 1h, 4h, 1d, 1w.", noTf.Message);
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
