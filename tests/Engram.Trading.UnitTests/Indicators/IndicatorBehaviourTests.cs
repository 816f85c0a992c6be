using Engram.Trading.Indicators;

namespace Engram.Trading.UnitTests.Indicators;

/// <summary>Hand-computed cases for the conventions the golden files cannot show on their own.</summary>
public sealed class IndicatorBehaviourTests
{
    [Fact]
    public void Sma_is_nan_during_warm_up_then_the_window_mean()
    {
        var output = new double[5];
        TechnicalIndicators.Sma([1, 2, 3, 4, 5], 3, output);
        Assert.True(double.IsNaN(output[0]) && double.IsNaN(output[1]));
        Assert.Equal([2.0, 3.0, 4.0], output[2..]);
    }

    [Fact]
    public void Ema_is_seeded_with_the_sma_of_the_first_period()
    {
        var output = new double[4];
        TechnicalIndicators.Ema([1, 2, 3, 4], 3, output);
        Assert.Equal(2.0, output[2]);
        Assert.Equal(3.0, output[3]); // 2 + (4 − 2) · 2/(3+1)
    }

    [Fact]
    public void Rsi_is_100_without_losses_and_0_without_gains()
    {
        var up = Enumerable.Range(1, 30).Select(i => (double)i).ToArray();
        var output = new double[up.Length];
        TechnicalIndicators.Rsi(up, output, 14);
        Assert.True(double.IsNaN(output[13]));
        Assert.Equal(100, output[14]);
        TechnicalIndicators.Rsi(up.Reverse().ToArray(), output, 14);
        Assert.Equal(0, output[^1]);
    }

    [Fact]
    public void True_range_uses_the_previous_close_and_starts_undefined()
    {
        var output = new double[2];
        TechnicalIndicators.TrueRange([10, 12], [9, 11], [9.5, 11.5], output);
        Assert.True(double.IsNaN(output[0]));
        Assert.Equal(2.5, output[1]); // gap up: high 12 − previous close 9.5 beats 12 − 11
    }

    [Fact]
    public void Swing_levels_need_lower_bars_on_both_sides_and_come_most_recent_first()
    {
        double[] high = [1, 2, 5, 2, 1, 2, 4, 2, 1, 1];
        double[] low = [0.5, 1, 4, 1, 0.2, 1, 3, 1, 0.5, 0.5];
        Span<double> highs = stackalloc double[4];
        Span<double> lows = stackalloc double[4];
        var (nh, nl) = TechnicalIndicators.SwingLevels(high, low, 2, highs, lows);
        Assert.Equal([4.0, 5.0], highs[..nh].ToArray());
        Assert.Equal([0.2], lows[..nl].ToArray());
    }

    [Fact]
    public void Realised_volatility_annualises_the_sample_stdev_of_log_returns()
    {
        // Log returns alternate +r and −r: mean 0, sample stdev r·√(n/(n−1)).
        var r = 0.01;
        var close = new double[11];
        close[0] = 100;
        for (var i = 1; i < close.Length; i++)
        {
            close[i] = close[i - 1] * Math.Exp(i % 2 == 1 ? r : -r);
        }

        var expected = r * Math.Sqrt(10.0 / 9) * Math.Sqrt(365);
        Assert.Equal(expected, TechnicalIndicators.RealisedVolatility(close, 365), 12);
        Assert.Equal(0, TechnicalIndicators.RealisedVolatility([1, 2, 4, 8, 16], 365), 12);
    }

    [Fact]
    public void Volume_trend_compares_recent_to_longer_average()
    {
        var volume = Enumerable.Repeat(10.0, 15).Concat(Enumerable.Repeat(30.0, 5)).ToArray();
        // short mean 30; long mean (15·10 + 5·30)/20 = 15
        Assert.Equal(2.0, TechnicalIndicators.VolumeTrend(volume, 5, 20), 12);
        Assert.True(double.IsNaN(TechnicalIndicators.VolumeTrend(volume[..10], 5, 20)));
    }

    [Fact]
    public void Returns_start_undefined()
    {
        var simple = new double[3];
        var log = new double[3];
        TechnicalIndicators.SimpleReturns([100, 110, 99], simple);
        TechnicalIndicators.LogReturns([100, 110, 99], log);
        Assert.True(double.IsNaN(simple[0]) && double.IsNaN(log[0]));
        Assert.Equal(0.1, simple[1], 12);
        Assert.Equal(-0.1, simple[2], 12);
        Assert.Equal(Math.Log(1.1), log[1], 12);
    }

    [Fact]
    public void Mismatched_buffers_and_bad_periods_are_refused()
    {
        Assert.Throws<ArgumentException>(() => TechnicalIndicators.Sma([1, 2, 3], 2, new double[2]));
        Assert.Throws<ArgumentOutOfRangeException>(() => TechnicalIndicators.Ema([1, 2, 3], 0, new double[3]));
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            TechnicalIndicators.Macd(new double[40], new double[40], new double[40], new double[40], 26, 12, 9));
    }

    [Fact]
    public void Short_input_is_all_warm_up()
    {
        var output = new double[5];
        TechnicalIndicators.Ema([1, 2, 3, 4, 5], 10, output);
        Assert.All(output, v => Assert.True(double.IsNaN(v)));
        var atr = new double[5];
        TechnicalIndicators.Atr([2, 2, 2, 2, 2], [1, 1, 1, 1, 1], [1.5, 1.5, 1.5, 1.5, 1.5], atr, 14);
        Assert.All(atr, v => Assert.True(double.IsNaN(v)));
    }
}
