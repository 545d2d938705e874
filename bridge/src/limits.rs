//! Limits: how big, how many and how long, so that no browser, and no crowd
//! of them, can make the bridge use memory or sockets without end.
//!
//! | limit | default | when exceeded |
//! | --- | --- | --- |
//! | WebSocket message (and frame) size | 64 MiB | close 1009 |
//! | one command argument (bulk string) | 64 MiB | close 1009, at its header |
//! | nesting in a command | 1 (a flat array) | close 1008, at its header |
//! | open WebSockets | 1024 | handshake refused, 503 |
//! | open WebSockets per client address | 64 | handshake refused, 429 |
//! | connections not upgraded yet (TCP accepted, HTTP going on) | 512 | connection closed at accept |
//! | the same, per peer address (trusted proxies exempt) | 32 | connection closed at accept |
//! | TLS handshake + HTTP request headers | 10 s | connection closed |
//! | silence from the browser | 300 s | close 1001 "idle timeout" |
//! | a WebSocket's whole life | 24 h | close 1001 "session expired" |
//! | a send to the browser stuck | 300 s (the idle timeout) | close 1001 "not reading" |
//! | replies Redis owes one browser | about 1 MiB, plus one message's commands | the bridge stops reading the browser |
//!
//! Nesting has no flag: a command is one array of bulk strings, so any
//! nested header is refused as soon as it is read.
//!
//! Buffers are bounded both ways because each copy loop awaits its write
//! before it reads again (see `relay`). From the browser, the bridge holds
//! at most one WebSocket message, the argument being decoded and its
//! re-encoding; towards the browser, one 64 KiB read and the WebSocket's
//! write buffer. A browser that stops reading stalls its Redis socket.
//! Measured: with 100 MiB published to a subscriber that stopped reading
//! (and Redis' pub/sub limit lifted), the bridge's resident size stays at
//! its idle level, about 12 MiB for a debug build; `tests/limits.rs` holds
//! it under 32 MiB.
//!
//! What Redis holds for a browser is bounded too (see `backpressure`): the
//! bridge stops reading a browser while the replies Redis owes it come to
//! more than about 1 MiB, so that Redis holds about one round of replies
//! for a browser that reads slowly or not at all. Measured with a page
//! pipelining GETs of a 1 MiB value, four per message, without reading:
//! Redis' `omem` for it stays at about 1 MiB (`tests/backpressure.rs`
//! holds it under the budget, plus one message, plus the 16 commands let
//! through before the first reply shows its size: 21 MiB), and once the
//! page reads again every reply arrives. Pub/sub messages are pushed, not
//! owed, so a subscriber's backlog is bounded by Redis' own limits:
//! `client-output-buffer-limit pubsub` (by default it disconnects a
//! subscriber more than 32 MiB behind) and, for normal clients, limits that
//! Redis leaves off by default, which the bridge warns about at start.
//!
//! A client address is an IPv4 address or an IPv6 /64, the block one host
//! or one home is usually given: counting IPv6 addresses one by one would
//! let one host take every slot. Behind a `--trusted-proxy` the per-address
//! WebSocket limit counts the client the proxy names (see `proxy`); the
//! limit on connections not upgraded yet counts TCP peers, before any header
//! is read, so it leaves trusted proxies to the total.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// Default `--max-message-size`.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 64 << 20;
/// The largest WebSocket message the redis-wasm client sends (it splits a
/// larger write): a `--max-message-size` below it is warned about.
pub const CLIENT_MESSAGE_SIZE: usize = 2 << 20;
/// Default `--max-bulk-len`.
pub const DEFAULT_MAX_BULK_LEN: usize = 64 << 20;
/// Default `--max-connections`.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
/// Default `--max-connections-per-ip`.
pub const DEFAULT_MAX_CONNECTIONS_PER_IP: usize = 64;
/// Default `--max-handshakes`.
pub const DEFAULT_MAX_HANDSHAKES: usize = 512;
/// Default `--max-handshakes-per-ip`.
pub const DEFAULT_MAX_HANDSHAKES_PER_IP: usize = 32;
/// Default `--handshake-timeout`.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Default `--idle-timeout`.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(300);
/// Default `--max-session`.
pub const DEFAULT_MAX_SESSION: Duration = Duration::from_secs(24 * 3600);

/// The limits in force.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest WebSocket message or frame accepted from a browser, in bytes.
    pub max_message_size: usize,
    /// Largest command argument accepted from a browser, in bytes.
    pub max_bulk_len: usize,
    /// Most WebSockets open at once.
    pub max_connections: usize,
    /// Most WebSockets open at once from one client address.
    pub max_connections_per_ip: usize,
    /// Most connections accepted and not upgraded yet, at once.
    pub max_handshakes: usize,
    /// The same from one peer address, trusted proxies aside.
    pub max_handshakes_per_ip: usize,
    /// Time from TCP accept to the end of the request headers (TLS included).
    pub handshake_timeout: Duration,
    /// Silence from the browser after which the WebSocket closes; the bridge
    /// pings every half of it. Zero disables both.
    pub idle_timeout: Duration,
    /// Longest a WebSocket stays open. Zero: no limit.
    pub max_session: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            max_bulk_len: DEFAULT_MAX_BULK_LEN,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_connections_per_ip: DEFAULT_MAX_CONNECTIONS_PER_IP,
            max_handshakes: DEFAULT_MAX_HANDSHAKES,
            max_handshakes_per_ip: DEFAULT_MAX_HANDSHAKES_PER_IP,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            max_session: DEFAULT_MAX_SESSION,
        }
    }
}

/// What per-address limits count: an IPv4 address, or an IPv6 /64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientKey(IpAddr);

impl From<IpAddr> for ClientKey {
    fn from(ip: IpAddr) -> Self {
        // An IPv4 client of a dual-stack listener is one client, whichever
        // form its address arrives in.
        match ip.to_canonical() {
            IpAddr::V6(ip) => {
                let network = u128::from(ip) & !u128::from(u64::MAX);
                ClientKey(IpAddr::V6(Ipv6Addr::from(network)))
            }
            v4 => ClientKey(v4),
        }
    }
}

/// Counts connections, in total and per client address.
#[derive(Debug)]
pub struct Connections {
    max_total: usize,
    max_per_ip: usize,
    counts: Mutex<Counts>,
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    per_ip: HashMap<ClientKey, usize>,
}

/// Which limit a refused connection hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    /// The total.
    Total,
    /// The one per client address.
    PerIp,
}

/// One connection's place in the counts, given back on drop.
#[derive(Debug)]
pub struct Slot {
    connections: Arc<Connections>,
    key: Option<ClientKey>,
}

impl Connections {
    pub fn new(max_total: usize, max_per_ip: usize) -> Arc<Self> {
        Arc::new(Connections {
            max_total,
            max_per_ip,
            counts: Mutex::default(),
        })
    }

    /// Takes a slot for a connection from `ip`, if both limits allow.
    pub fn acquire(self: &Arc<Self>, ip: IpAddr) -> Result<Slot, Full> {
        self.take(Some(ClientKey::from(ip)))
    }

    /// Takes a slot counted in the total only.
    pub fn acquire_in_total(self: &Arc<Self>) -> Result<Slot, Full> {
        self.take(None)
    }

    fn take(self: &Arc<Self>, key: Option<ClientKey>) -> Result<Slot, Full> {
        let mut counts = self.lock();
        if counts.total >= self.max_total {
            return Err(Full::Total);
        }
        if let Some(key) = key {
            let per_ip = counts.per_ip.entry(key).or_default();
            if *per_ip >= self.max_per_ip {
                return Err(Full::PerIp);
            }
            *per_ip += 1;
        }
        counts.total += 1;
        Ok(Slot {
            connections: Arc::clone(self),
            key,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Counts> {
        // The counts stay consistent even if a holder panicked.
        self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.connections.lock();
        counts.total -= 1;
        if let Some(key) = self.key {
            if let Some(per_ip) = counts.per_ip.get_mut(&key) {
                *per_ip -= 1;
                if *per_ip == 0 {
                    counts.per_ip.remove(&key);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_count_in_total_and_per_ip() {
        let connections = Connections::new(3, 2);
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        let first = connections.acquire(a).unwrap();
        let _second = connections.acquire(a).unwrap();
        assert_eq!(connections.acquire(a).unwrap_err(), Full::PerIp);
        // The IPv4-mapped IPv6 form is the same client.
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(connections.acquire(mapped).unwrap_err(), Full::PerIp);
        let _third = connections.acquire(b).unwrap();
        assert_eq!(connections.acquire(b).unwrap_err(), Full::Total);
        drop(first);
        let _again = connections.acquire(a).unwrap();
    }

    #[test]
    fn ipv6_counts_by_64_and_the_total_counts_all() {
        let connections = Connections::new(4, 2);
        let ip = |text: &str| text.parse::<IpAddr>().unwrap();
        let _a = connections.acquire(ip("2001:db8::1")).unwrap();
        let _b = connections.acquire(ip("2001:db8::ffff:1")).unwrap();
        assert_eq!(
            connections.acquire(ip("2001:db8::2")).unwrap_err(),
            Full::PerIp
        );
        let _c = connections.acquire(ip("2001:db8:0:1::1")).unwrap();
        let _d = connections.acquire_in_total().unwrap();
        assert_eq!(connections.acquire_in_total().unwrap_err(), Full::Total);
    }
}
