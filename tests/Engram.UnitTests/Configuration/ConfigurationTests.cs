using System.ComponentModel.DataAnnotations;
using Engram.Agent;
using Engram.Silo.Configuration;
using Engram.Silo.Logging;
using Microsoft.Extensions.Configuration;
using Serilog.Events;
using Serilog.Parsing;

namespace Engram.UnitTests.Configuration;

public class ConfigurationTests
{
    [Theory]
    [InlineData("127.0.0.1", null, false)]
    [InlineData("0.0.0.0", null, true)]
    [InlineData("*", null, true)]
    [InlineData("0.0.0.0", "long-password", false)]
    public void A_Dashboard_off_loopback_without_a_password_is_warned_about(string bindAddress, string? password, bool warned)
    {
        var http = new Engram.Silo.Configuration.HttpEndpointOptions { DashboardBindAddress = bindAddress, DashboardPassword = password };
        Assert.Equal(warned, http.DashboardExposure is { } warning && warning.Contains("Http:DashboardPassword", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(null, null, "127.0.0.1")]           // one machine: loopback
    [InlineData("172.28.0.11", null, "172.28.0.11")] // a container: its own address, not every interface
    [InlineData("203.0.113.7", "10.0.0.5", "10.0.0.5")] // behind NAT: advertise the public IP, listen on the local one
    public void Silo_and_gateway_ports_listen_on_one_address_never_on_every_interface(string? advertised, string? listen, string expected)
    {
        var endpoints = new Orleans.Configuration.EndpointOptions();
        Engram.Silo.Hosting.ClusterEndpoints.Apply(new EngramClusterOptions { AdvertisedAddress = advertised, ListenAddress = listen, SiloPort = 11_111, GatewayPort = 30_000 }, endpoints);
        Assert.Equal(System.Net.IPAddress.Parse(advertised ?? "127.0.0.1"), endpoints.AdvertisedIPAddress);
        Assert.Equal(new System.Net.IPEndPoint(System.Net.IPAddress.Parse(expected), 11_111), endpoints.SiloListeningEndpoint);
        Assert.Equal(new System.Net.IPEndPoint(System.Net.IPAddress.Parse(expected), 30_000), endpoints.GatewayListeningEndpoint);
    }

    [Fact]
    public void Known_environment_variables_override_both_files()
    {
        var dir = Directory.CreateTempSubdirectory();
        Directory.CreateDirectory(Path.Combine(dir.FullName, "config"));
        File.WriteAllText(Path.Combine(dir.FullName, "config", "engram_config.json"),
            """{ "lmstudio": { "host": "filehost", "port": 1111, "max_retries": 7 }, "agent": { "response_format": "raw" } }""");
        var env = new Dictionary<string, string?> { ["LMSTUDIO_HOST"] = "envhost", ["ENGRAM_MODEL"] = "qwen", ["ENGRAM_REDIS"] = "redis:6379" };

        var config = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["lmstudio:host"] = "appsettings", ["lmstudio:port"] = "1234" })
            .AddEngramConfiguration(dir.FullName, env)
            .Build();

        var lm = config.GetSection(LmStudioOptions.SectionName).Get<LmStudioOptions>()!;
        Assert.Equal("envhost", lm.Host);      // env beats the file
        Assert.Equal(1111, lm.Port);           // the file beats appsettings
        Assert.Equal("qwen", lm.Model);
        Assert.Equal(7, lm.MaxRetries);        // seed's snake_case key binds
        Assert.Equal("raw", config.GetSection("agent").Get<AgentOptions>()!.ResponseFormat);
        Assert.Equal("redis:6379", config.GetSection("Redis").Get<RedisOptions>()!.ConnectionString);
    }

    [Fact]
    public void Defaults_match_the_documented_ones()
    {
        var lm = new LmStudioOptions();
        Assert.Equal(("localhost", 1234, "glm-4.7-flash", 60, 3), (lm.Host, lm.Port, lm.Model, lm.Timeout, lm.MaxRetries));
        Assert.Equal("1h", new Engram.Trading.Tools.TradingOptions().DefaultTimeframe);
        Assert.Equal("medium", new Engram.Trading.Tools.TradingOptions().DefaultRiskTolerance);
        Assert.True(new RedisOptions().UsesEmbeddedServer);
    }

    [Theory]
    [InlineData("lmstudio:port", "70000", "Port")]
    [InlineData("lmstudio:timeout", "-5", "Timeout")]
    [InlineData("agent:response_format", "fancy", "clean, detailed, raw")]
    [InlineData("Cluster:AdvertisedAddress", "not-an-ip", "must be an IP address")]
    [InlineData("Http:DashboardPort", "5080", "must differ")]
    public void Bad_values_give_a_clear_message(string key, string value, string expected)
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [key] = value }).Build();
        object options = key.Split(':')[0] switch
        {
            "lmstudio" => config.GetSection("lmstudio").Get<LmStudioOptions>()!,
            "agent" => config.GetSection("agent").Get<AgentOptions>()!,
            "Cluster" => config.GetSection("Cluster").Get<EngramClusterOptions>()!,
            _ => config.GetSection("Http").Get<HttpEndpointOptions>()!,
        };
        var results = new List<ValidationResult>();
        Assert.False(Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true)
            && (options is not IValidatableObject v || !v.Validate(new ValidationContext(options)).Any()));
        var messages = string.Join("; ", results.Select(r => r.ErrorMessage)
            .Concat(options is IValidatableObject vo ? vo.Validate(new ValidationContext(options)).Select(r => r.ErrorMessage) : []));
        Assert.Contains(expected, messages);
    }

    [Theory]
    [InlineData("DEBUG", LogEventLevel.Debug)]
    [InlineData("info", LogEventLevel.Information)]
    [InlineData("WARNING", LogEventLevel.Warning)]
    [InlineData("CRITICAL", LogEventLevel.Fatal)]
    [InlineData(null, LogEventLevel.Information)]
    public void Log_levels_accept_the_seed_names(string? name, LogEventLevel expected) =>
        Assert.Equal(expected, EngramLogging.ParseLevel(name));

    [Fact]
    public void Unknown_log_level_is_refused_with_the_choices() =>
        Assert.Contains("DEBUG, INFO", Assert.Throws<InvalidOperationException>(() => EngramLogging.ParseLevel("chatty")).Message);
}

public class RedactingFormatterTests
{
    private const string Token = "7712345678:AAHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0";

    [Theory]
    [InlineData("GET https://api.telegram.org/bot7712345678:AAHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0/getUpdates failed")]
    [InlineData("token is 7712345678:AAHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0")]
    [InlineData("Authorization: Bearer lm-studio-secret-key-123")]
    [InlineData("configured key my-own-configured-secret")]
    public void Secrets_never_reach_the_rendered_line(string message)
    {
        var formatter = new RedactingFormatter(EngramLogging.OutputTemplate, [Token, "my-own-configured-secret"]);
        var logEvent = new LogEvent(DateTimeOffset.Now, LogEventLevel.Information,
            new HttpRequestException(message), new MessageTemplateParser().Parse(message), []);
        var output = new StringWriter();

        formatter.Format(logEvent, output);

        var line = output.ToString();
        Assert.DoesNotContain("AAHfiqksKZ8WmR2zSjiQ7", line);
        Assert.DoesNotContain("lm-studio-secret-key-123", line);
        Assert.DoesNotContain("my-own-configured-secret", line);
        Assert.Contains("***", line);
    }
}
