using Engram.Abstractions.Conversation;
using Engram.Abstractions.Users;
using Engram.Agent;
using Engram.Grains.Conversation;

namespace Engram.UnitTests.Conversation;

public class ParsedMessageTests
{
    [Theory]
    [InlineData("/analyze BTC/USDT 4h", "analyze", new[] { "BTC/USDT", "4h" })]
    [InlineData("/Analyze@EngramBot  eth", "analyze", new[] { "eth" })]
    [InlineData("/alerts", "alerts", new string[0])]
    public void Commands_are_split_into_name_and_arguments(string text, string command, string[] args)
    {
        var parsed = ParsedMessage.Parse(text);
        Assert.Equal(command, parsed.Command);
        Assert.Equal(args, parsed.Args);
    }

    [Theory]
    [InlineData("should I buy bitcoin now?")]
    [InlineData("/")]
    [InlineData("  ")]
    public void Anything_else_is_a_question(string text) => Assert.False(ParsedMessage.Parse(text).IsCommand);

    [Theory]
    [InlineData("anlyze", "analyze")]
    [InlineData("alrets", "alerts")]
    [InlineData("portfolo", "portfolio")]
    [InlineData("sel", "sell")]
    public void Typos_suggest_the_closest_command(string typo, string expected) =>
        Assert.Equal(expected, CommandCatalog.Closest(typo)?.Name);

    [Fact]
    public void Nonsense_suggests_nothing() => Assert.Null(CommandCatalog.Closest("xyzzyplugh"));

    [Fact]
    public void Every_command_has_usage_and_an_example_that_parses_to_itself()
    {
        foreach (var command in CommandCatalog.All)
        {
            Assert.Equal(command.Name, ParsedMessage.Parse(command.Example).Command);
            Assert.StartsWith("/" + command.Name, command.Usage);
        }
    }
}

public class ModelTextTests
{
    [Theory]
    [InlineData("<think>The user wants BTC. Let me call tools.</think>\n\nBTC is in an uptrend.", "BTC is in an uptrend.")]
    [InlineData("Reasoning without an opening tag...</think>Answer.", "Answer.")]
    [InlineData("Answer first. <think>cut off mid-thought", "Answer first.")]
    [InlineData("Price is 19,093.63.<tool_call>{\"name\":\"analyze_market\"}</tool_call>", "Price is 19,093.63.")]
    [InlineData("Hello<|im_end|>", "Hello")]
    [InlineData("<think>only thinking</think>", "")]
    public void Reasoning_and_tool_markup_are_removed(string raw, string clean) => Assert.Equal(clean, ModelText.Clean(raw));
}

public class SymbolMentionsTests
{
    [Theory]
    [InlineData("should I buy bitcoin now?", "bitcoin")]
    [InlineData("what about ETH and SOL/USDT", "ETH,SOL/USDT")]
    [InlineData("is it a good time to BUY?", "")]
    [InlineData("how is the market", "")]
    public void Finds_the_pairs_a_question_names(string question, string expected) =>
        Assert.Equal(expected, string.Join(",", SymbolMentions.Find(question)));
}

public class AmountParsingTests
{
    [Theory]
    [InlineData("100000", 100000)]
    [InlineData("100,000", 100000)]
    [InlineData("$1000", 1000)]
    [InlineData("0.5", 0.5)]
    [InlineData("100k", 100000)]
    [InlineData("1e3", 1000)]
    public void Reads_amounts_people_type(string text, double expected)
    {
        Assert.True(ReplyText.TryParseAmount(text, out var value));
        Assert.Equal((decimal)expected, value);
    }

    [Theory]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("abc")]
    [InlineData("1e40")]
    [InlineData("")]
    public void Refuses_what_is_not_a_finite_amount(string text) => Assert.False(ReplyText.TryParseAmount(text, out _));
}

public class ReplyFormatterTests
{
    private static readonly ToolInvocation Tool = new("analyze_market", """{"pair":"BTC"}""", """{"symbol":"BTCUSDT","price":19093.63}""",
        "BTCUSDT 1h: 19,093.63 at the close of 2022-10-11 11:00 UTC\nTrend: down", 12, false, new DateTimeOffset(2022, 10, 11, 11, 0, 0, TimeSpan.Zero));

    private static readonly LlmAnswer Answer = new("BTC is weak.", "<think>hmm</think>BTC is weak.", "glm-4.7-flash", 1500, [Tool], LlmOutcome.Answered);

    [Fact]
    public void Clean_is_only_the_answer() => Assert.Equal("BTC is weak.", ReplyFormatter.Format(Answer, ResponseFormat.Clean));

    [Fact]
    public void Detailed_adds_tools_data_time_model_and_timing()
    {
        var text = ReplyFormatter.Format(Answer, ResponseFormat.Detailed);
        Assert.StartsWith("BTC is weak.", text);
        Assert.Contains("analyze_market {\"pair\":\"BTC\"} (12 ms): BTCUSDT 1h: 19,093.63", text);
        Assert.Contains("Data as of 2022-10-11 11:00 UTC", text);
        Assert.Contains("Model: glm-4.7-flash · 1.5 s", text);
    }

    [Fact]
    public void Raw_shows_the_model_output_and_tool_json()
    {
        var text = ReplyFormatter.Format(Answer, ResponseFormat.Raw);
        Assert.StartsWith("<think>hmm</think>BTC is weak.", text);
        Assert.Contains("{\"symbol\":\"BTCUSDT\",\"price\":19093.63}", text);
    }

    [Fact]
    public void Fallback_keeps_the_tool_lead_and_says_commentary_is_unavailable()
    {
        var fallback = Answer with { Outcome = LlmOutcome.Fallback, Notice = LlmAgent.UnavailableNotice };
        var text = ReplyFormatter.Format(fallback, ResponseFormat.Clean, lead: Tool.Summary);
        Assert.StartsWith("BTCUSDT 1h: 19,093.63", text);
        Assert.EndsWith(LlmAgent.UnavailableNotice, text);
        Assert.DoesNotContain("💬", text);
    }
}

public class AlertCommandInputTests
{
    [Theory]
    [InlineData("+٥%")]                               // Arabic-Indic five: \d would match it, no parser reads it
    [InlineData("+123456789012345678901234567890%")] // does not fit a decimal
    [InlineData("+0%")]
    public void Percentages_that_cannot_be_read_are_refused_with_a_reason_not_thrown(string percent)
    {
        Assert.Null(AlertCommand.Parse(["BTC", percent]));
        Assert.False(string.IsNullOrWhiteSpace(AlertCommand.Problem(["BTC", percent])));
    }

    [Fact]
    public void A_lifetime_in_other_digits_is_refused() =>
        Assert.Null(AlertCommand.Parse(["BTC", "above", "100000", "for", "٣d"]));

    [Fact]
    public void Ascii_percentages_still_read() =>
        Assert.Equal(5m, AlertCommand.Parse(["BTC", "+5%"])!.Percent);
}
