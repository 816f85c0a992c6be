using System.Text.RegularExpressions;
using Engram.Silo.Configuration;

namespace Engram.UnitTests.Configuration;

/// <summary>
/// Docker cannot run here, so the deployment files are checked by reading them: every environment
/// variable they set must be a setting Engram knows (a typo would otherwise be ignored silently).
/// </summary>
public partial class DeploymentFilesTests
{
    private static string Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Engram.sln")))
                return dir.FullName;
        throw new InvalidOperationException("repository root not found");
    }

    public static TheoryData<string> Files => new() { "docker-compose.yml", ".env.example", "deploy/engram-bot.service", "deploy/engram.env.example", "deploy/Dockerfile" };

    [Theory]
    [MemberData(nameof(Files))]
    public void Every_variable_set_is_a_setting_engram_knows(string file)
    {
        var text = File.ReadAllText(Path.Combine(Root(), file));
        var names = file switch
        {
            "docker-compose.yml" => ComposeEnvironment(text),
            "deploy/Dockerfile" => DockerEnv().Matches(text).Select(m => m.Groups[1].Value),
            "deploy/engram-bot.service" => UnitEnvironment().Matches(text).Select(m => m.Groups[1].Value),
            _ => EnvFileLine().Matches(text).Select(m => m.Groups[1].Value),
        };
        var list = names.ToList();
        Assert.NotEmpty(list);
        Assert.All(list, name => Assert.True(KnownSettings.IsKnownEnvironmentVariable(name), $"{file} sets {name}, which Engram does not read"));
    }

    [Fact]
    public void The_check_catches_a_misspelt_setting()
    {
        Assert.False(KnownSettings.IsKnownEnvironmentVariable("Cluster__AdvertisedAdress"));
        Assert.False(KnownSettings.IsKnownEnvironmentVariable("TELEGRAM_TOKEN"));
        Assert.True(KnownSettings.IsKnownEnvironmentVariable("Cluster__AdvertisedAddress"));
        Assert.True(KnownSettings.IsKnownEnvironmentVariable("telegram__webhook_secret"));
    }

    [Fact]
    public void Compose_silos_advertise_ips_and_check_readiness()
    {
        var compose = File.ReadAllText(Path.Combine(Root(), "docker-compose.yml"));
        foreach (Match match in Regex.Matches(compose, @"Cluster__AdvertisedAddress: ""([^""]+)"""))
            Assert.True(System.Net.IPAddress.TryParse(match.Groups[1].Value, out _), match.Value);
        Assert.Contains("/health/ready", compose);
        Assert.Contains("--appendonly", compose);
        Assert.Contains("127.0.0.1:8080:8080", compose); // the Dashboard only on the host's loopback
    }

    [Fact]
    public void Secrets_are_not_committed()
    {
        Assert.False(File.Exists(Path.Combine(Root(), ".env")) && !File.ReadAllText(Path.Combine(Root(), ".gitignore")).Contains(".env"));
        foreach (var file in new[] { ".env.example", "deploy/engram.env.example" })
            Assert.Matches(@"TELEGRAM_BOT_TOKEN=\s*$", File.ReadAllLines(Path.Combine(Root(), file)).First(l => l.StartsWith("TELEGRAM_BOT_TOKEN")));
    }

    /// <summary>The keys of every <c>environment:</c> mapping in a compose file (the lines indented under it).</summary>
    private static IEnumerable<string> ComposeEnvironment(string yaml)
    {
        int? blockIndent = null;
        foreach (var line in yaml.Split('\n'))
        {
            var indent = line.Length - line.TrimStart().Length;
            if (line.TrimStart().StartsWith('#') || line.Trim().Length == 0)
                continue;
            if (blockIndent is { } block && indent > block && Regex.Match(line, @"^\s*([A-Za-z_][A-Za-z0-9_]*):") is { Success: true } key)
            {
                yield return key.Groups[1].Value;
                continue;
            }
            blockIndent = line.Trim() == "environment:" ? indent : null;
        }
    }

    [GeneratedRegex(@"^Environment=([A-Za-z_][A-Za-z0-9_]*)=", RegexOptions.Multiline)]
    private static partial Regex UnitEnvironment();

    [GeneratedRegex(@"^([A-Za-z_][A-Za-z0-9_]*)=", RegexOptions.Multiline)]
    private static partial Regex EnvFileLine();

    [GeneratedRegex(@"(?:ENV |\\\s*\n\s*)([A-Za-z_][A-Za-z0-9_]*)=", RegexOptions.Multiline)]
    private static partial Regex DockerEnv();
}
