using System.Diagnostics;
using Engram.Abstractions.Users;
using Engram.FunctionalTests.Infrastructure;
using Xunit.Abstractions;

namespace Engram.FunctionalTests.Cluster;

/// <summary>Real silo processes, clustered through a real Redis, started and killed as an operator would.</summary>
[Collection(RedisCollection.Name)]
public sealed class SiloProcessTests(RedisServer redis, ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string clusterId = "proc-" + Guid.NewGuid().ToString("N")[..8];
    private readonly string workDirectory = Directory.CreateTempSubdirectory("engram-silo-").FullName;
    private readonly List<SiloProcess> silos = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var silo in silos)
            await silo.DisposeAsync();
        try { Directory.Delete(workDirectory, recursive: true); } catch (IOException) { }
    }

    private async Task<SiloProcess> StartSiloAsync(string name, Dictionary<string, string>? settings = null)
    {
        var environment = new Dictionary<string, string> { ["ENGRAM_REDIS"] = redis.ConnectionString };
        foreach (var (key, value) in settings ?? [])
            environment[key] = value;
        var silo = await SiloProcess.StartAsync(clusterId, Path.Combine(workDirectory, name), environment);
        silos.Add(silo);
        return silo;
    }

    [Fact]
    public async Task With_a_cluster_certificate_silos_talk_mutual_TLS_and_a_client_without_it_is_refused()
    {
        // A self-signed certificate, as an operator would make with openssl (serverAuth and clientAuth: each end presents it).
        using var key = System.Security.Cryptography.RSA.Create(2048);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=engram-cluster", key,
            System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new System.Security.Cryptography.X509Certificates.X509EnhancedKeyUsageExtension(
            [new System.Security.Cryptography.Oid("1.3.6.1.5.5.7.3.1"), new System.Security.Cryptography.Oid("1.3.6.1.5.5.7.3.2")], critical: false));
        using var made = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        var pfx = Path.Combine(workDirectory, "cluster.pfx");
        await File.WriteAllBytesAsync(pfx, made.Export(System.Security.Cryptography.X509Certificates.X509ContentType.Pfx, "pfx-pass"));
        var tls = new Dictionary<string, string> { ["Cluster__TlsCertificatePath"] = pfx, ["Cluster__TlsCertificatePassword"] = "pfx-pass" };
        var first = await StartSiloAsync("a", tls);
        var second = await StartSiloAsync("b", tls);
        using var certificate = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadPkcs12FromFile(pfx, "pfx-pass");

        await using (var client = await EngramClient.ConnectAsync(redis.ConnectionString, clusterId, certificate))
        {
            // Both silos joined each other over TLS: the cluster sees two active hosts, and grains answer on either.
            var management = client.Cluster.GetGrain<IManagementGrain>(0);
            Assert.Equal(2, (await management.GetHosts(onlyActive: true)).Count);
            for (var id = 1; id <= 6; id++)
                Assert.True((await client.Cluster.GetGrain<IUserGrain>(90_000 + id).BuyAsync("SOLUSDT", 1m, 150m)).Ok);
        }

        // No certificate, no cluster: the gateway does not take a plain connection.
        using var refused = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var plain = await EngramClient.ConnectAsync(redis.ConnectionString, clusterId).WaitAsync(refused.Token);
            await plain.Cluster.GetGrain<IUserGrain>(90_001).GetPortfolioAsync().WaitAsync(refused.Token);
        });
        // The password is a secret: it is in no log line.
        var logs = Directory.EnumerateFiles(workDirectory, "*.log", SearchOption.AllDirectories).Select(File.ReadAllText).ToList();
        Assert.All(logs.Append(first.Output).Append(second.Output), text => Assert.DoesNotContain("pfx-pass", text));
    }

    [Fact]
    public async Task User_data_survives_a_silo_restart()
    {
        var silo = await StartSiloAsync("a");
        await using (var client = await EngramClient.ConnectAsync(redis.ConnectionString, clusterId))
        {
            var user = client.Cluster.GetGrain<IUserGrain>(42);
            Assert.True((await user.BuyAsync("SOLUSDT", 10m, 150m)).Ok);
            Assert.True((await user.AddAlertAsync(new AlertRequest("SOLUSDT", AlertCondition.Above, 200m, 150m))).Ok);
        }

        await silo.StopAsync();
        Assert.True(silo.HasExited);
        await StartSiloAsync("b");

        await using var again = await EngramClient.ConnectAsync(redis.ConnectionString, clusterId);
        var reloaded = again.Cluster.GetGrain<IUserGrain>(42);
        Assert.Equal(10m, Assert.Single((await reloaded.GetPortfolioAsync()).Positions).Amount);
        Assert.Equal(200m, Assert.Single(await reloaded.GetAlertsAsync()).Threshold);
    }

    [Fact]
    public async Task Killing_the_silo_that_hosts_a_user_moves_the_user_to_the_other_within_seconds()
    {
        var first = await StartSiloAsync("a");
        var second = await StartSiloAsync("b");
        await using var client = await EngramClient.ConnectAsync(redis.ConnectionString, clusterId);

        var management = client.Cluster.GetGrain<IManagementGrain>(0);
        Assert.Equal(2, (await management.GetHosts(onlyActive: true)).Count);

        var user = client.Cluster.GetGrain<IUserGrain>(7);
        Assert.True((await user.BuyAsync("BTCUSDT", 0.25m, 80_000m)).Ok);
        var host = await management.GetActivationAddress((IAddressable)user);
        Assert.NotNull(host);
        var victim = host!.Endpoint.Port == first.SiloPort ? first : second;
        var survivor = victim == first ? second : first;

        var clock = Stopwatch.StartNew();
        victim.Kill();
        PortfolioView? portfolio = null;
        while (portfolio is null && clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            try
            {
                portfolio = await user.GetPortfolioAsync();
            }
            catch (Exception ex) when (ex is TimeoutException or SiloUnavailableException or OrleansException or OrleansMessageRejectionException)
            {
                await Task.Delay(200);
            }
        }
        clock.Stop();

        Assert.NotNull(portfolio);
        Assert.Equal(0.25m, Assert.Single(portfolio!.Positions).Amount);
        var newHost = await management.GetActivationAddress((IAddressable)user);
        Assert.Equal(survivor.SiloPort, newHost!.Endpoint.Port);
        output.WriteLine($"kill -9 to the user's data served by the surviving silo: {clock.Elapsed.TotalSeconds:F1} s");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"failover took {clock.Elapsed}");
    }
}

/// <summary>The zero-configuration default: a silo with no ENGRAM_REDIS keeps its data in its embedded Garnet.</summary>
public sealed class EmbeddedStoreTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string workDirectory = Directory.CreateTempSubdirectory("engram-embedded-").FullName;

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        try { Directory.Delete(workDirectory, recursive: true); } catch (IOException) { }
        return Task.CompletedTask;
    }

    [Theory]
    [InlineData(false)] // SIGTERM: a clean stop
    [InlineData(true)]  // kill -9: nothing flushed on the way out
    public async Task Data_survives_a_restart_of_the_process(bool kill)
    {
        var port = TestPorts.Free();
        var environment = new Dictionary<string, string>
        {
            ["Redis__EmbeddedPort"] = port.ToString(),
            ["Redis__DataDirectory"] = Path.Combine(workDirectory, "store"),
        };
        var clusterId = "embedded-" + Guid.NewGuid().ToString("N")[..8];
        var redis = $"127.0.0.1:{port}";
        // A restarted silo comes back on its configured ports, as in production; Orleans then
        // knows the old entry in the membership table is this silo's previous life.
        var (siloPort, gatewayPort) = (TestPorts.Free(), TestPorts.Free());

        await using (var silo = await SiloProcess.StartAsync(clusterId, workDirectory, environment, siloPort, gatewayPort))
        {
            await using var client = await EngramClient.ConnectAsync(redis, clusterId);
            var user = client.Cluster.GetGrain<IUserGrain>(99);
            Assert.True((await user.BuyAsync("ETHUSDT", 3m, 2500m)).Ok);
            Assert.True((await user.SellAsync("ETHUSDT", 1m, 3000m)).Ok);
            if (kill) silo.Kill(); else await silo.StopAsync();
            Assert.True(silo.HasExited);
        }
        Assert.True(Directory.EnumerateFileSystemEntries(Path.Combine(workDirectory, "store")).Any());

        await using (var silo = await SiloProcess.StartAsync(clusterId, workDirectory, environment, siloPort, gatewayPort))
        {
            await using var client = await EngramClient.ConnectAsync(redis, clusterId);
            // After kill -9 the directory holds the dead silo's ranges under a lease until it is sure
            // that silo stopped (no second activation): calls wait, and may time out, meanwhile.
            var portfolio = await RetryAsync(() => client.Cluster.GetGrain<IUserGrain>(99).GetPortfolioAsync(), TimeSpan.FromSeconds(60));
            Assert.Equal(2m, Assert.Single(portfolio.Positions).Amount);
            Assert.Equal(500m, portfolio.RealizedPnl);
            output.WriteLine($"embedded store restored after {(kill ? "kill -9" : "SIGTERM")}");
        }
    }

    private static async Task<T> RetryAsync<T>(Func<Task<T>> call, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            try
            {
                return await call();
            }
            catch (TimeoutException) when (DateTime.UtcNow < deadline)
            {
            }
        }
    }
}
