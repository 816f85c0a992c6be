using Engram.Trading.Indicators;
using Engram.Trading.MarketData;
using Engram.Trading.Tools;
using Engram.Trading.UnitTests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Engram.Trading.UnitTests.Tools;

/// <summary>The service as the bot calls it, over the CSV provider chosen by configuration.</summary>
public sealed class TradingToolServiceTests : IDisposable
{
    private readonly ServiceProvider _services;

    public TradingToolServiceTests()
    {
        _services = Build(SharedData.Directory);
    }

    private TradingToolService Tools => _services.GetRequiredService<TradingToolService>();

    private IMarketDataProvider Provider => _services.GetRequiredService<IMarketDataProvider>();

    public void Dispose() => _services.Dispose();

    private static ServiceProvider Build(string csvDirectory) =>
        new ServiceCollection()
            .AddLogging()
            .AddEngramMarketData(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["MarketData:Provider"] = "Csv",
                ["MarketData:CsvDirectory"] = csvDirectory,
                ["Trading:ConfidenceCandles"] = "100000",
            }).Build())
            .BuildServiceProvider(validateScopes: true);

    [Fact]
    public async Task An_alert_proposal_is_checked_against_the_price_and_only_names_the_command()
    {
        var proposal = await Tools.ProposeAlertAsync("bitcoin", "Above", 25_000);
        Assert.True(proposal.IsSuccess, proposal.Error?.Message);
        Assert.Equal("/alert BTC/USDT above 25000", proposal.Value!.Command);
        Assert.Equal(19_093.63, proposal.Value.CurrentPrice);
        Assert.Equal(30.93, proposal.Value.DistancePct);
        Assert.Contains("nothing is set until the user taps", proposal.ToJson());

        var crossed = await Tools.ProposeAlertAsync("BTC", "above", 18_000);
        Assert.Equal(ToolErrorCode.InvalidAlert, crossed.Error!.Code);
        Assert.Contains("already above 18,000.00 (now 19,093.63)", crossed.Error.Message);
        Assert.Equal(ToolErrorCode.InvalidAlert, (await Tools.ProposeAlertAsync("BTC", "sideways", 1)).Error!.Code);
        Assert.Equal(ToolErrorCode.InvalidAlert, (await Tools.ProposeAlertAsync("BTC", "below", -5)).Error!.Code);
        Assert.Equal(ToolErrorCode.UnknownSymbol, (await Tools.ProposeAlertAsync("NOTACOIN", "below", 5)).Error!.Code);
    }

    [Fact]
    public async Task An_indicator_alert_proposal_gives_the_reading_at_the_last_close_and_the_command_its_button_sends()
    {
        var rsi = await Tools.ProposeIndicatorAlertAsync("bitcoin", "rsi", null, "4h", "above", 70);
        Assert.True(rsi.IsSuccess, rsi.Error?.Message);
        Assert.Equal("/alert BTC rsi 4h above 70", rsi.Value!.Command);
        Assert.Equal("🔔 Set: BTC RSI(14) 4h above 70", rsi.Value.ButtonLabel);
        // The reading is the library's RSI over the same 500 closed 4h candles.
        var candles = await Provider.GetCandlesAsync("BTCUSDT", Timeframe.H4, IndicatorLine.Window);
        var expected = new double[candles.Count];
        TechnicalIndicators.Rsi(candles.Select(c => c.Close).ToArray(), expected);
        Assert.Equal(Math.Round(expected[^1], 4), rsi.Value.CurrentValue);
        Assert.Contains("nothing is set until the user taps", rsi.ToJson());

        var average = await Tools.ProposeIndicatorAlertAsync("SOL", "ema", 200, "1d", "crosses", double.NaN);
        Assert.Equal("/alert SOL crosses ema200 1d", average.Value!.Command);
        var change = await Tools.ProposeIndicatorAlertAsync("ETH", "change", null, "24h", "below", -5);
        Assert.Equal("/alert ETH change 24h below -5%", change.Value!.Command);

        Assert.Contains("between 0 and 100", (await Tools.ProposeIndicatorAlertAsync("BTC", "rsi", null, "4h", "above", 170)).Error!.Message);
        Assert.Equal(ToolErrorCode.InvalidAlert, (await Tools.ProposeIndicatorAlertAsync("BTC", "stochastic", null, "4h", "above", 80)).Error!.Code);
        Assert.Equal(ToolErrorCode.InvalidAlert, (await Tools.ProposeIndicatorAlertAsync("BTC", "rsi", null, "4h", "crosses", 50)).Error!.Code);
        Assert.Equal(ToolErrorCode.InvalidTimeframe, (await Tools.ProposeIndicatorAlertAsync("BTC", "rsi", null, "fortnight", "above", 70)).Error!.Code);
    }

    [Fact]
    public void Configuration_selects_the_csv_provider()
    {
        Assert.IsType<CsvMarketDataProvider>(_services.GetRequiredService<IMarketDataProvider>());
    }

    [Fact]
    public async Task Analyze_market_accepts_common_names()
    {
        var result = await Tools.AnalyzeMarketAsync("bitcoin", "1h");
        Assert.True(result.IsSuccess, result.ToSummary());
        Assert.Equal("BTCUSDT", result.Value.Symbol);
        Assert.Equal(500, result.Value.CandlesUsed);
        Assert.Equal(SharedData.Candles("binance_BTCUSDT_1h.csv")[^1].OpenTime, result.Value.LastCandleOpenTime);
        Assert.Equal(result.Value.ToJson(), result.ToJson());

        var usd = await Tools.AnalyzeMarketAsync("ETH/USD", "daily");
        Assert.True(usd.IsSuccess);
        Assert.Equal("ETHUSDT", usd.Value.Symbol);
        Assert.Contains("USDT", usd.Value.Notes.Single());
        Assert.Contains(usd.Value.Notes.Single(), usd.ToSummary());
    }

    [Fact]
    public async Task Four_hour_analysis_is_folded_from_the_hourly_candles_and_priced_with_them()
    {
        var result = await Tools.AnalyzeMarketAsync("BTC", "4h");
        Assert.True(result.IsSuccess, result.ToSummary());
        Assert.Equal(new DateTimeOffset(2022, 10, 11, 4, 0, 0, TimeSpan.Zero), result.Value.LastCandleOpenTime);
        Assert.Equal(SharedData.Candles("binance_BTCUSDT_1h.csv")[^4].Close, result.Value.Price); // the 07:00 close ends the 04:00 candle
    }

    [Fact]
    public async Task Friendly_errors_for_bad_input()
    {
        var tf = await Tools.AnalyzeMarketAsync("BTC", "2h");
        Assert.Equal(ToolErrorCode.InvalidTimeframe, tf.Error!.Code);
        Assert.Contains("1m, 5m, 15m, 30m, 1h, 4h, 1d, 1w", tf.Error.Message);
        Assert.EndsWith("Not financial advice.", tf.ToSummary());
        Assert.Contains("\"error\":true", tf.ToJson());
        Assert.Contains("\"code\":\"invalidTimeframe\"", tf.ToJson());

        var unknown = await Tools.GenerateSignalAsync("BTCC");
        Assert.Equal(ToolErrorCode.UnknownSymbol, unknown.Error!.Code);
        Assert.Equal(["BTCUSDT"], unknown.Error.Suggestions);

        // The 5m file holds August 2025, after the CSV world's now (2022-10-11 11:00).
        var missing = await Tools.AnalyzeMarketAsync("BTC", "5m");
        Assert.Equal(ToolErrorCode.InsufficientHistory, missing.Error!.Code);
        Assert.Contains("available timeframes: 1h, 4h, 1d, 1w", missing.Error.Message);

        var badSignal = await Tools.GetConfidenceScoreAsync("BTC", "MOON");
        Assert.Equal(ToolErrorCode.InvalidSignal, badSignal.Error!.Code);

        var size = await Tools.AssessRiskAsync("BTC", "lots");
        Assert.Equal(ToolErrorCode.InvalidPositionSize, size.Error!.Code);
        Assert.Contains("0.5 BTC", size.Error.Message);

        var tolerance = await Tools.AssessRiskAsync("BTC", "1", "yolo");
        Assert.Equal(ToolErrorCode.InvalidRiskTolerance, tolerance.Error!.Code);
    }

    [Fact]
    public async Task Too_little_history_is_a_tool_error()
    {
        var dir = Directory.CreateTempSubdirectory("engram-short-");
        try
        {
            // A freshly listed coin: only the first 120 hours of SOL.
            var lines = File.ReadLines(SharedData.File("binance_SOLUSDT_1h.csv")).Take(121);
            File.WriteAllLines(Path.Combine(dir.FullName, "binance_SOLUSDT_1h.csv"), lines);
            await using var services = Build(dir.FullName);
            var result = await services.GetRequiredService<TradingToolService>().AnalyzeMarketAsync("SOL", "1h");
            Assert.Equal(ToolErrorCode.InsufficientHistory, result.Error!.Code);
            Assert.Contains("Only 120 1h candles", result.Error.Message);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData(null, "1h", false)]
    [InlineData("daily outlook", "1d", false)]
    [InlineData("short-term", "1h", false)]
    [InlineData("long-term hold", "1d", false)]
    [InlineData("something vague", "1h", true)]
    public async Task Signal_context_picks_the_timeframe(string? context, string timeframe, bool noted)
    {
        var result = await Tools.GenerateSignalAsync("ETH", context);
        Assert.True(result.IsSuccess, result.ToSummary());
        Assert.Equal(timeframe, result.Value.Timeframe);
        Assert.Equal(noted, result.Value.Notes.Any(n => n.Contains("did not name a timeframe", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("swing", "4h")]
    [InlineData("scalping", "5m")]
    [InlineData("15 min", "15m")]
    public void Context_styles_map_to_timeframes(string context, string timeframe)
    {
        Assert.Equal(timeframe, TradingToolService.TimeframeFromContext(context, Timeframe.H1).Timeframe.Code);
    }

    [Fact]
    public async Task Confidence_for_a_generated_signal_uses_the_whole_csv_history()
    {
        var signal = await Tools.GenerateSignalAsync("BTC", "1h");
        Assert.True(signal.IsSuccess);
        var report = await Tools.GetConfidenceScoreAsync(signal.Value);
        Assert.True(report.IsSuccess, report.ToSummary());
        Assert.Equal(signal.Value.Action, report.Value.Action);
        Assert.Equal(SharedData.Candles("binance_BTCUSDT_1h.csv").Length, report.Value.CandlesExamined);
        Assert.Equal(signal.Value.HorizonCandles, report.Value.HorizonCandles);
    }

    [Fact]
    public async Task Risk_accepts_units_or_value_and_scales_with_tolerance()
    {
        var units = await Tools.AssessRiskAsync("BTC", "0.5 BTC");
        Assert.True(units.IsSuccess, units.ToSummary());
        var price = SharedData.Candles("binance_BTCUSDT_1h.csv")[^1].Close; // the CSV world's price: its last 1h close
        Assert.Equal(price, units.Value.Price);
        Assert.Equal(0.5, units.Value.PositionUnits);
        Assert.Equal(RiskTolerance.Medium, units.Value.Tolerance);
        Assert.Equal(500, units.Value.DaysUsed);

        var value = await Tools.AssessRiskAsync("btc", "$1000", "high", equity: 20_000);
        Assert.True(value.IsSuccess);
        Assert.Equal(1000, value.Value.PositionValue);
        Assert.Equal(2.0, value.Value.RiskPerTradePct);
        Assert.Equal(value.Value.MaxPositionPctOfEquity, units.Value.MaxPositionPctOfEquity * 2, 0.02);
        Assert.NotNull(value.Value.SuggestedPositionUnits);
        Assert.EndsWith("Not financial advice.", value.ToSummary());
    }
}
