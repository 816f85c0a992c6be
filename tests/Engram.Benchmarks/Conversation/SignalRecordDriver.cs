using System.Diagnostics;
using System.Globalization;
using Engram.Benchmarks.Ingress;
using Engram.Trading.MarketData;
using Engram.Trading.Tools;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Engram.Benchmarks.Conversation;

/// <summary>
/// What the live track record adds to a signal: generate_signal as the silo runs it (recorded in and read from its
/// grain) against the same service without a record, interleaved call by call on one in-process silo with Redis
/// state and the real candles, for pairs whose last signal is a BUY/SELL (recorded) and a HOLD (read only).
/// <code>
/// dotnet run -c Release --project tests/Engram.Benchmarks -- signals [--calls 300]
/// </code>
/// </summary>
public static class SignalRecordDriver
{
    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        var o = LoadTools.ParseOptions(args);
        var calls = o.Int("calls", 300);
        await using var redis = await RedisProcess.StartAsync();
        var cluster = await ConversationCluster.StartAsync(redis.ConnectionString, $"http://127.0.0.1:{LoadTools.FreePort()}/v1", new Dictionary<string, string?>());
        try
        {
            var services = ((Orleans.TestingHost.InProcessSiloHandle)cluster.Silos[0]).ServiceProvider;
            var recorded = services.GetRequiredService<TradingToolService>();
            var unrecorded = new TradingToolService(services.GetRequiredService<IMarketDataProvider>(), services.GetRequiredService<SymbolNormalizer>(),
                services.GetRequiredService<IOptions<TradingOptions>>(), services.GetRequiredService<ILogger<TradingToolService>>(), TimeProvider.System);

            var rows = new List<IReadOnlyList<string>>();
            foreach (var (pair, timeframe) in new[] { ("BTC", "1h"), ("ETH", "4h"), ("BTC", "1d"), ("ETH", "1h") })
            {
                var first = await recorded.GenerateSignalAsync(pair, timeframe);
                if (!first.IsSuccess)
                {
                    Console.WriteLine($"{pair} {timeframe}: {first.Error!.Message}");
                    continue;
                }
                for (var i = 0; i < 20; i++) // warm-up
                {
                    await recorded.GenerateSignalAsync(pair, timeframe);
                    await unrecorded.GenerateSignalAsync(pair, timeframe);
                }
                var with = new double[calls];
                var without = new double[calls];
                for (var i = 0; i < calls; i++)
                {
                    with[i] = await Time(() => recorded.GenerateSignalAsync(pair, timeframe));
                    without[i] = await Time(() => unrecorded.GenerateSignalAsync(pair, timeframe));
                }
                Array.Sort(with);
                Array.Sort(without);
                rows.Add([$"{pair} {timeframe}", first.Value!.Action.ToString().ToUpperInvariant(),
                    LoadTools.Ms(LoadTools.Percentile(without, 50)), LoadTools.Ms(LoadTools.Percentile(with, 50)),
                    LoadTools.Ms(LoadTools.Percentile(with, 50) - LoadTools.Percentile(without, 50)),
                    LoadTools.Ms(LoadTools.Percentile(without, 99)), LoadTools.Ms(LoadTools.Percentile(with, 99))]);
            }
            Console.WriteLine($"generate_signal, {calls} calls each way, interleaved (ms)");
            Console.WriteLine(LoadTools.Table(["signal", "action", "p50 without", "p50 with", "p50 added", "p99 without", "p99 with"], rows));
            return 0;
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }

    private static async Task<double> Time<T>(Func<Task<T>> call)
    {
        var started = Stopwatch.GetTimestamp();
        await call();
        return Stopwatch.GetElapsedTime(started).TotalMilliseconds;
    }
}
