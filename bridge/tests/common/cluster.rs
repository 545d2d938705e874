//! A real Redis Cluster for the tests: `redis-server --cluster-enabled yes`
//! nodes on free loopback ports, each in a directory of its own, formed
//! with `redis-cli --cluster create` and waited for until every node says
//! `cluster_state:ok` and gives the same slot map. Killed on drop.

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use resp::Frame;

use super::{RedisServer, TempDir, TIMEOUT};

/// Longest `redis-cli --cluster create` and the agreement may take.
const FORMING: Duration = Duration::from_secs(30);

/// One node: its server (killed on drop), its files and its id.
pub struct ClusterNode {
    pub redis: RedisServer,
    pub id: String,
    _dir: TempDir,
}

pub struct RedisCluster {
    pub nodes: Vec<ClusterNode>,
}

impl RedisCluster {
    /// `masters` masters with `replicas` replicas each.
    pub async fn start(masters: usize, replicas: usize) -> RedisCluster {
        let mut nodes = Vec::new();
        for _ in 0..masters * (1 + replicas) {
            let dir = TempDir::new(&[]);
            let path = dir.path.to_str().expect("UTF-8 temp path").to_owned();
            // Chosen, not Redis's `port + 10000`, which is past 65535 for a
            // fifth of the ephemeral ports.
            let bus = super::free_port().to_string();
            let redis = RedisServer::start_with(&[
                "--cluster-port",
                &bus,
                "--dir",
                &path,
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                "nodes.conf",
                "--cluster-node-timeout",
                "1000",
                "--enable-debug-command",
                "local",
            ]);
            nodes.push(ClusterNode {
                redis,
                id: String::new(),
                _dir: dir,
            });
        }
        let mut create = Command::new("redis-cli");
        create.arg("--cluster").arg("create");
        create.args(nodes.iter().map(|node| node.redis.addr.to_string()));
        create.args(["--cluster-replicas", &replicas.to_string(), "--cluster-yes"]);
        let mut child = create
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn redis-cli (is it installed and on PATH?)");
        let deadline = Instant::now() + FORMING;
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for redis-cli") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("redis-cli --cluster create did not finish");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert!(status.success(), "redis-cli --cluster create: {status}");
        let mut cluster = RedisCluster { nodes };
        for node in &mut cluster.nodes {
            node.id = text(&node.redis.call(&["CLUSTER", "MYID"]).await);
        }
        cluster.wait_until_agreed(FORMING).await;
        cluster
    }

    /// Every node's address, comma-separated, for `--redis-cluster`.
    pub fn seeds(&self) -> String {
        let addrs: Vec<_> = self
            .nodes
            .iter()
            .map(|n| n.redis.addr.to_string())
            .collect();
        addrs.join(",")
    }

    /// The master serving `slot`, by CLUSTER SHARDS of the first node.
    pub async fn master_of(&self, slot: u16) -> &ClusterNode {
        let reply = self.nodes[0].redis.call(&["CLUSTER", "SHARDS"]).await;
        let Frame::Array(shards) = reply else {
            panic!("CLUSTER SHARDS: {reply:?}")
        };
        for shard in shards {
            let Frame::Array(fields) = shard else {
                panic!("a shard")
            };
            let (Frame::Array(slots), Frame::Array(nodes)) = (&fields[1], &fields[3]) else {
                panic!("slots and nodes")
            };
            let owns = slots.chunks(2).any(|pair| match pair {
                [Frame::Integer(start), Frame::Integer(end)] => {
                    (*start..=*end).contains(&i64::from(slot))
                }
                _ => false,
            });
            if !owns {
                continue;
            }
            for node in nodes {
                let Frame::Array(fields) = node else {
                    panic!("a node")
                };
                let get = |key: &str| {
                    let at = fields
                        .iter()
                        .position(|f| *f == Frame::Bulk(key.to_owned().into()));
                    text(&fields[at.expect(key) + 1])
                };
                if get("role") == "master" {
                    let id = get("id");
                    return self.node(&id);
                }
            }
        }
        panic!("no master serves slot {slot}")
    }

    pub fn node(&self, id: &str) -> &ClusterNode {
        self.nodes
            .iter()
            .find(|node| node.id == id)
            .unwrap_or_else(|| panic!("no node {id}"))
    }

    pub fn node_at(&self, addr: SocketAddr) -> &ClusterNode {
        self.nodes
            .iter()
            .find(|node| node.redis.addr == addr)
            .expect("a node there")
    }

    /// Waits until every running node says `cluster_state:ok` and gives
    /// the same slot map (by CLUSTER SLOTS: the masters serving slots), and
    /// the first says no node is loading (the replicas synced).
    pub async fn wait_until_agreed(&self, limit: Duration) {
        let deadline = Instant::now() + limit.max(TIMEOUT);
        loop {
            let mut maps = Vec::new();
            let mut ok = true;
            let running: Vec<_> = self.nodes.iter().filter(|n| n.redis.is_running()).collect();
            for node in &running {
                let info = text(&node.redis.call(&["CLUSTER", "INFO"]).await);
                ok &= info.contains("cluster_state:ok");
                maps.push(masters_by_slots(
                    &node.redis.call(&["CLUSTER", "SLOTS"]).await,
                ));
            }
            // And every node reachable and done loading (replicas synced).
            let mut shards = Vec::new();
            resp::encode(
                &self.nodes[0].redis.call(&["CLUSTER", "SHARDS"]).await,
                &mut shards,
            );
            let settled = !shards
                .windows(7)
                .any(|w| w == b"loading" || w.starts_with(b"failed"));
            if ok && settled && maps.iter().all(|map| *map == maps[0]) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the nodes did not agree on the slot map"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Each slot range of a CLUSTER SLOTS reply with its master (the replicas
/// may come in another order from each node).
fn masters_by_slots(reply: &Frame) -> Vec<(Frame, Frame, Frame)> {
    let Frame::Array(ranges) = reply else {
        panic!("CLUSTER SLOTS: {reply:?}")
    };
    let mut map: Vec<_> = ranges
        .iter()
        .map(|range| match range {
            Frame::Array(items) => (items[0].clone(), items[1].clone(), items[2].clone()),
            other => panic!("a slot range: {other:?}"),
        })
        .collect();
    map.sort_by_key(|(start, _, _)| match start {
        Frame::Integer(start) => *start,
        _ => -1,
    });
    map
}

/// The text of a bulk or status reply.
pub fn text(frame: &Frame) -> String {
    match frame {
        Frame::Bulk(text) | Frame::Simple(text) => String::from_utf8_lossy(text).into_owned(),
        other => panic!("expected text, got {other:?}"),
    }
}
