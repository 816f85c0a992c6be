using Engram.Trading.MarketData;

namespace Engram.Benchmarks.Infrastructure;

/// <summary>
/// Real candles from <c>&lt;repo&gt;/../shared/data</c> (or <c>ENGRAM_SHARED_DATA</c>). BenchmarkDotNet runs each
/// job from a generated folder under bin/, so the search walks up from there.
/// </summary>
public static class BenchmarkData
{
    private static readonly Lazy<string> Root = new(Locate);

    public static Candle[] Candles(string fileName) => CsvMarketDataProvider.ParseFile(Path.Combine(Root.Value, fileName));

    public static Candle[] LastCandles(string fileName, int count)
    {
        var all = Candles(fileName);
        return all[^Math.Min(count, all.Length)..];
    }

    private static string Locate()
    {
        var fromEnv = Environment.GetEnvironmentVariable("ENGRAM_SHARED_DATA");
        if (!string.IsNullOrWhiteSpace(fromEnv))
        {
            return fromEnv;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "data");
            if (File.Exists(Path.Combine(candidate, "binance_BTCUSDT_1h.csv")))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException($"shared/data not found above {AppContext.BaseDirectory}; set ENGRAM_SHARED_DATA.");
    }
}
