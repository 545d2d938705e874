//! What the bridge counts, with the `prometheus-client` library, served in
//! the OpenMetrics text format on a listener of its own (`--metrics ADDR`,
//! `GET /metrics`) so that it can stay on a private address while the
//! bridge itself faces browsers.
//!
//! Label values are words chosen by the bridge (a refusal reason, a close
//! reason, an error kind), a command's name as the server's command table
//! has it (`other` for a name the table lacks), or a cluster node's id as
//! the topology has it (a request naming another is refused first), never
//! text from a request,
//! so the number of series stays bounded and nothing a client sent ends up
//! in them. The `process_*` families read /proc/self at each scrape.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use axum::extract::State;
use axum::http::header;
use axum::routing::get;
use axum::Router;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};
use tokio::net::TcpListener;

/// The version and commit of this build (see build.rs).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub const COMMIT: &str = env!("REDIS_WS_BRIDGE_COMMIT");

/// One label, `name="value"`.
type Label = [(&'static str, String); 1];

/// Everything the bridge counts, and the registry that renders it.
#[derive(Debug)]
pub struct Metrics {
    /// WebSockets that reached the relay.
    pub connections_opened: Counter,
    /// WebSockets open now.
    pub connections_current: Gauge,
    /// Connections accepted and not upgraded to a WebSocket yet.
    pub handshakes_current: Gauge,
    /// Bytes and WebSocket messages each way.
    pub bytes_from_browser: Counter,
    pub bytes_to_browser: Counter,
    pub messages_from_browser: Counter,
    pub messages_to_browser: Counter,
    /// Time from a browser message to the first reply byte after it.
    pub reply_latency: Histogram,
    /// Time to open a Redis connection: connect, TLS, AUTH and SELECT.
    pub redis_connect: Histogram,
    commands_denied: Family<Label, Counter>,
    refused: Family<Label, Counter>,
    closed: Family<Label, Counter>,
    errors: Family<Label, Counter>,
    node_connections: Family<Label, Gauge>,
    topology_refreshes: Family<Label, Counter>,
    redirects_rewritten: Family<Label, Counter>,
    registry: Registry,
}

impl Default for Metrics {
    fn default() -> Self {
        // 100 µs to about 52 s, doubling: a local Redis answers in well
        // under a millisecond, a blocking command may take its timeout.
        let latency = || Histogram::new(exponential_buckets(0.0001, 2.0, 20));
        let mut metrics = Metrics {
            connections_opened: Counter::default(),
            connections_current: Gauge::default(),
            handshakes_current: Gauge::default(),
            bytes_from_browser: Counter::default(),
            bytes_to_browser: Counter::default(),
            messages_from_browser: Counter::default(),
            messages_to_browser: Counter::default(),
            reply_latency: latency(),
            redis_connect: latency(),
            commands_denied: Family::default(),
            refused: Family::default(),
            closed: Family::default(),
            errors: Family::default(),
            node_connections: Family::default(),
            topology_refreshes: Family::default(),
            redirects_rewritten: Family::default(),
            registry: Registry::default(),
        };
        metrics.register();
        metrics
    }
}

impl Metrics {
    fn register(&mut self) {
        // The process families keep the names every Prometheus client uses.
        self.registry.register_collector(Box::new(Process));
        let registry = self.registry.sub_registry_with_prefix("redis_ws_bridge");
        registry.register(
            "connections_opened",
            "WebSockets relayed since start",
            self.connections_opened.clone(),
        );
        registry.register(
            "connections_current",
            "WebSockets relayed now",
            self.connections_current.clone(),
        );
        registry.register(
            "handshakes_current",
            "Connections accepted and not upgraded to a WebSocket yet",
            self.handshakes_current.clone(),
        );
        registry.register(
            "bytes_from_browser",
            "Bytes received from browsers",
            self.bytes_from_browser.clone(),
        );
        registry.register(
            "bytes_to_browser",
            "Bytes sent to browsers",
            self.bytes_to_browser.clone(),
        );
        registry.register(
            "messages_from_browser",
            "WebSocket messages received from browsers",
            self.messages_from_browser.clone(),
        );
        registry.register(
            "messages_to_browser",
            "WebSocket messages sent to browsers",
            self.messages_to_browser.clone(),
        );
        registry.register(
            "commands_denied",
            "Commands kept from Redis, by command (other: a name the server lacks)",
            self.commands_denied.clone(),
        );
        registry.register(
            "refused",
            "Connections and handshakes refused, by reason",
            self.refused.clone(),
        );
        registry.register(
            "closed",
            "WebSockets closed, by reason",
            self.closed.clone(),
        );
        registry.register("errors", "Errors, by kind", self.errors.clone());
        registry.register_with_unit(
            "reply_latency",
            "Time from a browser message to the first reply byte after it (blocking commands included)",
            Unit::Seconds,
            self.reply_latency.clone(),
        );
        registry.register_with_unit(
            "redis_connect",
            "Time to open a Redis connection for a WebSocket: connect, TLS, AUTH, SELECT",
            Unit::Seconds,
            self.redis_connect.clone(),
        );
        let build = vec![
            ("version", VERSION.to_owned()),
            ("commit", COMMIT.to_owned()),
        ];
        registry.register("build", "The bridge's version and commit", Info::new(build));
    }

    /// The metrics of a cluster bridge: the others, and per node
    /// connections, topology reads and rewritten redirections.
    pub fn for_cluster() -> Metrics {
        let mut metrics = Metrics::default();
        let registry = metrics.registry.sub_registry_with_prefix("redis_ws_bridge");
        registry.register(
            "cluster_node_connections",
            "WebSockets relayed now to each cluster node, by node id",
            metrics.node_connections.clone(),
        );
        registry.register(
            "cluster_topology_refreshes",
            "CLUSTER SHARDS reads, by result (ok, failed)",
            metrics.topology_refreshes.clone(),
        );
        registry.register(
            "cluster_redirects_rewritten",
            "MOVED and ASK replies rewritten, by kind (moved, ask, unknown_node: made TRYAGAIN)",
            metrics.redirects_rewritten.clone(),
        );
        metrics
    }

    /// A command the policy kept from Redis, by its name in the server's
    /// table (`CLIENT KILL` counts as `client|kill`).
    pub fn denied(&self, command: Option<&str>) {
        let name = command.map_or("other".to_owned(), |name| {
            name.to_ascii_lowercase().replace(' ', "|")
        });
        self.commands_denied
            .get_or_create(&[("command", name)])
            .inc();
    }

    pub fn refused(&self, reason: &'static str) {
        self.refused
            .get_or_create(&[("reason", reason.to_owned())])
            .inc();
    }

    pub fn closed(&self, reason: &'static str) {
        self.closed
            .get_or_create(&[("reason", reason.to_owned())])
            .inc();
    }

    pub fn error(&self, kind: &'static str) {
        self.errors
            .get_or_create(&[("kind", kind.to_owned())])
            .inc();
    }

    /// One more WebSocket relayed to cluster node `id`, for as long as the
    /// result lives.
    pub fn node_connection(&self, id: &str) -> Held {
        Held::new(
            &self
                .node_connections
                .get_or_create(&[("node", id.to_owned())]),
        )
    }

    pub fn topology_refresh(&self, result: &'static str) {
        self.topology_refreshes
            .get_or_create(&[("result", result.to_owned())])
            .inc();
    }

    pub fn redirect_rewritten(&self, kind: &'static str) {
        self.redirects_rewritten
            .get_or_create(&[("kind", kind.to_owned())])
            .inc();
    }

    /// The OpenMetrics text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }
}

/// One up on a gauge for as long as it lives, however its scope ends.
pub struct Held(Gauge);

impl Held {
    pub fn new(gauge: &Gauge) -> Held {
        gauge.inc();
        Held(gauge.clone())
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// The oldest browser message still waiting for a reply byte, for
/// [`Metrics::reply_latency`]; shared by a relay's two directions.
#[derive(Debug, Default)]
pub struct ReplyTimer(Mutex<Option<Instant>>);

impl ReplyTimer {
    /// A message is about to go to Redis.
    pub fn sent(&self) {
        let mut since = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        since.get_or_insert_with(Instant::now);
    }

    /// Reply bytes came: observes the wait of the message that was waiting.
    pub fn replied(&self, latency: &Histogram) {
        let since = self.0.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(since) = since {
            latency.observe(since.elapsed().as_secs_f64());
        }
    }
}

/// `process_cpu_seconds_total`, `process_resident_memory_bytes` and
/// `process_open_fds`, as Prometheus's other clients name them, read from
/// /proc/self at each scrape (absent where there is no /proc).
#[derive(Debug)]
struct Process;

/// /proc/self/stat counts CPU time in USER_HZ ticks, 100 a second on every
/// Linux the bridge runs on (the kernel fixes it for user space).
const TICKS_PER_SECOND: f64 = 100.0;

impl Collector for Process {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        if let Some(seconds) = cpu_seconds() {
            let counter = ConstCounter::new(seconds);
            let metric = encoder.encode_descriptor(
                "process_cpu",
                "User and system CPU time of the bridge",
                Some(&Unit::Seconds),
                counter.metric_type(),
            )?;
            counter.encode(metric)?;
        }
        if let Some(bytes) = resident_bytes() {
            let gauge = ConstGauge::new(bytes);
            let metric = encoder.encode_descriptor(
                "process_resident_memory",
                "Resident memory of the bridge",
                Some(&Unit::Bytes),
                gauge.metric_type(),
            )?;
            gauge.encode(metric)?;
        }
        if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
            let gauge = ConstGauge::new(fds.count() as i64);
            let metric = encoder.encode_descriptor(
                "process_open_fds",
                "Open file descriptors of the bridge",
                None,
                gauge.metric_type(),
            )?;
            gauge.encode(metric)?;
        }
        Ok(())
    }
}

/// utime + stime from /proc/self/stat (fields 14 and 15, counted after the
/// parenthesised command name, which may itself hold spaces).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some((user + system) as f64 / TICKS_PER_SECOND)
}

/// VmRSS from /proc/self/status, in bytes.
fn resident_bytes() -> Option<i64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))?;
    let kib: i64 = kib.trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kib * 1024)
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
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        metrics.render(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_families_and_the_process() {
        let metrics = Metrics::default();
        metrics.connections_opened.inc();
        metrics.bytes_to_browser.inc_by(42);
        metrics.refused("origin");
        metrics.refused("origin");
        metrics.denied(Some("CLIENT KILL"));
        metrics.denied(None);
        let text = metrics.render();
        for line in [
            "\nredis_ws_bridge_connections_opened_total 1\n",
            "\nredis_ws_bridge_bytes_to_browser_total 42\n",
            "\nredis_ws_bridge_refused_total{reason=\"origin\"} 2\n",
            "\nredis_ws_bridge_commands_denied_total{command=\"client|kill\"} 1\n",
            "\nredis_ws_bridge_commands_denied_total{command=\"other\"} 1\n",
            "\nredis_ws_bridge_build_info{version=\"",
            "\nprocess_cpu_seconds_total ",
            "\nprocess_resident_memory_bytes ",
            "\n# EOF\n",
        ] {
            assert!(text.contains(line), "no {line:?} in\n{text}");
        }
    }

    #[test]
    fn the_reply_timer_observes_the_oldest_waiting_message_once() {
        let metrics = Metrics::default();
        let timer = ReplyTimer::default();
        timer.replied(&metrics.reply_latency);
        let count = |count: u32| format!("\nredis_ws_bridge_reply_latency_seconds_count {count}\n");
        assert!(metrics.render().contains(&count(0)), "nothing was waiting");
        timer.sent();
        timer.sent();
        timer.replied(&metrics.reply_latency);
        timer.replied(&metrics.reply_latency);
        assert!(metrics.render().contains(&count(1)), "{}", metrics.render());
    }
}
