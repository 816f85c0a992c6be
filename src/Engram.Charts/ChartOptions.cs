namespace Engram.Charts;

/// <summary>Configuration section <c>Charts</c>.</summary>
public sealed class ChartOptions
{
    public const string SectionName = "Charts";

    /// <summary>
    /// Fewest candles a price chart accepts. 30 gives RSI 14 and the 20-period bands something to show;
    /// EMA 50 is simply drawn from where it is defined.
    /// </summary>
    public int MinCandles { get; set; } = 30;

    /// <summary>Font families tried in order; the first one installed is used for every label.</summary>
    public List<string> FontFamilies { get; set; } = ["DejaVu Sans", "Liberation Sans", "Noto Sans", "Arial"];

    /// <summary>Rendered images kept by <see cref="CachedChartRenderer"/> (least recently used is dropped first).</summary>
    public int CacheCapacity { get; set; } = 64;

    internal IEnumerable<string> Validate()
    {
        if (MinCandles < 2)
        {
            yield return "Charts:MinCandles must be at least 2.";
        }

        if (CacheCapacity < 1)
        {
            yield return "Charts:CacheCapacity must be at least 1.";
        }

        if (FontFamilies.Count == 0)
        {
            yield return "Charts:FontFamilies must name at least one font family.";
        }
    }
}
