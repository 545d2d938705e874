//! Redis Cluster: a router over one [`Pool`] per node.
//!
//! The bridge tells the topology on a socket of its own (session 0, path
//! `/cluster`): shards with their slots and the opaque ids of their nodes.
//! Each node gets a pool of its own (sessions `1 + node * per_node + i`,
//! path `/node/<id>`), created when the topology first names it. A command
//! goes to the master of its keys' slot (a replica for reads, if
//! `readFrom` says so); keys in two slots are refused before anything is
//! sent; a keyless command goes to the masters in turn.
//!
//! The router owns the redirects: MOVED updates the slot map and sends the
//! command where it points; ASK sends it once after `ASKING` to the named
//! node; TRYAGAIN and CLUSTERDOWN (and a node the bridge does not know yet)
//! retry after a pause; each costs one of 16 redirections. A command for a
//! node that is not connected waits (bounded, like the offline queue) while
//! the router asks the bridge for a fresh topology: after a failover, the
//! map moves the slot to the promoted replica and the command goes there.
//! Only commands already sent to a node that fails, fail (with
//! `ConnectionLostError`: they may have run).
//!
//! A transaction binds to the slot of its first keyed command (or of its
//! WATCH); until then its commands wait in the router. Scripts route by
//! their keys. Pub/sub lives on one node (Redis Cluster delivers PUBLISH to
//! every node).

use std::collections::VecDeque;

use bytes::BytesMut;
use resp::{Bytes, Decoder, Frame};

use super::backoff::{self, Rng};
use super::cache;
use super::cmd::{Channels, Cmd, Role};
use super::command_info::Flags;
use super::error::number_text;
use super::host::Core;
use super::ids::IdMap;
use super::keys;
use super::pipeline::Outcome;
use super::pool::{Config, Mode, Pool, QueueLimits, DEFAULT_OFFLINE_QUEUE};
use super::session::{Event, Output, RequestId, TxId};
use super::slots::{self, Redirect, Topology, SLOTS};
use super::small_map::SmallMap;
use super::ClientError;

/// Where read-only commands may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadFrom {
    Master,
    Replica,
    Any,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClusterConfig {
    /// Each node pool's configuration.
    pub pool: Config,
    pub per_node: usize,
    pub read_from: ReadFrom,
}

/// Redirections one command may follow before it fails.
pub const MAX_REDIRECTS: u8 = 16;
/// The pause before a TRYAGAIN or CLUSTERDOWN is retried.
pub const RETRY_MS: f64 = 100.0;
/// The bridge refreshes at most this often; asking more is pointless.
pub const REFRESH_MS: f64 = 100.0;
/// How long a command waits for a node of its slot when no
/// `connectTimeout` says otherwise.
pub const WAIT_MS: f64 = 10_000.0;

/// Sockets a node's pool may add for blocking calls, transactions and
/// subscriptions beyond `per_node`.
pub const MAX_EXTRA_SOCKETS: usize = 16;

const FEED: usize = 0;
const NONE: u32 = u32::MAX;

/// What a host session stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Host {
    Feed,
    /// A node pool's session.
    Node(usize, usize),
    /// A subscription: its node sessions deliver under this one.
    Subscription,
    /// A session of a node pool that was replaced.
    Retired,
}

/// A subscription's sockets: one for channels and patterns, one per node
/// of its sharded channels.
struct Sub {
    owner: u32,
    plain: (usize, usize),
    shards: SmallMap<usize, usize>,
}

struct Node {
    id: String,
    pool: Pool,
    /// No longer in the topology: its pool is closed.
    gone: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum FeedState {
    Dialing,
    Open,
    Backoff { until: f64 },
    Closed,
}

/// The topology socket: RESP frames from the bridge, one per topology.
struct Feed {
    state: FeedState,
    generation: u32,
    attempt: u32,
    decoder: Decoder,
    /// When the first attempt began (the first connection gives up after
    /// `connectTimeout`).
    started_at: f64,
    /// A refresh request to send; when the last was sent.
    ask: bool,
    asked_at: f64,
}

/// A command the router holds until its last outcome.
struct Routed {
    cmd: Cmd,
    fallback: Option<Cmd>,
    slot: Option<u16>,
    /// Read-only: may go to a replica.
    read: bool,
    /// An ASK redirect's node, for the next send only.
    asking: Option<usize>,
    redirects: u8,
    /// Waiting for a node since then.
    waiting_since: Option<f64>,
    /// A subscription's command: for this node session only.
    on: Option<(usize, usize)>,
    /// Sent to this node, whatever its slot (`cluster.node(id)`).
    node: Option<usize>,
}

/// What an id of a node pool stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Inner {
    Request(RequestId),
    /// The MULTI of a transaction bound to this node.
    TxBegin(TxId),
    /// A command queued in a transaction (completes at EXEC).
    Queued(RequestId),
}

struct Tx {
    slot: Option<u16>,
    /// The node and the node pool's transaction, once bound.
    bound: Option<(usize, TxId)>,
    /// Until the node's MULTI is answered: the commands (and EXEC or
    /// DISCARD) to queue there, in order.
    waiting: Vec<(RequestId, TxStep)>,
    begun: bool,
    owner: u32,
}

enum TxStep {
    Queue(Cmd),
    End(bool),
}

pub struct Cluster {
    config: ClusterConfig,
    limits: QueueLimits,
    rng: Rng,
    seed: u64,
    feed: Feed,
    /// Slot → node index (`NONE` until the topology names one).
    owners: Vec<u32>,
    /// The feed's last topology.
    topology: Option<Topology>,
    /// Each master's online replicas, by node index.
    replicas: SmallMap<usize, Vec<usize>>,
    masters: Vec<usize>,
    /// The masters whose health is online.
    online: Vec<usize>,
    nodes: Vec<Node>,
    by_id: SmallMap<String, usize>,
    /// Host sessions, by number (0 is the feed).
    hosts: Vec<Host>,
    host_of: SmallMap<(usize, usize), usize>,
    subs: SmallMap<usize, Sub>,
    /// Node sessions of subscriptions: their pushes, and the lease each
    /// takes once ready.
    sub_of: SmallMap<(usize, usize), (usize, u32)>,
    requests: IdMap<RequestId, Routed>,
    inner: IdMap<(usize, RequestId), Inner>,
    waiting: VecDeque<RequestId>,
    later: Vec<(f64, RequestId)>,
    txs: IdMap<TxId, Tx>,
    next_id: RequestId,
    next_tx: TxId,
    turn: usize,
    /// Whether `ready` was told (the topology came and each master was ready).
    opened: bool,
    closed: bool,
    now: f64,
    out: Vec<Output>,
}

impl Cluster {
    pub fn new(config: ClusterConfig, seed: u64) -> Cluster {
        let limits = config.pool.offline_queue.unwrap_or(DEFAULT_OFFLINE_QUEUE);
        Cluster {
            config,
            limits,
            rng: Rng::new(seed),
            seed,
            feed: Feed {
                state: FeedState::Closed,
                generation: 0,
                attempt: 0,
                decoder: Decoder::new(),
                started_at: 0.0,
                ask: false,
                asked_at: f64::NEG_INFINITY,
            },
            owners: vec![NONE; SLOTS],
            topology: None,
            replicas: SmallMap::default(),
            masters: Vec::new(),
            online: Vec::new(),
            nodes: Vec::new(),
            by_id: SmallMap::default(),
            hosts: vec![Host::Feed],
            host_of: SmallMap::default(),
            subs: SmallMap::default(),
            sub_of: SmallMap::default(),
            requests: IdMap::default(),
            inner: IdMap::default(),
            waiting: VecDeque::new(),
            later: Vec::new(),
            txs: IdMap::default(),
            next_id: 1,
            next_tx: 1,
            turn: 0,
            opened: false,
            closed: false,
            now: 0.0,
            out: Vec::new(),
        }
    }

    /// The node index serving `slot` now.
    pub fn owner(&self, slot: u16) -> Option<usize> {
        let owner = self.owners[slot as usize];
        (owner != NONE).then_some(owner as usize)
    }

    /// Whether node `n` has a socket ready.
    fn connected(&self, n: usize) -> bool {
        let pool = &self.nodes[n].pool;
        (0..pool.size()).any(|i| pool.is_connected(i))
    }

    fn per_node(&self) -> usize {
        self.config.per_node.max(1)
    }

    /// The host session of a node pool's session (numbered when first
    /// seen).
    fn global(&mut self, node: usize, session: usize) -> usize {
        if let Some(&g) = self.host_of.get(&(node, session)) {
            return g;
        }
        self.hosts.push(Host::Node(node, session));
        let g = self.hosts.len() - 1;
        self.host_of.insert((node, session), g);
        g
    }

    /// The node pool and its session behind a host session.
    fn local(&self, session: usize) -> Option<(usize, usize)> {
        match self.hosts.get(session) {
            Some(&Host::Node(n, s)) => Some((n, s)),
            _ => None,
        }
    }

    /// A new socket on node `n`, unless it has all it may have.
    fn grow(&mut self, n: usize) -> Option<usize> {
        let limit = self.per_node() + MAX_EXTRA_SOCKETS;
        let pool = &mut self.nodes[n].pool;
        if pool.size() >= limit {
            return None;
        }
        let local = pool.add_session(self.now);
        self.collect(n);
        Some(local)
    }

    fn dial_feed(&mut self) {
        self.feed.generation += 1;
        self.feed.state = FeedState::Dialing;
        self.feed.decoder = Decoder::new();
        self.out.push(Output::Dial {
            session: FEED,
            generation: self.feed.generation,
        });
    }

    /// Asks the bridge for a fresh topology (at most once per
    /// [`REFRESH_MS`]).
    fn want_topology(&mut self) {
        self.feed.ask = true;
    }

    /// The node for `id`, with a pool dialling it from now on.
    fn node(&mut self, id: &str, replica: bool) -> usize {
        let node = match self.by_id.get(id) {
            Some(&n) if !self.nodes[n].gone => return n,
            // Named again: a fresh pool (the old one's sessions ended), on
            // host sessions of its own, so that a late event of an old
            // socket cannot reach a new one.
            Some(&n) => {
                self.retire_hosts(n);
                self.nodes[n] = self.fresh_node(id, replica);
                n
            }
            None => {
                let fresh = self.fresh_node(id, replica);
                self.nodes.push(fresh);
                self.by_id.insert(id.to_owned(), self.nodes.len() - 1);
                self.nodes.len() - 1
            }
        };
        self.nodes[node].pool.start(self.now);
        self.collect(node);
        node
    }

    /// Node `n`'s host sessions stand for nothing any more.
    fn retire_hosts(&mut self, n: usize) {
        let hosts = &mut self.hosts;
        self.host_of.retain(|&(node, _), &mut g| {
            if node == n {
                hosts[g] = Host::Retired;
            }
            node != n
        });
        self.sub_of.retain(|&(node, _), _| node != n);
    }

    fn fresh_node(&mut self, id: &str, replica: bool) -> Node {
        let mut config = self.config.pool.clone();
        // The router waits for nodes itself (see `wait`).
        config.offline_queue = None;
        config.remembered.readonly = replica;
        self.seed = self.seed.wrapping_add(0x9e37_79b9);
        Node {
            id: id.to_owned(),
            pool: Pool::new(config, self.per_node(), Mode::Pool, self.seed),
            gone: false,
        }
    }

    /// A new topology: the slot map, pools for new nodes, closed pools for
    /// nodes it no longer names; then what waited goes where it now can.
    fn apply(&mut self, topology: Topology) {
        let read_replicas = self.config.read_from != ReadFrom::Master;
        let mut owners = vec![NONE; SLOTS];
        let mut masters = Vec::new();
        let mut replicas = SmallMap::default();
        // A failed master that lost its slots to a replica stays listed, in a
        // shard of its own without slots: it serves nothing.
        let mut online = Vec::new();
        for shard in topology.shards.iter().filter(|s| !s.slots.is_empty()) {
            let Some(master) = &shard.master else {
                continue;
            };
            let m = self.node(master, false);
            masters.push(m);
            if shard.master_online {
                online.push(m);
            }
            for &(start, end) in &shard.slots {
                owners[start as usize..=end as usize].fill(m as u32);
            }
            if read_replicas {
                let of: Vec<usize> = shard.replicas.iter().map(|r| self.node(r, true)).collect();
                replicas.insert(m, of);
            }
        }
        let named: Vec<usize> = masters
            .iter()
            .chain(replicas.values().flatten())
            .copied()
            .collect();
        for n in 0..self.nodes.len() {
            if !named.contains(&n) && !self.nodes[n].gone {
                self.nodes[n].gone = true;
                self.nodes[n].pool.close();
                self.collect(n);
            }
        }
        self.owners = owners;
        self.masters = masters;
        self.online = online;
        self.topology = Some(topology);
        self.replicas = replicas;
        self.check_opened();
        self.retry_waiting();
    }

    /// `ready` once the topology came and every online master was ready
    /// once (commands for a failed one wait for its failover).
    fn check_opened(&mut self) {
        if self.opened || self.masters.is_empty() {
            return;
        }
        let ready = self.online.iter().all(|&m| self.connected(m));
        if ready {
            self.opened = true;
            self.out.push(Output::Event(Event::Ready { session: FEED }));
        }
    }

    /// Carries out a node pool's outputs, in the host's terms.
    fn collect(&mut self, n: usize) {
        let outputs = self.nodes[n].pool.take_outputs();
        for output in outputs {
            match output {
                Output::Dial {
                    session,
                    generation,
                } => {
                    let session = self.global(n, session);
                    self.out.push(Output::Dial {
                        session,
                        generation,
                    })
                }
                Output::Close {
                    session,
                    generation,
                    code,
                    reason,
                } => {
                    let session = self.global(n, session);
                    self.out.push(Output::Close {
                        session,
                        generation,
                        code,
                        reason,
                    })
                }
                Output::Push { session, frame } => {
                    let session = match self.sub_of.get(&(n, session)) {
                        Some(&(sub, _)) => sub,
                        None => self.global(n, session),
                    };
                    self.out.push(Output::Push { session, frame })
                }
                Output::Event(event) => self.node_event(n, event),
                Output::Completion(id, outcome) => self.completed(n, id, outcome),
            }
        }
    }

    fn node_event(&mut self, n: usize, event: Event) {
        let session = match &event {
            Event::Connect { session }
            | Event::Ready { session }
            | Event::Reconnecting { session, .. }
            | Event::Error { session, .. }
            | Event::Close { session, .. }
            | Event::Invalidate { session, .. }
            | Event::End { session, .. } => *session,
        };
        let host = self.global(n, session);
        let g = |_: usize| host;
        let event = match event {
            Event::Ready { session } => {
                // A subscription's socket is its own from the start.
                if let Some(&(_, owner)) = self.sub_of.get(&(n, session)) {
                    self.nodes[n].pool.lease_session(session, owner);
                }
                self.out.push(Output::Event(Event::Ready {
                    session: g(session),
                }));
                self.check_opened();
                return self.retry_waiting();
            }
            Event::Connect { session } => Event::Connect {
                session: g(session),
            },
            Event::Reconnecting {
                session,
                attempt,
                delay,
            } => {
                // A node that dropped: maybe it failed over.
                self.want_topology();
                Event::Reconnecting {
                    session: g(session),
                    attempt,
                    delay,
                }
            }
            Event::Error { session, error } => Event::Error {
                session: g(session),
                error,
            },
            Event::Close {
                session,
                code,
                reason,
            } => Event::Close {
                session: g(session),
                code,
                reason,
            },
            Event::Invalidate { session, keys } => Event::Invalidate {
                session: g(session),
                keys,
            },
            Event::End { session, cause } => Event::End {
                session: g(session),
                cause,
            },
        };
        self.out.push(Output::Event(event));
    }

    // Routing.

    fn new_id(&mut self) -> RequestId {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// The slot of `cmd`'s keys (channels for sharded pub/sub), or a
    /// `CrossSlotError`-worthy refusal.
    fn slot_of(cmd: &Cmd) -> Result<Option<u16>, ClientError> {
        let Some(info) = cmd.info() else {
            return Ok(None);
        };
        let args: Vec<&[u8]> = cmd.args().collect();
        let keys = keys::routing_keys(info, &args).map(|i| args[i]);
        slots::common_slot(keys).map_err(|(a, b)| {
            ClientError::CrossSlot(format!(
                "{}: its keys are in different slots ({a} and {b}); a cluster runs a command on one slot (use a {{hash tag}} to put keys in one)",
                cmd.name()
            ))
        })
    }

    /// The node `r` goes to now, if the topology names one.
    fn target(&mut self, r: &Routed) -> Option<usize> {
        if let Some(node) = r.asking.or(r.node) {
            return Some(node);
        }
        let master = match r.slot {
            Some(slot) => self.owner(slot)?,
            None => {
                let live: Vec<usize> = self.masters.clone();
                if live.is_empty() {
                    return None;
                }
                self.turn = self.turn.wrapping_add(1);
                // A keyless command: a connected master, in turn.
                let ready: Vec<usize> = live
                    .iter()
                    .filter(|&&m| self.connected(m))
                    .copied()
                    .collect();
                let from = if ready.is_empty() { &live } else { &ready };
                from[self.turn % from.len()]
            }
        };
        if !r.read || self.config.read_from == ReadFrom::Master {
            return Some(master);
        }
        let replicas = self.replicas.get(&master).cloned().unwrap_or_default();
        let mut choices: Vec<usize> = replicas
            .into_iter()
            .filter(|&n| self.connected(n))
            .collect();
        if self.config.read_from == ReadFrom::Any || choices.is_empty() {
            choices.push(master);
        }
        self.turn = self.turn.wrapping_add(1);
        Some(choices[self.turn % choices.len()])
    }

    /// Sends request `id` where it goes now, or lets it wait for a node.
    fn dispatch(&mut self, id: RequestId) {
        let Some(r) = self.requests.remove(&id) else {
            return;
        };
        let Some(n) = r.on.map(|(n, _)| n).or_else(|| self.target(&r)) else {
            self.requests.insert(id, r);
            return self.wait(id);
        };
        let now = self.now;
        let pool = &mut self.nodes[n].pool;
        let sent = match (r.on, r.asking) {
            (Some((_, local)), _) => pool.request_on(local, r.cmd.clone()),
            (None, Some(_)) => pool.request_asking(r.cmd.clone(), r.fallback.clone(), now),
            (None, None) => match &r.fallback {
                Some(eval) => pool.request_script(r.cmd.clone(), eval.clone(), now),
                None => pool.request(r.cmd.clone(), now),
            },
        };
        let ready = match r.on {
            Some((_, local)) => pool.is_connected(local),
            None => self.connected(n),
        };
        let mut r = r;
        r.asking = None;
        match sent {
            Ok(inner) => {
                r.waiting_since = None;
                self.requests.insert(id, r);
                self.inner.insert((n, inner), Inner::Request(id));
                self.collect(n);
            }
            // A node reconnecting (or failed, until the topology says so).
            Err(_) if !self.closed && !ready => {
                self.requests.insert(id, r);
                self.want_topology();
                self.wait(id);
            }
            // Every socket of the node is held (blocking calls,
            // transactions): one more, and the command waits for it.
            Err(ClientError::NoAvailableConnections(why)) if r.on.is_none() => match self.grow(n) {
                Some(_) => {
                    self.requests.insert(id, r);
                    self.wait(id);
                }
                None => {
                    let why = ClientError::NoAvailableConnections(why);
                    self.out.push(Output::Completion(id, Outcome::Failed(why)));
                }
            },
            Err(why) => self.out.push(Output::Completion(id, Outcome::Failed(why))),
        }
    }

    /// Lets request `id` wait for a node of its slot, within the queue's
    /// bounds and [`WAIT_MS`] (or `connectTimeout`).
    fn wait(&mut self, id: RequestId) {
        let bytes: usize = self
            .waiting
            .iter()
            .filter_map(|w| self.requests.get(w))
            .map(|w| w.cmd.byte_len())
            .sum();
        let Some(r) = self.requests.get_mut(&id) else {
            return;
        };
        if r.waiting_since.is_none() {
            if self.waiting.len() >= self.limits.commands
                || bytes + r.cmd.byte_len() > self.limits.bytes
            {
                self.requests.remove(&id);
                let why = ClientError::NotConnected(format!(
                    "no node of the cluster serves it now, and the queue of commands waiting for one is full ({} commands, {} bytes at most)",
                    self.limits.commands, self.limits.bytes
                ));
                return self.out.push(Output::Completion(id, Outcome::Failed(why)));
            }
            r.waiting_since = Some(self.now);
        }
        if !self.waiting.contains(&id) {
            self.waiting.push_back(id);
        }
    }

    fn wait_ms(&self) -> f64 {
        self.config
            .pool
            .settings
            .connect_timeout_ms
            .unwrap_or(WAIT_MS)
    }

    fn retry_waiting(&mut self) {
        let waiting: Vec<RequestId> = self.waiting.drain(..).collect();
        for id in waiting {
            self.dispatch(id);
        }
        let txs: Vec<TxId> = self
            .txs
            .iter()
            .filter(|(_, t)| t.bound.is_none() && (t.slot.is_some() || !t.waiting.is_empty()))
            .map(|(&tx, _)| tx)
            .collect();
        for tx in txs {
            self.bind(tx);
        }
    }

    /// A node pool's outcome for one of its ids.
    fn completed(&mut self, n: usize, inner: RequestId, outcome: Outcome) {
        let key = (n, inner);
        let Some(&what) = self.inner.get(&key) else {
            return;
        };
        if !outcome.is_last() {
            if let Inner::Request(id) | Inner::Queued(id) = what {
                self.out.push(Output::Completion(id, outcome));
            }
            return;
        }
        self.inner.remove(&key);
        match what {
            Inner::Request(id) => self.replied(id, outcome),
            Inner::Queued(id) => self.out.push(Output::Completion(id, outcome)),
            Inner::TxBegin(tx) => self.tx_begun(tx, outcome),
        }
    }

    fn replied(&mut self, id: RequestId, outcome: Outcome) {
        let redirect = match &outcome {
            Outcome::Reply(frame) => Redirect::of(frame),
            _ => None,
        };
        let fixed = self
            .requests
            .get(&id)
            .is_some_and(|r| r.on.is_some() || r.node.is_some());
        let Some(redirect) = redirect.filter(|_| !fixed) else {
            self.requests.remove(&id);
            return self.out.push(Output::Completion(id, outcome));
        };
        let Some(r) = self.requests.get_mut(&id) else {
            return;
        };
        r.redirects += 1;
        if r.redirects > MAX_REDIRECTS {
            self.requests.remove(&id);
            let Outcome::Reply(Frame::Error(last)) = outcome else {
                return;
            };
            let why = ClientError::Cluster(format!(
                "{MAX_REDIRECTS} redirections and still not served; the last: {}",
                String::from_utf8_lossy(&last)
            ));
            return self.out.push(Output::Completion(id, Outcome::Failed(why)));
        }
        match redirect {
            Redirect::Moved { slot, node } => {
                let n = self.node(&node, false);
                self.owners[slot as usize] = n as u32;
                if !self.masters.contains(&n) {
                    self.masters.push(n);
                }
                self.want_topology();
                self.dispatch(id);
            }
            Redirect::Ask { node, .. } => {
                let n = self.node(&node, false);
                if let Some(r) = self.requests.get_mut(&id) {
                    r.asking = Some(n);
                }
                self.dispatch(id);
            }
            Redirect::Later => {
                self.want_topology();
                self.later.push((self.now + RETRY_MS, id));
            }
        }
    }

    // Transactions.

    fn tx_queue(&mut self, tx: TxId, id: RequestId, step: TxStep) {
        let Some(t) = self.txs.get_mut(&tx) else {
            return;
        };
        t.waiting.push((id, step));
        if t.begun {
            self.tx_flush(tx);
        } else if t.bound.is_none() && t.slot.is_some() {
            self.bind(tx);
        }
    }

    /// Begins a transaction on the node of its slot.
    fn bind(&mut self, tx: TxId) {
        let Some(t) = self.txs.get(&tx) else { return };
        if t.bound.is_some() {
            return;
        }
        let owner = t.owner;
        let node = match t.slot {
            Some(slot) => self.owner(slot),
            None => self.masters.first().copied(),
        };
        let Some(n) = node else {
            return self.want_topology();
        };
        match self.nodes[n].pool.multi(None, owner) {
            Ok((inner_tx, begin)) => {
                self.inner.insert((n, begin), Inner::TxBegin(tx));
                if let Some(t) = self.txs.get_mut(&tx) {
                    t.bound = Some((n, inner_tx));
                }
                self.collect(n);
            }
            Err(_) if !self.connected(n) => self.want_topology(),
            // Retried once the new socket is ready (see `retry_waiting`).
            Err(ClientError::NoAvailableConnections(_)) if self.grow(n).is_some() => {}
            Err(why) => self.tx_fail(tx, why),
        }
    }

    fn tx_begun(&mut self, tx: TxId, outcome: Outcome) {
        match outcome {
            Outcome::Reply(frame) if !frame.is_error() => {
                if let Some(t) = self.txs.get_mut(&tx) {
                    t.begun = true;
                }
                self.tx_flush(tx);
            }
            Outcome::Reply(frame) => {
                let why = ClientError::Transaction(format!(
                    "MULTI was refused: {}",
                    String::from_utf8_lossy(match &frame {
                        Frame::Error(m) => m,
                        _ => &[][..],
                    })
                ));
                self.tx_fail(tx, why);
            }
            Outcome::Failed(why) => self.tx_fail(tx, why),
            _ => {}
        }
    }

    /// Queues what waited at the bound node's transaction.
    fn tx_flush(&mut self, tx: TxId) {
        let Some(t) = self.txs.get_mut(&tx) else {
            return;
        };
        let Some((n, inner_tx)) = t.bound else { return };
        let steps = std::mem::take(&mut t.waiting);
        let mut ended = false;
        for (id, step) in steps {
            let pool = &mut self.nodes[n].pool;
            let sent = match step {
                TxStep::Queue(cmd) => pool.tx_request(inner_tx, cmd),
                TxStep::End(exec) => {
                    ended = true;
                    pool.tx_end(inner_tx, exec)
                }
            };
            match sent {
                Ok(inner) => {
                    self.inner.insert((n, inner), Inner::Queued(id));
                }
                Err(why) => self.out.push(Output::Completion(id, Outcome::Failed(why))),
            }
        }
        if ended {
            self.txs.remove(&tx);
        }
        self.collect(n);
    }

    fn tx_fail(&mut self, tx: TxId, why: ClientError) {
        let Some(t) = self.txs.remove(&tx) else {
            return;
        };
        for (id, _) in t.waiting {
            self.out
                .push(Output::Completion(id, Outcome::Failed(why.clone())));
        }
    }

    /// Every node pool's outputs, until none has more.
    fn pump(&mut self) {
        loop {
            let mut any = false;
            for n in 0..self.nodes.len() {
                if self.nodes[n].pool.has_outputs() {
                    any = true;
                    self.collect(n);
                }
            }
            if !any {
                break;
            }
        }
    }

    fn topology_frames(&mut self) {
        loop {
            match self.feed.decoder.decode() {
                Ok(Some(frame)) => match Topology::from_frame(&frame) {
                    Ok(topology) => self.apply(topology),
                    Err(why) => return self.feed_broken(&why),
                },
                Ok(None) => return,
                Err(why) => return self.feed_broken(&why.to_string()),
            }
        }
    }

    fn feed_broken(&mut self, why: &str) {
        let error = ClientError::Protocol(format!("the bridge's topology feed: {why}"));
        self.out.push(Output::Event(Event::Error {
            session: FEED,
            error,
        }));
        self.out.push(Output::Close {
            session: FEED,
            generation: self.feed.generation,
            code: 1002,
            reason: "bad topology".into(),
        });
        self.feed_lost(1002, "bad topology");
    }

    /// The feed is gone: try again later, or give up before it ever opened.
    fn feed_lost(&mut self, code: u16, reason: &str) {
        let settings = &self.config.pool.settings;
        self.feed.attempt += 1;
        let out_of_tries = !settings.auto_reconnect
            || settings
                .max_retries
                .is_some_and(|max| self.feed.attempt > max)
            || self.now - self.feed.started_at >= self.wait_ms();
        if self.closed || (!self.opened && out_of_tries) {
            self.feed.state = FeedState::Closed;
            if !self.closed {
                let cause = ClientError::NotConnected(format!(
                    "cannot connect: the bridge's topology feed closed (code {code}{}{reason})",
                    if reason.is_empty() { "" } else { ": " }
                ));
                self.close();
                self.out.push(Output::Event(Event::End {
                    session: FEED,
                    cause: Some(cause),
                }));
            }
            return;
        }
        let delay = backoff::delay(self.feed.attempt, settings.reconnect_cap_ms, &mut self.rng);
        self.feed.state = FeedState::Backoff {
            until: self.now + delay,
        };
    }
}

impl Core for Cluster {
    fn start(&mut self, now: f64) {
        self.now = now;
        self.feed.started_at = now;
        self.dial_feed();
    }

    fn take_outputs(&mut self) -> Vec<Output> {
        self.pump();
        std::mem::take(&mut self.out)
    }

    fn transmit(&mut self, send: &mut dyn FnMut(usize, &[u8])) {
        if self.feed.ask
            && self.feed.state == FeedState::Open
            && self.now - self.feed.asked_at >= REFRESH_MS
        {
            self.feed.ask = false;
            self.feed.asked_at = self.now;
            send(FEED, b"REFRESH");
        }
        let hosts = &self.host_of;
        for (n, node) in self.nodes.iter_mut().enumerate() {
            node.pool.transmit(|session, bytes| {
                if let Some(&g) = hosts.get(&(n, session)) {
                    send(g, bytes)
                }
            });
        }
    }

    fn burst_due(&self) -> bool {
        self.nodes.iter().any(|node| node.pool.burst_due())
    }

    fn path(&self, session: usize) -> Option<String> {
        match self.hosts.get(session)? {
            Host::Feed => Some("/cluster".into()),
            Host::Node(n, _) => Some(format!("/node/{}", self.nodes[*n].id)),
            Host::Subscription | Host::Retired => None,
        }
    }

    fn node_ids(&self) -> Vec<String> {
        self.nodes
            .iter()
            .filter(|n| !n.gone)
            .map(|n| n.id.clone())
            .collect()
    }

    fn on_open(&mut self, session: usize, generation: u32, now: f64) {
        self.now = now;
        if session == FEED {
            if generation == self.feed.generation && self.feed.state == FeedState::Dialing {
                self.feed.state = FeedState::Open;
                self.feed.attempt = 0;
                // A reconnected feed says the topology at once.
                self.feed.ask = false;
            }
            return;
        }
        if let Some((n, s)) = self.local(session) {
            self.nodes[n].pool.on_open(s, generation, now);
            self.collect(n);
        }
    }

    fn input(&mut self, session: usize, generation: u32) -> Option<&mut BytesMut> {
        if session == FEED {
            return (generation == self.feed.generation && self.feed.state == FeedState::Open)
                .then(|| self.feed.decoder.buffer_mut());
        }
        let (n, s) = self.local(session)?;
        self.nodes[n].pool.input(s, generation)
    }

    fn on_received(&mut self, session: usize, now: f64) {
        self.now = now;
        if session == FEED {
            return self.topology_frames();
        }
        if let Some((n, s)) = self.local(session) {
            self.nodes[n].pool.on_received(s, now);
            self.collect(n);
        }
    }

    fn take_large_bulk(
        &mut self,
        session: usize,
        generation: u32,
        min: usize,
    ) -> Option<(usize, BytesMut)> {
        // The feed's topology frames are the router's own to read.
        let (n, s) = self.local(session)?;
        self.nodes[n].pool.take_large_bulk(s, generation, min)
    }

    fn gathered(&mut self, session: usize, generation: u32, ended: bool, now: f64) {
        self.now = now;
        if let Some((n, s)) = self.local(session) {
            self.nodes[n].pool.gathered(s, generation, ended, now);
            self.collect(n);
        }
    }

    fn on_closed(&mut self, session: usize, generation: u32, code: u16, reason: &str, now: f64) {
        self.now = now;
        if session == FEED {
            if generation == self.feed.generation
                && matches!(self.feed.state, FeedState::Open | FeedState::Dialing)
            {
                self.feed_lost(code, reason);
            }
            return;
        }
        if let Some((n, s)) = self.local(session) {
            self.nodes[n]
                .pool
                .on_closed(s, generation, code, reason, now);
            self.collect(n);
        }
    }

    fn on_tick(&mut self, now: f64) {
        self.now = now;
        if let FeedState::Backoff { until } = self.feed.state {
            if until <= now {
                self.dial_feed();
            }
        }
        for n in 0..self.nodes.len() {
            self.nodes[n].pool.on_tick(now);
            self.collect(n);
        }
        let (due, later): (Vec<_>, Vec<_>) = self.later.drain(..).partition(|&(at, _)| at <= now);
        self.later = later;
        for (_, id) in due {
            self.dispatch(id);
        }
        let limit = self.wait_ms();
        let expired: Vec<RequestId> = self
            .waiting
            .iter()
            .copied()
            .filter(|id| {
                self.requests
                    .get(id)
                    .and_then(|r| r.waiting_since)
                    .is_some_and(|since| now - since >= limit)
            })
            .collect();
        for id in expired {
            self.waiting.retain(|&w| w != id);
            if self.requests.remove(&id).is_some() {
                let why = ClientError::NotConnected(format!(
                    "no node of the cluster served it within {} ms",
                    number_text(limit)
                ));
                self.out.push(Output::Completion(id, Outcome::Failed(why)));
            }
        }
    }

    fn next_deadline(&mut self) -> Option<f64> {
        let feed = match self.feed.state {
            FeedState::Backoff { until } => Some(until),
            _ => None,
        };
        let limit = self.wait_ms();
        let waiting = self
            .waiting
            .iter()
            .filter_map(|id| self.requests.get(id)?.waiting_since)
            .map(|since| since + limit);
        let refresh = (self.feed.ask && self.feed.state == FeedState::Open)
            .then_some(self.feed.asked_at + REFRESH_MS);
        let nodes: Vec<f64> = self
            .nodes
            .iter_mut()
            .filter_map(|n| n.pool.next_deadline())
            .collect();
        feed.into_iter()
            .chain(waiting)
            .chain(refresh)
            .chain(self.later.iter().map(|&(at, _)| at))
            .chain(nodes)
            .reduce(f64::min)
    }

    fn close(&mut self) {
        if self.closed {
            return;
        }
        self.closed = true;
        if matches!(self.feed.state, FeedState::Open | FeedState::Dialing) {
            self.out.push(Output::Close {
                session: FEED,
                generation: self.feed.generation,
                code: 1000,
                reason: String::new(),
            });
        }
        self.feed.state = FeedState::Closed;
        for n in 0..self.nodes.len() {
            self.nodes[n].pool.close();
            self.collect(n);
        }
        let closed = || ClientError::NotConnected("the cluster client is closed".into());
        let left: Vec<RequestId> = self
            .waiting
            .drain(..)
            .chain(self.later.drain(..).map(|(_, id)| id))
            .collect();
        for id in left {
            if self.requests.remove(&id).is_some() {
                self.out
                    .push(Output::Completion(id, Outcome::Failed(closed())));
            }
        }
        let txs: Vec<TxId> = self.txs.keys().copied().collect();
        for tx in txs {
            self.tx_fail(tx, closed());
        }
        if self.opened {
            self.out.push(Output::Event(Event::End {
                session: FEED,
                cause: None,
            }));
        }
    }

    fn request(&mut self, cmd: Cmd, now: f64) -> Result<RequestId, ClientError> {
        self.route(cmd, None, None, now)
    }

    fn request_to(&mut self, node: &str, cmd: Cmd, now: f64) -> Result<RequestId, ClientError> {
        let n = self
            .by_id
            .get(node)
            .copied()
            .filter(|&n| !self.nodes[n].gone)
            .ok_or_else(|| {
                ClientError::Refused(format!("no node {node} in the cluster's topology"))
            })?;
        self.route(cmd, None, Some(n), now)
    }

    fn topology(&self) -> Option<Topology> {
        self.topology.clone()
    }

    fn request_script(
        &mut self,
        evalsha: Cmd,
        eval: Cmd,
        now: f64,
    ) -> Result<RequestId, ClientError> {
        self.route(evalsha, Some(eval), None, now)
    }

    fn request_on(&mut self, session: usize, cmd: Cmd) -> Result<RequestId, ClientError> {
        let on = self.subscription_socket(session, &cmd)?;
        let id = self.new_id();
        self.requests.insert(
            id,
            Routed {
                cmd,
                fallback: None,
                slot: None,
                read: false,
                asking: None,
                redirects: 0,
                waiting_since: None,
                on: Some(on),
                node: None,
            },
        );
        self.dispatch(id);
        Ok(id)
    }

    fn abort(&mut self, id: RequestId) {
        self.waiting.retain(|&w| w != id);
        self.later.retain(|&(_, w)| w != id);
        self.requests.remove(&id);
        let found = self.inner.iter().find_map(|(&(n, inner), &what)| {
            matches!(what, Inner::Request(r) | Inner::Queued(r) if r == id).then_some((n, inner))
        });
        if let Some((n, inner)) = found {
            self.inner.remove(&(n, inner));
            self.nodes[n].pool.abort(inner);
            self.collect(n);
        }
    }

    fn multi(&mut self, watch: Option<Cmd>, owner: u32) -> Result<(TxId, RequestId), ClientError> {
        if self.closed {
            return Err(closed());
        }
        let slot = match &watch {
            Some(watch) => Cluster::slot_of(watch)?,
            None => None,
        };
        let tx = self.next_tx;
        // WATCH, then MULTI, on the node of the watched keys' slot; without
        // WATCH, the first keyed command binds it, and MULTI is a promise
        // until then.
        let bound = match watch {
            Some(watch) => {
                let n = slot.and_then(|s| self.owner(s)).ok_or_else(|| {
                    ClientError::NotConnected("the cluster's topology is not known yet".into())
                })?;
                let (inner_tx, inner_begin) = self.nodes[n].pool.multi(Some(watch), owner)?;
                self.inner.insert((n, inner_begin), Inner::TxBegin(tx));
                self.collect(n);
                Some((n, inner_tx))
            }
            None => None,
        };
        self.next_tx += 1;
        let begin = self.new_id();
        self.txs.insert(
            tx,
            Tx {
                slot,
                bound,
                waiting: Vec::new(),
                begun: false,
                owner,
            },
        );
        let ok = Outcome::Reply(Frame::Simple(Bytes::from_static(b"OK")));
        self.out.push(Output::Completion(begin, ok));
        Ok((tx, begin))
    }

    fn tx_request(&mut self, tx: TxId, cmd: Cmd) -> Result<RequestId, ClientError> {
        let t = self.txs.get(&tx).ok_or_else(|| {
            ClientError::Transaction("Transaction already finished or invalid.".into())
        })?;
        if let Role::Refused(why) = cmd.role() {
            return Err(ClientError::Refused(why.into()));
        }
        let slot = Cluster::slot_of(&cmd)?;
        let slot = match (t.slot, slot) {
            (Some(a), Some(b)) if a != b => {
                return Err(ClientError::CrossSlot(format!(
                    "{}: a transaction runs on one slot ({a}), and its keys are in slot {b}",
                    cmd.name()
                )))
            }
            (a, b) => a.or(b),
        };
        if let Some(t) = self.txs.get_mut(&tx) {
            t.slot = slot;
        }
        let id = self.new_id();
        self.tx_queue(tx, id, TxStep::Queue(cmd));
        Ok(id)
    }

    fn tx_end(&mut self, tx: TxId, exec: bool) -> Result<RequestId, ClientError> {
        let t = self.txs.get(&tx).ok_or_else(|| {
            ClientError::Transaction("Transaction already finished or invalid.".into())
        })?;
        let untouched = t.bound.is_none() && t.waiting.is_empty();
        let id = self.new_id();
        if untouched {
            // Nothing was queued: nothing to send.
            self.txs.remove(&tx);
            let reply = match exec {
                true => Outcome::Reply(Frame::Array(Vec::new())),
                false => Outcome::Reply(Frame::Simple(Bytes::from_static(b"OK"))),
            };
            self.out.push(Output::Completion(id, reply));
            return Ok(id);
        }
        self.tx_queue(tx, id, TxStep::End(exec));
        if self.txs.get(&tx).is_some_and(|t| t.bound.is_none()) {
            // Keyless commands only: any master runs them.
            self.bind(tx);
        }
        Ok(id)
    }

    fn subscribe(&mut self, owner: u32) -> Result<usize, ClientError> {
        if self.closed {
            return Err(closed());
        }
        let n = self
            .masters
            .iter()
            .copied()
            .find(|&m| self.connected(m))
            .or_else(|| self.masters.first().copied())
            .ok_or_else(|| {
                ClientError::NotConnected("the cluster's topology is not known yet".into())
            })?;
        self.hosts.push(Host::Subscription);
        let sub = self.hosts.len() - 1;
        let local = self.socket_for(sub, n, owner)?;
        self.subs.insert(
            sub,
            Sub {
                owner,
                plain: (n, local),
                shards: SmallMap::default(),
            },
        );
        Ok(sub)
    }

    fn size(&self) -> usize {
        self.hosts.len()
    }

    fn is_connected(&self, i: usize) -> bool {
        match self.local(i) {
            _ if i == FEED => self.feed.state == FeedState::Open,
            Some((n, s)) => self.nodes[n].pool.is_connected(s),
            None => false,
        }
    }

    fn is_ended(&self) -> bool {
        self.closed && self.nodes.iter().all(|n| n.pool.is_ended())
    }

    fn in_transaction(&self, i: usize) -> bool {
        self.local(i)
            .is_some_and(|(n, s)| self.nodes[n].pool.in_transaction(s))
    }

    fn in_pubsub(&self, i: usize) -> bool {
        self.local(i)
            .is_some_and(|(n, s)| self.nodes[n].pool.in_pubsub(s))
    }

    fn in_blocking_call(&self, i: usize) -> bool {
        self.local(i)
            .is_some_and(|(n, s)| self.nodes[n].pool.in_blocking_call(s))
    }

    fn in_use(&self, i: usize) -> bool {
        self.local(i)
            .is_some_and(|(n, s)| self.nodes[n].pool.in_use(s))
    }

    /// Each node pool has a cache of its own (a key is read from, and
    /// invalidated by, the node of its slot): their sums.
    fn cache_stats(&self) -> Option<cache::Stats> {
        self.config.pool.cache.as_ref()?;
        let mut sum = cache::Stats::default();
        for stats in self.nodes.iter().filter_map(|n| n.pool.cache_stats()) {
            sum.hits += stats.hits;
            sum.misses += stats.misses;
            sum.invalidations += stats.invalidations;
            sum.evictions += stats.evictions;
            sum.bytes += stats.bytes;
            sum.entries += stats.entries;
        }
        Some(sum)
    }

    fn clear_cache(&mut self) {
        for node in &mut self.nodes {
            node.pool.clear_cache();
        }
    }
}

impl Cluster {
    /// A socket of its own on node `n` for subscription `sub`: leased for
    /// it once ready.
    fn socket_for(&mut self, sub: usize, n: usize, owner: u32) -> Result<usize, ClientError> {
        let local = self.grow(n).ok_or_else(|| {
            ClientError::NoAvailableConnections(format!(
                "No available connections in the pool: node {} has {MAX_EXTRA_SOCKETS} sockets beyond its pool already",
                self.nodes[n].id
            ))
        })?;
        self.sub_of.insert((n, local), (sub, owner));
        Ok(local)
    }

    /// The node socket a subscription's command goes on: sharded channels
    /// on their slot's master, the rest on the subscription's own socket.
    fn subscription_socket(
        &mut self,
        session: usize,
        cmd: &Cmd,
    ) -> Result<(usize, usize), ClientError> {
        if let Some(local) = self.local(session) {
            return Ok(local);
        }
        let sub = self.subs.get(&session).ok_or_else(closed)?;
        let (owner, plain) = (sub.owner, sub.plain);
        let shard = matches!(
            cmd.role(),
            Role::Subscribe(Channels::Shard) | Role::Unsubscribe(Channels::Shard)
        );
        if !shard {
            return Ok(plain);
        }
        let slot = Cluster::slot_of(cmd)?.ok_or_else(|| {
            ClientError::Refused(format!(
                "{} on a Cluster: name the channels (they live on the nodes of their slots)",
                cmd.name()
            ))
        })?;
        let n = self.owner(slot).ok_or_else(|| {
            ClientError::NotConnected("the cluster's topology is not known yet".into())
        })?;
        if let Some(&local) = self.subs.get(&session).and_then(|s| s.shards.get(&n)) {
            return Ok((n, local));
        }
        let local = self.socket_for(session, n, owner)?;
        if let Some(sub) = self.subs.get_mut(&session) {
            sub.shards.insert(n, local);
        }
        Ok((n, local))
    }

    /// Routes `cmd` by its keys, or to `node` when given.
    fn route(
        &mut self,
        cmd: Cmd,
        fallback: Option<Cmd>,
        node: Option<usize>,
        now: f64,
    ) -> Result<RequestId, ClientError> {
        self.now = now;
        if self.closed {
            return Err(closed());
        }
        match cmd.role() {
            Role::Refused(why) => return Err(ClientError::Refused(why.into())),
            Role::Transaction => return Err(ClientError::Refused(
                "MULTI, EXEC and DISCARD go through multi(): const tx = await cluster.multi(); tx.set(...); await tx.exec()".into(),
            )),
            Role::Subscribe(_) | Role::Unsubscribe(_) => {
                return Err(ClientError::Refused(format!(
                    "{} on a Cluster: use startSubscribe(), whose connection stays subscribed",
                    cmd.name()
                )))
            }
            Role::Select => {
                return Err(ClientError::Refused(
                    "SELECT on a Cluster: a cluster has database 0 only".into(),
                ))
            }
            // Its cursor belongs to one node, and keyless commands go to the
            // masters in turn.
            _ if node.is_none() && cmd.arg(0).is_some_and(|w| w.eq_ignore_ascii_case(b"SCAN")) => {
                return Err(ClientError::Refused(
                    "SCAN on a Cluster: a cursor walks one node's keys: scan each master through cluster.node(id)".into(),
                ))
            }
            _ => {}
        }
        let slot = Cluster::slot_of(&cmd)?;
        let read = cmd.info().is_some_and(|info| {
            info.flags.contains(Flags::READONLY) && !info.flags.contains(Flags::BLOCKING)
        });
        let id = self.new_id();
        self.requests.insert(
            id,
            Routed {
                cmd,
                fallback,
                slot,
                read,
                asking: None,
                redirects: 0,
                waiting_since: None,
                on: None,
                node,
            },
        );
        self.dispatch(id);
        Ok(id)
    }
}

fn closed() -> ClientError {
    ClientError::NotConnected("the cluster client is closed".into())
}
