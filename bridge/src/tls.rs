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
//! The certificate is read once at start; restart the bridge to renew it.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::PrivateKeyDer;
use rustls::ServerConfig;

use crate::redis_tls;

/// Builds the server configuration from a PEM certificate chain (leaf
/// first) and a PEM private key (PKCS#8, PKCS#1 or SEC1).
pub fn load(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, String> {
    let chain = redis_tls::read_chain("--tls-cert", cert)?;
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|error| format!("--tls-key {}: {error}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|builder| builder.with_no_client_auth().with_single_cert(chain, key))
        .map_err(|error| format!("--tls-cert/--tls-key: {error}"))?;
    // WebSockets upgrade over HTTP/1.1, the only protocol served.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
