//! `redis-ws-bridge`: lets a browser speak RESP to one Redis server.
//!
//! Browsers cannot open raw TCP sockets, so the bridge accepts WebSocket
//! connections and copies binary frames to a Redis TCP connection and back,
//! one Redis connection per WebSocket. The bridge never parses RESP and never
//! lets the request choose the target: the Redis address is fixed by `--redis`.
//!
//! This file only reads the flags, sets up logging and runs the server until
//! SIGINT or SIGTERM. The HTTP side lives in `server`, the copy loops in
//! `relay`, and the way Redis is reached in `redis`.

mod redis;
mod relay;
mod server;

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing_subscriber::EnvFilter;

/// How long open WebSockets get to close after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Relays WebSocket binary frames to one Redis server and back.
///
/// A WebSocket upgrade on `/` or `/ws` is relayed to the `--redis` address.
/// Plain GET requests are served from `--static` when given. `GET /healthz`
/// answers 200 "ok" when Redis answers PING, 503 otherwise.
///
/// The bridge closes a WebSocket with 1003 on a text frame, 1009 on a message
/// over `--max-message-size`, 1011 when Redis is unavailable or closes the
/// connection, and 1001 when the bridge shuts down (SIGINT, SIGTERM).
///
/// At start the bridge prints exactly one line to stdout, `listening on
/// <addr>`, with the real address (useful with `--listen 127.0.0.1:0`).
/// Logs go to stderr; set RUST_LOG (e.g. `debug`) to change the level.
#[derive(Debug, Parser)]
#[command(version, about, long_about)]
struct Args {
    /// Address to listen on for HTTP and WebSocket connections (port 0 picks a free port).
    #[arg(
        long,
        env = "REDIS_WS_BRIDGE_LISTEN",
        value_name = "ADDR",
        default_value = "127.0.0.1:7379"
    )]
    listen: SocketAddr,

    /// Redis server (host:port) that every WebSocket is relayed to.
    #[arg(
        long,
        env = "REDIS_WS_BRIDGE_REDIS",
        value_name = "HOST:PORT",
        default_value = "127.0.0.1:6379"
    )]
    redis: String,

    /// Origin allowed to open a WebSocket, e.g. `http://127.0.0.1:8080` (exact
    /// match, repeatable; comma-separated in the environment variable).
    ///
    /// A request whose Origin header is absent (not a browser) or equals
    /// `http://<Host header>` (a page the bridge served itself) is always
    /// allowed; any other Origin gets 403.
    #[arg(
        long = "allow-origin",
        env = "REDIS_WS_BRIDGE_ALLOW_ORIGIN",
        value_name = "ORIGIN",
        value_delimiter = ',',
        value_parser = parse_origin
    )]
    allow_origins: Vec<String>,

    /// Directory served over plain HTTP GET (index.html at `/`).
    #[arg(long = "static", env = "REDIS_WS_BRIDGE_STATIC", value_name = "DIR")]
    static_dir: Option<PathBuf>,

    /// Largest WebSocket message (and frame) accepted from a browser, in bytes.
    #[arg(
        long,
        env = "REDIS_WS_BRIDGE_MAX_MESSAGE_SIZE",
        value_name = "BYTES",
        default_value_t = 64 << 20
    )]
    max_message_size: usize,
}

/// Accepts `scheme://host[:port]` as browsers send it in the Origin header.
///
/// Catches `http://host/`-style values at start-up, which would otherwise
/// never match and silently refuse every browser.
fn parse_origin(value: &str) -> Result<String, String> {
    let rest = value
        .strip_prefix("http://")
        .or_else(|| value.strip_prefix("https://"))
        .ok_or("an origin starts with http:// or https://")?;
    if rest.is_empty() || rest.contains('/') {
        return Err("an origin is scheme://host[:port], without a path or trailing slash".into());
    }
    Ok(value.to_owned())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();

    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();

    if let Some(dir) = &args.static_dir {
        if !dir.is_dir() {
            return Err(format!("--static {}: not a directory", dir.display()).into());
        }
    }

    let listener = TcpListener::bind(args.listen).await?;
    let addr = listener.local_addr()?;

    // Relays hold a receiver: a send tells them to close, and `closed()`
    // tells us when the last one has finished.
    let (shutdown_tx, shutdown_rx) = watch::channel(());
    let config = server::Config {
        redis: args.redis,
        allow_origins: args.allow_origins,
        static_dir: args.static_dir,
        max_message_size: args.max_message_size,
    };
    let app = server::router(config, shutdown_rx);

    tracing::info!(%addr, "listening");
    println!("listening on {addr}");

    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;

    // Upgraded WebSockets are not tracked by the HTTP server: close them here.
    let _ = shutdown_tx.send(());
    if tokio::time::timeout(SHUTDOWN_GRACE, shutdown_tx.closed())
        .await
        .is_err()
    {
        tracing::warn!("some WebSockets did not close in time");
    }
    tracing::info!("bye");
    Ok(())
}

/// Resolves on the first SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };

    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut sigterm) => {
                sigterm.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();

    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}
