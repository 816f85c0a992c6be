using System.Diagnostics;

namespace Engram.ChaosTests.Infrastructure;

/// <summary>
/// A real Engram silo in its own OS process (the built <c>Engram.Silo.dll</c>), configured only
/// through environment variables as an operator would. Its console output goes to a log file.
/// <see cref="Kill"/> is <c>kill -9</c>: no goodbye to the cluster, no flush.
/// </summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly StreamWriter log;
    private readonly Lock logGate = new();

    private SiloProcess(string name, Process process, int httpPort, string logFile)
    {
        Name = name;
        this.process = process;
        HttpPort = httpPort;
        LogFile = logFile;
        log = new StreamWriter(logFile, append: false) { AutoFlush = true };
        process.OutputDataReceived += (_, e) => Write(e.Data);
        process.ErrorDataReceived += (_, e) => Write(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Name { get; }
    public int HttpPort { get; }
    public string LogFile { get; }
    public int Pid => process.Id;
    public bool HasExited => process.HasExited;
    public bool WasKilled { get; private set; }
    public int? ExitCode => process.HasExited ? process.ExitCode : null;

    /// <summary>Starts a silo on fresh ports and waits until <c>/health/ready</c> answers 200.</summary>
    public static async Task<SiloProcess> StartAsync(string name, string workDirectory, string logFile, IReadOnlyDictionary<string, string> environment, TimeSpan readyWithin)
    {
        if (!File.Exists(ChaosPaths.SiloAssembly))
            throw new FileNotFoundException("Build src/Engram.Silo first; the silo was not found", ChaosPaths.SiloAssembly);
        var http = ChaosPaths.FreePort();
        Directory.CreateDirectory(workDirectory);
        var start = new ProcessStartInfo("dotnet", $"\"{ChaosPaths.SiloAssembly}\"")
        {
            WorkingDirectory = workDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["Cluster__SiloPort"] = ChaosPaths.FreePort().ToString();
        start.Environment["Cluster__GatewayPort"] = ChaosPaths.FreePort().ToString();
        start.Environment["Http__Port"] = http.ToString();
        start.Environment["Http__OperatorPort"] = ChaosPaths.FreePort().ToString(); // Port + 4000 could be another silo's
        start.Environment["Http__DashboardEnabled"] = "false";
        // Several silos share 2 cores: workstation GC keeps each one's heap and threads small.
        start.Environment["DOTNET_gcServer"] = "0";
        foreach (var (key, value) in environment)
            start.Environment[key] = value;

        var silo = new SiloProcess(name, Process.Start(start)!, http, logFile);
        await silo.WaitUntilReadyAsync(readyWithin);
        return silo;
    }

    private async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
                throw new InvalidOperationException($"Silo {Name} exited with code {process.ExitCode}; see {LogFile}");
            try
            {
                using var response = await http.GetAsync($"http://127.0.0.1:{HttpPort}/health/ready");
                if (response.IsSuccessStatusCode)
                    return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(250);
        }
        throw new TimeoutException($"Silo {Name} not ready within {timeout}; see {LogFile}");
    }

    /// <summary>SIGKILL.</summary>
    public void Kill()
    {
        WasKilled = true;
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(10_000);
        }
    }

    private void Write(string? line)
    {
        if (line is null)
            return;
        lock (logGate)
        {
            try { log.WriteLine(line); } catch (ObjectDisposedException) { }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        process.Dispose();
        lock (logGate)
            log.Dispose();
    }
}
