using System.Collections.Concurrent;
using Engram.Trading.MarketData;

namespace Engram.Trading.UnitTests.Infrastructure;

/// <summary>
/// The real market data in <c>&lt;repo&gt;/../shared/data</c> (or <c>ENGRAM_SHARED_DATA</c>), read in place:
/// candle files are never copied into the repository.
/// </summary>
public static class SharedData
{
    private static readonly ConcurrentDictionary<string, Candle[]> Cache = new(StringComparer.Ordinal);
    private static readonly Lazy<string> Root = new(Locate);

    public static string Directory => Root.Value;

    public static string File(string relativePath) => Path.Combine(Directory, relativePath);

    /// <summary>All candles of a CSV such as <c>binance_BTCUSDT_1h.csv</c>, parsed once per test run.</summary>
    public static Candle[] Candles(string fileName) =>
        Cache.GetOrAdd(fileName, f => CsvMarketDataProvider.ParseFile(File(f)));

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
            return System.IO.Directory.Exists(fromEnv)
                ? fromEnv
                : throw new DirectoryNotFoundException($"ENGRAM_SHARED_DATA points to '{fromEnv}', which does not exist.");
        }

        // bin/Debug/net10.0 → … → <repo> → its parent, which holds shared/data beside the repo.
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "data");
            if (System.IO.File.Exists(Path.Combine(candidate, "binance_BTCUSDT_1h.csv")))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException(
            $"shared/data not found above {AppContext.BaseDirectory}; set ENGRAM_SHARED_DATA to the market data directory.");
    }
}
