using Engram.Abstractions.Signals;
using Engram.Grains.Signals;
using Engram.Trading.MarketData;

namespace Engram.UnitTests.Conversation;

public class SignalScoringTests
{
    private static readonly DateTimeOffset Entry = new(2024, 5, 1, 12, 0, 0, TimeSpan.Zero);

    // A BUY at 100 with its stop at 96 and target at 106, over 3 candles.
    private static readonly GivenSignal Buy = new(true, 100, 96, 106, Entry, 3);
    private static readonly GivenSignal Sell = new(false, 100, 104, 94, Entry, 3);

    private static Candle At(int hour, double high, double low) =>
        new(Entry.AddHours(hour).ToUnixTimeMilliseconds(), (high + low) / 2, high, low, (high + low) / 2, 1);

    [Fact]
    public void A_target_reached_before_the_stop_is_a_hit() =>
        Assert.Equal(SignalOutcome.Target, SignalScoring.Outcome(Buy, [At(-1, 101, 99), At(0, 103, 98), At(1, 107, 99)]));

    [Fact]
    public void A_stop_hit_first_counts_even_if_the_target_comes_later() =>
        Assert.Equal(SignalOutcome.Stop, SignalScoring.Outcome(Buy, [At(0, 101, 95), At(1, 110, 99)]));

    [Fact]
    public void A_candle_touching_both_counts_as_the_stop() =>
        Assert.Equal(SignalOutcome.Stop, SignalScoring.Outcome(Buy, [At(0, 107, 95)]));

    [Fact]
    public void Neither_within_the_horizon_expires_and_a_later_target_does_not_count() =>
        Assert.Equal(SignalOutcome.Expired, SignalScoring.Outcome(Buy, [At(0, 101, 99), At(1, 102, 98), At(2, 103, 97), At(3, 120, 99)]));

    [Fact]
    public void A_running_horizon_is_not_scored_yet()
    {
        Assert.Null(SignalScoring.Outcome(Buy, [At(-2, 101, 99), At(-1, 101, 99)]));
        Assert.Null(SignalScoring.Outcome(Buy, [At(0, 101, 99), At(1, 102, 98)]));
    }

    [Fact]
    public void A_sell_is_the_mirror()
    {
        Assert.Equal(SignalOutcome.Target, SignalScoring.Outcome(Sell, [At(0, 101, 93)]));
        Assert.Equal(SignalOutcome.Stop, SignalScoring.Outcome(Sell, [At(0, 105, 99)]));
    }

    [Fact]
    public void Candles_that_no_longer_reach_back_to_the_signal_cannot_score_it() =>
        Assert.Equal(SignalOutcome.Unscorable, SignalScoring.Outcome(Buy, [At(5, 101, 99), At(6, 101, 99)]));
}
