using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Engram.Benchmarks.Ingress;

/// <summary>
/// Helpers shared by the timed load drivers (<c>webhook</c>, <c>conversation</c>): options, paths,
/// ports, latency percentiles, CPU time per process and markdown tables. Not BenchmarkDotNet:
/// these drivers measure a running system over a fixed duration.
/// </summary>
public static class LoadTools
{
    /// <summary><c>--name value</c> pairs; a flag without a value is "true".</summary>
    public static Dictionary<string, string> ParseOptions(IReadOnlyList<string> args)
    {
        var options = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < args.Count; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
                throw new ArgumentException($"Unexpected argument '{args[i]}'; options look like --name value.");
            var name = args[i][2..];
            options[name] = i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : "true";
        }
        return options;
    }

    public static int Int(this Dictionary<string, string> options, string name, int fallback) =>
        options.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

    public static string Str(this Dictionary<string, string> options, string name, string fallback) =>
        options.TryGetValue(name, out var v) ? v : fallback;

    /// <summary>A loopback port that was free a moment ago (the OS picks it).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The repository root: the first parent of the running binaries that holds Engram.sln.</summary>
    public static string RepositoryRoot { get; } = FindRoot();

    /// <summary>The real candles beside the repository (<c>../shared/data</c>), or <c>ENGRAM_SHARED_DATA</c>.</summary>
    public static string SharedData =>
        Environment.GetEnvironmentVariable("ENGRAM_SHARED_DATA") is { Length: > 0 } configured ? configured
        : Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared", "data")) is var beside && Directory.Exists(beside) ? beside
        : throw new DirectoryNotFoundException($"shared/data not found beside {RepositoryRoot}; set ENGRAM_SHARED_DATA");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Engram.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException("Engram.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Nearest-rank percentile of an ascending array.</summary>
    public static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];

    public static string Ms(double value) => double.IsNaN(value) ? "–" : value.ToString(value < 10 ? "0.00" : "0.0", CultureInfo.InvariantCulture);

    public static string Table(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        var text = new StringBuilder();
        text.Append("| ").Append(string.Join(" | ", header)).Append(" |\n");
        text.Append('|').Append(string.Concat(header.Select(_ => "---|"))).Append('\n');
        foreach (var row in rows)
            text.Append("| ").Append(string.Join(" | ", row)).Append(" |\n");
        return text.ToString();
    }
}

/// <summary>CPU time (user + system) of processes from /proc, to see where a run's CPU went.</summary>
public static class CpuTime
{
    private static readonly double TicksPerSecond = 100; // USER_HZ on Linux

    /// <summary>CPU time of a process in ms, or NaN when it is gone.</summary>
    public static double ProcessMs(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // The command name may contain spaces; fields after it are fixed.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond * 1000;
        }
        catch (IOException)
        {
            return double.NaN;
        }
    }

    /// <summary>(busy, total) CPU time of the whole machine in ms, all cores.</summary>
    public static (double Busy, double Total) MachineMs()
    {
        var cpu = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        var idle = cpu[3] + cpu[4];
        var total = cpu.Take(8).Sum();
        return ((total - idle) / TicksPerSecond * 1000, total / TicksPerSecond * 1000);
    }

    public static double CurrentProcessMs() => Process.GetCurrentProcess().TotalProcessorTime.TotalMilliseconds;
}
