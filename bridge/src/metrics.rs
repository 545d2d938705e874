//! Counters in the Prometheus text format, served on their own listener
//! (`--metrics ADDR`, `GET /metrics`) so that they can stay on a private
//! address while the bridge itself faces browsers.
//!
//! Labels are fixed words chosen by the bridge (a refusal reason, a close
//! reason, an error kind), never values from a request, so the number of
//! series stays small and nothing a client sent ends up in them.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::State;
use axum::http::header;
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;

/// Everything the bridge counts.
#[derive(Debug, Default)]
pub struct Metrics {
    /// WebSockets that reached the relay.
    pub connections_opened: Counter,
    /// WebSockets open now.
    pub connections_current: Gauge,
    /// Bytes of WebSocket messages received from browsers.
    pub bytes_from_browser: Counter,
    /// Bytes sent to browsers (Redis replies, as relayed).
    pub bytes_to_browser: Counter,
    /// Commands kept from Redis by the command policy.
    pub commands_denied: Counter,
    /// Refused connections and handshakes, by reason.
    pub refused: Family,
    /// Closed WebSockets, by reason.
    pub closed: Family,
    /// Errors, by kind.
    pub errors: Family,
}

#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    pub fn inc(&self) {
        self.add(1);
    }

    fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

#[derive(Debug, Default)]
pub struct Gauge(AtomicI64);

impl Gauge {
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    pub fn dec(&self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Counters under one name, told apart by one label.
#[derive(Debug, Default)]
pub struct Family(Mutex<BTreeMap<&'static str, u64>>);

impl Family {
    pub fn inc(&self, label: &'static str) {
        let mut counts = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        *counts.entry(label).or_default() += 1;
    }

    fn snapshot(&self) -> BTreeMap<&'static str, u64> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Metrics {
    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut single = |name: &str, kind: &str, help: &str, value: String| {
            let _ = write!(
                out,
                "# HELP redis_ws_bridge_{name} {help}\n# TYPE redis_ws_bridge_{name} {kind}\nredis_ws_bridge_{name} {value}\n"
            );
        };
        single(
            "connections_opened_total",
            "counter",
            "WebSockets relayed since start.",
            self.connections_opened.get().to_string(),
        );
        single(
            "connections_current",
            "gauge",
            "WebSockets relayed now.",
            self.connections_current
                .0
                .load(Ordering::Relaxed)
                .to_string(),
        );
        single(
            "bytes_from_browser_total",
            "counter",
            "Bytes received from browsers.",
            self.bytes_from_browser.get().to_string(),
        );
        single(
            "bytes_to_browser_total",
            "counter",
            "Bytes sent to browsers.",
            self.bytes_to_browser.get().to_string(),
        );
        single(
            "commands_denied_total",
            "counter",
            "Commands kept from Redis by the command policy.",
            self.commands_denied.get().to_string(),
        );
        for (name, label, help, family) in [
            (
                "refused_total",
                "reason",
                "Connections and handshakes refused.",
                &self.refused,
            ),
            ("closed_total", "reason", "WebSockets closed.", &self.closed),
            ("errors_total", "kind", "Errors.", &self.errors),
        ] {
            let _ = write!(
                out,
                "# HELP redis_ws_bridge_{name} {help}\n# TYPE redis_ws_bridge_{name} counter\n"
            );
            for (value, count) in family.snapshot() {
                let _ = writeln!(out, "redis_ws_bridge_{name}{{{label}=\"{value}\"}} {count}");
            }
        }
        out
    }
}

/// Serves `GET /metrics` on `listener`; ends with the process.
pub async fn serve(listener: TcpListener, metrics: Arc<Metrics>) -> std::io::Result<()> {
    let app = Router::new()
        .route("/metrics", get(scrape))
        .with_state(metrics);
    axum::serve(listener, app).await
}

async fn scrape(
    State(metrics): State<Arc<Metrics>>,
) -> ([(header::HeaderName, &'static str); 1], String) {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        metrics.render(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_families() {
        let metrics = Metrics::default();
        metrics.connections_opened.inc();
        metrics.bytes_to_browser.add(42);
        metrics.refused.inc("origin");
        metrics.refused.inc("origin");
        let text = metrics.render();
        assert!(
            text.contains("\nredis_ws_bridge_connections_opened_total 1\n"),
            "{text}"
        );
        assert!(
            text.contains("\nredis_ws_bridge_bytes_to_browser_total 42\n"),
            "{text}"
        );
        assert!(
            text.contains("\nredis_ws_bridge_refused_total{reason=\"origin\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("# TYPE redis_ws_bridge_errors_total counter\n"),
            "{text}"
        );
    }
}
