//! TLS for the tests: certificates made here with rcgen (a test CA and
//! what it signs) and clients that trust exactly one certificate.

use std::net::SocketAddr;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use tokio_rustls::client::TlsStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::WebSocketStream;

use super::{free_port, within, RedisServer, TempDir};

/// A WebSocket over TLS.
pub type Wss = WebSocketStream<TlsStream<TcpStream>>;

/// Opens `wss://localhost:<port>/` as a page the bridge served over https,
/// trusting what `connector` trusts; the error says which step failed.
pub async fn wss_connect(connector: &TlsConnector, addr: SocketAddr) -> Result<Wss, String> {
    let url = format!("wss://localhost:{}/", addr.port());
    let mut request = url.into_client_request().expect("a request");
    let origin = format!("https://localhost:{}", addr.port());
    let origin = HeaderValue::from_str(&origin).expect("an origin");
    request.headers_mut().insert("Origin", origin);
    let stream = tls_connect(connector, addr)
        .await
        .map_err(|error| format!("TLS handshake: {error}"))?;
    let handshake = tokio_tungstenite::client_async(request, stream);
    let (ws, _) = within("wss handshake", handshake)
        .await
        .map_err(|error| format!("WebSocket handshake: {error}"))?;
    Ok(ws)
}

/// A TLS client that trusts `root` alone, without session resumption.
pub fn tls_client(root: &CertificateDer<'static>) -> TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(root.clone()).expect("a valid certificate");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    // Every handshake a full one, which checks the certificate the server
    // has now (a resumed session would skip it).
    config.resumption = rustls::client::Resumption::disabled();
    TlsConnector::from(Arc::new(config))
}

pub async fn tls_connect(
    connector: &TlsConnector,
    addr: SocketAddr,
) -> std::io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(addr).await?;
    let name = ServerName::try_from("localhost").expect("a DNS name");
    within("TLS handshake", connector.connect(name, tcp)).await
}

/// A CA, the certificates it signed, and a CA that signed nothing here, as
/// PEM files in a temporary directory.
pub struct Pki {
    dir: TempDir,
}

impl Pki {
    pub fn new() -> Pki {
        let dir = TempDir::new(&[]);
        let ca = certificate_authority("redis-wasm test CA");
        let other = certificate_authority("another CA");
        dir.write("ca.pem", &ca.pem());
        dir.write("other-ca.pem", &other.pem());
        for (name, names, usage) in [
            (
                "server",
                vec!["localhost".to_owned(), "127.0.0.1".to_owned()],
                ExtendedKeyUsagePurpose::ServerAuth,
            ),
            (
                "client",
                vec!["bridge".to_owned()],
                ExtendedKeyUsagePurpose::ClientAuth,
            ),
        ] {
            let key = KeyPair::generate().expect("a key");
            let mut params = CertificateParams::new(names).expect("names");
            params.extended_key_usages = vec![usage];
            let cert = params.signed_by(&key, &ca).expect("signed by the CA");
            dir.write(&format!("{name}.pem"), &cert.pem());
            dir.write(&format!("{name}-key.pem"), &key.serialize_pem());
        }
        Pki { dir }
    }

    pub fn path(&self, name: &str) -> String {
        let path = self.dir.path.join(name);
        path.to_str().expect("UTF-8 path").to_owned()
    }

    /// Redis on a TLS port (and its plain port for the test), asking the
    /// bridge for a client certificate, with the bridge's ACL user.
    pub fn redis(&self) -> (RedisServer, u16) {
        let tls_port = free_port().to_string();
        let (cert, key, ca) = (
            self.path("server.pem"),
            self.path("server-key.pem"),
            self.path("ca.pem"),
        );
        let redis = RedisServer::start_with(&[
            "--tls-port",
            &tls_port,
            "--tls-cert-file",
            &cert,
            "--tls-key-file",
            &key,
            "--tls-ca-cert-file",
            &ca,
            "--tls-auth-clients",
            "yes",
            "--user",
            "bridge",
            "on",
            ">bridge-pw",
            "~*",
            "&*",
            "+@all",
        ]);
        (redis, tls_port.parse().expect("a port"))
    }

    /// The bridge's flags for `rediss://…@localhost:<port>/1`, with `ca`.
    pub fn bridge_args(&self, port: u16, ca: &str) -> Vec<String> {
        [
            "--redis",
            &format!("rediss://bridge:bridge-pw@localhost:{port}/1"),
            "--redis-ca",
            &self.path(ca),
            "--redis-cert",
            &self.path("client.pem"),
            "--redis-key",
            &self.path("client-key.pem"),
        ]
        .map(String::from)
        .to_vec()
    }
}

pub fn certificate_authority(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    CertifiedIssuer::self_signed(params, KeyPair::generate().expect("a key")).expect("a CA")
}
