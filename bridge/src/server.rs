//! The HTTP side: routes, WebSocket handshake checks, static files, health.
//!
//! Routes:
//! - `/` — a WebSocket upgrade is relayed; any other GET is a static file
//!   from `--static` (or the upgrade error, without `--static`).
//! - `/ws` — always a WebSocket upgrade, for pages that prefer a fixed path.
//! - `/healthz` — 200 "ok" when Redis answers PING, 503 otherwise.
//! - anything else — a static file from `--static`, or 404.
//!
//! Every check a WebSocket must pass before it reaches Redis is in
//! [`check_handshake`], so later checks (tokens, Host) go in one place.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tokio::sync::watch;
use tower::ServiceExt;
use tower_http::services::ServeDir;

use crate::{redis, relay};

/// What the server needs from the command line.
pub struct Config {
    /// Redis address every WebSocket is relayed to.
    pub redis: String,
    /// Origins allowed besides the bridge's own, compared exactly.
    pub allow_origins: Vec<String>,
    /// Directory of static files, if any.
    pub static_dir: Option<PathBuf>,
    /// Largest WebSocket message or frame accepted, in bytes.
    pub max_message_size: usize,
}

#[derive(Clone)]
struct AppState {
    config: Arc<Config>,
    static_files: Option<ServeDir>,
    shutdown: watch::Receiver<()>,
}

/// Builds the router; relays close when `shutdown` changes.
pub fn router(config: Config, shutdown: watch::Receiver<()>) -> Router {
    let static_files = config.static_dir.as_ref().map(ServeDir::new);
    let mut router = Router::new()
        .route("/", get(root))
        .route("/ws", get(websocket))
        .route("/healthz", get(healthz));
    if let Some(files) = &static_files {
        router = router.fallback_service(files.clone());
    }
    router.with_state(AppState {
        config: Arc::new(config),
        static_files,
        shutdown,
    })
}

/// `/`: a WebSocket upgrade goes to the relay, anything else to the files.
async fn root(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    if let (Some(files), false) = (&state.static_files, is_upgrade(request.headers())) {
        return files.clone().oneshot(request).await.into_response();
    }
    let (mut parts, _body) = request.into_parts();
    match WebSocketUpgrade::from_request_parts(&mut parts, &state).await {
        Ok(upgrade) => relay(state, peer, &parts.headers, upgrade),
        Err(rejection) => rejection.into_response(),
    }
}

/// `/ws`: WebSocket upgrades only.
async fn websocket(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    relay(state, peer, &headers, upgrade)
}

/// `/healthz`: whether Redis answers PING right now.
async fn healthz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    if redis::ping(&state.config.redis).await {
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

/// Checks the handshake, then hands the upgraded socket to the relay.
fn relay(
    state: AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    if let Err(refusal) = check_handshake(&state.config, headers) {
        tracing::warn!(%peer, %refusal, "websocket refused");
        return (StatusCode::FORBIDDEN, refusal.to_string()).into_response();
    }
    let AppState {
        config, shutdown, ..
    } = state;
    let max = config.max_message_size;
    upgrade
        .max_message_size(max)
        .max_frame_size(max)
        .on_failed_upgrade(move |error| tracing::debug!(%peer, %error, "websocket upgrade failed"))
        .on_upgrade(move |socket| async move {
            relay::run(socket, &config.redis, peer, shutdown).await;
        })
}

/// Why a WebSocket handshake was refused. Shown to the client and logged,
/// so it must never carry a secret.
#[derive(Debug)]
enum Refusal {
    /// The Origin header names a page that is neither allowed nor our own.
    Origin(String),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Origin(origin) => write!(f, "origin not allowed: {origin:?}"),
        }
    }
}

/// Lets a WebSocket through when its Origin is absent (not a browser), listed
/// in `--allow-origin`, or the bridge's own (`http://<Host>`, a page it served).
fn check_handshake(config: &Config, headers: &HeaderMap) -> Result<(), Refusal> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = String::from_utf8_lossy(origin.as_bytes());
    let own = headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .is_some_and(|host| origin.strip_prefix("http://") == Some(host));
    if own
        || config
            .allow_origins
            .iter()
            .any(|allowed| *allowed == origin)
    {
        Ok(())
    } else {
        Err(Refusal::Origin(origin.into_owned()))
    }
}
