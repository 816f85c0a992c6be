using System.Buffers.Binary;
using SkiaSharp;

namespace Engram.Charts.UnitTests.Infrastructure;

/// <summary>Checks on encoded PNGs: header fields read by hand, pixels decoded with SkiaSharp.</summary>
public static class Png
{
    private static readonly byte[] Signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Width and height from the IHDR chunk, which the PNG format requires to come first.</summary>
    public static (int Width, int Height) Header(byte[] png)
    {
        Assert.True(png.Length > 33, "PNG is too short to hold a header.");
        Assert.Equal(Signature, png[..8]);
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(png, 12, 4));
        return (BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
    }

    public static SKBitmap Decode(byte[] png) =>
        SKBitmap.Decode(png) ?? throw new InvalidOperationException("SkiaSharp could not decode the PNG.");

    /// <summary>Distinct colours, coarsened to 5 bits per channel so anti-aliasing noise does not inflate the count.</summary>
    public static int DistinctColours(SKBitmap bitmap)
    {
        var seen = new HashSet<int>();
        foreach (var p in bitmap.Pixels)
        {
            seen.Add((p.Red >> 3) << 10 | (p.Green >> 3) << 5 | (p.Blue >> 3));
        }

        return seen.Count;
    }

    /// <summary>Share of pixels that differ from the top-left (background) pixel.</summary>
    public static double NonBackgroundShare(SKBitmap bitmap)
    {
        var background = bitmap.GetPixel(0, 0);
        var pixels = bitmap.Pixels;
        return pixels.Count(p => p != background) / (double)pixels.Length;
    }

    /// <summary>Count of pixels whose colour is within <paramref name="tolerance"/> per channel of <paramref name="colour"/>.</summary>
    public static int CountNear(SKBitmap bitmap, SKColor colour, int tolerance = 12) =>
        bitmap.Pixels.Count(p => Math.Abs(p.Red - colour.Red) <= tolerance
            && Math.Abs(p.Green - colour.Green) <= tolerance
            && Math.Abs(p.Blue - colour.Blue) <= tolerance);

    /// <summary>Count of text-coloured pixels (light grey, R≈G≈B above 180): zero means no label was drawn.</summary>
    public static int LightTextPixels(SKBitmap bitmap) =>
        bitmap.Pixels.Count(p => p.Red > 180 && p.Green > 180 && p.Blue > 180);
}
