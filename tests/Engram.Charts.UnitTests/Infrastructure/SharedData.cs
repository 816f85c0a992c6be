using System.Collections.Concurrent;
using Engram.Trading.MarketData;

namespace Engram.Charts.UnitTests.Infrastructure;

/// <summary>
/// The real market data in <c>&lt;repo&gt;/../shared/data</c> (or <c>ENGRAM_SHARED_DATA</c>), read in place.
/// Found by walking up from the test binaries to the folder holding Engram.sln.
/// </summary>
public static class SharedData
{
    private static readonly ConcurrentDictionary<string, Candle[]> Cache = new(StringComparer.Ordinal);
    private static readonly Lazy<string> Root = new(Locate);

    public static Candle[] Candles(string fileName) =>
        Cache.GetOrAdd(fileName, f => CsvMarketDataProvider.ParseFile(Path.Combine(Root.Value, f)));

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
            return Directory.Exists(fromEnv)
                ? fromEnv
                : throw new DirectoryNotFoundException($"ENGRAM_SHARED_DATA points to '{fromEnv}', which does not exist.");
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Engram.sln")))
            {
                var candidate = Path.Combine(dir.Parent?.FullName ?? dir.FullName, "shared", "data");
                return Directory.Exists(candidate)
                    ? candidate
                    : throw new DirectoryNotFoundException($"Expected market data at {candidate}; set ENGRAM_SHARED_DATA.");
            }
        }

        throw new DirectoryNotFoundException(
            $"Engram.sln not found above {AppContext.BaseDirectory}; set ENGRAM_SHARED_DATA to the market data directory.");
    }
}
