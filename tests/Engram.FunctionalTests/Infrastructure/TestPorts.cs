using System.Net;
using System.Net.Sockets;

namespace Engram.FunctionalTests.Infrastructure;

public static class TestPorts
{
    /// <summary>A loopback port that was free a moment ago (the OS picks it).</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

public static class RepositoryPaths
{
    /// <summary>The repository root: the first parent of the test binaries that holds Engram.sln.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>Debug or Release, whichever the tests were built with (the silo is built alongside).</summary>
    public static string BuildConfiguration { get; } =
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";

    /// <summary>The real candles beside the repository (<c>../shared/data</c>), or <c>ENGRAM_SHARED_DATA</c>.</summary>
    public static string SharedData { get; } =
        Environment.GetEnvironmentVariable("ENGRAM_SHARED_DATA") is { Length: > 0 } configured ? configured
        : Path.GetFullPath(Path.Combine(Root, "..", "shared", "data")) is var beside && Directory.Exists(beside) ? beside
        : throw new DirectoryNotFoundException($"shared/data not found beside {Root}; set ENGRAM_SHARED_DATA");

    public static string SiloAssembly => Path.Combine(Root, "src", "Engram.Silo", "bin", BuildConfiguration, "net10.0", "Engram.Silo.dll");

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
