using Engram.Trading.MarketData;

namespace Engram.Charts.UnitTests;

public class ChartFormatTests
{
    [Theory]
    [InlineData(19123.45, "19,123.45")]
    [InlineData(1.2345, "1.2345")]
    [InlineData(0.34567, "0.34567")]
    [InlineData(0.000012346, "0.00001235")]
    public void Prices_keep_about_five_significant_digits(double price, string expected) =>
        Assert.Equal(expected, ChartFormat.Price(price));

    [Theory]
    [InlineData(1234, "1.23K")]
    [InlineData(5_600_000, "5.6M")]
    [InlineData(12, "12")]
    public void Volumes_are_compact(double value, string expected) => Assert.Equal(expected, ChartFormat.Compact(value));

    [Fact]
    public void Signs_use_a_true_minus() =>
        Assert.Equal(("+12.50", "\u221278.90"), (ChartFormat.Signed(12.5), ChartFormat.Signed(-78.9)));

    [Fact]
    public void Nice_ticks_cover_the_range()
    {
        var (step, ticks) = ChartFormat.NiceTicks(18_873, 20_312, target: 7);

        Assert.Equal(250, step);
        Assert.Equal([19_000, 19_250, 19_500, 19_750, 20_000, 20_250], ticks);
        Assert.Equal(0, ChartFormat.StepDecimals(step));
        Assert.Equal(2, ChartFormat.StepDecimals(0.05));
    }

    [Fact]
    public void Hourly_ticks_fall_on_midnight_with_dates()
    {
        var start = DateTimeOffset.Parse("2022-10-07T07:00:00Z").ToUnixTimeMilliseconds();
        var times = Enumerable.Range(0, 100).Select(i => start + i * 3_600_000L).ToArray();

        var (positions, labels) = TimeTicks.Build(times, Timeframe.H1, maxLabels: 8);

        Assert.Equal(["8 Oct", "9 Oct", "10 Oct", "11 Oct"], labels);
        Assert.Equal(17, positions[0]); // 07:00 + 17 h = midnight
    }

    [Fact]
    public void Daily_ticks_use_months_and_years()
    {
        var start = DateTimeOffset.Parse("2025-11-24T00:00:00Z").ToUnixTimeMilliseconds();
        var times = Enumerable.Range(0, 100).Select(i => start + i * 86_400_000L).ToArray();

        var (_, labels) = TimeTicks.Build(times, Timeframe.D1, maxLabels: 8);

        Assert.Equal(["Dec", "2026", "Feb", "Mar"], labels);
    }
}
