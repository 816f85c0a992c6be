using System.Net;
using System.Net.Sockets;

namespace Engram.ChaosTests.Infrastructure;

/// <summary>Where things are: the repository, the built silo, the real market data, and free loopback ports.</summary>
public static class ChaosPaths
{
    /// <summary>The first parent of the test binaries that holds Engram.sln.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>Debug or Release, whichever the tests were built with (the silo is built alongside).</summary>
    public static string BuildConfiguration { get; } =
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";

    /// <summary>The built silo beside the tests, or <c>ENGRAM_CHAOS_SILO</c> (a path to another build of Engram.Silo.dll).</summary>
    public static string SiloAssembly =>
        Environment.GetEnvironmentVariable("ENGRAM_CHAOS_SILO") is { Length: > 0 } other ? Path.GetFullPath(other)
        : Path.Combine(Root, "src", "Engram.Silo", "bin", BuildConfiguration, "net10.0", "Engram.Silo.dll");

    /// <summary>The real candles beside the repository (<c>../shared/data</c>), or <c>ENGRAM_SHARED_DATA</c>.</summary>
    public static string SharedData { get; } =
        Environment.GetEnvironmentVariable("ENGRAM_SHARED_DATA") is { Length: > 0 } configured ? configured
        : Path.GetFullPath(Path.Combine(Root, "..", "shared", "data")) is var beside && Directory.Exists(beside) ? beside
        : throw new DirectoryNotFoundException($"shared/data not found beside {Root}; set ENGRAM_SHARED_DATA");

    /// <summary>Summary and logs of a run: <c>TestResults/</c> under the directory the tests run in.</summary>
    public static string Results { get; } = Directory.CreateDirectory(Path.Combine(Directory.GetCurrentDirectory(), "TestResults")).FullName;

    /// <summary>A loopback port that was free a moment ago (the OS picks it).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Engram.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException("Engram.sln not found above " + AppContext.BaseDirectory);
    }
}
