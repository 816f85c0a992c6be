using System.Diagnostics;
using Engram.Charts.UnitTests.Infrastructure;
using Engram.Trading.MarketData;
using SkiaSharp;
using Xunit.Abstractions;

namespace Engram.Charts.UnitTests;

public class TmpTiming(ITestOutputHelper output)
{
    [Fact]
    public void Time()
    {
        var r = new ChartRenderer();
        var req = new PriceChartRequest("BTCUSDT", Timeframe.H1, SharedData.LastCandles("binance_BTCUSDT_1h.csv", 150));
        byte[] png = r.RenderPriceChart(req).Png!;
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < 10; i++) png = r.RenderPriceChart(req).Png!;
        output.WriteLine($"full {sw.ElapsedMilliseconds / 10.0} ms, {png.Length} bytes");
        using var bmp = SKBitmap.Decode(png);
        using var pix = bmp.PeekPixels();
        foreach (var (f, z) in new[] { (SKPngEncoderFilterFlags.AllFilters, 4), (SKPngEncoderFilterFlags.AllFilters, 1), (SKPngEncoderFilterFlags.Sub, 4), (SKPngEncoderFilterFlags.Sub, 1), (SKPngEncoderFilterFlags.Up, 2), (SKPngEncoderFilterFlags.NoFilters, 1), (SKPngEncoderFilterFlags.Paeth, 3) })
        {
            sw.Restart();
            int len = 0;
            for (var i = 0; i < 10; i++) { using var d = pix.Encode(new SKPngEncoderOptions(f, z)); len = (int)d.Size; }
            output.WriteLine($"{f} z{z}: {sw.ElapsedMilliseconds / 10.0} ms, {len} bytes");
        }
    }
}
