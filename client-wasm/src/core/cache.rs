//! Client-side caching: replies of read-only commands kept in the page and
//! dropped the moment Redis says one of their keys changed.
//!
//! Redis tracks the keys a connection reads (`CLIENT TRACKING ON`) and
//! pushes an `invalidate` message when one changes; over RESP3 the push
//! travels on the same socket as the replies, in order, so an entry is
//! dropped before any later reply of that socket resolves. What can still go
//! wrong is a read in flight when its key changes: its reply may predate the
//! change. Such a read is a [`Fill`] that is *spoiled* by the invalidation
//! and never stored. An entry is keyed by its whole command line and linked
//! to each of its keys; it lives until its key's TTL (fetched with `PTTL`
//! after the read), the configured maximum TTL, an eviction (least recently
//! used first, by entries and by bytes) or the socket's close.
//!
//! The cache stores frames, not JS values: every hit is converted afresh,
//! so a caller mutating what it got cannot change the next hit.

use std::collections::{BTreeMap, HashMap};

use resp::Frame;

use super::cmd::Cmd;
use super::command_info::{Flags, Tips};
use super::ids::IdMap;
use super::session::RequestId;

/// How Redis tells the client what changed (`CLIENT TRACKING` options).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackingMode {
    /// Redis remembers every key the connection reads.
    Default,
    /// Only reads preceded by `CLIENT CACHING YES` (the cached ones).
    OptIn,
    /// Every change to a key under one of the prefixes, read or not.
    Broadcast,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CacheConfig {
    pub max_entries: usize,
    pub max_bytes: usize,
    /// The longest an entry lives, whatever its key's TTL.
    pub ttl_ms: Option<f64>,
    pub mode: TrackingMode,
    pub prefixes: Vec<Vec<u8>>,
    /// Redis does not tell a connection of its own writes: the cache drops
    /// their keys itself when it sends them (it always does).
    pub noloop: bool,
    /// Command names (upper case, `OBJECT|ENCODING` for subcommands) that
    /// may be cached instead of every read-only command with keys.
    pub commands: Option<Vec<String>>,
}

impl CacheConfig {
    pub const DEFAULT_MAX_ENTRIES: usize = 10_000;
    pub const DEFAULT_MAX_BYTES: usize = 32 << 20;

    /// The `CLIENT TRACKING` line of the handshake.
    pub fn tracking_line(&self) -> Vec<Vec<u8>> {
        let mut line: Vec<Vec<u8>> = vec![b"CLIENT".into(), b"TRACKING".into(), b"ON".into()];
        match self.mode {
            TrackingMode::Default => {}
            TrackingMode::OptIn => line.push(b"OPTIN".into()),
            TrackingMode::Broadcast => {
                line.push(b"BCAST".into());
                for prefix in &self.prefixes {
                    line.push(b"PREFIX".into());
                    line.push(prefix.clone());
                }
            }
        }
        if self.noloop {
            line.push(b"NOLOOP".into());
        }
        line
    }
}

/// Reads with more keys than this are not cached (each key costs a `PTTL`).
pub const MAX_KEYS: usize = 32;

/// Read-only, but their reply changes with time or has side effects that
/// a hit would skip.
const NEVER: &[&str] = &[
    "TTL",
    "PTTL",
    "OBJECT|IDLETIME",
    "OBJECT|FREQ",
    "TOUCH",
    "MEMORY|USAGE",
    // Scripts and SORT ... BY/GET read keys their key specs do not name.
    "EVAL_RO",
    "EVALSHA_RO",
    "FCALL_RO",
    "SORT_RO",
];

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub hits: u64,
    pub misses: u64,
    /// Entries dropped because Redis (or one of our own writes) said a key
    /// changed, or a flush.
    pub invalidations: u64,
    /// Entries dropped for room or because they expired.
    pub evictions: u64,
    pub bytes: usize,
    pub entries: usize,
}

struct Entry {
    line: Box<[u8]>,
    keys: Vec<Box<[u8]>>,
    frame: Frame,
    bytes: usize,
    expires: f64,
    used: u64,
}

/// A read in flight whose reply may be stored.
struct Fill {
    line: Box<[u8]>,
    keys: Vec<Box<[u8]>>,
    frame: Option<Frame>,
    /// The smallest TTL of its keys so far, and how many `PTTL`s are due.
    ttl: Option<f64>,
    ttls_due: usize,
    spoiled: bool,
}

/// What a lookup found.
pub enum Lookup {
    Hit(Frame),
    /// Cacheable: read it from Redis and hand this to [`Cache::fill`].
    Miss(Read),
    /// Not a command the cache keeps.
    Skip,
}

/// A cacheable command's cache key and keys, worked out once by the lookup.
pub struct Read {
    line: Box<[u8]>,
    keys: Vec<Box<[u8]>>,
}

impl Read {
    /// The keys whose `PTTL`s follow the read.
    pub fn keys(&self) -> &[Box<[u8]>] {
        &self.keys
    }
}

pub struct Cache {
    config: CacheConfig,
    entries: IdMap<u64, Entry>,
    lines: HashMap<Box<[u8]>, u64>,
    by_key: HashMap<Box<[u8]>, Vec<u64>>,
    /// Entry ids by last use, oldest first.
    order: BTreeMap<u64, u64>,
    clock: u64,
    next_id: u64,
    fills: IdMap<RequestId, Fill>,
    stats: Stats,
}

impl Cache {
    pub fn new(config: CacheConfig) -> Cache {
        Cache {
            config,
            entries: IdMap::default(),
            lines: HashMap::new(),
            by_key: HashMap::new(),
            order: BTreeMap::new(),
            clock: 0,
            next_id: 1,
            fills: IdMap::default(),
            stats: Stats::default(),
        }
    }

    pub fn config(&self) -> &CacheConfig {
        &self.config
    }

    pub fn stats(&self) -> Stats {
        Stats {
            entries: self.entries.len(),
            ..self.stats
        }
    }

    /// `cmd`'s keys when its reply may be kept: a read-only, non-blocking
    /// command with keys and a deterministic reply (or one of `commands`),
    /// whose keys Redis will tell us about in this mode.
    fn cacheable_keys<'a>(&self, cmd: &'a Cmd) -> Option<Vec<&'a [u8]>> {
        let info = cmd.info()?;
        let allowed = match &self.config.commands {
            Some(names) => names.iter().any(|n| n == info.name),
            None => {
                info.flags.contains(Flags::READONLY)
                    && !info.flags.contains(Flags::BLOCKING)
                    && !info.tips.contains(Tips::NONDETERMINISTIC_OUTPUT)
                    && !NEVER.contains(&info.name)
            }
        };
        if !allowed || info.flags.contains(Flags::WRITE) {
            return None;
        }
        let keys = cmd.keys();
        let tracked = self.config.mode != TrackingMode::Broadcast
            || self.config.prefixes.is_empty()
            || keys
                .iter()
                .all(|k| self.config.prefixes.iter().any(|p| k.starts_with(p)));
        (!keys.is_empty() && keys.len() <= MAX_KEYS && tracked).then_some(keys)
    }

    /// The reply cached for `cmd`, if fresh and `may_hit`.
    pub fn lookup(&mut self, cmd: &Cmd, now: f64, may_hit: bool) -> Lookup {
        let Some(keys) = self.cacheable_keys(cmd) else {
            return Lookup::Skip;
        };
        let line = line_of(cmd);
        let found = self.lines.get(&*line).copied().filter(|_| may_hit);
        if let Some(id) = found {
            if let Some(frame) = self.touch(id, now) {
                self.stats.hits += 1;
                return Lookup::Hit(frame);
            }
            if self.remove(id) {
                self.stats.evictions += 1;
            }
        }
        self.stats.misses += 1;
        let keys = keys.into_iter().map(Box::from).collect();
        Lookup::Miss(Read { line, keys })
    }

    /// Entry `id`'s reply, marked used now, if it has not expired.
    fn touch(&mut self, id: u64, now: f64) -> Option<Frame> {
        let entry = self.entries.get_mut(&id).filter(|e| e.expires > now)?;
        self.clock += 1;
        self.order.remove(&entry.used);
        entry.used = self.clock;
        self.order.insert(self.clock, id);
        Some(entry.frame.clone())
    }

    /// Request `id` is the read a lookup missed; a `PTTL` of each of its
    /// keys follows it.
    pub fn fill(&mut self, id: RequestId, Read { line, keys }: Read) {
        self.fills.insert(
            id,
            Fill {
                line,
                ttls_due: keys.len(),
                keys,
                frame: None,
                ttl: None,
                spoiled: false,
            },
        );
    }

    pub fn is_filling(&self, id: RequestId) -> bool {
        self.fills.contains_key(&id)
    }

    /// The read's reply came; an error is not kept.
    pub fn replied(&mut self, id: RequestId, frame: &Frame, now: f64) {
        let Some(fill) = self.fills.get_mut(&id) else {
            return;
        };
        if frame.is_error() {
            self.fills.remove(&id);
            return;
        }
        fill.frame = Some(frame.clone());
        self.try_store(id, now);
    }

    /// One of the read's `PTTL` replies (or the error a helper got).
    pub fn ttl_replied(&mut self, id: RequestId, frame: &Frame, now: f64) {
        let Some(fill) = self.fills.get_mut(&id) else {
            return;
        };
        match frame {
            Frame::Integer(ms) => {
                fill.ttls_due = fill.ttls_due.saturating_sub(1);
                if *ms >= 0 {
                    let ms = *ms as f64;
                    fill.ttl = Some(fill.ttl.map_or(ms, |t: f64| t.min(ms)));
                }
            }
            Frame::Simple(_) => return,
            _ => fill.spoiled = true,
        }
        self.try_store(id, now);
    }

    /// The read will not complete (failed, aborted, timed out).
    pub fn forget(&mut self, id: RequestId) {
        self.fills.remove(&id);
    }

    fn try_store(&mut self, id: RequestId, now: f64) {
        let done = self
            .fills
            .get(&id)
            .is_some_and(|f| f.spoiled || (f.frame.is_some() && f.ttls_due == 0));
        if !done {
            return;
        }
        let Some(fill) = self.fills.remove(&id) else {
            return;
        };
        let (Some(frame), false) = (fill.frame, fill.spoiled) else {
            return;
        };
        let ttl = match (fill.ttl, self.config.ttl_ms) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if ttl.is_some_and(|t| t <= 0.0) {
            return;
        }
        let bytes = fill.line.len()
            + fill.keys.iter().map(|k| k.len() + 16).sum::<usize>()
            + frame_bytes(&frame)
            + 64;
        if bytes > self.config.max_bytes {
            return;
        }
        if let Some(&old) = self.lines.get(&fill.line) {
            self.remove(old);
        }
        self.clock += 1;
        let id = self.next_id;
        self.next_id += 1;
        for key in &fill.keys {
            self.by_key.entry(key.clone()).or_default().push(id);
        }
        self.lines.insert(fill.line.clone(), id);
        self.order.insert(self.clock, id);
        self.stats.bytes += bytes;
        self.entries.insert(
            id,
            Entry {
                line: fill.line,
                keys: fill.keys,
                frame,
                bytes,
                expires: ttl.map_or(f64::INFINITY, |t| now + t),
                used: self.clock,
            },
        );
        while self.entries.len() > self.config.max_entries
            || self.stats.bytes > self.config.max_bytes
        {
            let Some((_, oldest)) = self.order.pop_first() else {
                break;
            };
            self.remove(oldest);
            self.stats.evictions += 1;
        }
    }

    /// Redis (or our own write) says `keys` changed: their entries go, and
    /// reads of them in flight are not stored. Returns how many entries went.
    pub fn invalidate<K: AsRef<[u8]>>(&mut self, keys: &[K]) -> usize {
        for fill in self.fills.values_mut() {
            if fill
                .keys
                .iter()
                .any(|k| keys.iter().any(|c| c.as_ref() == &**k))
            {
                fill.spoiled = true;
            }
        }
        let mut dropped = 0;
        for key in keys {
            for id in self.by_key.remove(key.as_ref()).unwrap_or_default() {
                if self.remove(id) {
                    dropped += 1;
                }
            }
        }
        self.stats.invalidations += dropped as u64;
        dropped
    }

    /// Everything goes (a flush, a lost socket, another database): no read
    /// in flight is stored either.
    pub fn clear(&mut self) -> usize {
        for fill in self.fills.values_mut() {
            fill.spoiled = true;
        }
        let dropped = self.entries.len();
        self.entries.clear();
        self.lines.clear();
        self.by_key.clear();
        self.order.clear();
        self.stats.bytes = 0;
        dropped
    }

    /// A flush seen by Redis: counted as invalidations.
    pub fn flushed(&mut self) {
        let dropped = self.clear();
        self.stats.invalidations += dropped as u64;
    }

    fn remove(&mut self, id: u64) -> bool {
        let Some(entry) = self.entries.remove(&id) else {
            return false;
        };
        self.lines.remove(&entry.line);
        self.order.remove(&entry.used);
        for key in &entry.keys {
            if let Some(ids) = self.by_key.get_mut(key) {
                ids.retain(|&other| other != id);
                if ids.is_empty() {
                    self.by_key.remove(key);
                }
            }
        }
        self.stats.bytes -= entry.bytes;
        true
    }
}

/// The cache key of a command: its arguments as RESP, which no two
/// different lines share.
fn line_of(cmd: &Cmd) -> Box<[u8]> {
    let mut out = Vec::with_capacity(cmd.byte_len() + 8 * cmd.len() + 8);
    cmd.encode(&mut out);
    out.into()
}

/// About what a frame costs in memory.
fn frame_bytes(frame: &Frame) -> usize {
    32 + match frame {
        Frame::Simple(b) | Frame::Bulk(b) | Frame::Error(b) | Frame::BulkError(b) => b.len(),
        Frame::BigNumber(b) => b.len(),
        Frame::Verbatim { text, .. } => text.len() + 3,
        Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => {
            items.iter().map(frame_bytes).sum()
        }
        Frame::Map(pairs) => pairs
            .iter()
            .map(|(k, v)| frame_bytes(k) + frame_bytes(v))
            .sum(),
        Frame::Attributed { attributes, frame } => {
            frame_bytes(frame)
                + attributes
                    .iter()
                    .map(|(k, v)| frame_bytes(k) + frame_bytes(v))
                    .sum::<usize>()
        }
        _ => 0,
    }
}

/// The keys an `invalidate` push names (`Some(None)`: everything, a
/// flush), or `None` when the push is something else.
pub fn invalidation(frame: &Frame) -> Option<Option<Vec<resp::Bytes>>> {
    let Frame::Push(items) = frame else {
        return None;
    };
    let [Frame::Bulk(word) | Frame::Simple(word), keys] = items.as_slice() else {
        return None;
    };
    if word.as_ref() != b"invalidate" {
        return None;
    }
    match keys {
        Frame::Null => Some(None),
        Frame::Array(keys) | Frame::Set(keys) => Some(Some(
            keys.iter()
                .filter_map(|k| match k {
                    Frame::Bulk(k) | Frame::Simple(k) => Some(k.clone()),
                    _ => None,
                })
                .collect(),
        )),
        _ => None,
    }
}
