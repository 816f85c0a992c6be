using System.Diagnostics;
using Engram.FunctionalTests.Infrastructure;
using Xunit.Abstractions;

namespace Engram.FunctionalTests.Cluster;

/// <summary>README's terminal-chat command, as typed from the repository root of a fresh clone, with ../shared beside it.</summary>
public sealed class ReadmeCommandsTests(ITestOutputHelper output)
{
    [Fact]
    public async Task The_offline_terminal_chat_command_works_as_typed_from_the_repository_root()
    {
        var readme = await File.ReadAllLinesAsync(Path.Combine(RepositoryPaths.Root, "README.md"));
        var command = Assert.Single(readme, line => line.StartsWith("MarketData__Provider=Csv ", StringComparison.Ordinal) && line.EndsWith("-- chat", StringComparison.Ordinal));
        Assert.Contains("MarketData__CsvDirectory=../shared/data", command); // relative to where it is typed
        Assert.True(Directory.Exists(Path.Combine(RepositoryPaths.Root, "..", "shared", "data")), "../shared/data must be beside the clone");

        var scratch = Directory.CreateTempSubdirectory("engram-readme-").FullName;
        var start = new ProcessStartInfo("bash", ["-c", command])
        {
            WorkingDirectory = RepositoryPaths.Root,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // Not part of the command: keep this run off the ports, folders and LLM a developer's own silo may use.
        start.Environment["Redis__EmbeddedPort"] = TestPorts.Free().ToString();
        start.Environment["Redis__DataDirectory"] = Path.Combine(scratch, "data");
        start.Environment["Logging__Directory"] = Path.Combine(scratch, "logs");
        start.Environment["Http__Port"] = TestPorts.Free().ToString();
        start.Environment["Http__OperatorPort"] = TestPorts.Free().ToString();
        start.Environment["Http__DashboardPort"] = TestPorts.Free().ToString();
        start.Environment["Cluster__SiloPort"] = TestPorts.Free().ToString();
        start.Environment["Cluster__GatewayPort"] = TestPorts.Free().ToString();
        start.Environment["ENGRAM_LLM_ENDPOINT"] = $"http://127.0.0.1:{TestPorts.Free()}/v1";
        start.Environment["lmstudio__max_retries"] = "0";
        start.Environment["DOTNET_gcServer"] = "0";

        using var chat = Process.Start(start)!;
        var stdout = chat.StandardOutput.ReadToEndAsync();
        var stderr = chat.StandardError.ReadToEndAsync();
        await chat.StandardInput.WriteLineAsync("/alert BTC above 18000");
        await chat.StandardInput.WriteLineAsync("/analyze BTC 4h");
        await chat.StandardInput.WriteLineAsync("/quit");
        chat.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await chat.WaitForExitAsync(timeout.Token);
        var text = await stdout + await stderr;
        output.WriteLine(text);
        try { Directory.Delete(scratch, recursive: true); } catch (IOException) { }

        Assert.Equal(0, chat.ExitCode);
        Assert.Contains("Engram terminal chat", text);
        Assert.DoesNotContain("must name an existing directory", text);
        // One world: the price an alert is checked against is the last close of the candles the analysis reads.
        Assert.Contains("BTC/USDT is already above 18,000: 19,093.63", text);
        Assert.DoesNotContain("No 4h data", text);
        Assert.Contains("BTCUSDT 4h", text); // the analysis ran on 4h candles derived from the 1h file
    }
}
