//! Redis Cluster's key space: hash slots, and the map the bridge sends.
//!
//! A key lives in slot `CRC16(key) mod 16384`, where only the part between
//! the first `{` and the next `}` counts when it is not empty (a hash tag,
//! which puts related keys in one slot). The bridge's topology feed names
//! each node by an opaque id and never by its address (see the bridge's
//! cluster docs): a [`Topology`] is that feed's frame, read.

use resp::Frame;

pub const SLOTS: usize = 16384;

/// CRC16/XMODEM (polynomial 0x1021), as Redis Cluster computes it.
pub fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &byte in data {
        crc ^= u16::from(byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// The slot of `key`, hash tag included.
pub fn slot(key: &[u8]) -> u16 {
    let hashed = key
        .iter()
        .position(|&b| b == b'{')
        .and_then(|open| {
            let rest = &key[open + 1..];
            let close = rest.iter().position(|&b| b == b'}')?;
            (close > 0).then(|| &rest[..close])
        })
        .unwrap_or(key);
    crc16(hashed) % SLOTS as u16
}

/// One slot for all of `keys`, or the two that differ.
pub fn common_slot<'a>(
    keys: impl IntoIterator<Item = &'a [u8]>,
) -> Result<Option<u16>, (u16, u16)> {
    let mut common = None;
    for key in keys {
        let s = slot(key);
        match common {
            Some(c) if c != s => return Err((c, s)),
            _ => common = Some(s),
        }
    }
    Ok(common)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shard {
    /// Inclusive ranges.
    pub slots: Vec<(u16, u16)>,
    pub master: Option<String>,
    /// Whether the master's health is `online` (a failed one keeps its
    /// slots until a replica takes over).
    pub master_online: bool,
    /// The replicas that are online.
    pub replicas: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Topology {
    pub shards: Vec<Shard>,
}

impl Topology {
    /// Reads the feed's frame: an array of shards, each a flat list of
    /// `slots` (start, end, ...) and `nodes` (flat lists of `id`, `role`,
    /// `health`), as `CLUSTER SHARDS` in RESP2 without addresses.
    pub fn from_frame(frame: &Frame) -> Result<Topology, String> {
        let Frame::Array(shards) = frame else {
            return Err("the topology is not an array".into());
        };
        let shards = shards.iter().map(shard).collect::<Result<Vec<_>, _>>()?;
        Ok(Topology { shards })
    }

    /// Every node id the topology names, masters first.
    pub fn nodes(&self) -> impl Iterator<Item = &str> {
        let masters = self.shards.iter().filter_map(|s| s.master.as_deref());
        let replicas = self.shards.iter().flat_map(|s| s.replicas.iter());
        masters.chain(replicas.map(String::as_str))
    }
}

fn shard(frame: &Frame) -> Result<Shard, String> {
    let mut out = Shard {
        slots: Vec::new(),
        master: None,
        master_online: false,
        replicas: Vec::new(),
    };
    for (field, value) in pairs(frame)? {
        match field {
            b"slots" => {
                let Frame::Array(bounds) = value else {
                    return Err("a shard's slots are not an array".into());
                };
                for pair in bounds.chunks(2) {
                    match pair {
                        [Frame::Integer(start), Frame::Integer(end)]
                            if 0 <= *start && start <= end && *end < SLOTS as i64 =>
                        {
                            out.slots.push((*start as u16, *end as u16))
                        }
                        _ => return Err("a shard's slot range is not two slots".into()),
                    }
                }
            }
            b"nodes" => {
                let Frame::Array(nodes) = value else {
                    return Err("a shard's nodes are not an array".into());
                };
                for node in nodes {
                    let (mut id, mut role, mut health) = (None, None, None);
                    for (field, value) in pairs(node)? {
                        let text = text(value);
                        match field {
                            b"id" => id = text,
                            b"role" => role = text,
                            b"health" => health = text,
                            _ => {}
                        }
                    }
                    let id = id.ok_or("a node has no id")?;
                    match role.as_deref() {
                        Some("master") => {
                            out.master = Some(id);
                            out.master_online = health.as_deref() == Some("online");
                        }
                        _ if health.as_deref() == Some("online") => out.replicas.push(id),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

/// The field/value pairs of a flat list (or a RESP3 map).
fn pairs(frame: &Frame) -> Result<Vec<(&[u8], &Frame)>, String> {
    let list: Vec<(&Frame, &Frame)> = match frame {
        Frame::Array(items) if items.len() % 2 == 0 => {
            items.chunks(2).map(|p| (&p[0], &p[1])).collect()
        }
        Frame::Map(pairs) => pairs.iter().map(|(k, v)| (k, v)).collect(),
        _ => return Err("a topology entry is not a list of fields".into()),
    };
    list.into_iter()
        .map(|(k, v)| match k {
            Frame::Bulk(b) | Frame::Simple(b) => Ok((&b[..], v)),
            _ => Err("a topology field name is not a string".into()),
        })
        .collect()
}

fn text(frame: &Frame) -> Option<String> {
    match frame {
        Frame::Bulk(b) | Frame::Simple(b) => Some(String::from_utf8_lossy(b).into_owned()),
        _ => None,
    }
}

/// What a cluster error reply asks of the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redirect {
    /// The slot lives on `node` now: update the map and send it there.
    Moved { slot: u16, node: String },
    /// Send it once to `node`, after `ASKING` (a slot being migrated).
    Ask { slot: u16, node: String },
    /// Retry after a pause (TRYAGAIN, CLUSTERDOWN, a node the bridge does
    /// not know yet).
    Later,
}

impl Redirect {
    pub fn of(frame: &Frame) -> Option<Redirect> {
        let Frame::Error(message) = frame else {
            return None;
        };
        let mut words = message.split(|&b| b == b' ');
        let code = words.next()?;
        if code == b"TRYAGAIN" || code == b"CLUSTERDOWN" {
            return Some(Redirect::Later);
        }
        let slot = std::str::from_utf8(words.next()?).ok()?.parse().ok()?;
        let node = String::from_utf8(words.next()?.to_vec()).ok()?;
        match code {
            b"MOVED" => Some(Redirect::Moved { slot, node }),
            b"ASK" => Some(Redirect::Ask { slot, node }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use resp::Bytes;

    #[test]
    fn slots_are_redis_clusters() {
        // Values from the Redis Cluster specification and `CLUSTER KEYSLOT`.
        assert_eq!(crc16(b"123456789"), 0x31c3);
        assert_eq!(slot(b"foo"), 12182);
        assert_eq!(slot(b"bar"), 5061);
        assert_eq!(slot(b"{user1000}.following"), slot(b"user1000"));
        assert_eq!(
            slot(b"foo{}{bar}"),
            slot(b"foo{}{bar}"),
            "an empty tag hashes all"
        );
        assert_eq!(slot(b"foo{}{bar}"), crc16(b"foo{}{bar}") % 16384);
        assert_eq!(slot(b"foo{{bar}}zap"), slot(b"{bar"));
        assert_eq!(common_slot([&b"{a}1"[..], b"{a}2"]), Ok(Some(slot(b"a"))));
        assert!(common_slot([&b"foo"[..], b"bar"]).is_err());
        assert_eq!(common_slot([]), Ok(None));
    }

    fn bulk(s: &str) -> Frame {
        Frame::Bulk(Bytes::copy_from_slice(s.as_bytes()))
    }

    #[test]
    fn the_feed_frame_reads_as_shards() {
        use crate::core::cluster_tests::{node_frame, shard_frame};
        let frame = Frame::Array(vec![shard_frame(
            &[0, 5460],
            vec![
                node_frame("a", "master", "online"),
                node_frame("b", "replica", "online"),
                node_frame("c", "replica", "failed"),
            ],
        )]);
        let topology = Topology::from_frame(&frame).unwrap();
        assert_eq!(
            topology.shards,
            [Shard {
                slots: vec![(0, 5460)],
                master: Some("a".into()),
                master_online: true,
                replicas: vec!["b".into()],
            }]
        );
        assert!(Topology::from_frame(&bulk("x")).is_err());
        let bad = Frame::Array(vec![Frame::Array(vec![
            bulk("slots"),
            Frame::Array(vec![Frame::Integer(9), Frame::Integer(20000)]),
        ])]);
        assert!(Topology::from_frame(&bad).is_err());
    }

    #[test]
    fn cluster_errors_are_redirects() {
        let error = |s: &str| Frame::Error(Bytes::copy_from_slice(s.as_bytes()));
        assert_eq!(
            Redirect::of(&error("MOVED 3999 n1")),
            Some(Redirect::Moved {
                slot: 3999,
                node: "n1".into()
            })
        );
        assert_eq!(
            Redirect::of(&error("ASK 1 n2")),
            Some(Redirect::Ask {
                slot: 1,
                node: "n2".into()
            })
        );
        assert_eq!(
            Redirect::of(&error(
                "TRYAGAIN Multiple keys request during rehashing of slot"
            )),
            Some(Redirect::Later)
        );
        assert_eq!(
            Redirect::of(&error("CLUSTERDOWN The cluster is down")),
            Some(Redirect::Later)
        );
        assert_eq!(Redirect::of(&error("ERR MOVED")), None);
        assert_eq!(Redirect::of(&error("MOVED x n")), None);
        assert_eq!(Redirect::of(&bulk("MOVED 1 n")), None);
    }
}
