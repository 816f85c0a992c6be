using Engram.Trading.Tools;

namespace Engram.Trading.UnitTests.Tools;

public sealed class PositionSizeTests
{
    [Theory]
    [InlineData("0.5", 0.5, false)]
    [InlineData("0.5 BTC", 0.5, false)]
    [InlineData("0.5btc", 0.5, false)]
    [InlineData(".25 bitcoin", 0.25, false)]
    [InlineData("0,5", 0.5, false)]
    [InlineData("$1000", 1000, true)]
    [InlineData("1000$", 1000, true)]
    [InlineData("$ 1,000.50", 1000.5, true)]
    [InlineData("1000 USDT", 1000, true)]
    [InlineData("1000 usd", 1000, true)]
    [InlineData("2,500 dollars", 2500, true)]
    [InlineData("1.5k usdt", 1500, true)]
    [InlineData("$2k", 2000, true)]
    public void Reads_asset_amounts_and_quote_values(string text, double amount, bool isQuote)
    {
        Assert.True(PositionSize.TryParse(text, "BTC", "USDT", out var size, out var error), error);
        Assert.Equal(amount, size.Amount, 12);
        Assert.Equal(isQuote, size.IsQuoteValue);
    }

    [Theory]
    [InlineData("lots")]
    [InlineData("")]
    [InlineData("0")]
    [InlineData("-1 BTC")]
    [InlineData("0.5 ETH")]
    [InlineData("$0.5 BTC")]
    [InlineData("1e309")]
    [InlineData("half a bitcoin")]
    public void Refuses_nonsense_with_an_example(string text)
    {
        Assert.False(PositionSize.TryParse(text, "BTC", "USDT", out _, out var error));
        Assert.Contains("0.5 BTC", error);
    }

    [Fact]
    public void Dollar_sign_needs_a_dollar_quoted_pair()
    {
        Assert.False(PositionSize.TryParse("$100", "ETH", "BTC", out _, out var error));
        Assert.Contains("BTC", error);
        Assert.True(PositionSize.TryParse("0.01 BTC", "ETH", "BTC", out var size, out _));
        Assert.True(size.IsQuoteValue);
    }

    [Fact]
    public void Converts_between_units_and_value()
    {
        var units = new PositionSize(0.5, false);
        var value = new PositionSize(1000, true);
        Assert.Equal(10_000, units.ValueAt(20_000));
        Assert.Equal(0.05, value.UnitsAt(20_000));
    }

    [Theory]
    [InlineData("low", RiskTolerance.Low)]
    [InlineData("Conservative", RiskTolerance.Low)]
    [InlineData("medium", RiskTolerance.Medium)]
    [InlineData(" HIGH ", RiskTolerance.High)]
    [InlineData("aggressive", RiskTolerance.High)]
    public void Risk_tolerance_words(string text, RiskTolerance expected)
    {
        Assert.True(RiskToleranceParser.TryParse(text, out var tolerance));
        Assert.Equal(expected, tolerance);
        Assert.False(RiskToleranceParser.TryParse("yolo", out _));
    }
}
