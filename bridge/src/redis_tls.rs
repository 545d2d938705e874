//! TLS towards Redis (`rediss://`), with rustls: a managed Redis reached
//! over a network the bridge does not own.
//!
//! The server is checked against `--redis-ca` (PEM; the system's bundle,
//! e.g. /etc/ssl/certs/ca-certificates.crt, is one such file) and the host
//! of the URL, which is also sent as SNI; there is no way to skip the
//! check. `--redis-cert` and `--redis-key` add a client certificate for a
//! Redis with `tls-auth-clients yes`. SIGHUP re-reads the three files
//! ([`RedisTls::reload`]): new connections use the new ones, open ones go
//! on, and files that do not load leave the previous configuration.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

/// The files TLS towards Redis is read from.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// `--redis-ca`: the certificates that may sign Redis's.
    pub ca: PathBuf,
    /// `--redis-cert` and `--redis-key`: a client certificate chain and its key.
    pub client: Option<(PathBuf, PathBuf)>,
}

/// The client side of TLS to Redis, reloadable. The host dialled is the
/// name checked in the server's certificate: the `--redis` URL's, or in
/// cluster mode each node's address as the topology gives it.
#[derive(Debug)]
pub struct RedisTls {
    files: TlsFiles,
    config: RwLock<Arc<ClientConfig>>,
}

impl RedisTls {
    /// Loads the files for connections to `host` (its name is checked in
    /// Redis's certificate and sent as SNI).
    pub fn load(files: TlsFiles, host: &str) -> Result<RedisTls, String> {
        server_name(host)
            .map_err(|error| format!("rediss://{host}: not a host name for TLS: {error}"))?;
        let config = client_config(&files)?;
        Ok(RedisTls {
            files,
            config: RwLock::new(config),
        })
    }

    /// Re-reads the files; on an error the previous configuration stays.
    pub fn reload(&self) -> Result<(), String> {
        let config = client_config(&self.files)?;
        *self.config.write().unwrap_or_else(PoisonError::into_inner) = config;
        Ok(())
    }

    /// Runs the TLS handshake on a fresh TCP connection to Redis at `host`.
    pub async fn handshake(&self, tcp: TcpStream, host: &str) -> io::Result<TlsStream<TcpStream>> {
        let name = server_name(host)
            .map_err(|error| io::Error::new(io::ErrorKind::InvalidInput, error))?;
        let config = Arc::clone(&self.config.read().unwrap_or_else(PoisonError::into_inner));
        TlsConnector::from(config).connect(name, tcp).await
    }
}

fn server_name(host: &str) -> Result<ServerName<'static>, rustls::pki_types::InvalidDnsNameError> {
    ServerName::try_from(host.to_owned())
}

fn client_config(files: &TlsFiles) -> Result<Arc<ClientConfig>, String> {
    let mut roots = RootCertStore::empty();
    for cert in read_chain("--redis-ca", &files.ca)? {
        roots
            .add(cert)
            .map_err(|error| format!("--redis-ca {}: {error}", files.ca.display()))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| error.to_string())?
        .with_root_certificates(roots);
    let config = match &files.client {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => {
            let chain = read_chain("--redis-cert", cert)?;
            let key = PrivateKeyDer::from_pem_file(key)
                .map_err(|error| format!("--redis-key {}: {error}", key.display()))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|error| format!("--redis-cert/--redis-key: {error}"))?
        }
    };
    Ok(Arc::new(config))
}

/// The certificates of a PEM file, at least one.
pub fn read_chain(flag: &str, path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let chain = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|error| format!("{flag} {}: {error}", path.display()))?;
    if chain.is_empty() {
        return Err(format!("{flag} {}: no certificate found", path.display()));
    }
    Ok(chain)
}
