//! The HTTP side: routes, the WebSocket handshake, static files, health.
//!
//! Routes:
//! - `/` — a WebSocket upgrade is relayed; any other GET is a static file
//!   from `--static` (or the upgrade error, without `--static`).
//! - `/ws` — always a WebSocket upgrade, for pages that prefer a fixed path.
//! - `/ws/cluster` and `/ws/node/<id>` — in cluster mode (`--redis-cluster`),
//!   the topology feed (see `feed`) and a relay to node `<id>` at its
//!   address in the topology; an id the topology lacks gets 404 before
//!   anything is dialled. In cluster mode `/ws` and upgrades on `/` get
//!   400, and without a cluster these two get 404: each bridge says which
//!   routes it serves.
//! - `/livez` — 200 "ok" while the process serves; it asks Redis nothing.
//! - `/readyz` — 200 "ok" when Redis answers PING, 503 otherwise, with at
//!   most one PING per second whatever the request rate (see `health`).
//! - `/healthz` — the same as `/readyz`, kept for probes set up before it.
//! - anything else — a static file from `--static`, or 404.
//!
//! The probes skip the `Host` check, so that they need not know the
//! public name.
//!
//! Every request but the probes first passes the forwarding and `Host`
//! checks of `access` (400 or 403, 403). A WebSocket handshake then passes
//! the `Origin` and token checks (403, 401 or 403) and the connection limits
//! of `limits` (503 for the total, 429 per client address) before the relay
//! starts. Every refusal is counted and logged with its reason, never a
//! secret; forwarding headers from a peer that is not a trusted proxy are
//! logged as an error when the bridge runs without tokens, as they mean it
//! is reachable through a proxy by anyone who can reach the proxy.

use std::fmt::Display;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Extension;
use axum::Router;
use tokio::sync::watch;
use tower::ServiceExt;
use tower_http::services::ServeDir;

use axum::extract::Path;

use crate::access::{Access, Refusal, PROTOCOL};
use crate::cluster::Cluster;
use crate::health::Readiness;
use crate::limits::{Connections, Full, Limits};
use crate::metrics::Metrics;
use crate::policy::Gate;
use crate::proxy::{self, Client};
use crate::redis;
use crate::relay::{self, Route, Session};
use crate::tokens::Credentials;
use crate::topology::is_node_id;

/// Bytes the WebSocket layer reads from the browser per read call. Its
/// buffer is zero-filled to this size once per connection, so it is what
/// an idle connection costs (tungstenite's default, 128 KiB, would make
/// 10,000 idle WebSockets cost over a GiB); larger messages still arrive
/// whole, a few more reads each.
const WEBSOCKET_READ_BUFFER: usize = 16 * 1024;

/// What the bridge serves, and how.
pub struct Config {
    /// The Redis every WebSocket is relayed to, and how to reach it; in
    /// cluster mode the first seed (for the start-up checks).
    pub redis: redis::Target,
    /// The cluster, in cluster mode: node sockets go to its nodes.
    pub cluster: Option<Arc<Cluster>>,
    /// Who may open a WebSocket.
    pub access: Access,
    /// Which commands reach Redis: the rules applied to the server's own
    /// command table, read again when Redis comes back.
    pub policy: Gate,
    pub limits: Limits,
    /// Directory of static files, if any.
    pub static_dir: Option<PathBuf>,
    /// Serve TLS with this configuration (see [`crate::tls::load`]).
    pub tls: Option<Arc<rustls::ServerConfig>>,
}

impl Config {
    /// Who the bridge's own checks (`/readyz`, the start-up checks) log in
    /// as: the `--redis` URL's user if it names one (`None` here: every
    /// connection does), else the first token's.
    pub fn own_login(&self) -> Option<Credentials> {
        if self.redis.has_login() {
            return None;
        }
        self.access.tokens().and_then(|tokens| tokens.first())
    }
}

#[derive(Clone)]
struct AppState {
    config: Arc<Config>,
    metrics: Arc<Metrics>,
    connections: Arc<Connections>,
    static_files: Option<ServeDir>,
    readiness: Arc<Readiness>,
    shutdown: watch::Receiver<()>,
}

/// Builds the router; requests must carry `ConnectInfo<SocketAddr>`, and
/// relays close when `shutdown` changes.
pub fn router(config: Arc<Config>, metrics: Arc<Metrics>, shutdown: watch::Receiver<()>) -> Router {
    let state = AppState {
        connections: Connections::new(
            config.limits.max_connections,
            config.limits.max_connections_per_ip,
        ),
        static_files: config.static_dir.as_ref().map(ServeDir::new),
        readiness: Arc::default(),
        config,
        metrics,
        shutdown,
    };
    let mut router = Router::new()
        .route("/", get(root))
        .route("/ws", get(websocket))
        .route("/ws/cluster", get(topology_feed))
        .route("/ws/node/{id}", get(node));
    if let Some(files) = &state.static_files {
        router = router.fallback_service(files.clone());
    }
    router
        .layer(middleware::from_fn_with_state(state.clone(), admit))
        // Added after the layer: probes need not know the public host name.
        .route("/livez", get(livez))
        .route("/readyz", get(readyz))
        .route("/healthz", get(readyz))
        .with_state(state)
}

/// Tells who sent the request (a [`Client`] extension for the handlers),
/// and refuses it for forwarding headers it does not take or a `Host` the
/// bridge does not serve.
async fn admit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut request: Request,
    next: Next,
) -> Response {
    let access = &state.config.access;
    let checked = access
        .client(peer.ip(), request.headers())
        .and_then(|client| access.check_host(request.headers()).map(|()| client));
    match checked {
        Ok(client) => {
            request.extensions_mut().insert(client);
            next.run(request).await
        }
        Err(refusal) => refuse_for(&state, peer, None, &refusal),
    }
}

/// `/`: a WebSocket upgrade goes to the relay, anything else to the files.
async fn root(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Extension(client): Extension<Client>,
    request: Request,
) -> Response {
    if let (Some(files), false) = (&state.static_files, is_upgrade(request.headers())) {
        return files.clone().oneshot(request).await.into_response();
    }
    let (mut parts, _body) = request.into_parts();
    match WebSocketUpgrade::from_request_parts(&mut parts, &state).await {
        Ok(upgrade) => single(state, peer, client, &parts.headers, upgrade),
        Err(rejection) => rejection.into_response(),
    }
}

/// `/ws`: WebSocket upgrades only.
async fn websocket(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Extension(client): Extension<Client>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    single(state, peer, client, &headers, upgrade)
}

/// A relay to the one Redis; refused by a cluster bridge, where a socket
/// must name its node.
fn single(
    state: AppState,
    peer: SocketAddr,
    client: Client,
    headers: &HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    if state.config.cluster.is_some() {
        let reason = &"this bridge serves a cluster: use /ws/cluster and /ws/node/<id>";
        return refuse(
            &state,
            peer,
            Some(&client),
            StatusCode::BAD_REQUEST,
            "cluster_only",
            reason,
        );
    }
    relay(state, peer, client, headers, upgrade, |_| Ok(Route::Redis))
}

/// `/ws/cluster`: the topology feed.
async fn topology_feed(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Extension(client): Extension<Client>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    if state.config.cluster.is_none() {
        return not_a_cluster(&state, peer, &client);
    }
    relay(state, peer, client, &headers, upgrade, |_| {
        Ok(Route::Topology)
    })
}

/// `/ws/node/<id>`: a relay to the node the topology knows by `id`.
async fn node(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Extension(client): Extension<Client>,
    Path(id): Path<String>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let Some(cluster) = state.config.cluster.clone() else {
        return not_a_cluster(&state, peer, &client);
    };
    relay(state, peer, client, &headers, upgrade, move |_| {
        // Looked up only once the browser passed the checks; never dialled
        // unless the topology has it.
        let target = Some(&id)
            .filter(|id| is_node_id(id))
            .and_then(|id| cluster.node(id));
        match target {
            Some(target) => Ok(Route::Node { id, target }),
            None => Err((
                StatusCode::NOT_FOUND,
                "unknown_node",
                "no node of the cluster has this id (the topology may have changed: read /ws/cluster again)",
            )),
        }
    })
}

fn not_a_cluster(state: &AppState, peer: SocketAddr, client: &Client) -> Response {
    let reason = &"this bridge serves one Redis, not a cluster: use /ws";
    refuse(
        state,
        peer,
        Some(client),
        StatusCode::NOT_FOUND,
        "not_a_cluster",
        reason,
    )
}

/// `/livez`: the process is up.
async fn livez() -> &'static str {
    "ok"
}

/// `/readyz` (and `/healthz`): whether Redis answered PING lately; in
/// cluster mode, whether the last read of the topology succeeded.
async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    let config = &state.config;
    if let Some(cluster) = &config.cluster {
        return match cluster.healthy() {
            true => (StatusCode::OK, "ok"),
            false => (
                StatusCode::SERVICE_UNAVAILABLE,
                "cluster topology unavailable",
            ),
        };
    }
    let credentials = config.own_login();
    if state
        .readiness
        .ready(&config.redis, credentials.as_ref())
        .await
    {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "redis unavailable")
    }
}

fn is_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"websocket"))
}

/// A refusal of the route: status, metrics label, reason.
type RouteRefusal = (StatusCode, &'static str, &'static str);

/// Checks the handshake, then hands the upgraded socket to the relay for
/// the route `route` picks once the origin and token checks passed.
fn relay(
    state: AppState,
    peer: SocketAddr,
    client: Client,
    headers: &HeaderMap,
    upgrade: WebSocketUpgrade,
    route: impl FnOnce(&Client) -> Result<Route, RouteRefusal>,
) -> Response {
    let access = &state.config.access;
    let credentials = match access
        .check_origin(headers, &client)
        .and_then(|()| access.check_token(upgrade.requested_protocols(), &client))
    {
        Ok(credentials) => credentials,
        Err(refusal) => return refuse_for(&state, peer, Some(&client), &refusal),
    };
    let route = match route(&client) {
        Ok(route) => route,
        Err((status, label, reason)) => {
            return refuse(&state, peer, Some(&client), status, label, &reason)
        }
    };
    let slot = match state.connections.acquire(client.addr) {
        Ok(slot) => slot,
        Err(Full::Total) => {
            let status = StatusCode::SERVICE_UNAVAILABLE;
            let reason = &"too many connections";
            return refuse(
                &state,
                peer,
                Some(&client),
                status,
                "max_connections",
                reason,
            );
        }
        Err(Full::PerIp) => {
            let status = StatusCode::TOO_MANY_REQUESTS;
            let reason = &"too many connections from this address";
            let label = "max_connections_per_ip";
            return refuse(&state, peer, Some(&client), status, label, reason);
        }
    };
    let max = state.config.limits.max_message_size;
    let session = Session {
        route,
        config: state.config,
        metrics: state.metrics,
        peer,
        client: client.addr,
        credentials,
        shutdown: state.shutdown,
        slot,
    };
    upgrade
        .protocols([PROTOCOL])
        .read_buffer_size(WEBSOCKET_READ_BUFFER)
        .max_message_size(max)
        .max_frame_size(max)
        .on_failed_upgrade(move |error| tracing::debug!(%peer, %error, "websocket upgrade failed"))
        .on_upgrade(move |socket| relay::run(socket, session))
}

/// Answers a request refused by `access`; forwarding headers from a peer
/// that is not a trusted proxy are an error without tokens (see the module
/// doc), a warning with them.
fn refuse_for(
    state: &AppState,
    peer: SocketAddr,
    client: Option<&Client>,
    refusal: &Refusal,
) -> Response {
    let exposed = matches!(refusal, Refusal::Forwarding(proxy::Refused::Untrusted(_)))
        && state.config.access.tokens().is_none();
    if exposed {
        tracing::error!(
            %peer,
            %refusal,
            "refused: this bridge is reached through a proxy, so anyone who can reach the \
             proxy could use Redis; give --tokens, and the proxy's address with --trusted-proxy"
        );
    }
    refuse(
        state,
        peer,
        client,
        refusal.status(),
        refusal.label(),
        refusal,
    )
}

/// Answers a refused request with `status` and `reason`, counted under
/// `label` and logged.
fn refuse(
    state: &AppState,
    peer: SocketAddr,
    client: Option<&Client>,
    status: StatusCode,
    label: &'static str,
    reason: &dyn Display,
) -> Response {
    match client.filter(|client| client.proxied) {
        Some(client) => tracing::warn!(%peer, client = %client.addr, %reason, "refused"),
        None => tracing::warn!(%peer, %reason, "refused"),
    }
    state.metrics.refused(label);
    (status, reason.to_string()).into_response()
}
