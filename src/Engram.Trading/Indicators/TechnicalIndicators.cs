namespace Engram.Trading.Indicators;

/// <summary>
/// Indicator series over spans: the caller owns the buffers, so a whole history costs no allocation here.
/// Every output has the input's length; values that are not defined yet (warm-up) are <see cref="double.NaN"/>.
/// All series are causal: output[i] depends only on input[0..i], which is what makes the confidence replay
/// free of look-ahead. Conventions follow the npm package technicalindicators 3.1.0 (and TA-Lib); the golden
/// tests hold them to it. Differences are listed in src/Engram.Trading/README.md.
/// </summary>
public static class TechnicalIndicators
{
    /// <summary>Simple moving average; first value at index period-1.</summary>
    public static void Sma(ReadOnlySpan<double> input, int period, Span<double> output)
    {
        Check(input.Length, output.Length, period);
        output.Fill(double.NaN);
        if (input.Length < period)
        {
            return;
        }

        var sum = 0.0;
        for (var i = 0; i < period; i++)
        {
            sum += input[i];
        }

        output[period - 1] = sum / period;
        for (var i = period; i < input.Length; i++)
        {
            sum += input[i] - input[i - period];
            output[i] = sum / period;
        }
    }

    /// <summary>
    /// Exponential moving average with alpha = 2/(period+1). Seeded with the SMA of the first
    /// <paramref name="period"/> values (first output at index period-1), as technicalindicators and TA-Lib do;
    /// seeding with the first price instead would make the early values differ.
    /// </summary>
    public static void Ema(ReadOnlySpan<double> input, int period, Span<double> output) =>
        Smoothed(input, period, 2.0 / (period + 1), output);

    /// <summary>
    /// Wilder's smoothing (alpha = 1/period), seeded with the SMA of the first period values.
    /// Used by RSI and ATR.
    /// </summary>
    public static void WilderAverage(ReadOnlySpan<double> input, int period, Span<double> output) =>
        Smoothed(input, period, 1.0 / period, output);

    /// <summary>
    /// RSI with Wilder smoothing: average gain/loss seeded with the simple mean of the first
    /// <paramref name="period"/> changes, so the first value is at index period. 100 when there were no losses,
    /// 0 when no gains. Unlike technicalindicators' RSI.calculate we do not round to 2 decimals.
    /// </summary>
    public static void Rsi(ReadOnlySpan<double> input, Span<double> output, int period = 14)
    {
        Check(input.Length, output.Length, period);
        output.Fill(double.NaN);
        if (input.Length <= period)
        {
            return;
        }

        double gain = 0, loss = 0;
        for (var i = 1; i <= period; i++)
        {
            var change = input[i] - input[i - 1];
            if (change > 0)
            {
                gain += change;
            }
            else
            {
                loss -= change;
            }
        }

        gain /= period;
        loss /= period;
        output[period] = RsiValue(gain, loss);
        for (var i = period + 1; i < input.Length; i++)
        {
            var change = input[i] - input[i - 1];
            gain = (gain * (period - 1) + Math.Max(change, 0)) / period;
            loss = (loss * (period - 1) + Math.Max(-change, 0)) / period;
            output[i] = RsiValue(gain, loss);
        }
    }

    /// <summary>
    /// MACD with EMAs (classic Appel): line = EMA(fast) − EMA(slow), from index slow-1; signal = EMA(signal) of the
    /// line seeded with the SMA of its first <paramref name="signalPeriod"/> values (index slow+signal-2);
    /// histogram = line − signal. Matches technicalindicators with SimpleMAOscillator/SimpleMASignal = false
    /// (its MACDInput class defaults both to true, i.e. SMAs, which is not the usual MACD).
    /// </summary>
    public static void Macd(ReadOnlySpan<double> input, Span<double> line, Span<double> signal, Span<double> histogram,
        int fastPeriod = 12, int slowPeriod = 26, int signalPeriod = 9)
    {
        Check(input.Length, line.Length, slowPeriod);
        Check(input.Length, signal.Length, signalPeriod);
        Check(input.Length, histogram.Length, signalPeriod);
        if (fastPeriod >= slowPeriod)
        {
            throw new ArgumentOutOfRangeException(nameof(fastPeriod), "The fast period must be shorter than the slow one.");
        }

        // fast EMA goes into histogram as scratch, slow into signal; both are overwritten below.
        Ema(input, fastPeriod, histogram);
        Ema(input, slowPeriod, signal);
        for (var i = 0; i < input.Length; i++)
        {
            // The line starts when the slow EMA does, even though the fast one is ready earlier.
            line[i] = i < slowPeriod - 1 ? double.NaN : histogram[i] - signal[i];
        }

        signal.Fill(double.NaN);
        histogram.Fill(double.NaN);
        if (input.Length < slowPeriod)
        {
            return;
        }

        var start = slowPeriod - 1;
        Ema(line[start..], signalPeriod, signal[start..]);
        for (var i = start; i < input.Length; i++)
        {
            histogram[i] = line[i] - signal[i];
        }
    }

    /// <summary>
    /// Bollinger Bands: middle = SMA(period), bands = middle ± k·σ with the POPULATION standard deviation
    /// (divide by period), as technicalindicators and Bollinger himself use.
    /// </summary>
    public static void BollingerBands(ReadOnlySpan<double> input, Span<double> middle, Span<double> upper, Span<double> lower,
        int period = 20, double k = 2)
    {
        Check(input.Length, middle.Length, period);
        Check(input.Length, upper.Length, period);
        Check(input.Length, lower.Length, period);
        Sma(input, period, middle);
        upper.Fill(double.NaN);
        lower.Fill(double.NaN);
        for (var i = period - 1; i < input.Length; i++)
        {
            // Two-pass variance per window: exact, and a 20-wide window makes it cheap.
            var mean = middle[i];
            var sumSq = 0.0;
            for (var j = i - period + 1; j <= i; j++)
            {
                var d = input[j] - mean;
                sumSq += d * d;
            }

            var sd = Math.Sqrt(sumSq / period);
            upper[i] = mean + k * sd;
            lower[i] = mean - k * sd;
        }
    }

    /// <summary>
    /// True range; undefined (NaN) at index 0 because it needs the previous close (technicalindicators and
    /// TA-Lib agree; some tools use high−low there instead).
    /// </summary>
    public static void TrueRange(ReadOnlySpan<double> high, ReadOnlySpan<double> low, ReadOnlySpan<double> close, Span<double> output)
    {
        if (high.Length != low.Length || low.Length != close.Length || output.Length != close.Length)
        {
            throw new ArgumentException("high, low, close and output must have the same length.");
        }

        if (output.Length == 0)
        {
            return;
        }

        output[0] = double.NaN;
        for (var i = 1; i < close.Length; i++)
        {
            var prev = close[i - 1];
            output[i] = Math.Max(high[i] - low[i], Math.Max(Math.Abs(high[i] - prev), Math.Abs(low[i] - prev)));
        }
    }

    /// <summary>
    /// ATR with Wilder smoothing, seeded with the mean of the first <paramref name="period"/> true ranges
    /// (indices 1..period), so the first value is at index period.
    /// </summary>
    public static void Atr(ReadOnlySpan<double> high, ReadOnlySpan<double> low, ReadOnlySpan<double> close, Span<double> output, int period = 14)
    {
        Check(close.Length, output.Length, period);
        TrueRange(high, low, close, output);
        if (close.Length <= 1)
        {
            output.Fill(double.NaN);
            return;
        }

        // Smooth in place over the defined part; Smoothed reads input[i] before writing output[i].
        var defined = output[1..];
        Smoothed(defined, period, 1.0 / period, defined);
        output[0] = double.NaN;
    }

    /// <summary>Simple returns r[i] = c[i]/c[i-1] − 1; r[0] is NaN.</summary>
    public static void SimpleReturns(ReadOnlySpan<double> close, Span<double> output)
    {
        Check(close.Length, output.Length, 1);
        if (close.Length == 0)
        {
            return;
        }

        output[0] = double.NaN;
        for (var i = 1; i < close.Length; i++)
        {
            output[i] = close[i] / close[i - 1] - 1;
        }
    }

    /// <summary>Log returns r[i] = ln(c[i]/c[i-1]); r[0] is NaN.</summary>
    public static void LogReturns(ReadOnlySpan<double> close, Span<double> output)
    {
        Check(close.Length, output.Length, 1);
        if (close.Length == 0)
        {
            return;
        }

        output[0] = double.NaN;
        for (var i = 1; i < close.Length; i++)
        {
            output[i] = Math.Log(close[i] / close[i - 1]);
        }
    }

    /// <summary>
    /// Realised volatility: sample standard deviation (n−1) of the last <paramref name="window"/> log returns,
    /// scaled by √(periods per year). Crypto trades 24/7, so a year of 1h candles is 8760 periods.
    /// NaN if there are fewer than 2 returns.
    /// </summary>
    public static double RealisedVolatility(ReadOnlySpan<double> close, double periodsPerYear, int window = int.MaxValue)
    {
        var returns = Math.Min(window, close.Length - 1);
        if (returns < 2)
        {
            return double.NaN;
        }

        var start = close.Length - 1 - returns;
        double mean = 0;
        for (var i = start + 1; i < close.Length; i++)
        {
            mean += Math.Log(close[i] / close[i - 1]);
        }

        mean /= returns;
        double sumSq = 0;
        for (var i = start + 1; i < close.Length; i++)
        {
            var d = Math.Log(close[i] / close[i - 1]) - mean;
            sumSq += d * d;
        }

        return Math.Sqrt(sumSq / (returns - 1)) * Math.Sqrt(periodsPerYear);
    }

    /// <summary>
    /// Volume trend: mean volume of the last <paramref name="shortWindow"/> candles over the mean of the last
    /// <paramref name="longWindow"/> (which includes them). Above 1 means volume is picking up. NaN if too short
    /// or the long average is zero.
    /// </summary>
    public static double VolumeTrend(ReadOnlySpan<double> volume, int shortWindow = 5, int longWindow = 20)
    {
        if (shortWindow <= 0 || longWindow < shortWindow || volume.Length < longWindow)
        {
            return double.NaN;
        }

        double shortSum = 0, longSum = 0;
        for (var i = volume.Length - longWindow; i < volume.Length; i++)
        {
            longSum += volume[i];
            if (i >= volume.Length - shortWindow)
            {
                shortSum += volume[i];
            }
        }

        return longSum <= 0 ? double.NaN : (shortSum / shortWindow) / (longSum / longWindow);
    }

    /// <summary>
    /// Swing (fractal) highs and lows: bar j is a swing high when its high is the strict maximum of the
    /// <paramref name="strength"/> bars on each side (ties on the left allowed, so flat tops count once).
    /// A swing at j is only known at j+strength; this looks at bars whose right side is inside the span, so
    /// called on data up to i it uses nothing after i.
    /// </summary>
    /// <returns>Number of levels written to each output (most recent first), at most their lengths.</returns>
    public static (int Highs, int Lows) SwingLevels(ReadOnlySpan<double> high, ReadOnlySpan<double> low, int strength,
        Span<double> swingHighs, Span<double> swingLows)
    {
        if (high.Length != low.Length)
        {
            throw new ArgumentException("high and low must have the same length.");
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(strength);
        int nh = 0, nl = 0;
        for (var j = high.Length - 1 - strength; j >= strength && (nh < swingHighs.Length || nl < swingLows.Length); j--)
        {
            bool isHigh = true, isLow = true;
            for (var d = 1; d <= strength && (isHigh || isLow); d++)
            {
                isHigh &= high[j] >= high[j - d] && high[j] > high[j + d];
                isLow &= low[j] <= low[j - d] && low[j] < low[j + d];
            }

            if (isHigh && nh < swingHighs.Length)
            {
                swingHighs[nh++] = high[j];
            }

            if (isLow && nl < swingLows.Length)
            {
                swingLows[nl++] = low[j];
            }
        }

        return (nh, nl);
    }

    private static void Smoothed(ReadOnlySpan<double> input, int period, double alpha, Span<double> output)
    {
        Check(input.Length, output.Length, period);
        if (input.Length < period)
        {
            output.Fill(double.NaN);
            return;
        }

        var sum = 0.0;
        for (var i = 0; i < period; i++)
        {
            sum += input[i];
        }

        var value = sum / period;
        for (var i = 0; i < period - 1; i++)
        {
            output[i] = double.NaN;
        }

        output[period - 1] = value;
        for (var i = period; i < input.Length; i++)
        {
            value += (input[i] - value) * alpha;
            output[i] = value;
        }
    }

    private static double RsiValue(double gain, double loss) =>
        loss == 0 ? 100 : gain == 0 ? 0 : 100 - 100 / (1 + gain / loss);

    private static void Check(int inputLength, int outputLength, int period)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(period);
        if (outputLength != inputLength)
        {
            throw new ArgumentException($"Output length {outputLength} must equal input length {inputLength}.");
        }
    }
}
