using BenchmarkDotNet.Attributes;
using Engram.Abstractions.Alerts;
using Engram.Abstractions.Users;
using Engram.Grains.Alerts;

namespace Engram.Benchmarks.Alerts;

/// <summary>
/// 1,000,000 armed alerts over 1,000 symbols held by one silo's price watches: the time to evaluate
/// one snapshot of 1,000 prices when nothing crosses, and when 1% of the alerts cross.
/// Memory per alert is reported by <see cref="AlertIndexMemory"/> (run with --filter '*AlertIndexMemory*').
/// </summary>
[MemoryDiagnoser]
public class AlertIndexBenchmarks
{
    private const int Symbols = 1_000;
    private const int AlertsPerSymbol = 1_000;

    private AlertIndex[] indexes = null!;
    private decimal[] calm = null!;
    private decimal[] onePercent = null!;

    [IterationSetup]
    public void Setup()
    {
        // Rebuilt before each iteration: a crossing removes alerts from the index.
        (indexes, calm, onePercent) = Build();
    }

    public static (AlertIndex[] Indexes, decimal[] Calm, decimal[] OnePercent) Build()
    {
        var random = new Random(7);
        var indexes = new AlertIndex[Symbols];
        var calm = new decimal[Symbols];
        var onePercent = new decimal[Symbols];
        for (var s = 0; s < Symbols; s++)
        {
            var index = new AlertIndex();
            // Price 1000; half the alerts above (1010..2000), half below (10..990), spread evenly.
            for (var a = 0; a < AlertsPerSymbol; a++)
            {
                var above = a % 2 == 0;
                var offset = 10m + (a / 2) * (990m / (AlertsPerSymbol / 2));
                index.Add(new AlertEntry(above ? 1000m + offset : 1000m - offset, random.NextInt64(1, 10_000_000), a, above ? AlertCondition.Above : AlertCondition.Below));
            }
            indexes[s] = index;
            calm[s] = 1000m + (decimal)(random.NextDouble() * 5); // inside the empty band: nothing crosses
            onePercent[s] = 1000m + 10m + 2 * 990m / (AlertsPerSymbol / 2) * 4.5m; // crosses 10 of the 500 above = 1% of the symbol's 1,000 alerts
        }
        return (indexes, calm, onePercent);
    }

    [Benchmark(Description = "1,000 prices, nothing crosses")]
    public int NothingCrosses()
    {
        var crossed = 0;
        for (var s = 0; s < indexes.Length; s++)
        {
            if (!indexes[s].NothingCrosses(calm[s]))
                crossed += indexes[s].TakeCrossed(calm[s]).Count;
        }
        return crossed;
    }

    [Benchmark(Description = "1,000 prices, 1% of alerts cross")]
    public int OnePercentCrosses()
    {
        var crossed = 0;
        for (var s = 0; s < indexes.Length; s++)
        {
            if (!indexes[s].NothingCrosses(onePercent[s]))
                crossed += indexes[s].TakeCrossed(onePercent[s]).Count;
        }
        return crossed;
    }
}

/// <summary>Bytes of managed heap per indexed alert, measured by building the full million.</summary>
public class AlertIndexMemory
{
    [Benchmark]
    public long BytesPerAlert()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var built = AlertIndexBenchmarks.Build();
        var after = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(built);
        var perAlert = (after - before) / 1_000_000;
        Console.WriteLine($"// Alert index: {perAlert} bytes per alert ({(after - before) / (1024 * 1024)} MiB for 1,000,000 alerts incl. prices)");
        return perAlert;
    }
}
