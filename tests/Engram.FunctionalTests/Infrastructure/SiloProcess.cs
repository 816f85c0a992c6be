using System.Collections.Concurrent;
using System.Diagnostics;

namespace Engram.FunctionalTests.Infrastructure;

/// <summary>
/// A real Engram silo in its own OS process (the built <c>Engram.Silo.dll</c>), configured only
/// through environment variables as an operator would. <see cref="Kill"/> is <c>kill -9</c>.
/// </summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly ConcurrentQueue<string> output = new();

    private SiloProcess(Process process, int siloPort, int gatewayPort, int httpPort)
    {
        this.process = process;
        SiloPort = siloPort;
        GatewayPort = gatewayPort;
        HttpPort = httpPort;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int SiloPort { get; }
    public int GatewayPort { get; }
    public int HttpPort { get; }
    public int Pid => process.Id;
    public bool HasExited => process.HasExited;
    public string Output => string.Join(Environment.NewLine, output);

    /// <summary>Starts a silo and waits until <c>/health/ready</c> answers 200.</summary>
    public static async Task<SiloProcess> StartAsync(string clusterId, string workDirectory, IDictionary<string, string>? environment = null,
        int? siloPort = null, int? gatewayPort = null, int? httpPort = null, bool waitUntilReady = true)
    {
        if (!File.Exists(RepositoryPaths.SiloAssembly))
            throw new FileNotFoundException("Build the solution first; the silo was not found", RepositoryPaths.SiloAssembly);

        var silo = siloPort ?? TestPorts.Free();
        var gateway = gatewayPort ?? TestPorts.Free();
        var http = httpPort ?? TestPorts.Free();
        Directory.CreateDirectory(workDirectory);
        var start = new ProcessStartInfo("dotnet", $"\"{RepositoryPaths.SiloAssembly}\"")
        {
            WorkingDirectory = workDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["Cluster__ClusterId"] = clusterId;
        start.Environment["Cluster__ServiceId"] = clusterId;
        start.Environment["Cluster__SiloPort"] = silo.ToString();
        start.Environment["Cluster__GatewayPort"] = gateway.ToString();
        start.Environment["Http__Port"] = http.ToString();
        start.Environment["Http__OperatorPort"] = TestPorts.Free().ToString(); // Port + 4000 could be another silo's
        start.Environment["Http__DashboardEnabled"] = "false";
        start.Environment["DOTNET_gcServer"] = "0"; // several silos share 2 cores in tests
        start.Environment["LOG_LEVEL"] = "INFO";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
            start.Environment[key] = value;

        var siloProcess = new SiloProcess(Process.Start(start)!, silo, gateway, http);
        if (waitUntilReady)
            await siloProcess.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
        return siloProcess;
    }

    /// <summary>Waits for a silo expected to stop by itself (a start-up problem): its exit code, or null if it still runs after <paramref name="timeout"/>.</summary>
    public async Task<int?> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
            process.WaitForExit(); // flushes the redirected output
            return process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    public async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
                throw new InvalidOperationException($"Silo exited with code {process.ExitCode}:{Environment.NewLine}{Output}");
            try
            {
                var response = await http.GetAsync($"http://127.0.0.1:{HttpPort}/health/ready");
                if (response.IsSuccessStatusCode)
                    return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(250);
        }
        throw new TimeoutException($"Silo not ready within {timeout}:{Environment.NewLine}{Output}");
    }

    public Task<HttpResponseMessage> GetAsync(string path)
    {
        var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        return http.GetAsync($"http://127.0.0.1:{HttpPort}{path}");
    }

    /// <summary>kill -9: no goodbye to the cluster, no flush.</summary>
    public void Kill()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(10_000);
        }
    }

    /// <summary>SIGTERM, as systemd or docker stop would send, then wait for a clean exit.</summary>
    public async Task StopAsync()
    {
        if (process.HasExited)
            return;
        using (var term = Process.Start("kill", ["-TERM", process.Id.ToString()]))
            await term.WaitForExitAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
        }
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        await Task.CompletedTask;
        process.Dispose();
    }
}
