using System.Net.Sockets;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Engram.Silo.Configuration;

/// <summary>A start-up problem an operator fixes (Redis not there, a port taken): said in one line, no stack trace.</summary>
public sealed class StartupException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Turns what stops a silo from starting because of its settings or its surroundings into one line per problem, each
/// naming the setting in both spellings (<c>Users:CommandsPerMinute</c>, <c>Users__CommandsPerMinute</c>), its value
/// and what is allowed. Anything else is a bug and keeps its stack trace.
/// </summary>
public static partial class StartupFailure
{
    /// <summary>The exit code of a silo that could not start for a reason the operator can fix.</summary>
    public const int ExitCode = 2;

    /// <summary>The lines to print, or an empty list when <paramref name="failure"/> is not a start-up problem.</summary>
    public static IReadOnlyList<string> Explain(Exception failure, IConfiguration configuration)
    {
        var lines = new List<string>();
        foreach (var ex in Flatten(failure))
        {
            switch (ex)
            {
                case OptionsValidationException invalid:
                    lines.AddRange(invalid.Failures.Select(f => ExplainValidation(f, configuration)));
                    break;
                case StartupException startup:
                    lines.Add(startup.Message);
                    break;
                case InvalidOperationException binder when ConversionFailed().Match(binder.Message) is { Success: true } m:
                    lines.Add($"{Describe(m.Groups["key"].Value, configuration)}: not a valid {Friendly(m.Groups["type"].Value)}");
                    break;
                case IOException or SocketException when PortInUse(ex) is { } port:
                    lines.Add(ExplainBusyPort(port, configuration));
                    break;
            }
        }
        return lines.Distinct().ToList();
    }

    /// <summary>
    /// Checked before anything starts, so a taken port stops the silo before it joins the cluster (and leaves it again
    /// noisily) rather than after.
    /// </summary>
    public static void EnsurePortFree(string address, int port, string key)
    {
        var ip = address switch
        {
            "*" => System.Net.IPAddress.Any,
            "localhost" => System.Net.IPAddress.Loopback,
            _ => System.Net.IPAddress.TryParse(address, out var parsed) ? parsed : System.Net.IPAddress.Loopback,
        };
        try
        {
            using var probe = new TcpListener(ip, port);
            probe.Start();
            probe.Stop();
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            throw new StartupException(BusyPort(port, key), ex);
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressNotAvailable)
        {
            throw new StartupException($"{address} is not an address of this machine, so {key} cannot listen on it: set the bind or listen address (e.g. Cluster:ListenAddress behind NAT) to one of its own", ex);
        }
    }

    private static string BusyPort(int port, string key) =>
        $"Port {port} ({key}, {key.Replace(":", "__", StringComparison.Ordinal)}) is already in use by another program: stop it or give this silo another port";

    private static IEnumerable<Exception> Flatten(Exception ex)
    {
        switch (ex)
        {
            case AggregateException aggregate:
                foreach (var inner in aggregate.InnerExceptions.SelectMany(Flatten))
                    yield return inner;
                break;
            case System.Reflection.TargetInvocationException { InnerException: { } inner }:
                foreach (var e in Flatten(inner))
                    yield return e;
                break;
            default:
                yield return ex;
                break;
        }
    }

    /// <summary>"DataAnnotation validation failed for 'UserGrainOptions' members: 'CommandsPerMinute' with the error: '…'." and our own "Section:Key …" messages.</summary>
    private static string ExplainValidation(string failure, IConfiguration configuration)
    {
        if (DataAnnotationFailure().Match(failure) is { Success: true } m
            && KnownSettings.KeyFor(m.Groups["type"].Value, m.Groups["member"].Value) is { } key)
        {
            var reason = m.Groups["error"].Value;
            reason = Regex.Replace(reason, $"^The (field )?{Regex.Escape(m.Groups["member"].Value)} (field )?", "").TrimEnd('.');
            return $"{Describe(key, configuration)}: {reason}";
        }
        if (LeadingKey().Match(failure) is { Success: true } named && KnownSettings.Keys.Contains(named.Value))
            return $"{failure.TrimEnd('.')} ({Spellings(named.Value)}{Value(named.Value, configuration)})";
        return failure;
    }

    /// <summary><c>Users:CommandsPerMinute (Users__CommandsPerMinute) = '0'</c>; a secret's value is never shown.</summary>
    private static string Describe(string key, IConfiguration configuration) =>
        $"{key} ({Spellings(key)}){Value(key, configuration)}";

    private static string Spellings(string key)
    {
        var names = new List<string> { key.Replace(":", "__", StringComparison.Ordinal) };
        names.AddRange(EngramConfiguration.EnvironmentAliases.Where(a => string.Equals(a.Value, key, StringComparison.OrdinalIgnoreCase)).Select(a => a.Key));
        return string.Join(" or ", names);
    }

    private static string Value(string key, IConfiguration configuration)
    {
        if (EngramConfiguration.SecretKeys.Contains(key, StringComparer.OrdinalIgnoreCase))
            return "";
        return configuration[key] is { } value ? $" = '{value}'" : " (not set)";
    }

    private static string Friendly(string type) => type switch
    {
        "System.Int32" or "System.Int64" => "whole number",
        "System.Decimal" or "System.Double" => "number",
        "System.Boolean" => "true/false",
        "System.TimeSpan" => "duration (hh:mm:ss, or d.hh:mm:ss)",
        _ => type.StartsWith("System.", StringComparison.Ordinal) ? type["System.".Length..] : type,
    };

    private static int? PortInUse(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse } || e.GetType().Name == "AddressInUseException")
                return PortNumber().Match(ex.Message) is { Success: true } m ? int.Parse(m.Groups["port"].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;
        }
        return null;
    }

    private static string ExplainBusyPort(int port, IConfiguration configuration)
    {
        var http = configuration.GetSection(HttpEndpointOptions.SectionName).Get<HttpEndpointOptions>() ?? new HttpEndpointOptions();
        var cluster = configuration.GetSection(EngramClusterOptions.SectionName).Get<EngramClusterOptions>() ?? new EngramClusterOptions();
        var key = port switch
        {
            _ when port == http.Port => "Http:Port",
            _ when port == http.EffectiveOperatorPort => "Http:OperatorPort",
            _ when port == http.DashboardPort => "Http:DashboardPort",
            _ when port == cluster.SiloPort => "Cluster:SiloPort",
            _ when port == cluster.GatewayPort => "Cluster:GatewayPort",
            _ => null,
        };
        return key is null
            ? $"A port Engram needs{(port > 0 ? $" ({port})" : "")} is already in use by another program"
            : BusyPort(port, key);
    }

    [GeneratedRegex(@"^DataAnnotation validation failed for '(?<type>[^']+)' members: '(?<member>[^']+)' with the error: '(?<error>.*)'\.?$", RegexOptions.Singleline)]
    private static partial Regex DataAnnotationFailure();

    [GeneratedRegex(@"^[A-Za-z_]+:[A-Za-z_]+")]
    private static partial Regex LeadingKey();

    [GeneratedRegex(@"at '(?<key>[^']+)' to type '(?<type>[^']+)'")]
    private static partial Regex ConversionFailed();

    [GeneratedRegex(@":(?<port>\d{1,5})\b")]
    private static partial Regex PortNumber();
}
