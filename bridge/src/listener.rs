//! Accepting connections: TCP, then TLS with `--tls-cert`, then HTTP/1.1
//! (hyper) with WebSocket upgrades, each connection on its own task.
//!
//! A connection gets `--handshake-timeout` from TCP accept to the end of
//! its request headers, TLS handshake included; a client that sends nothing
//! or trickles its headers is dropped then, so idle sockets cannot pile up.
//! The same bound then applies to the headers of each further request on a
//! kept-alive connection. Until it upgrades, a connection also holds a place
//! among `--max-handshakes` (and `--max-handshakes-per-ip` of its peer's,
//! unless the peer is a trusted proxy): one over either is closed as soon as
//! it is accepted, so a crowd of silent sockets cannot take every file
//! descriptor for a whole timeout. Once upgraded, a WebSocket belongs to the
//! relay, its idle timeout and the WebSocket limits.
//!
//! Shutdown: stop accepting, let HTTP requests in progress finish, close
//! every WebSocket with 1001, and give them [`SHUTDOWN_GRACE`] to go.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::time::{timeout, Instant};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::limits::{Connections, Full, Slot};
use crate::metrics::{Held, Metrics};
use crate::server::{self, Config};

/// How long open WebSockets get to close after a shutdown signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Pause after a failed accept (out of file descriptors, most likely), so
/// that the loop does not spin while the condition lasts.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Serves `listener` until `shutdown` resolves, then closes what is open.
pub async fn serve(
    listener: TcpListener,
    config: Config,
    metrics: Arc<Metrics>,
    shutdown: impl Future<Output = ()>,
) {
    let config = Arc::new(config);
    // Relays and connections hold a receiver: a send tells them to close,
    // and `closed()` tells us when the last one has finished.
    let (stop_tx, stop_rx) = watch::channel(());
    let accept = Accept {
        app: server::router(Arc::clone(&config), Arc::clone(&metrics), stop_rx.clone()),
        stop: stop_rx,
        tls: config.tls.clone().map(TlsAcceptor::from),
        handshake_timeout: config.limits.handshake_timeout,
        metrics,
    };
    let handshakes = Connections::new(
        config.limits.max_handshakes,
        config.limits.max_handshakes_per_ip,
    );
    let proxies = config.access.trusted_proxies();

    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let slot = if proxies.trusts(peer.ip()) {
            handshakes.acquire_in_total()
        } else {
            handshakes.acquire(peer.ip())
        };
        match slot {
            Ok(slot) => {
                tokio::spawn(accept.clone().connection(stream, peer, slot));
            }
            Err(full) => {
                tracing::debug!(%peer, ?full, "too many connections not upgraded yet: closed");
                accept.metrics.refused(match full {
                    Full::Total => "max_handshakes",
                    Full::PerIp => "max_handshakes_per_ip",
                });
            }
        }
    }

    drop(listener);
    drop(accept);
    let _ = stop_tx.send(());
    if timeout(SHUTDOWN_GRACE, stop_tx.closed()).await.is_err() {
        tracing::warn!("some connections did not close in time");
    }
}

/// What each connection task needs.
#[derive(Clone)]
struct Accept {
    app: Router,
    /// Changes when the bridge shuts down.
    stop: watch::Receiver<()>,
    tls: Option<TlsAcceptor>,
    handshake_timeout: Duration,
    metrics: Arc<Metrics>,
}

impl Accept {
    /// Serves one connection; `_slot` is its place among those not upgraded
    /// yet, given back when HTTP is done with it (closed or upgraded).
    async fn connection(self, stream: TcpStream, peer: SocketAddr, _slot: Slot) {
        let _counted = Held::new(&self.metrics.handshakes_current);
        let deadline = Instant::now() + self.handshake_timeout;
        let _ = stream.set_nodelay(true);
        let Some(tls) = &self.tls else {
            return self.http(TokioIo::new(stream), peer, deadline).await;
        };
        match tokio::time::timeout_at(deadline, tls.accept(stream)).await {
            Ok(Ok(stream)) => self.http(TokioIo::new(stream), peer, deadline).await,
            Ok(Err(error)) => {
                tracing::debug!(%peer, %error, "TLS handshake failed");
                self.metrics.error("tls_handshake");
            }
            Err(_) => self.timed_out(peer),
        }
    }

    /// Serves HTTP on `io` until the client is done, the connection upgrades
    /// (the relay then owns it), or the bridge shuts down.
    async fn http<I>(&self, io: I, peer: SocketAddr, deadline: Instant)
    where
        I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    {
        let requested = Arc::new(AtomicBool::new(false));
        let service = {
            let requested = Arc::clone(&requested);
            let app = self.app.clone();
            hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
                requested.store(true, Ordering::Relaxed);
                request.extensions_mut().insert(ConnectInfo(peer));
                app.clone().oneshot(request)
            })
        };
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(deadline.saturating_duration_since(Instant::now()))
            .serve_connection(io, service)
            .with_upgrades();
        tokio::pin!(connection);

        let mut stop = self.stop.clone();
        let result = tokio::select! {
            result = connection.as_mut() => result,
            _ = stop.changed() => {
                connection.as_mut().graceful_shutdown();
                connection.await
            }
        };
        match result {
            Ok(()) => {}
            Err(error) if error.is_timeout() && !requested.load(Ordering::Relaxed) => {
                self.timed_out(peer)
            }
            Err(error) => tracing::debug!(%peer, %error, "HTTP connection failed"),
        }
    }

    fn timed_out(&self, peer: SocketAddr) {
        tracing::debug!(%peer, "handshake timed out");
        self.metrics.refused("handshake_timeout");
    }
}
