using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Engram.Trading.Tools;

/// <summary>What every tool returns: compact JSON for the model, a plain summary for when there is no model.</summary>
public interface IToolResult
{
    /// <summary>camelCase JSON; the last property is always <c>"disclaimer": "Not financial advice."</c>.</summary>
    string ToJson();

    /// <summary>A few lines for a human; the last line is always <see cref="ToolText.Disclaimer"/>.</summary>
    string ToSummary();
}

public static class ToolText
{
    /// <summary>Ends every tool result, JSON and summary alike.</summary>
    public const string Disclaimer = "Not financial advice.";

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    internal static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Json);

    internal static string WithDisclaimer(IEnumerable<string> lines) =>
        string.Join('\n', lines.Where(l => l.Length > 0).Append(Disclaimer));

    /// <summary>Prices keep 8 significant digits (Binance's precision), which also strips float noise.</summary>
    internal static double Price(double value) => Significant(value, 8);

    /// <summary>Percentages and ratios: two decimals are all a reader can use.</summary>
    internal static double Pct(double value) => Math.Round(value, 2, MidpointRounding.AwayFromZero) + 0.0; // + 0.0 turns −0 into 0

    internal static double Significant(double value, int digits)
    {
        if (value == 0 || !double.IsFinite(value))
        {
            return value;
        }

        var scale = Math.Pow(10, digits - 1 - (int)Math.Floor(Math.Log10(Math.Abs(value))));
        return Math.Round(value * scale, MidpointRounding.AwayFromZero) / scale;
    }

    /// <summary>"19,128.98", "0.3456", "0.00001234": enough decimals to see the move at the asset's scale.</summary>
    internal static string FormatPrice(double value)
    {
        var abs = Math.Abs(value);
        var format = abs >= 1000 ? "N2" : abs >= 1 ? "N4" : "G6";
        return value.ToString(format, CultureInfo.InvariantCulture);
    }

    internal static string FormatPct(double value, bool sign = false) =>
        (sign && value > 0 ? "+" : "") + value.ToString("0.##", CultureInfo.InvariantCulture) + "%";

    internal static string FormatNumber(double value) =>
        value.ToString(Math.Abs(value) >= 100 ? "N0" : "0.####", CultureInfo.InvariantCulture);

    internal static string FormatTime(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
}

public enum ToolErrorCode
{
    UnknownSymbol,
    InvalidTimeframe,
    InvalidSignal,
    InvalidPositionSize,
    InvalidRiskTolerance,
    InsufficientHistory,
    MarketDataUnavailable,
    InvalidAlert,
}

/// <summary>A refusal the user can act on; <see cref="Message"/> is ready to show.</summary>
public sealed record ToolError(ToolErrorCode Code, string Message, IReadOnlyList<string> Suggestions) : IToolResult
{
    public ToolError(ToolErrorCode code, string message)
        : this(code, message, [])
    {
    }

    /// <summary>Lets the model tell a refusal from a result at a glance.</summary>
    [JsonPropertyName("error")]
    [JsonPropertyOrder(-1)]
    public bool IsError => true;

    [JsonPropertyOrder(1000)]
    public string Disclaimer => ToolText.Disclaimer;

    public string ToJson() => ToolText.Serialize(this);

    public string ToSummary() => ToolText.WithDisclaimer([Message]);
}

/// <summary>Either a tool's typed value or a <see cref="ToolError"/>.</summary>
public sealed class ToolResult<T> : IToolResult where T : class, IToolResult
{
    private ToolResult(T? value, ToolError? error)
    {
        Value = value;
        Error = error;
    }

    public T? Value { get; }

    public ToolError? Error { get; }

    [MemberNotNullWhen(true, nameof(Value))]
    [MemberNotNullWhen(false, nameof(Error))]
    public bool IsSuccess => Value is not null;

    public static ToolResult<T> Success(T value) => new(value ?? throw new ArgumentNullException(nameof(value)), null);

    public static ToolResult<T> Failure(ToolError error) => new(null, error ?? throw new ArgumentNullException(nameof(error)));

    public static implicit operator ToolResult<T>(T value) => Success(value);

    public static implicit operator ToolResult<T>(ToolError error) => Failure(error);

    public string ToJson() => IsSuccess ? Value.ToJson() : Error.ToJson();

    public string ToSummary() => IsSuccess ? Value.ToSummary() : Error.ToSummary();
}
