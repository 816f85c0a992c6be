using System.Net;
using System.Security.Cryptography.X509Certificates;
using Engram.Silo.Configuration;
using Orleans.Configuration;
using Orleans.Connections.Security;

namespace Engram.Silo.Hosting;

/// <summary>
/// Where the silo-to-silo and gateway ports listen, and who may connect to them. Orleans' own protocol has no
/// authentication: the ports listen on one address (the advertised one unless <c>Cluster:ListenAddress</c> says
/// otherwise, never every interface), a firewall admits only the other silos (deploy/README.md), and with
/// <c>Cluster:TlsCertificatePath</c> every connection is mutual TLS with the cluster's one certificate.
/// </summary>
public static class ClusterEndpoints
{
    public static void Apply(EngramClusterOptions cluster, EndpointOptions endpoints)
    {
        var advertised = string.IsNullOrWhiteSpace(cluster.AdvertisedAddress) ? IPAddress.Loopback : IPAddress.Parse(cluster.AdvertisedAddress);
        var listen = string.IsNullOrWhiteSpace(cluster.ListenAddress) ? advertised : IPAddress.Parse(cluster.ListenAddress);
        endpoints.AdvertisedIPAddress = advertised;
        endpoints.SiloPort = cluster.SiloPort;
        endpoints.GatewayPort = cluster.GatewayPort;
        endpoints.SiloListeningEndpoint = new IPEndPoint(listen, cluster.SiloPort);
        endpoints.GatewayListeningEndpoint = new IPEndPoint(listen, cluster.GatewayPort);
    }

    public static X509Certificate2? LoadCertificate(EngramClusterOptions cluster) =>
        string.IsNullOrWhiteSpace(cluster.TlsCertificatePath)
            ? null
            : X509CertificateLoader.LoadPkcs12FromFile(cluster.TlsCertificatePath, cluster.TlsCertificatePassword);

    /// <summary>
    /// Mutual TLS pinned to the cluster's certificate: a self-signed one works (no CA needed), and a certificate
    /// anyone else made, even one a public CA signed, does not get in.
    /// </summary>
    public static void RequireSameCertificate(TlsOptions tls, X509Certificate2 certificate)
    {
        var pinned = certificate.Thumbprint;
        tls.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
        tls.RemoteCertificateValidation = (remote, _, _) => string.Equals(remote.Thumbprint, pinned, StringComparison.OrdinalIgnoreCase);
    }
}
