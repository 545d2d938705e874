//! A Redis Cluster's topology, read from `CLUSTER SHARDS`, and what the
//! browser may see of it.
//!
//! The bridge dials only addresses it read here, from Redis itself; the
//! browser names a node by its Redis node id (40 hex characters), never by
//! an address. So the browser's copy, [`Topology::feed`], holds each
//! shard's slots and each node's id, role and health, and no ip, port,
//! endpoint or hostname. MOVED and ASK replies name addresses: the relay
//! maps them back to ids with [`Topology::node_at`].
//!
//! Shards and their nodes are put in a fixed order (by first slot; the
//! master first, then by id), so that the feed does not change with the
//! node that answered, and a change in the feed is a change in the cluster.

use std::fmt;

use resp::Frame;

use crate::redis_url::Endpoint;

/// The number of hash slots of every Redis Cluster.
pub const SLOTS: u16 = 16384;

/// A node id: 40 lower-case hex characters, as Redis makes them.
pub fn is_node_id(text: &str) -> bool {
    text.len() == 40 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The cluster as one node described it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Topology {
    pub shards: Vec<Shard>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shard {
    /// Inclusive ranges of hash slots.
    pub slots: Vec<(u16, u16)>,
    pub nodes: Vec<Node>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub id: String,
    pub role: Role,
    pub health: Health,
    /// Where the bridge dials it: the address Redis advertises for
    /// clients (its `endpoint`, else its `ip`), with the port of the
    /// bridge's transport (`tls-port` over TLS). `None` when unknown.
    pub address: Option<Endpoint>,
    /// Every host name the topology gives the node (`endpoint`, `ip`,
    /// `hostname`) and its ports: what a MOVED or ASK may name it by.
    names: Vec<String>,
    ports: Vec<u16>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Master,
    Replica,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Online,
    Failed,
    Loading,
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Role::Master => "master",
            Role::Replica => "replica",
        }
    }
}

impl Health {
    fn as_str(self) -> &'static str {
        match self {
            Health::Online => "online",
            Health::Failed => "failed",
            Health::Loading => "loading",
        }
    }
}

/// Why a `CLUSTER SHARDS` reply was not taken.
#[derive(Debug, PartialEq, Eq)]
pub struct TopologyError(String);

impl fmt::Display for TopologyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not a CLUSTER SHARDS reply: {}", self.0)
    }
}

fn invalid<T>(what: impl Into<String>) -> Result<T, TopologyError> {
    Err(TopologyError(what.into()))
}

impl Topology {
    /// Reads a RESP2 `CLUSTER SHARDS` reply; `tls` picks the nodes'
    /// `tls-port` to dial rather than their `port`.
    pub fn from_shards(reply: &Frame, tls: bool) -> Result<Topology, TopologyError> {
        let Frame::Array(shards) = reply else {
            return invalid("not an array");
        };
        let mut shards = shards
            .iter()
            .map(|shard| Shard::parse(shard, tls))
            .collect::<Result<Vec<_>, _>>()?;
        shards.sort_by(|a, b| {
            let key = |shard: &Shard| {
                (
                    shard.slots.first().copied(),
                    shard.nodes.first().map(|n| n.id.clone()),
                )
            };
            // Shards without slots go last.
            (a.slots.is_empty(), key(a)).cmp(&(b.slots.is_empty(), key(b)))
        });
        Ok(Topology { shards })
    }

    pub fn nodes(&self) -> impl Iterator<Item = &Node> {
        self.shards.iter().flat_map(|shard| shard.nodes.iter())
    }

    /// The node with this id, if the cluster has it.
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes().find(|node| node.id == id)
    }

    /// The node a MOVED or ASK target `host:port` names, matched against
    /// the names and ports the topology gives.
    pub fn node_at(&self, address: &[u8]) -> Option<&Node> {
        let address = std::str::from_utf8(address).ok()?;
        let (host, port) = address.rsplit_once(':')?;
        let port: u16 = port.parse().ok()?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        self.nodes()
            .find(|node| node.ports.contains(&port) && node.names.iter().any(|name| name == host))
    }

    /// Whether every hash slot has a shard.
    pub fn covers_all_slots(&self) -> bool {
        let mut ranges: Vec<(u16, u16)> = self
            .shards
            .iter()
            .flat_map(|s| s.slots.iter().copied())
            .collect();
        ranges.sort_unstable();
        let mut next = 0u32;
        for (start, end) in ranges {
            if u32::from(start) > next {
                return false;
            }
            next = next.max(u32::from(end) + 1);
        }
        next == u32::from(SLOTS)
    }

    /// What the browser gets on `/ws/cluster`: one RESP2 frame, an array of
    /// shards shaped like `CLUSTER SHARDS` with only `slots` and `nodes`,
    /// each node only `id`, `role` and `health`.
    pub fn feed(&self) -> Vec<u8> {
        let bulk = |text: &str| Frame::Bulk(text.to_owned().into());
        let shards = self.shards.iter().map(|shard| {
            let slots = shard.slots.iter().flat_map(|&(start, end)| {
                [Frame::Integer(start.into()), Frame::Integer(end.into())]
            });
            let nodes = shard.nodes.iter().map(|node| {
                Frame::Array(vec![
                    bulk("id"),
                    bulk(&node.id),
                    bulk("role"),
                    bulk(node.role.as_str()),
                    bulk("health"),
                    bulk(node.health.as_str()),
                ])
            });
            Frame::Array(vec![
                bulk("slots"),
                Frame::Array(slots.collect()),
                bulk("nodes"),
                Frame::Array(nodes.collect()),
            ])
        });
        let mut out = Vec::new();
        resp::encode(&Frame::Array(shards.collect()), &mut out);
        out
    }
}

/// The fields of a flat key/value array, as (key, value) pairs.
fn fields(frame: &Frame, what: &str) -> Result<Vec<(String, Frame)>, TopologyError> {
    let Frame::Array(items) = frame else {
        return invalid(format!("a {what} is not an array"));
    };
    if items.len() % 2 != 0 {
        return invalid(format!("a {what} has an odd number of items"));
    }
    items
        .chunks(2)
        .map(|pair| match &pair[0] {
            Frame::Bulk(key) | Frame::Simple(key) => {
                Ok((String::from_utf8_lossy(key).into_owned(), pair[1].clone()))
            }
            _ => invalid(format!("a {what} key is not a string")),
        })
        .collect()
}

fn text(frame: &Frame) -> Option<String> {
    match frame {
        Frame::Bulk(text) | Frame::Simple(text) => String::from_utf8(text.to_vec()).ok(),
        _ => None,
    }
}

fn integer(frame: &Frame) -> Option<i64> {
    match frame {
        Frame::Integer(value) => Some(*value),
        _ => None,
    }
}

impl Shard {
    fn parse(frame: &Frame, tls: bool) -> Result<Shard, TopologyError> {
        let mut slots = None;
        let mut nodes = None;
        for (key, value) in fields(frame, "shard")? {
            match key.as_str() {
                "slots" => slots = Some(parse_slots(&value)?),
                "nodes" => {
                    let Frame::Array(list) = &value else {
                        return invalid("nodes is not an array");
                    };
                    nodes = Some(
                        list.iter()
                            .map(|node| Node::parse(node, tls))
                            .collect::<Result<Vec<_>, _>>()?,
                    );
                }
                _ => {}
            }
        }
        let (Some(slots), Some(mut nodes)) = (slots, nodes) else {
            return invalid("a shard lacks slots or nodes");
        };
        nodes.sort_by(|a, b| (a.role, &a.id).cmp(&(b.role, &b.id)));
        Ok(Shard { slots, nodes })
    }
}

fn parse_slots(frame: &Frame) -> Result<Vec<(u16, u16)>, TopologyError> {
    let Frame::Array(bounds) = frame else {
        return invalid("slots is not an array");
    };
    if bounds.len() % 2 != 0 {
        return invalid("slots has an odd number of bounds");
    }
    let slot = |frame: &Frame| {
        integer(frame)
            .and_then(|value| u16::try_from(value).ok())
            .filter(|&value| value < SLOTS)
    };
    bounds
        .chunks(2)
        .map(|pair| match (slot(&pair[0]), slot(&pair[1])) {
            (Some(start), Some(end)) if start <= end => Ok((start, end)),
            _ => invalid("a slot range is not two slots in order"),
        })
        .collect()
}

impl Node {
    fn parse(frame: &Frame, tls: bool) -> Result<Node, TopologyError> {
        let (mut id, mut role, mut health) = (None, None, None);
        let (mut endpoint, mut ip, mut hostname) = (None, None, None);
        let (mut port, mut tls_port) = (None, None);
        for (key, value) in fields(frame, "node")? {
            match key.as_str() {
                "id" => id = text(&value),
                "role" => role = text(&value),
                "health" => health = text(&value),
                "endpoint" => endpoint = text(&value),
                "ip" => ip = text(&value),
                "hostname" => hostname = text(&value),
                "port" => port = integer(&value).and_then(|p| u16::try_from(p).ok()),
                "tls-port" => tls_port = integer(&value).and_then(|p| u16::try_from(p).ok()),
                _ => {}
            }
        }
        let Some(id) = id.filter(|id| is_node_id(id)) else {
            return invalid("a node id is not 40 hex characters");
        };
        let role = match role.as_deref() {
            Some("master") => Role::Master,
            Some("replica") => Role::Replica,
            _ => return invalid(format!("node {id} has no role master or replica")),
        };
        // A state this bridge does not know is no state to send commands to.
        let health = match health.as_deref() {
            Some("online") => Health::Online,
            Some("loading") => Health::Loading,
            _ => Health::Failed,
        };
        // `?` or empty: Redis does not know the address (yet).
        let known =
            |name: &Option<String>| name.clone().filter(|name| !name.is_empty() && name != "?");
        let names: Vec<String> = [&endpoint, &ip, &hostname]
            .into_iter()
            .filter_map(known)
            .collect();
        let dial_port = if tls { tls_port } else { port }.filter(|&port| port != 0);
        let address = known(&endpoint)
            .or_else(|| known(&ip))
            .zip(dial_port)
            .map(|(host, port)| Endpoint::Tcp { host, port });
        let ports = [port, tls_port]
            .into_iter()
            .flatten()
            .filter(|&p| p != 0)
            .collect();
        Ok(Node {
            id,
            role,
            health,
            address,
            names,
            ports,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(text: &str) -> Frame {
        Frame::Bulk(text.to_owned().into())
    }

    fn node(id: char, port: i64, role: &str, health: &str) -> Frame {
        Frame::Array(vec![
            bulk("id"),
            bulk(&id.to_string().repeat(40)),
            bulk("port"),
            Frame::Integer(port),
            bulk("ip"),
            bulk("10.0.0.1"),
            bulk("endpoint"),
            bulk("10.0.0.1"),
            bulk("role"),
            bulk(role),
            bulk("replication-offset"),
            Frame::Integer(7),
            bulk("health"),
            bulk(health),
        ])
    }

    fn shard(slots: &[i64], nodes: Vec<Frame>) -> Frame {
        Frame::Array(vec![
            bulk("slots"),
            Frame::Array(slots.iter().map(|&s| Frame::Integer(s)).collect()),
            bulk("nodes"),
            Frame::Array(nodes),
        ])
    }

    fn two_shards() -> Frame {
        Frame::Array(vec![
            shard(&[8192, 16383], vec![node('b', 7001, "master", "online")]),
            shard(
                &[0, 8191],
                vec![
                    node('d', 7003, "replica", "loading"),
                    node('a', 7000, "master", "online"),
                ],
            ),
        ])
    }

    #[test]
    fn reads_shards_in_a_fixed_order_and_finds_nodes_by_address() {
        let topology = Topology::from_shards(&two_shards(), false).unwrap();
        assert_eq!(topology.shards[0].slots, [(0, 8191)]);
        let first: Vec<_> = topology.shards[0].nodes.iter().map(|n| n.role).collect();
        assert_eq!(first, [Role::Master, Role::Replica]);
        assert!(topology.covers_all_slots());
        let b = topology.node_at(b"10.0.0.1:7001").unwrap();
        assert_eq!(b.id, "b".repeat(40));
        assert_eq!(
            b.address,
            Some(Endpoint::Tcp {
                host: "10.0.0.1".into(),
                port: 7001
            })
        );
        assert!(topology.node_at(b"10.0.0.2:7001").is_none());
        assert!(topology.node_at(b"10.0.0.1:7009").is_none());
        assert!(topology.node(&"a".repeat(40)).is_some());
        assert!(topology.node(&"c".repeat(40)).is_none());
    }

    #[test]
    fn the_feed_names_no_address() {
        let topology = Topology::from_shards(&two_shards(), false).unwrap();
        let feed = topology.feed();
        let text = String::from_utf8(feed.clone()).unwrap();
        assert!(
            !text.contains("10.0.0.1") && !text.contains("7001"),
            "{text}"
        );
        let mut decoder = resp::Decoder::new();
        decoder.feed(&feed);
        let Some(Frame::Array(shards)) = decoder.decode().unwrap() else {
            panic!("one array")
        };
        assert_eq!(shards.len(), 2);
        let Frame::Array(first) = &shards[0] else {
            panic!("a shard")
        };
        assert_eq!(first[0], bulk("slots"));
        assert_eq!(
            first[1],
            Frame::Array(vec![Frame::Integer(0), Frame::Integer(8191)])
        );
        let Frame::Array(nodes) = &first[3] else {
            panic!("nodes")
        };
        let Frame::Array(master) = &nodes[0] else {
            panic!("a node")
        };
        assert_eq!(
            master,
            &[
                bulk("id"),
                bulk(&"a".repeat(40)),
                bulk("role"),
                bulk("master"),
                bulk("health"),
                bulk("online")
            ]
        );
    }

    #[test]
    fn refuses_what_is_not_a_topology() {
        let bad_id = Frame::Array(vec![shard(
            &[0, 16383],
            vec![node('x', 1, "master", "online")],
        )]);
        assert!(Topology::from_shards(&bad_id, false).is_err());
        let bad_slot = Frame::Array(vec![shard(&[0, 16384], vec![])]);
        assert!(Topology::from_shards(&bad_slot, false).is_err());
        assert!(Topology::from_shards(&Frame::Error("ERR no".into()), false).is_err());
        let gap = Frame::Array(vec![shard(&[0, 100], vec![]), shard(&[102, 16383], vec![])]);
        assert!(!Topology::from_shards(&gap, false)
            .unwrap()
            .covers_all_slots());
    }
}
