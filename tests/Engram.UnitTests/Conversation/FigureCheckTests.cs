using Engram.Abstractions.Conversation;
using Engram.Abstractions.Users;
using Engram.Agent;
using Engram.Grains.Conversation;

namespace Engram.UnitTests.Conversation;

public class FigureCheckTests
{
    private static readonly ToolInvocation Signal = new("generate_signal", """{"pair":"BTC"}""",
        """
        {"symbol":"BTCUSDT","timeframe":"1h","action":"hold","score":1,"price":64435.03,"lastCandleCloseTime":"2024-05-01T14:00:00+00:00",
         "atr":585.02972,"horizonCandles":24,"stopAtr":2,"targetAtr":3,
         "rules":[{"rule":"rsi","vote":0,"values":{"rsi14":39.8,"oversoldBelow":30,"overboughtAbove":70},"detail":"RSI 39.8 neutral (no vote)"}],
         "backtest":{"cases":41,"favourable":23,"hitRatePct":56.1,"wilsonLowerBoundPct":40.87},
         "day":{"changePct":-2.53,"volume":1234567.8},"disclaimer":"Not financial advice."}
        """, "BTCUSDT 1h: HOLD", 5, false);

    private static IReadOnlyList<CheckedFigure> Check(string answer, UserContext? user = null, string? question = null) =>
        FigureCheck.Check(answer, [Signal], user, question);

    [Fact]
    public void A_figure_no_tool_computed_is_unverified_and_the_others_name_their_source()
    {
        var figures = Check("Bitcoin trades at 64,435.03 with RSI at 39.8; I expect 71,200 soon.");

        Assert.Equal(["64,435.03", "39.8", "71,200"], figures.Select(f => f.Text));
        Assert.Equal("generate_signal.price", figures[0].Source);
        Assert.Equal("generate_signal.rules[rsi].values.rsi14", figures[1].Source);
        Assert.False(figures[2].Verified);
    }

    [Theory]
    [InlineData("$64,435")]      // cut to whole dollars
    [InlineData("64,435.0")]     // rounded to one decimal
    [InlineData("64435")]        // no separators
    [InlineData("64.4K")]        // K with a decimal: ±50
    [InlineData("$64k")]
    [InlineData("64,000")]       // trailing zeros are rounding to thousands
    [InlineData("1.23M")]        // the volume, in millions
    [InlineData("-2.53%")]
    [InlineData("2.5%")]         // "fell 2.5%": no sign written, the size is checked
    [InlineData("−2.5%")]        // a typographic minus
    [InlineData("56%")]          // the hit rate, rounded
    [InlineData("585.03")]       // the ATR, rounded to cents
    public void Figures_written_with_separators_rounding_or_units_are_verified(string written)
    {
        var figure = Assert.Single(Check($"Worth noting: {written} here."));
        Assert.Equal(written, figure.Text);
        Assert.True(figure.Verified, $"{written} should match a tool figure");
    }

    [Theory]
    [InlineData("65,000")]       // 565 away: not a rounding of 64,435.03
    [InlineData("64,436.5")]     // a decimal shown that does not match
    [InlineData("+2.53%")]       // the sign is wrong
    [InlineData("64.5K")]
    [InlineData("39.9")]
    [InlineData("2050")]         // a bare four-digit number is a price here, not a year
    public void Figures_that_are_close_but_not_the_tools_are_not_verified(string written) =>
        Assert.False(Assert.Single(Check($"Worth noting: {written} here.")).Verified);

    [Theory]
    [InlineData("As of 2024-05-01 14:00 UTC the 4h and 1d charts agree.")]
    [InlineData("The EMA 200 and EMA50 sit above; RSI(14) and MACD(12, 26, 9) are neutral.")]
    [InlineData("Over the next 24 hours, or a 14-day window, in 2025.")]
    [InlineData("1. Trend\n2. Momentum\n3) Volatility")]
    [InlineData("Step 12: wait.\nParagraph 120: more.")]
    [InlineData("3 of 5 rules voted; it is the 2nd signal since May 5.")]
    [InlineData("At 9:30 am or 3pm on 05/01/2024.")]
    [InlineData("Above the 50 and 200 EMA, the 20-day MA and MACD 12/26/9.")]
    public void Dates_times_timeframes_periods_numbering_and_counts_are_not_figures(string answer) =>
        Assert.Empty(Check(answer));

    [Fact]
    public void A_percentage_matches_only_a_percentage()
    {
        var signal = new ToolInvocation("generate_signal", "{}", """{"targetAtr":3,"score":3,"day":{"changePct":-8.1}}""", "", 1, false);
        Assert.Equal([false, true], FigureCheck.Check("A 3% upside after falling 8.1%.", [signal], null, null).Select(f => f.Verified));
    }

    [Fact]
    public void Round_thousands_pass_for_a_price_only_within_two_percent()
    {
        var quote = new ToolInvocation("analyze_market", "{}", """{"price":96012.5}""", "", 1, false);
        var figures = FigureCheck.Check("Around 96,000, not 100,000.", [quote], null, null);
        Assert.Equal([true, false], figures.Select(f => f.Verified));
    }

    [Fact]
    public void Engrams_own_summary_wording_is_a_source()
    {
        var signal = Signal with { Summary = "Backtest: 23 of 41 past HOLD signals favourable (56.1%; 95% lower bound 40.87%)" };
        var figure = Assert.Single(FigureCheck.Check("At the 95% level the bound is low.", [signal], null, null));
        Assert.Equal("generate_signal summary", figure.Source);
    }

    [Fact]
    public void The_users_own_portfolio_alerts_and_question_are_sources_too()
    {
        var user = new UserContext(
            new PortfolioView([new PositionView("BTCUSDT", 0.5m, 60_000m)], 125.5m, []),
            [new AlertView(1, "BTCUSDT", AlertCondition.Above, 70_000m, DateTimeOffset.UnixEpoch, 64_000m, false, null)],
            new EffectiveSettings(ResponseFormat.Clean, "1h", RiskTolerance.Medium));

        var figures = Check("Your 0.5 BTC cost 60,000 each (30,000 in all), your alert waits at 70,000, you realised 125.50, and the $1,500 you mention.",
            user, "I want to put $1500 in");

        Assert.All(figures, f => Assert.True(f.Verified, $"{f.Text} should be verified"));
        Assert.Equal("your portfolio.positions[BTCUSDT].averageCost", figures.Single(f => f.Text == "60,000").Source);
        Assert.Equal("your portfolio.positions[BTCUSDT].costBasis", figures.Single(f => f.Text == "30,000").Source);
        Assert.Equal("your message", figures.Single(f => f.Text == "$1,500").Source);
    }

    [Fact]
    public void An_answer_is_replaced_only_when_at_least_two_figures_and_most_of_them_are_unverified()
    {
        CheckedFigure ok = new("1", "tool"), bad = new("2", null);
        Assert.False(FigureCheck.MostlyUnverified([bad]));
        Assert.False(FigureCheck.MostlyUnverified([ok, bad, ok]));
        Assert.False(FigureCheck.MostlyUnverified([ok, bad, bad, ok]));
        Assert.True(FigureCheck.MostlyUnverified([ok, bad, bad]));
        Assert.True(FigureCheck.MostlyUnverified([bad, bad]));
    }
}

public class CheckedReplyTests
{
    private static readonly ToolInvocation Tool = new("analyze_market", """{"pair":"BTC"}""", """{"symbol":"BTCUSDT","price":19093.63}""",
        "BTCUSDT 1h: 19,093.63 at the close of 2022-10-11 11:00 UTC", 12, false);

    private static LlmAnswer Answer(string text) =>
        new(text, text, "glm-4.7-flash", 1500, [Tool], LlmOutcome.Answered, Figures: FigureCheck.Check(text, [Tool], null, null));

    [Fact]
    public void Clean_marks_a_figure_that_is_not_from_engrams_data()
    {
        var text = ReplyFormatter.Format(Answer("BTC is at 19,093.63 and could reach 21,500."), ResponseFormat.Clean);
        Assert.Equal("BTC is at 19,093.63 and could reach 21,500.\n\n⚠️ 1 figure here is not from Engram's data: 21,500", text);
    }

    [Fact]
    public void Clean_with_every_figure_verified_is_the_answer_alone() =>
        Assert.Equal("BTC is at 19,093.63.", ReplyFormatter.Format(Answer("BTC is at 19,093.63."), ResponseFormat.Clean));

    [Fact]
    public void A_mostly_invented_answer_becomes_the_tool_summary_and_the_history_keeps_that()
    {
        var answer = Answer("BTC is at 21,300, RSI 55.5, heading to 25,000 while holding 19,093.63.");
        var text = ReplyFormatter.Format(answer, ResponseFormat.Clean);
        Assert.StartsWith(Tool.Summary, text);
        Assert.Contains("quoted 3 figures that are not from Engram's data (21,300, 55.5, 25,000)", text);
        Assert.DoesNotContain("heading to", text);
        Assert.Equal(Tool.Summary, ReplyFormatter.Answered(answer));
    }

    [Fact]
    public void Detailed_lists_every_figure_with_its_source_and_raw_is_untouched()
    {
        var answer = Answer("BTC is at 19,093.63 and could reach 21,500.");
        var detailed = ReplyFormatter.Format(answer, ResponseFormat.Detailed);
        Assert.Contains("Figures checked: 1 of 2 from Engram's data", detailed);
        Assert.Contains("✓ 19,093.63 — analyze_market.price", detailed);
        Assert.Contains("✗ 21,500 — not in this turn's data", detailed);

        var raw = ReplyFormatter.Format(answer, ResponseFormat.Raw);
        Assert.StartsWith("BTC is at 19,093.63 and could reach 21,500.\n\nTool results (JSON):", raw);
        Assert.DoesNotContain("⚠️", raw);
    }
}
