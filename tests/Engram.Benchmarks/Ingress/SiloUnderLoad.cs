using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace Engram.Benchmarks.Ingress;

/// <summary>
/// A real Engram silo process (the Release build of <c>src/Engram.Silo</c>), configured only by
/// environment variables as an operator would, like the functional tests' <c>SiloProcess</c>.
/// </summary>
public sealed class SiloUnderLoad : IAsyncDisposable
{
    private readonly Process process;
    private readonly ConcurrentQueue<string> output = new();

    private readonly string workDirectory;

    private SiloUnderLoad(Process process, int httpPort, string workDirectory)
    {
        this.process = process;
        this.workDirectory = workDirectory;
        HttpPort = httpPort;
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int HttpPort { get; }
    public int Pid => process.Id;
    public string WebhookUrl => $"http://127.0.0.1:{HttpPort}/telegram/webhook";
    public string Output => string.Join(Environment.NewLine, output);

    public static string Assembly(string configuration = "Release") =>
        Path.Combine(LoadTools.RepositoryRoot, "src", "Engram.Silo", "bin", configuration, "net10.0", "Engram.Silo.dll");

    public static async Task<SiloUnderLoad> StartAsync(string assembly, string clusterId, IDictionary<string, string> environment)
    {
        if (!File.Exists(assembly))
            throw new FileNotFoundException("Build the silo first: dotnet build src/Engram.Silo -c Release", assembly);
        var httpPort = LoadTools.FreePort();
        var workDirectory = Directory.CreateTempSubdirectory("engram-load-silo-").FullName;
        var start = new ProcessStartInfo("dotnet", [assembly])
        {
            WorkingDirectory = workDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["Cluster__ClusterId"] = clusterId;
        start.Environment["Cluster__ServiceId"] = clusterId;
        start.Environment["Cluster__SiloPort"] = LoadTools.FreePort().ToString(CultureInfo.InvariantCulture);
        start.Environment["Cluster__GatewayPort"] = LoadTools.FreePort().ToString(CultureInfo.InvariantCulture);
        start.Environment["Http__Port"] = httpPort.ToString(CultureInfo.InvariantCulture);
        start.Environment["Http__OperatorPort"] = LoadTools.FreePort().ToString(CultureInfo.InvariantCulture);
        start.Environment["Http__DashboardEnabled"] = "false";
        start.Environment["LOG_LEVEL"] = "WARNING";
        start.Environment["telegram__webhook_url"] = $"http://127.0.0.1:{httpPort}/telegram/webhook";
        foreach (var (key, value) in environment)
            start.Environment[key] = value;

        var silo = new SiloUnderLoad(Process.Start(start)!, httpPort, workDirectory);
        await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        return silo;
    }

    private void Keep(string? line)
    {
        if (line is null)
            return;
        output.Enqueue(line);
        while (output.Count > 200)
            output.TryDequeue(out _);
    }

    private async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
                throw new InvalidOperationException($"Silo exited with code {process.ExitCode}:{Environment.NewLine}{Output}");
            try
            {
                if ((await http.GetAsync($"http://127.0.0.1:{HttpPort}/health/ready")).IsSuccessStatusCode)
                    return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(250);
        }
        throw new TimeoutException($"Silo not ready within {timeout}:{Environment.NewLine}{Output}");
    }

    /// <summary>SIGTERM and a bounded wait, then kill; the working directory (its logs) goes too.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            using (var term = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]))
                await term.WaitForExitAsync();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            try
            {
                await process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        process.Dispose();
        try { Directory.Delete(workDirectory, recursive: true); } catch (IOException) { }
    }
}
