//! Cluster mode (`--redis-cluster`): the bridge keeps the cluster's
//! topology itself and relays each node socket to a node it found there.
//!
//! The topology is read with `CLUSTER SHARDS` on a connection of the
//! bridge's own: the one that answered last, else each seed in turn, then
//! each node known so far. It is read again every `--cluster-refresh`, and
//! sooner when asked ([`Cluster::refresh_soon`]: a MOVED to an unknown
//! address, a node that did not answer, a browser asking on
//! `/ws/cluster`), never more often than once per [`MIN_GAP`]. A failed
//! read keeps the topology it had: the nodes it names are still the
//! cluster's own, and the next read may find them moved.
//!
//! Every connection to a node (the bridge's own and the relays) uses the
//! same TLS, login and timeouts as the first seed's; only the address,
//! taken from the topology, differs. Addresses that come from a browser or
//! from a reply are never dialled.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Notify};
use tokio::time::{sleep, timeout, Instant};

use crate::metrics::Metrics;
use crate::redis::{self, OpenError, Stream, Target};
use crate::tokens::Tokens;
use crate::topology::{Health, Role, Topology};

/// The default of `--cluster-refresh`.
pub const DEFAULT_REFRESH: Duration = Duration::from_secs(5);

/// The shortest time between two reads of the topology, however often
/// they are asked for.
pub const MIN_GAP: Duration = Duration::from_millis(100);

/// How long the bridge waits at start for a seed to answer.
const STARTUP_WAIT: Duration = Duration::from_secs(10);

/// The cluster behind the bridge; dropping it stops the refreshes.
pub struct Cluster {
    shared: Arc<Shared>,
    _stop: watch::Sender<()>,
}

struct Shared {
    seeds: Vec<Target>,
    tokens: Option<Arc<Tokens>>,
    every: Duration,
    metrics: Arc<Metrics>,
    topology: watch::Sender<Arc<Topology>>,
    /// Reads started, and finished (the same number when none runs).
    started: AtomicU64,
    finished: watch::Sender<u64>,
    /// Whether the last read succeeded.
    healthy: AtomicBool,
    wake: Notify,
}

impl Cluster {
    /// Reads the topology from the first of `seeds` that answers (waiting
    /// a while for one to), and keeps it fresh. Fails, with what to fix,
    /// if none gives a topology that covers every slot.
    pub async fn start(
        seeds: Vec<Target>,
        tokens: Option<Arc<Tokens>>,
        every: Duration,
        metrics: Arc<Metrics>,
    ) -> Result<Cluster, String> {
        assert!(!seeds.is_empty(), "at least one seed");
        let shared = Arc::new(Shared {
            seeds,
            tokens,
            every,
            metrics,
            topology: watch::Sender::new(Arc::default()),
            started: AtomicU64::new(0),
            finished: watch::Sender::new(0),
            healthy: AtomicBool::new(false),
            wake: Notify::new(),
        });
        let started = Instant::now();
        let mut connection = None;
        let topology = loop {
            match shared.read(&mut connection).await {
                Ok(topology) if topology.covers_all_slots() => break topology,
                Ok(_) if started.elapsed() < STARTUP_WAIT => {
                    tracing::info!("waiting for the cluster to serve every slot");
                }
                Err(failure) if !failure.refused && started.elapsed() < STARTUP_WAIT => {
                    tracing::info!(why = %failure.why, "waiting for the cluster");
                }
                Ok(_) => {
                    return Err(
                        "--redis-cluster: the cluster does not serve every hash slot".into(),
                    )
                }
                Err(failure) => return Err(format!("--redis-cluster: {}", failure.why)),
            }
            sleep(Duration::from_millis(250)).await;
        };
        tracing::info!(
            shards = topology.shards.len(),
            nodes = topology.nodes().count(),
            "cluster topology read"
        );
        shared.topology.send_replace(Arc::new(topology));
        shared.healthy.store(true, Ordering::Relaxed);
        let (stop, stopped) = watch::channel(());
        tokio::spawn(refresh(Arc::clone(&shared), connection, stopped));
        Ok(Cluster {
            shared,
            _stop: stop,
        })
    }

    /// The topology as last read.
    pub fn topology(&self) -> Arc<Topology> {
        Arc::clone(&self.shared.topology.borrow())
    }

    /// Changes whenever a read finds the topology changed.
    pub fn changes(&self) -> watch::Receiver<Arc<Topology>> {
        self.shared.topology.subscribe()
    }

    /// How to reach node `id`: its address in the current topology, with
    /// the seeds' TLS, login and timeouts; `None` for a node the topology
    /// does not have (or has no address for).
    pub fn node(&self, id: &str) -> Option<Target> {
        let address = self.topology().node(id)?.address.clone()?;
        Some(self.shared.seeds[0].with_endpoint(address))
    }

    /// Every node to try for the bridge's own needs (the command table):
    /// the masters that are online, the other nodes, then the seeds.
    pub fn targets(&self) -> Vec<Target> {
        let topology = self.topology();
        let mut nodes: Vec<_> = topology.nodes().collect();
        nodes.sort_by_key(|node| (node.role != Role::Master, node.health != Health::Online));
        let mut targets: Vec<Target> = nodes
            .into_iter()
            .filter_map(|node| node.address.clone())
            .map(|address| self.shared.seeds[0].with_endpoint(address))
            .collect();
        targets.extend(self.shared.seeds.iter().cloned());
        targets
    }

    /// Whether the last read of the topology succeeded.
    pub fn healthy(&self) -> bool {
        self.shared.healthy.load(Ordering::Relaxed)
    }

    /// Asks for a read of the topology as soon as the rate limit allows.
    pub fn refresh_soon(&self) {
        self.shared.wake.notify_one();
    }

    /// Asks for a read of the topology and waits until one that started
    /// after the request has finished (or a while, if reads hang).
    pub async fn refreshed(&self) {
        let shared = &self.shared;
        let due = shared.started.load(Ordering::SeqCst) + 1;
        let mut finished = shared.finished.subscribe();
        shared.wake.notify_one();
        let seed = &shared.seeds[0];
        let bound = MIN_GAP + 2 * (seed.connect_timeout() + seed.command_timeout());
        let _ = timeout(bound, finished.wait_for(|&done| done >= due)).await;
    }
}

/// Reads the topology every `every`, or sooner when woken, at most once
/// per [`MIN_GAP`], until the [`Cluster`] is dropped.
async fn refresh(
    shared: Arc<Shared>,
    mut connection: Option<Box<dyn Stream>>,
    mut stop: watch::Receiver<()>,
) {
    let mut last = Instant::now();
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            () = sleep(shared.every) => {}
            () = shared.wake.notified() => {}
        }
        let wait = MIN_GAP.saturating_sub(last.elapsed());
        tokio::select! {
            _ = stop.changed() => return,
            () = sleep(wait) => {}
        }
        last = Instant::now();
        let number = shared.started.fetch_add(1, Ordering::SeqCst) + 1;
        match shared.read(&mut connection).await {
            Ok(topology) => {
                shared.metrics.topology_refresh("ok");
                shared.healthy.store(true, Ordering::Relaxed);
                shared.topology.send_if_modified(|current| {
                    if **current == topology {
                        return false;
                    }
                    tracing::info!(
                        shards = topology.shards.len(),
                        nodes = topology.nodes().count(),
                        "cluster topology changed"
                    );
                    *current = Arc::new(topology);
                    true
                });
            }
            Err(failure) => {
                shared.metrics.topology_refresh("failed");
                shared.healthy.store(false, Ordering::Relaxed);
                let why = failure.why;
                tracing::warn!(%why, "cluster topology not read: keeping the last one");
            }
        }
        shared.finished.send_replace(number);
    }
}

/// Why no node gave the topology.
struct Failure {
    why: String,
    /// Whether a node refused (a login, an error reply other than
    /// LOADING, a reply that is no topology): a setting to fix, not worth
    /// waiting for at start.
    refused: bool,
}

/// What one node did when asked.
enum Asked {
    /// The connection failed, or the node is loading: worth trying again.
    Failed(String),
    Refused(String),
}

impl Shared {
    /// Reads `CLUSTER SHARDS` on `connection`, or on a new connection to
    /// the first seed or known node that answers (kept for the next read).
    async fn read(&self, connection: &mut Option<Box<dyn Stream>>) -> Result<Topology, Failure> {
        let seed = &self.seeds[0];
        let tls = seed.tls().is_some();
        if let Some(stream) = connection.as_mut() {
            match self.ask(stream, seed, tls).await {
                Ok(topology) => return Ok(topology),
                Err(Asked::Failed(why) | Asked::Refused(why)) => {
                    tracing::debug!(%why, "topology connection failed");
                    *connection = None;
                }
            }
        }
        let known = self.topology.borrow().clone();
        let nodes = known.nodes().filter_map(|node| node.address.clone());
        let candidates = self
            .seeds
            .iter()
            .cloned()
            .chain(nodes.map(|address| seed.with_endpoint(address)));
        let mut failures = Vec::new();
        let mut refused = false;
        for target in candidates {
            for login in redis::own_logins(&target, self.tokens.as_deref()) {
                let mut stream = match redis::open(&target, login.as_ref()).await {
                    Ok(stream) => stream,
                    Err(OpenError::Connect(error)) => {
                        failures.push(format!("{}: {error}", target.endpoint()));
                        break;
                    }
                    Err(OpenError::Login(error)) => {
                        failures.push(format!("{}: {error}", target.endpoint()));
                        refused = true;
                        continue;
                    }
                };
                match self.ask(&mut stream, &target, tls).await {
                    Ok(topology) => {
                        *connection = Some(stream);
                        return Ok(topology);
                    }
                    Err(Asked::Failed(why)) => {
                        failures.push(format!("{}: {why}", target.endpoint()))
                    }
                    Err(Asked::Refused(why)) => {
                        failures.push(format!("{}: {why}", target.endpoint()));
                        refused = true;
                    }
                }
            }
        }
        let why = format!(
            "no node gave its CLUSTER SHARDS ({}); the bridge asks as the --redis-user (else \
             each token's user), which needs `+cluster|shards`",
            failures.join("; ")
        );
        Err(Failure { why, refused })
    }

    async fn ask(
        &self,
        stream: &mut Box<dyn Stream>,
        target: &Target,
        tls: bool,
    ) -> Result<Topology, Asked> {
        let reply = redis::ask(stream, target.command_timeout(), &["CLUSTER", "SHARDS"])
            .await
            .map_err(|error| Asked::Failed(error.to_string()))?;
        if reply.is_error() {
            let answer = redis::describe(&reply);
            let why = format!("redis answered {answer}");
            return Err(match answer.starts_with("LOADING") {
                true => Asked::Failed(why),
                false => Asked::Refused(why),
            });
        }
        Topology::from_shards(&reply, tls).map_err(|error| Asked::Refused(error.to_string()))
    }
}
