using System.Diagnostics;
using Engram.FunctionalTests.Infrastructure;
using Xunit.Abstractions;

namespace Engram.FunctionalTests.Cluster;

/// <summary>
/// README's commands as a newcomer types them, from the repository root of a fresh clone with ../shared beside it:
/// the run command, the offline terminal chat, and the run command with a bad setting.
/// </summary>
public sealed class ReadmeCommandsTests(ITestOutputHelper output) : IDisposable
{
    private readonly string scratch = Directory.CreateTempSubdirectory("engram-readme-").FullName;
    private readonly int httpPort = TestPorts.Free();

    public void Dispose()
    {
        try { Directory.Delete(scratch, recursive: true); } catch (IOException) { }
    }

    private static string[] Readme() => File.ReadAllLines(Path.Combine(RepositoryPaths.Root, "README.md"));

    /// <summary>The command inside README's <c>&lt;!-- run-command --&gt;</c> block.</summary>
    private static string RunCommand()
    {
        var lines = Readme();
        var start = Array.FindIndex(lines, l => l.Trim() == "<!-- run-command -->");
        Assert.True(start >= 0, "README has no run-command block");
        return lines.Skip(start + 1).First(l => l.StartsWith("dotnet ", StringComparison.Ordinal));
    }

    private Process Start(string command, Dictionary<string, string>? settings = null)
    {
        var start = new ProcessStartInfo("bash", ["-c", command])
        {
            WorkingDirectory = RepositoryPaths.Root,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // Not part of the commands: keep these runs off the ports, folders and LLM a developer's own silo may use.
        start.Environment["Redis__EmbeddedPort"] = TestPorts.Free().ToString();
        start.Environment["Redis__DataDirectory"] = Path.Combine(scratch, "data");
        start.Environment["Logging__Directory"] = Path.Combine(scratch, "logs");
        start.Environment["Http__Port"] = httpPort.ToString();
        start.Environment["Http__OperatorPort"] = TestPorts.Free().ToString();
        start.Environment["Http__DashboardPort"] = TestPorts.Free().ToString();
        start.Environment["Cluster__SiloPort"] = TestPorts.Free().ToString();
        start.Environment["Cluster__GatewayPort"] = TestPorts.Free().ToString();
        start.Environment["ENGRAM_LLM_ENDPOINT"] = $"http://127.0.0.1:{TestPorts.Free()}/v1";
        start.Environment["lmstudio__max_retries"] = "0";
        start.Environment["DOTNET_gcServer"] = "0";
        foreach (var (key, value) in settings ?? [])
            start.Environment[key] = value;
        return Process.Start(start)!;
    }

    private static void AssertNoStackTrace(string text) =>
        Assert.DoesNotContain(text.Split('\n'), line => line.StartsWith("   at ", StringComparison.Ordinal) || line.Contains("Unhandled exception", StringComparison.Ordinal));

    [Fact]
    public async Task The_run_command_starts_a_ready_silo_with_nothing_configured()
    {
        using var silo = Start(RunCommand());
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        silo.OutputDataReceived += (_, e) => { if (e.Data is not null) log.Enqueue(e.Data); };
        silo.ErrorDataReceived += (_, e) => { if (e.Data is not null) log.Enqueue(e.Data); };
        silo.BeginOutputReadLine();
        silo.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            var deadline = DateTime.UtcNow.AddMinutes(3);
            var ready = false;
            while (!ready && DateTime.UtcNow < deadline && !silo.HasExited)
            {
                try { ready = (await http.GetAsync($"http://127.0.0.1:{httpPort}/health/ready")).IsSuccessStatusCode; }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException) { }
                if (!ready)
                    await Task.Delay(500);
            }
            var text = string.Join('\n', log);
            output.WriteLine(text);
            Assert.True(ready, "the silo never became ready");
            Assert.DoesNotContain(" - ERROR - ", text);
            AssertNoStackTrace(text);
        }
        finally
        {
            silo.Kill(entireProcessTree: true);
            await silo.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task The_run_command_with_a_bad_setting_says_which_in_one_line_and_exits_2()
    {
        using var silo = Start(RunCommand(), new() { ["Users__CommandsPerMinute"] = "0" });
        var stdout = silo.StandardOutput.ReadToEndAsync();
        var stderr = silo.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await silo.WaitForExitAsync(timeout.Token);
        var text = await stdout + await stderr;
        output.WriteLine(text);
        Assert.Equal(2, silo.ExitCode);
        Assert.Single(text.Split('\n'), line => line.Contains("Users:CommandsPerMinute (Users__CommandsPerMinute) = '0': must be between 1 and 10000", StringComparison.Ordinal));
        AssertNoStackTrace(text);
    }

    [Fact]
    public async Task The_offline_terminal_chat_command_works_as_typed_from_the_repository_root()
    {
        var command = Assert.Single(Readme(), line => line.StartsWith("MarketData__Provider=Csv ", StringComparison.Ordinal) && line.EndsWith("-- chat", StringComparison.Ordinal));
        Assert.Contains("MarketData__CsvDirectory=../shared/data", command); // relative to where it is typed
        Assert.True(Directory.Exists(Path.Combine(RepositoryPaths.Root, "..", "shared", "data")), "../shared/data must be beside the clone");

        using var chat = Start(command);
        var stdout = chat.StandardOutput.ReadToEndAsync();
        var stderr = chat.StandardError.ReadToEndAsync();
        await chat.StandardInput.WriteLineAsync("/help");
        await chat.StandardInput.WriteLineAsync("/alert BTC above 18000");
        await chat.StandardInput.WriteLineAsync("/analyze BTC 4h");
        await chat.StandardInput.WriteLineAsync("/quit");
        chat.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await chat.WaitForExitAsync(timeout.Token);
        var text = await stdout + await stderr;
        output.WriteLine(text);

        Assert.Equal(0, chat.ExitCode);
        Assert.Contains("Engram terminal chat", text);
        Assert.Contains("Commands:", text); // /help
        Assert.DoesNotContain("must name an existing directory", text);
        // One world: the price an alert is checked against is the last close of the candles the analysis reads.
        Assert.Contains("BTC/USDT is already above 18,000: 19,093.63", text);
        Assert.DoesNotContain("No 4h data", text);
        Assert.Contains("BTCUSDT 4h", text); // the analysis ran on 4h candles derived from the 1h file
        AssertNoStackTrace(text);
    }

    [Fact]
    public async Task The_terminal_chat_prints_a_streamed_answer_as_the_words_come_and_only_once()
    {
        const string answer = "Bitcoin closed at 19,093.63 on the 1h chart; the trend is down, momentum is mixed and the bands are narrow for now.";
        await using var llm = await Engram.TestServers.OpenAiServer.StartAsync();
        llm.Handler = request => request.ToolResults.Any()
            ? Engram.TestServers.ScriptedReply.Text(answer).Trickling(TimeSpan.FromMilliseconds(100), 8)
            : Engram.TestServers.ScriptedReply.ToolCall("analyze_market", new { pair = "BTC" });
        var command = Assert.Single(Readme(), line => line.StartsWith("MarketData__Provider=Csv ", StringComparison.Ordinal) && line.EndsWith("-- chat", StringComparison.Ordinal));
        using var chat = Start(command, new() { ["ENGRAM_LLM_ENDPOINT"] = llm.BaseUrl + "/v1" });

        // Read the output as it comes, with when each piece arrived.
        var pieces = new List<(DateTimeOffset At, string Text)>();
        var reading = Task.Run(async () =>
        {
            var buffer = new char[256];
            int read;
            while ((read = await chat.StandardOutput.ReadAsync(buffer)) > 0)
            {
                lock (pieces)
                    pieces.Add((DateTimeOffset.UtcNow, new string(buffer, 0, read)));
            }
        });
        var stderr = chat.StandardError.ReadToEndAsync();
        await chat.StandardInput.WriteLineAsync("how is bitcoin doing?");
        await chat.StandardInput.WriteLineAsync("/quit");
        chat.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await chat.WaitForExitAsync(timeout.Token);
        await reading;
        var text = string.Concat(pieces.Select(p => p.Text));
        output.WriteLine(text + await stderr);

        Assert.Equal(0, chat.ExitCode);
        Assert.Single(text.Split(answer)[1..]); // the whole answer, once
        var firstWords = pieces.First(p => string.Concat(pieces.TakeWhile(q => q != p).Append(p).Select(q => q.Text)).Contains("Bitcoin closed", StringComparison.Ordinal)).At;
        var lastWords = pieces.First(p => string.Concat(pieces.TakeWhile(q => q != p).Append(p).Select(q => q.Text)).Contains("for now.", StringComparison.Ordinal)).At;
        Assert.True(lastWords - firstWords >= TimeSpan.FromSeconds(1), $"the words came over {(lastWords - firstWords).TotalMilliseconds:0} ms");
    }
}
