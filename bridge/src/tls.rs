//! TLS for `wss://` and `https://`, with rustls and its `ring` provider.
//!
//! With `--tls-cert` and `--tls-key` the listener speaks TLS only; without
//! them it speaks plain HTTP. A page served over `https://` may only open
//! `wss://` WebSockets, so a bridge reached from such pages needs one or the
//! other of:
//!
//! * these flags, with a certificate the browsers trust; or
//! * a reverse proxy (nginx, Caddy, a cloud load balancer) that terminates
//!   TLS and forwards the WebSocket upgrade to a bridge listening on
//!   loopback. The proxy must pass the `Host`, `Origin` and
//!   `Sec-WebSocket-Protocol` headers through unchanged, and be declared
//!   with `--trusted-proxy`, so that the bridge takes the client's address
//!   and scheme from the headers it sets (see `proxy`).
//!
//! SIGHUP re-reads the certificate and key ([`Certificate::reload`]): new
//! handshakes get the new pair, open connections go on, and a pair that
//! does not load (or does not match) leaves the previous one in use.

use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::PrivateKeyDer;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::ServerConfig;

use crate::redis_tls;

/// The listener's certificate and key, reloadable.
#[derive(Debug)]
pub struct Certificate {
    cert: PathBuf,
    key: PathBuf,
    provider: Arc<CryptoProvider>,
    current: RwLock<Arc<CertifiedKey>>,
}

impl Certificate {
    /// Re-reads both files; on an error the previous pair stays.
    pub fn reload(&self) -> Result<(), String> {
        let pair = read_pair(&self.cert, &self.key, &self.provider)?;
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = pair;
        Ok(())
    }
}

impl ResolvesServerCert for Certificate {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(
            &self.current.read().unwrap_or_else(PoisonError::into_inner),
        ))
    }
}

/// Builds the server configuration from a PEM certificate chain (leaf
/// first) and a PEM private key (PKCS#8, PKCS#1 or SEC1); returns it and
/// the certificate, to reload.
pub fn load(cert: &Path, key: &Path) -> Result<(Arc<ServerConfig>, Arc<Certificate>), String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certificate = Arc::new(Certificate {
        cert: cert.to_owned(),
        key: key.to_owned(),
        current: RwLock::new(read_pair(cert, key, &provider)?),
        provider: Arc::clone(&provider),
    });
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| format!("--tls-cert/--tls-key: {error}"))?
        .with_no_client_auth()
        .with_cert_resolver(Arc::clone(&certificate) as Arc<dyn ResolvesServerCert>);
    // WebSockets upgrade over HTTP/1.1, the only protocol served.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok((Arc::new(config), certificate))
}

/// Reads a chain and its key, and checks that they belong together.
fn read_pair(
    cert: &Path,
    key: &Path,
    provider: &CryptoProvider,
) -> Result<Arc<CertifiedKey>, String> {
    let chain = redis_tls::read_chain("--tls-cert", cert)?;
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|error| format!("--tls-key {}: {error}", key.display()))?;
    let pair = CertifiedKey::from_der(chain, key, provider)
        .map_err(|error| format!("--tls-cert/--tls-key: {error}"))?;
    Ok(Arc::new(pair))
}
