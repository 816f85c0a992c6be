using ScottPlot;

namespace Engram.Charts;

/// <summary>
/// One dark palette for every chart. Telegram shows a photo as it is, on a white bubble in light themes and a
/// near-black one in dark themes. A dark chart reads well on both (trading apps and most shared crypto charts
/// are dark, so it looks familiar), while a white chart flashes a bright block at users of the dark theme, which
/// is the default in many clients at night. Text and lines are light and saturated enough to keep contrast
/// above 4.5:1 against the background; up/down use the usual teal/red, which stay distinct under the common
/// red-green colour-vision deficiencies because they differ in lightness as well as hue.
/// </summary>
internal static class ChartTheme
{
    public static readonly Color Background = Color.FromHex("#131722");
    public static readonly Color Panel = Color.FromHex("#161B26");
    public static readonly Color Grid = Color.FromHex("#2A2E39");
    public static readonly Color Frame = Color.FromHex("#363A45");
    public static readonly Color Text = Color.FromHex("#D1D4DC");
    public static readonly Color MutedText = Color.FromHex("#9098A9");

    public static readonly Color Up = Color.FromHex("#26A69A");
    public static readonly Color Down = Color.FromHex("#EF5350");

    public static readonly Color Ema20 = Color.FromHex("#FFB74D");
    public static readonly Color Ema50 = Color.FromHex("#42A5F5");
    public static readonly Color Bollinger = Color.FromHex("#B39DDB");
    public static readonly Color Rsi = Color.FromHex("#CE93D8");
    public static readonly Color Alert = Color.FromHex("#FFD54F");

    /// <summary>Slice colours for the allocation donut; the last one is used for "Other".</summary>
    public static readonly Color[] Slices =
    [
        Color.FromHex("#F7931A"), Color.FromHex("#627EEA"), Color.FromHex("#26A69A"), Color.FromHex("#F3BA2F"),
        Color.FromHex("#AB47BC"), Color.FromHex("#29B6F6"), Color.FromHex("#EC407A"), Color.FromHex("#9CCC65"),
        Color.FromHex("#78909C"),
    ];
}
