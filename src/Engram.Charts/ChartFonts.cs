using SkiaSharp;

namespace Engram.Charts;

/// <summary>
/// Picks the font family for every label. ScottPlot draws with SkiaSharp; the Linux native library it ships
/// (SkiaSharp.NativeAssets.Linux.NoDependencies) does not use fontconfig but scans /usr/share/fonts itself.
/// With no font there, every label is silently blank, and with only some fonts its fallback may be a serif
/// face, so the family is chosen here on purpose. On Debian, <c>fonts-dejavu-core</c> provides DejaVu Sans.
/// </summary>
internal static class ChartFonts
{
    /// <summary>
    /// The first of <paramref name="families"/> that is installed (with glyphs for digits and Latin letters),
    /// or null when none is. Skia answers an unknown family with its default face, so the name is compared.
    /// </summary>
    public static string? Resolve(IEnumerable<string> families)
    {
        foreach (var family in families)
        {
            using var typeface = SKFontManager.Default.MatchFamily(family);
            if (typeface is not null
                && string.Equals(typeface.FamilyName, family, StringComparison.OrdinalIgnoreCase)
                && typeface.GlyphCount > 0
                && typeface.ContainsGlyphs("0123456789,.%ABCXYZ"))
            {
                return typeface.FamilyName;
            }
        }

        return null;
    }
}
