using Engram.Abstractions.Alerts;
using Engram.Abstractions.Users;
using Engram.Grains.Alerts;
using Engram.Grains.Conversation;
using Engram.Grains.Users;
using Engram.Trading.Indicators;
using Engram.Trading.MarketData;
using Microsoft.Extensions.Time.Testing;

namespace Engram.UnitTests.Alerts;

public class IndicatorAlertCommandTests
{
    [Theory]
    [InlineData("BTC rsi 4h above 70", "rsi14", "4h", AlertCondition.Above, 70)]
    [InlineData("ETH rsi 1h below 30", "rsi14", "1h", AlertCondition.Below, 30)]
    [InlineData("ETH rsi7 15m below 25.5", "rsi7", "15m", AlertCondition.Below, 25.5)]
    [InlineData("SOL crosses ema200 1d", "ema200", "1d", AlertCondition.Crosses, 0)]
    [InlineData("SOL crosses above ema200 1d", "ema200", "1d", AlertCondition.Above, 0)]
    [InlineData("SOL crosses below sma50 4h", "sma50", "4h", AlertCondition.Below, 0)]
    [InlineData("SOL above ema50 1h", "ema50", "1h", AlertCondition.Above, 0)]
    [InlineData("BTC volume 1h above 2x", "volume20", "1h", AlertCondition.Above, 2)]
    [InlineData("BTC change 24h above 5%", "change24", "1h", AlertCondition.Above, 5)]
    [InlineData("BTC change 24h below -5%", "change24", "1h", AlertCondition.Below, -5)]
    [InlineData("BTC change 30m above 1%", "change6", "5m", AlertCondition.Above, 1)]
    [InlineData("BTC change 7d above 10%", "change168", "1h", AlertCondition.Above, 10)]
    public void The_issue_examples_parse(string text, string line, string timeframe, AlertCondition condition, double level)
    {
        var parsed = AlertCommand.Parse(text.Split(' '));
        Assert.NotNull(parsed);
        Assert.Equal((line, timeframe, condition, (decimal)level), (parsed.Line!.Value.Code, parsed.Timeframe, parsed.Condition, parsed.Threshold));
        Assert.False(parsed.Repeat);
    }

    [Fact]
    public void Repeat_and_lifetime_follow_as_for_price_alerts_and_a_missing_timeframe_is_left_to_the_default()
    {
        var parsed = AlertCommand.Parse("BTC rsi above 70 repeat 4h for 7d".Split(' '))!;
        Assert.Equal(("rsi14", null, true, TimeSpan.FromHours(4), TimeSpan.FromDays(7)),
            (parsed.Line!.Value.Code, parsed.Timeframe, parsed.Repeat, parsed.Cooldown, parsed.ExpiresIn));
        var average = AlertCommand.Parse("SOL crosses ema200 repeat".Split(' '))!;
        Assert.Equal(("ema200", (string?)null, true), (average.Line!.Value.Code, average.Timeframe, average.Repeat));
    }

    [Theory]
    [InlineData("BTC rsi 4h above", "An RSI alert looks like")]
    [InlineData("BTC rsi 4h sideways 70", "An RSI alert looks like")]
    [InlineData("SOL crosses ema 1d", "A moving-average alert looks like")]
    [InlineData("SOL crosses ema900 1d", "A moving-average alert looks like")]
    [InlineData("BTC volume 1h above lots", "A volume alert looks like")]
    [InlineData("BTC change tomorrow above 5%", "A change alert looks like")]
    [InlineData("SOL ema200 1d", "A moving-average alert looks like")]
    public void A_malformed_indicator_alert_is_refused_with_its_own_example(string text, string problem)
    {
        var args = text.Split(' ');
        Assert.Null(AlertCommand.Parse(args));
        Assert.StartsWith(problem, AlertCommand.Problem(args));
    }

    [Theory]
    [InlineData("rsi14", "4h", AlertCondition.Above, 70)]
    [InlineData("rsi7", "1h", AlertCondition.Below, 20)]
    [InlineData("ema200", "1d", AlertCondition.Crosses, 0)]
    [InlineData("sma50", "4h", AlertCondition.Below, 0)]
    [InlineData("volume20", "1h", AlertCondition.Above, 2.5)]
    [InlineData("change24", "1h", AlertCondition.Below, -5)]
    [InlineData("change6", "5m", AlertCondition.Above, 1)]
    public void The_command_a_button_carries_parses_back_to_the_same_alert(string line, string timeframe, AlertCondition condition, double level)
    {
        var spec = new IndicatorSpec(line, timeframe);
        var command = IndicatorAlerts.Command("BTC", spec, condition, (decimal)level);
        var parsed = AlertCommand.Parse(command.Split(' ')[1..])!;
        Assert.Equal((line, timeframe, condition, (decimal)level), (parsed.Line!.Value.Code, parsed.Timeframe, parsed.Condition, parsed.Threshold));
    }

    [Fact]
    public void Levels_outside_what_the_indicator_can_reach_are_refused_by_the_account()
    {
        var account = new UserAccount(new UserState(), new UserGrainOptions(), new FakeTimeProvider());
        Assert.Contains("between 0 and 100", account.AddAlert(Request("rsi14", AlertCondition.Above, 120)).Error);
        Assert.Contains("multiple of the average", account.AddAlert(Request("volume20", AlertCondition.Above, 0)).Error);
        Assert.Contains("no level", account.AddAlert(Request("ema200", AlertCondition.Above, 5)).Error);
        Assert.True(account.AddAlert(Request("rsi14", AlertCondition.Above, 70)).Ok);
        Assert.Contains("already have this alert", account.AddAlert(Request("rsi14", AlertCondition.Above, 70)).Error);
        Assert.True(account.AddAlert(Request("rsi14", AlertCondition.Above, 70, "1h")).Ok); // another timeframe is another alert
    }

    private static AlertRequest Request(string line, AlertCondition condition, decimal level, string timeframe = "4h") =>
        new("BTCUSDT", condition, level, null, Indicator: new IndicatorSpec(line, timeframe));
}

/// <summary>The book against the indicator library's own values on the real BTC candles, close by close.</summary>
public class IndicatorAlertBookTests
{
    private static readonly Candle[] Hourly = CsvMarketDataProvider.ParseFile(SharedCandles.File("binance_BTCUSDT_1h.csv"));
    private const int Window = IndicatorLine.Window;
    private static readonly long Hour = (long)TimeSpan.FromHours(1).TotalMilliseconds;

    public static TheoryData<string, AlertCondition, double> Alerts => new()
    {
        { "rsi14", AlertCondition.Above, 70 },
        { "rsi14", AlertCondition.Below, 30 },
        { "ema50", AlertCondition.Crosses, 0 },
        { "ema200", AlertCondition.Above, 0 },
        { "sma20", AlertCondition.Below, 0 },
        { "volume20", AlertCondition.Above, 3 },
        { "change24", AlertCondition.Below, -3 },
    };

    [Theory]
    [MemberData(nameof(Alerts))]
    public void Close_by_close_an_alert_fires_exactly_where_the_library_series_crosses(string code, AlertCondition condition, double level)
    {
        var expected = OracleCrossings(code, condition, level, first: Window, last: Window + 1500);
        Assert.NotEmpty(expected); // the range holds crossings: the test cannot pass by firing nothing

        var fired = new List<int>();
        var book = new IndicatorAlertBook(Timeframe.H1);
        for (var k = Window; k < Window + 1500; k++)
        {
            // Armed from the close before: re-adding after each firing makes it fire at every crossing.
            if (book.Count == 0)
                book.Add(Entry(code, condition, level, armedAfterClose: k - 1));
            var columns = WindowEndingAt(k);
            foreach (var crossing in book.Evaluate(columns, columns.Count - 1))
            {
                fired.Add(k);
                Assert.Equal(CloseTime(k), crossing.Reading.CloseTime);
                Assert.Equal(Hourly[k].Close, crossing.Reading.Close);
            }
        }
        Assert.Equal(expected, fired);
    }

    [Fact]
    public void Closes_missed_by_a_gap_are_caught_up_in_order_and_give_the_first_crossing()
    {
        var from = Window + 200;
        var expected = OracleCrossings("rsi14", AlertCondition.Above, 65, from, from + 48, windowEnd: from + 47);
        Assert.NotEmpty(expected);
        var book = new IndicatorAlertBook(Timeframe.H1);
        book.Add(Entry("rsi14", AlertCondition.Above, 65, armedAfterClose: from - 1));
        var columns = WindowEndingAt(from + 47);
        var crossing = Assert.Single(book.Evaluate(columns, columns.Count - 48));
        Assert.Equal(CloseTime(expected[0]), crossing.Reading.CloseTime);
        Assert.Equal(0, book.Count);
    }

    [Fact]
    public void An_alert_set_after_a_close_does_not_fire_for_that_close()
    {
        var k = OracleCrossings("rsi14", AlertCondition.Above, 70, Window, Window + 1500)[0];
        var book = new IndicatorAlertBook(Timeframe.H1);
        book.Add(Entry("rsi14", AlertCondition.Above, 70, armedAfterClose: k));
        var columns = WindowEndingAt(k);
        Assert.Empty(book.Evaluate(columns, columns.Count - 1));
        Assert.Equal(1, book.Count);
    }

    [Fact]
    public void Each_series_is_computed_once_per_close_however_many_alerts_share_it()
    {
        var book = new IndicatorAlertBook(Timeframe.H1);
        var codes = new[] { "rsi14", "ema200", "volume20" };
        for (var i = 0; i < 3000; i++)
            book.Add(new IndicatorAlertEntry(i, 1, codes[i % 3], AlertCondition.Above, codes[i % 3] == "rsi14" ? 99 : codes[i % 3] == "volume20" ? 500 : 0, DateTimeOffset.UnixEpoch));
        var columns = WindowEndingAt(Window + 10);
        book.Evaluate(columns, columns.Count - 1);
        Assert.Equal(3, book.SeriesComputed);
    }

    [Fact]
    public void A_repeating_alert_fires_at_each_crossing_after_its_cooldown_and_is_paused_when_it_fires_too_often()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(Hourly[Window].OpenTimeMs));
        var state = new UserState();
        var account = new UserAccount(state, new UserGrainOptions { MaxAlertFiresPerHour = 3 }, clock);
        var cooldown = TimeSpan.FromHours(6);
        var alert = account.AddAlert(new AlertRequest("BTCUSDT", AlertCondition.Crosses, 0, null, Repeat: true, Cooldown: cooldown,
            Indicator: new IndicatorSpec("ema20", "1h"))).Value!;
        var crossings = OracleCrossings("ema20", AlertCondition.Crosses, 0, Window, Window + 1500);

        // The oracle of the cooldown: a crossing counts when its close is later than the last firing's plus the cooldown.
        var expected = new List<int>();
        foreach (var k in crossings)
        {
            if (expected.Count == 0 || CloseTime(k) > CloseTime(expected[^1]) + cooldown)
                expected.Add(k);
        }

        var book = new IndicatorAlertBook(Timeframe.H1);
        book.Add(IndicatorAlerts.EntryOf(1, state.Alerts[0]) with { ArmedAt = CloseTime(Window - 1) });
        var fired = new List<int>();
        for (var k = Window; k < Window + 1500; k++)
        {
            var columns = WindowEndingAt(k);
            foreach (var crossing in book.Evaluate(columns, columns.Count - 1))
            {
                fired.Add(k);
                var (result, _) = account.OnAlertFired(new AlertFired(alert.Id, "BTCUSDT", AlertCondition.Crosses, 0, (decimal)crossing.Reading.Close,
                    crossing.Reading.CloseTime, crossing.Reading));
                Assert.Equal(AlertFiredOutcome.NotifiedRearm, result.Outcome);
                Assert.Equal(crossing.Reading.CloseTime + cooldown, result.RearmNotBefore);
                book.Add(crossing.Entry with { ArmedAt = result.RearmNotBefore!.Value });
            }
        }
        Assert.True(expected.Count > 5);
        Assert.Equal(expected, fired);

        // Four firings inside one hour pause it (the limit is 3).
        var pausing = account.AddAlert(new AlertRequest("BTCUSDT", AlertCondition.Above, 60, null, Repeat: true, Cooldown: TimeSpan.FromMinutes(1),
            Indicator: new IndicatorSpec("rsi14", "1m"))).Value!;
        var start = clock.GetUtcNow();
        var outcomes = Enumerable.Range(0, 4).Select(i => account.OnAlertFired(
            new AlertFired(pausing.Id, "BTCUSDT", AlertCondition.Above, 60, 1, start + TimeSpan.FromMinutes(10 * i), new IndicatorReading(61, 59, 1, start))).Result.Outcome).ToList();
        Assert.Equal([AlertFiredOutcome.NotifiedRearm, AlertFiredOutcome.NotifiedRearm, AlertFiredOutcome.NotifiedRearm, AlertFiredOutcome.NotifiedPaused], outcomes);
        var paused = state.Alerts.Single(a => a.Id == pausing.Id);
        Assert.True(paused.Paused && paused.Triggered);
        Assert.Contains("⏸ Paused: it fired more than 3 times in the last hour", AlertNotification.For(paused, new AlertFired(pausing.Id, "BTCUSDT",
            AlertCondition.Above, 60, 1, start, new IndicatorReading(61, 59, 1, start))).Text);
        Assert.DoesNotContain(account.GetAlerts(includeTriggered: false), a => a.Id == pausing.Id);
    }

    /// <summary>Where the library's series (over the same 500-candle window the watch reads) crosses, close by close.</summary>
    private static List<int> OracleCrossings(string code, AlertCondition condition, double level, int first, int last, int? windowEnd = null)
    {
        Assert.True(IndicatorLine.TryParse(code, out var line));
        var crossings = new List<int>();
        for (var k = first; k < last; k++)
        {
            var end = windowEnd ?? k;
            var window = Hourly[(end - Window + 1)..(end + 1)];
            var close = window.Select(c => c.Close).ToArray();
            var volume = window.Select(c => c.Volume).ToArray();
            var series = new double[close.Length];
            switch (line.Kind)
            {
                case IndicatorLineKind.Rsi: TechnicalIndicators.Rsi(close, series, line.Period); break;
                case IndicatorLineKind.Ema: TechnicalIndicators.Ema(close, line.Period, series); break;
                case IndicatorLineKind.Sma: TechnicalIndicators.Sma(close, line.Period, series); break;
                case IndicatorLineKind.VolumeRatio:
                    var average = new double[close.Length];
                    TechnicalIndicators.Sma(volume, line.Period, average);
                    for (var i = 1; i < close.Length; i++) series[i] = volume[i] / average[i - 1];
                    break;
                default:
                    for (var i = line.Period; i < close.Length; i++) series[i] = (close[i] / close[i - line.Period] - 1) * 100;
                    break;
            }
            var at = close.Length - 1 - (end - k);
            bool holds(int i) => line.IsAverage
                ? condition == AlertCondition.Below ? close[i] < series[i] : close[i] > series[i]
                : condition == AlertCondition.Above ? series[i] >= level : series[i] <= level;
            var crossed = condition == AlertCondition.Crosses ? holds(at) != holds(at - 1) : holds(at) && !holds(at - 1);
            if (crossed)
                crossings.Add(k);
            if (windowEnd is not null && crossings.Count > 0)
                break;
        }
        return crossings;
    }

    private static CandleColumns WindowEndingAt(int k) => new(Hourly[(k - Window + 1)..(k + 1)]);

    private static DateTimeOffset CloseTime(int k) => DateTimeOffset.FromUnixTimeMilliseconds(Hourly[k].OpenTimeMs + Hour);

    private static IndicatorAlertEntry Entry(string code, AlertCondition condition, double level, int armedAfterClose) =>
        new(1, 1, code, condition, (decimal)level, CloseTime(armedAfterClose));
}

internal static class SharedCandles
{
    public static string File(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "data", name);
            if (System.IO.File.Exists(candidate))
                return candidate;
        }
        throw new FileNotFoundException($"{name} not found in a shared/data beside the repository");
    }
}
