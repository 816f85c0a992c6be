using System.Text.Json;
using Engram.Trading.Indicators;
using Engram.Trading.UnitTests.Infrastructure;

namespace Engram.Trading.UnitTests.Indicators;

/// <summary>
/// Our indicators against technicalindicators 3.1.0 (tests/golden-tools/generate.js) on the last 1000 real
/// candles. Same warm-up positions, and values within 1e-6 relative after warm-up.
/// </summary>
public sealed class GoldenIndicatorTests
{
    private const double RelativeTolerance = 1e-6;

    public static TheoryData<string, string> Files => new()
    {
        { "btcusdt_1h.json", "binance_BTCUSDT_1h.csv" },
        { "ethusdt_1d.json", "binance_ETHUSDT_1d.csv" },
    };

    [Theory]
    [MemberData(nameof(Files))]
    public void Sma_and_ema_match(string golden, string csv)
    {
        var (g, close, _, _) = Load(golden, csv);
        AssertSeries(g, "sma20", Run(close, (i, o) => TechnicalIndicators.Sma(i, 20, o)));
        AssertSeries(g, "ema20", Run(close, (i, o) => TechnicalIndicators.Ema(i, 20, o)));
        AssertSeries(g, "ema50", Run(close, (i, o) => TechnicalIndicators.Ema(i, 50, o)));
        AssertSeries(g, "ema200", Run(close, (i, o) => TechnicalIndicators.Ema(i, 200, o)));
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Rsi_matches_unrounded_wilder_averages_and_the_rounded_output(string golden, string csv)
    {
        var (g, close, _, _) = Load(golden, csv);
        var rsi = Run(close, (i, o) => TechnicalIndicators.Rsi(i, o, 14));
        AssertSeries(g, "rsi14", rsi);
        // RSI.calculate itself rounds to 2 decimals (toFixed(2)).
        AssertSeries(g, "rsi14Rounded", rsi, absoluteTolerance: 0.005 + 1e-9, relativeTolerance: 0);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Macd_matches(string golden, string csv)
    {
        var (g, close, _, _) = Load(golden, csv);
        var line = new double[close.Length];
        var signal = new double[close.Length];
        var hist = new double[close.Length];
        TechnicalIndicators.Macd(close, line, signal, hist);
        AssertSeries(g, "macdLine", line);
        AssertSeries(g, "macdSignal", signal);
        AssertSeries(g, "macdHistogram", hist);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Bollinger_bands_match(string golden, string csv)
    {
        var (g, close, _, _) = Load(golden, csv);
        var middle = new double[close.Length];
        var upper = new double[close.Length];
        var lower = new double[close.Length];
        TechnicalIndicators.BollingerBands(close, middle, upper, lower, 20, 2);
        AssertSeries(g, "bbMiddle", middle);
        AssertSeries(g, "bbUpper", upper);
        AssertSeries(g, "bbLower", lower);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Atr_matches(string golden, string csv)
    {
        var (g, close, high, low) = Load(golden, csv);
        var atr = new double[close.Length];
        TechnicalIndicators.Atr(high, low, close, atr, 14);
        AssertSeries(g, "atr14", atr);
    }

    private static double[] Run(double[] input, SpanAction action)
    {
        var output = new double[input.Length];
        action(input, output);
        return output;
    }

    private delegate void SpanAction(ReadOnlySpan<double> input, Span<double> output);

    private static (JsonElement Golden, double[] Close, double[] High, double[] Low) Load(string golden, string csv)
    {
        var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Golden", golden))).RootElement;
        var count = json.GetProperty("count").GetInt32();
        var candles = SharedData.LastCandles(csv, count);
        // The golden file must be about exactly these candles.
        Assert.Equal(json.GetProperty("firstOpenTimeMs").GetInt64(), candles[0].OpenTimeMs);
        Assert.Equal(json.GetProperty("lastOpenTimeMs").GetInt64(), candles[^1].OpenTimeMs);
        return (json, candles.Select(c => c.Close).ToArray(), candles.Select(c => c.High).ToArray(), candles.Select(c => c.Low).ToArray());
    }

    private static void AssertSeries(JsonElement golden, string name, double[] actual,
        double absoluteTolerance = 1e-9, double relativeTolerance = RelativeTolerance)
    {
        var expected = golden.GetProperty(name).EnumerateArray().ToArray();
        Assert.Equal(expected.Length, actual.Length);
        var compared = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            if (expected[i].ValueKind == JsonValueKind.Null)
            {
                Assert.True(double.IsNaN(actual[i]), $"{name}[{i}]: reference is still warming up, ours is {actual[i]}");
                continue;
            }

            var e = expected[i].GetDouble();
            Assert.False(double.IsNaN(actual[i]), $"{name}[{i}]: ours is still warming up, reference is {e}");
            var tolerance = absoluteTolerance + relativeTolerance * Math.Abs(e);
            Assert.True(Math.Abs(actual[i] - e) <= tolerance, $"{name}[{i}]: expected {e}, got {actual[i]}");
            compared++;
        }

        Assert.True(compared > expected.Length / 2, $"{name}: only {compared} values compared");
    }
}
