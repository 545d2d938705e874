//! The client: sessions, requests by id, and where each command goes.
//!
//! A [`Pool`] owns one [`Session`] per socket and every request in flight,
//! keyed by a [`RequestId`]; the host holds whatever waits for the outcome
//! (a JS Promise) under the same id, so no host value ever enters the core.
//! A `Connection` is a pool of one in [`Mode::Single`]: a command waits
//! behind a blocking call there, and a transaction or subscription makes the
//! connection refuse other commands. In [`Mode::Pool`] each command goes to
//! a ready session that no transaction, subscription or blocking call holds,
//! the one with the fewest in flight.
//!
//! Leases: a transaction ([`Pool::multi`]) and a subscription
//! ([`Pool::subscribe`]) take a session for themselves; a lease names its
//! owner, so a shared worker can lease per tab and a cluster router can hold
//! sessions per node. Requests issued while no session is ready wait in the
//! opt-in offline queue (bounded in commands and bytes) and leave in order
//! after the handshake; `commandTimeout` fails a request whose reply has not
//! begun (blocking commands excepted; the late reply is read and dropped);
//! an aborted request is not sent, or its reply is dropped.

use std::collections::VecDeque;

use resp::{Bytes, Frame};

use super::backoff::Rng;
use super::cache::{self, Cache, CacheConfig, Lookup, Read, TrackingMode};
use super::cmd::{Cmd, Role};
use super::command::ReplyKind;
use super::ids::IdMap;
use super::pipeline::{Delivery, Outcome, Shape};
use super::session::{
    Cx, Event, Lease, LeaseKind, Output, Remembered, RequestId, Session, Settings, Tag, TxId,
};
use super::ClientError;

/// The offline queue's bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueLimits {
    pub commands: usize,
    pub bytes: usize,
}

/// `offlineQueue: true`: at most 1,000 commands and 1 MiB of arguments.
pub const DEFAULT_OFFLINE_QUEUE: QueueLimits = QueueLimits {
    commands: 1000,
    bytes: 1 << 20,
};

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub settings: Settings,
    pub remembered: Remembered,
    pub command_timeout_ms: Option<f64>,
    pub offline_queue: Option<QueueLimits>,
    /// Client-side caching (RESP3 only: invalidations share the socket).
    pub cache: Option<CacheConfig>,
}

/// A cached socket that heard nothing for this long is sent a `PING`, and
/// is given up when that `PING` is not answered in as long: a silently dead
/// link cannot serve stale hits for longer.
pub const HEALTH_CHECK_MS: f64 = 15_000.0;

/// Hits resolve as microtasks, and a page awaiting hit after hit never lets
/// the socket's messages (its invalidations) in: past this long without
/// socket input, a cached read goes to Redis, whose reply comes after them.
pub const MAX_HIT_RUN_MS: f64 = 10.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Single,
    Pool,
}

/// What a successful command changes in what the handshake replays.
#[derive(Debug, Clone, PartialEq)]
enum Remember {
    Select(Vec<u8>),
    Auth(Option<Vec<u8>>, Vec<u8>),
    Hello {
        protocol: Option<Vec<u8>>,
        auth: Option<(Vec<u8>, Vec<u8>)>,
        name: Option<Vec<u8>>,
    },
    SetName(Vec<u8>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Place {
    Offline,
    Session(usize),
}

struct Record {
    place: Place,
    blocking: bool,
    started: bool,
    /// Timed out or aborted: only its blocking count waits for the reply.
    gone: bool,
    /// Sent instead when the reply is NOSCRIPT (a script's EVAL).
    fallback: Option<Cmd>,
    remember: Option<Remember>,
    /// The keys a write changes (`None` inside: all, a flush), dropped from
    /// the cache again when it is answered.
    wrote: Option<Option<Vec<Vec<u8>>>>,
}

struct Tx {
    session: usize,
    owner: u32,
    /// Each queued request, with the error Redis gave when queuing it.
    queued: Vec<(RequestId, Option<Frame>)>,
    begin: Option<RequestId>,
    end: Option<RequestId>,
}

pub struct Pool {
    mode: Mode,
    config: Config,
    sessions: Vec<Session>,
    rng: Rng,
    requests: IdMap<RequestId, Record>,
    next_id: RequestId,
    txs: IdMap<TxId, Tx>,
    next_tx: TxId,
    offline: VecDeque<(RequestId, Cmd)>,
    offline_bytes: usize,
    /// Request deadlines in issue order (one timeout for all: so in order).
    timeouts: VecDeque<(f64, RequestId)>,
    cache: Option<Cache>,
    /// When hits began to be served since the sockets last gave input.
    hits_since: Option<f64>,
    /// A session's unsent burst grew past `BURST_BYTES` (see `Pipeline`).
    burst_due: bool,
    out: Vec<Output>,
}

impl Pool {
    /// A client of `size` sessions (a `Connection` is one in `Single` mode);
    /// `seed` drives the reconnect jitter.
    pub fn new(mut config: Config, size: usize, mode: Mode, seed: u64) -> Pool {
        if let Some(cache) = &config.cache {
            config.remembered.tracking = Some(cache.tracking_line());
        }
        let sessions = (0..size.max(1))
            .map(|i| Session::new(i, config.remembered.clone()))
            .collect();
        let cache = config.cache.clone().map(Cache::new);
        Pool {
            mode,
            config,
            sessions,
            rng: Rng::new(seed),
            requests: IdMap::default(),
            next_id: 1,
            txs: IdMap::default(),
            next_tx: 1,
            offline: VecDeque::new(),
            offline_bytes: 0,
            timeouts: VecDeque::new(),
            cache,
            hits_since: None,
            burst_due: false,
            out: Vec::new(),
        }
    }

    /// Dials every session.
    pub fn start(&mut self, now: f64) {
        for i in 0..self.sessions.len() {
            let (session, mut cx) = self.at(i, now);
            session.start(&mut cx);
        }
    }

    /// Session `i` and the context its inputs work in.
    fn at(&mut self, i: usize, now: f64) -> (&mut Session, Cx<'_>) {
        let cx = Cx {
            now,
            settings: &self.config.settings,
            rng: &mut self.rng,
            out: &mut self.out,
        };
        (&mut self.sessions[i], cx)
    }

    /// Everything the core has to say since the last call, in order.
    pub fn take_outputs(&mut self) -> Vec<Output> {
        std::mem::take(&mut self.out)
    }

    /// Whether [`Pool::take_outputs`] has anything.
    pub fn has_outputs(&self) -> bool {
        !self.out.is_empty()
    }

    /// Whether a burst of requests is big enough to send before the host's
    /// task ends: then it calls [`Pool::transmit`] at once.
    pub fn burst_due(&self) -> bool {
        self.burst_due
    }

    /// Hands each session's queued bytes to `send(session, bytes)`.
    pub fn transmit(&mut self, mut send: impl FnMut(usize, &[u8])) {
        self.burst_due = false;
        for session in &mut self.sessions {
            if session.is_ready()
                || matches!(session.state, super::session::State::Handshake { .. })
            {
                let index = session.index;
                session.pipeline.flush(|bytes| send(index, bytes));
            }
        }
    }

    pub fn on_open(&mut self, session: usize, generation: u32, now: f64) {
        let Some(s) = self.sessions.get_mut(session) else {
            return;
        };
        s.on_open(generation, &mut self.out);
        self.after(session, Vec::new(), now);
    }

    pub fn on_bytes(&mut self, session: usize, generation: u32, data: &[u8], now: f64) {
        if session < self.sessions.len() {
            self.hits_since = None;
            let (s, mut cx) = self.at(session, now);
            s.heard(generation, now);
            let delivered = s.on_bytes(generation, data, &mut cx);
            self.after(session, delivered, now);
        }
    }

    /// The input buffer of `session`'s current socket, for transports that
    /// copy in place; then call [`Pool::on_received`].
    pub fn input(&mut self, session: usize, generation: u32) -> Option<&mut bytes::BytesMut> {
        let s = self.sessions.get_mut(session)?;
        s.is_current(generation).then(|| s.pipeline.input())
    }

    pub fn on_received(&mut self, session: usize, now: f64) {
        if session < self.sessions.len() {
            self.hits_since = None;
            let (s, mut cx) = self.at(session, now);
            s.heard_now(now);
            let delivered = s.received(&mut cx);
            self.after(session, delivered, now);
        }
    }

    /// See [`Session::take_large_bulk`].
    pub fn take_large_bulk(
        &mut self,
        session: usize,
        generation: u32,
        min: usize,
    ) -> Option<(usize, bytes::BytesMut)> {
        self.sessions
            .get_mut(session)?
            .take_large_bulk(generation, min)
    }

    /// The host gathered session `session`'s bulk reply (see [`Session::gathered`]).
    pub fn gathered(&mut self, session: usize, generation: u32, ended: bool, now: f64) {
        if session < self.sessions.len() {
            let (s, mut cx) = self.at(session, now);
            s.heard_now(now);
            let delivered = s.gathered(generation, ended, &mut cx);
            self.after(session, delivered, now);
        }
    }

    pub fn on_closed(
        &mut self,
        session: usize,
        generation: u32,
        code: u16,
        reason: &str,
        now: f64,
    ) {
        if session < self.sessions.len() {
            let (s, mut cx) = self.at(session, now);
            let delivered = s.on_closed(generation, code, reason, &mut cx);
            self.after(session, delivered, now);
        }
    }

    /// The clock: timeouts, dials due, backoffs over.
    pub fn on_tick(&mut self, now: f64) {
        for i in 0..self.sessions.len() {
            let (s, mut cx) = self.at(i, now);
            let delivered = s.on_tick(&mut cx);
            self.after(i, delivered, now);
        }
        if self.cache.is_some() {
            self.check_health(now);
        }
        while let Some(&(deadline, id)) = self.timeouts.front() {
            if deadline > now {
                break;
            }
            self.timeouts.pop_front();
            if self
                .requests
                .get(&id)
                .is_some_and(|r| !r.started && !r.gone)
            {
                let ms = self.config.command_timeout_ms.unwrap_or_default();
                self.withdraw(id);
                let why = ClientError::Timeout(format!(
                    "commandTimeout: no reply within {} ms",
                    super::error::number_text(ms)
                ));
                self.out.push(Output::Completion(id, Outcome::Failed(why)));
            }
        }
    }

    /// When [`Pool::on_tick`] is next due, if ever.
    pub fn next_deadline(&mut self) -> Option<f64> {
        while let Some(&(_, id)) = self.timeouts.front() {
            if self
                .requests
                .get(&id)
                .is_some_and(|r| !r.started && !r.gone)
            {
                break;
            }
            self.timeouts.pop_front();
        }
        let timeout = self.timeouts.front().map(|&(d, _)| d);
        let health = self
            .sessions
            .iter()
            .filter_map(|s| s.health_due(HEALTH_CHECK_MS))
            .filter(|_| self.cache.is_some());
        self.sessions
            .iter()
            .filter_map(Session::deadline)
            .chain(timeout)
            .chain(health)
            .reduce(f64::min)
    }

    /// Closes every session: requests in flight fail, queued ones too.
    pub fn close(&mut self) {
        for i in 0..self.sessions.len() {
            let delivered = self.sessions[i].close(&mut self.out);
            self.after(i, delivered, 0.0);
        }
    }

    /// Sends a command where the mode says; an error means nothing was sent.
    pub fn request(&mut self, cmd: Cmd, now: f64) -> Result<RequestId, ClientError> {
        self.request_with(cmd, None, false, now)
    }

    /// A command (and its script fallback) sent once, right after `ASKING`
    /// on the same socket: a cluster's ASK redirect to a node importing
    /// the slot.
    pub fn request_asking(
        &mut self,
        cmd: Cmd,
        fallback: Option<Cmd>,
        now: f64,
    ) -> Result<RequestId, ClientError> {
        self.request_with(cmd, fallback, true, now)
    }

    /// A script's EVALSHA, with the EVAL sent once in its place on NOSCRIPT.
    pub fn request_script(
        &mut self,
        evalsha: Cmd,
        eval: Cmd,
        now: f64,
    ) -> Result<RequestId, ClientError> {
        self.request_with(evalsha, Some(eval), false, now)
    }

    fn request_with(
        &mut self,
        cmd: Cmd,
        fallback: Option<Cmd>,
        asking: bool,
        now: f64,
    ) -> Result<RequestId, ClientError> {
        let role = cmd.role();
        match role {
            Role::Refused(why) => return Err(ClientError::Refused(why.into())),
            Role::Transaction => return Err(ClientError::Refused(
                "MULTI, EXEC and DISCARD go through multi(): const tx = await conn.multi(); tx.set(...); await tx.exec()".into(),
            )),
            Role::Subscribe(_) | Role::Unsubscribe(_) if self.mode == Mode::Pool => {
                return Err(ClientError::Refused(format!(
                    "{} on a Pool: use startSubscribe(), whose connection stays subscribed",
                    cmd.name()
                )))
            }
            _ => {}
        }
        let target = self.choose(&cmd)?;
        if asking && target.is_none() {
            return Err(ClientError::NotConnected(
                "not connected (reconnecting)".into(),
            ));
        }
        let may_hit = self
            .hits_since
            .is_none_or(|since| now - since <= MAX_HIT_RUN_MS);
        let read = match (&mut self.cache, target) {
            (Some(cache), Some(_)) if fallback.is_none() && !asking => {
                match cache.lookup(&cmd, now, may_hit) {
                    Lookup::Hit(frame) => {
                        self.hits_since.get_or_insert(now);
                        let id = self.next_id;
                        self.next_id += 1;
                        self.out.push(Output::Completion(id, Outcome::Reply(frame)));
                        return Ok(id);
                    }
                    Lookup::Miss(read) => Some(read),
                    Lookup::Skip => None,
                }
            }
            _ => None,
        };
        let id = self.new_request(&cmd, fallback);
        if let (true, Some(session)) = (asking, target) {
            self.send(session, Tag::Asking, plain(&["ASKING"]));
        }
        match target {
            Some(session) => match read {
                Some(read) => self.send_fill(session, id, cmd, read),
                None => self.send(session, Tag::User(id), cmd),
            },
            None => {
                if let Err(why) = self.enqueue(id, cmd) {
                    self.requests.remove(&id);
                    return Err(why);
                }
            }
        }
        if role != Role::Blocking {
            if let Some(ms) = self.config.command_timeout_ms {
                self.timeouts.push_back((now + ms, id));
            }
        }
        Ok(id)
    }

    /// Sends a subscription's command on its own session.
    pub fn request_on(&mut self, session: usize, cmd: Cmd) -> Result<RequestId, ClientError> {
        let s = self.sessions.get(session).ok_or_else(closed)?;
        if !s.is_ready() {
            return Err(not_ready(s));
        }
        let id = self.new_request(&cmd, None);
        self.send(session, Tag::User(id), cmd);
        Ok(id)
    }

    fn new_request(&mut self, cmd: &Cmd, fallback: Option<Cmd>) -> RequestId {
        let id = self.next_id;
        self.next_id += 1;
        self.requests.insert(
            id,
            Record {
                place: Place::Offline,
                blocking: false,
                started: false,
                gone: false,
                fallback,
                remember: remembered(cmd),
                wrote: self.cache.as_ref().and_then(|_| written(cmd)),
            },
        );
        id
    }

    /// Sends a cacheable read with what the cache needs around it: `CLIENT
    /// CACHING YES` before it (opt-in mode) and its keys' `PTTL`s after.
    fn send_fill(&mut self, session: usize, id: RequestId, cmd: Cmd, read: Read) {
        let Some(cache) = &mut self.cache else {
            return self.send(session, Tag::User(id), cmd);
        };
        let ttls: Vec<Cmd> = read
            .keys()
            .iter()
            .map(|key| Cmd::new([&b"PTTL"[..], &key[..]], None, ReplyKind::Plain))
            .collect();
        cache.fill(id, read);
        let opt_in = cache.config().mode == TrackingMode::OptIn;
        if opt_in {
            self.send(
                session,
                Tag::Cache(id),
                plain(&["CLIENT", "CACHING", "YES"]),
            );
        }
        self.send(session, Tag::User(id), cmd);
        for ttl in ttls {
            self.send(session, Tag::Cache(id), ttl);
        }
    }

    /// What one of our own commands changes, dropped from the cache as it
    /// is sent (and again when answered, for reads on other sockets).
    fn forget_written(&mut self, cmd: &Cmd) {
        let Some(cache) = &mut self.cache else { return };
        match cmd.role() {
            Role::Select | Role::Auth | Role::Hello => {
                cache.clear();
            }
            _ => match written(cmd) {
                Some(None) => cache.flushed(),
                Some(Some(keys)) => {
                    cache.invalidate(&keys);
                }
                None => {}
            },
        }
    }

    /// Idle cached sockets get a `PING`; one that leaves it unanswered is
    /// given up (which clears the cache).
    fn check_health(&mut self, now: f64) {
        for i in 0..self.sessions.len() {
            let s = &mut self.sessions[i];
            match s.health_due(HEALTH_CHECK_MS) {
                Some(due) if due <= now && s.health_pending() => {
                    let (s, mut cx) = self.at(i, now);
                    let why = ClientError::ConnectionLost(format!(
                        "no reply from Redis for {} ms (health check)",
                        HEALTH_CHECK_MS as u32
                    ));
                    let delivered = s.give_up(why, &mut cx);
                    self.after(i, delivered, now);
                }
                Some(due) if due <= now => {
                    s.health_sent(now);
                    self.send(i, Tag::Health, plain(&["PING"]));
                }
                _ => {}
            }
        }
    }

    /// The session for `cmd`: `Ok(None)` to wait in the offline queue.
    fn choose(&self, cmd: &Cmd) -> Result<Option<usize>, ClientError> {
        let role = cmd.role();
        if self.mode == Mode::Single {
            let s = &self.sessions[0];
            if s.is_ended() {
                return Err(closed());
            }
            match s.lease {
                Some(Lease {
                    kind: LeaseKind::Transaction(_),
                    ..
                }) => return Err(ClientError::Refused(
                    "the connection is in a transaction: send commands through the Transaction from multi(), then exec() or discard()".into(),
                )),
                Some(Lease {
                    kind: LeaseKind::Subscription,
                    ..
                }) if !matches!(role, Role::Subscribe(_) | Role::Unsubscribe(_))
                    && !cmd.arg(0).is_some_and(|w| w.eq_ignore_ascii_case(b"PING")) =>
                {
                    return Err(ClientError::Refused(
                        "the connection is subscribed: only the Subscription's subscribe, unsubscribe and ping are allowed".into(),
                    ))
                }
                _ => {}
            }
            return match s.is_ready() {
                true => Ok(Some(0)),
                false if self.config.offline_queue.is_some() => Ok(None),
                false => Err(not_ready(s)),
            };
        }
        if let Some(i) = self.free_session() {
            return Ok(Some(i));
        }
        let reconnecting = self.sessions.iter().any(|s| !s.is_ended() && !s.is_ready());
        match self.config.offline_queue.is_some() && reconnecting {
            true => Ok(None),
            false => Err(self.none_free()),
        }
    }

    /// A ready session nobody holds, with the fewest requests in flight.
    fn free_session(&self) -> Option<usize> {
        self.sessions
            .iter()
            .filter(|s| s.is_ready() && s.lease.is_none() && s.blocking == 0)
            .min_by_key(|s| s.pipeline.in_flight())
            .map(|s| s.index)
    }

    fn none_free(&self) -> ClientError {
        ClientError::NoAvailableConnections(format!(
            "No available connections in the pool: all {} connections are in use or disconnected",
            self.sessions.len()
        ))
    }

    /// Queues `cmd` on session `i`, with what its role does to the session.
    fn send(&mut self, i: usize, tag: Tag, cmd: Cmd) {
        self.forget_written(&cmd);
        let fills = match (tag, &self.cache) {
            (Tag::User(id), Some(cache)) => cache.is_filling(id),
            _ => false,
        };
        let s = &mut self.sessions[i];
        let mut shape = Shape {
            replies: 1,
            // A read for the cache is kept whole.
            streams: cmd.reply().streams() && !fills,
            confirms: None,
            gathers: matches!(tag, Tag::User(_)) && !fills && cmd.reply().takes_bytes_as_they_are(),
        };
        let in_tx = matches!(tag, Tag::TxQueued(..));
        match cmd.role() {
            Role::Blocking if !in_tx => {
                s.blocking += 1;
                if let Tag::User(id) = tag {
                    if let Some(record) = self.requests.get_mut(&id) {
                        record.blocking = true;
                    }
                }
            }
            Role::Subscribe(kind) | Role::Unsubscribe(kind) => {
                let subscribe = matches!(cmd.role(), Role::Subscribe(_));
                if subscribe && !s.in_pubsub() {
                    s.lease_subscription(0);
                }
                shape = Shape {
                    replies: cmd.replies(s.subscribed(kind)),
                    confirms: Some(kind),
                    ..Shape::ONE
                };
                let names: Vec<&[u8]> = cmd.args().skip(1).collect();
                s.track(kind, subscribe, &names);
            }
            _ => {}
        }
        if let Tag::User(id) | Tag::TxQueued(_, id) = tag {
            if let Some(record) = self.requests.get_mut(&id) {
                record.place = Place::Session(i);
            }
        }
        match s.pipeline.push(cmd, tag, shape) {
            Ok(()) => self.burst_due |= s.pipeline.take_burst_due(),
            Err(_) => self.fail_tag(tag, closed()),
        }
    }

    fn enqueue(&mut self, id: RequestId, cmd: Cmd) -> Result<(), ClientError> {
        let limits = self.config.offline_queue.unwrap_or(DEFAULT_OFFLINE_QUEUE);
        if self.offline.len() >= limits.commands
            || self.offline_bytes + cmd.byte_len() > limits.bytes
        {
            return Err(ClientError::NotConnected(format!(
                "reconnecting, and the offline queue is full ({} commands, {} bytes at most)",
                limits.commands, limits.bytes
            )));
        }
        self.offline_bytes += cmd.byte_len();
        self.offline.push_back((id, cmd));
        Ok(())
    }

    /// Sends what the offline queue holds, in order, while sessions take it.
    fn flush_offline(&mut self) {
        while let Some((id, cmd)) = self.offline.pop_front() {
            self.offline_bytes -= cmd.byte_len();
            match self.choose(&cmd) {
                Ok(Some(session)) => self.send(session, Tag::User(id), cmd),
                Ok(None) => {
                    self.offline_bytes += cmd.byte_len();
                    self.offline.push_front((id, cmd));
                    return;
                }
                Err(why) => self.complete(id, Outcome::Failed(why)),
            }
        }
    }

    /// Aborts a request: not sent if it was still queued, else its reply is
    /// dropped. The host settles it; no completion follows.
    pub fn abort(&mut self, id: RequestId) {
        let Some(record) = self.requests.get(&id) else {
            return;
        };
        if record.gone || record.started {
            return;
        }
        self.withdraw(id);
    }

    /// Takes a request out of wherever it waits, for good.
    fn withdraw(&mut self, id: RequestId) {
        let Some(record) = self.requests.get_mut(&id) else {
            return;
        };
        match record.place {
            Place::Offline => {
                if let Some(at) = self.offline.iter().position(|(queued, _)| *queued == id) {
                    if let Some((_, cmd)) = self.offline.remove(at) {
                        self.offline_bytes -= cmd.byte_len();
                    }
                }
                self.requests.remove(&id);
            }
            Place::Session(i) => {
                if let Some(cache) = &mut self.cache {
                    cache.forget(id);
                }
                let s = &mut self.sessions[i];
                if s.pipeline.unsend(Tag::User(id)).is_some() {
                    if record.blocking {
                        s.blocking -= 1;
                    }
                    self.requests.remove(&id);
                } else if s.pipeline.abandon(Tag::User(id)) && record.blocking {
                    record.gone = true;
                } else {
                    self.requests.remove(&id);
                }
            }
        }
    }

    /// Handles what a session delivered, then what its state now implies.
    fn after(&mut self, i: usize, delivered: Vec<Delivery<Tag>>, now: f64) {
        for delivery in delivered {
            match delivery {
                Delivery::Push(frame) => self.pushed(i, frame),
                Delivery::Dropped(Tag::User(id)) => {
                    if self.requests.remove(&id).is_some_and(|r| r.blocking) {
                        self.sessions[i].blocking = self.sessions[i].blocking.saturating_sub(1);
                    }
                }
                Delivery::Dropped(_) => {}
                Delivery::Reply(tag, outcome) => self.outcome(i, tag, outcome, now),
            }
        }
        let s = &self.sessions[i];
        if !s.is_ready() {
            // Redis tracks keys per connection: a lost one tells us nothing more.
            if let Some(cache) = &mut self.cache {
                cache.clear();
            }
            let lost: Vec<TxId> = self
                .txs
                .iter()
                .filter(|(_, tx)| tx.session == i)
                .map(|(&id, _)| id)
                .collect();
            for tx in lost {
                self.tx_failed(tx, ClientError::ConnectionLost("the socket closed".into()));
            }
        }
        if !self.offline.is_empty() && self.sessions.iter().any(Session::is_ready) {
            self.flush_offline();
        }
        if self.sessions.iter().all(Session::is_ended) {
            while let Some((id, cmd)) = self.offline.pop_front() {
                self.offline_bytes -= cmd.byte_len();
                self.complete(id, Outcome::Failed(closed()));
            }
        }
    }

    /// Out-of-band data: an invalidation is the cache's (before any later
    /// reply of this socket resolves), the rest the host's.
    fn pushed(&mut self, session: usize, frame: Frame) {
        let Some(cache) = &mut self.cache else {
            return self.out.push(Output::Push { session, frame });
        };
        let Some(keys) = cache::invalidation(&frame) else {
            return self.out.push(Output::Push { session, frame });
        };
        match &keys {
            None => cache.flushed(),
            Some(keys) => {
                cache.invalidate(keys);
            }
        }
        self.out
            .push(Output::Event(Event::Invalidate { session, keys }));
    }

    fn outcome(&mut self, i: usize, tag: Tag, outcome: Outcome, now: f64) {
        if let Outcome::Failed(why) = outcome {
            self.fail_tag(tag, why);
            return;
        }
        match tag {
            Tag::User(id) => self.user_outcome(i, id, outcome, now),
            Tag::Handshake | Tag::Health | Tag::Asking => {}
            Tag::Cache(id) => {
                if let (Some(cache), Outcome::Reply(frame)) = (&mut self.cache, &outcome) {
                    cache.ttl_replied(id, frame, now);
                }
            }
            Tag::TxQueued(tx, id) => {
                if let (Some(tx), Outcome::Reply(frame)) = (self.txs.get_mut(&tx), outcome) {
                    if frame.is_error() {
                        if let Some(entry) = tx.queued.iter_mut().find(|(q, _)| *q == id) {
                            entry.1 = Some(frame);
                        }
                    }
                }
            }
            Tag::TxWatch(tx) | Tag::TxMulti(tx) => {
                let Outcome::Reply(frame) = outcome else {
                    return;
                };
                if frame.is_error() {
                    self.tx_failed_with(tx, frame);
                } else if matches!(tag, Tag::TxWatch(_)) {
                    self.send(i, Tag::TxMulti(tx), plain(&["MULTI"]));
                } else if let Some(begin) = self.txs.get_mut(&tx).and_then(|t| t.begin.take()) {
                    self.complete(begin, Outcome::Reply(frame));
                }
            }
            Tag::TxExec(tx) | Tag::TxDiscard(tx) => {
                let Outcome::Reply(frame) = outcome else {
                    return;
                };
                self.tx_ended(tx, frame, matches!(tag, Tag::TxExec(_)));
            }
        }
    }

    fn user_outcome(&mut self, i: usize, id: RequestId, outcome: Outcome, now: f64) {
        let Some(record) = self.requests.get_mut(&id) else {
            return;
        };
        if !outcome.is_last() {
            record.started = true;
            self.out.push(Output::Completion(id, outcome));
            return;
        }
        if record.blocking {
            let s = &mut self.sessions[i];
            s.blocking = s.blocking.saturating_sub(1);
            record.blocking = false;
        }
        let Outcome::Reply(frame) = &outcome else {
            return self.complete(id, outcome);
        };
        if let Some(cache) = &mut self.cache {
            cache.replied(id, frame, now);
        }
        if is_noscript(frame) {
            if let Some(eval) = record.fallback.take() {
                let sent = match self.choose(&eval) {
                    Ok(Some(session)) => {
                        self.send(session, Tag::User(id), eval);
                        Ok(())
                    }
                    Ok(None) => self.enqueue(id, eval),
                    Err(why) => Err(why),
                };
                if let Err(why) = sent {
                    self.complete(id, Outcome::Failed(why));
                }
                return;
            }
        } else if !frame.is_error() {
            if let Some(remember) = record.remember.take() {
                apply(&mut self.sessions[i].remembered, remember);
            }
        }
        self.complete(id, outcome);
    }

    /// Emits a request's last outcome, once.
    fn complete(&mut self, id: RequestId, outcome: Outcome) {
        let Some(record) = self.requests.remove(&id) else {
            return;
        };
        if let Some(cache) = &mut self.cache {
            if matches!(outcome, Outcome::Failed(_)) {
                cache.forget(id);
            }
            match record.wrote {
                Some(None) => cache.flushed(),
                Some(Some(keys)) => {
                    cache.invalidate(&keys);
                }
                None => {}
            }
        }
        self.out.push(Output::Completion(id, outcome));
    }

    fn fail_tag(&mut self, tag: Tag, why: ClientError) {
        match tag {
            Tag::User(id) | Tag::TxQueued(_, id) => self.complete(id, Outcome::Failed(why)),
            Tag::TxWatch(tx) | Tag::TxMulti(tx) | Tag::TxExec(tx) | Tag::TxDiscard(tx) => {
                self.tx_failed(tx, why)
            }
            Tag::Cache(id) => {
                if let Some(cache) = &mut self.cache {
                    cache.forget(id);
                }
            }
            Tag::Handshake | Tag::Health | Tag::Asking => {}
        }
    }

    // Transactions.

    /// Starts a transaction on a session of its own (WATCH first when
    /// given, then MULTI). The returned request completes once MULTI is
    /// answered; until exec or discard, the session takes nothing else.
    pub fn multi(
        &mut self,
        watch: Option<Cmd>,
        owner: u32,
    ) -> Result<(TxId, RequestId), ClientError> {
        let session = self.lease_target("multi")?;
        let tx = self.next_tx;
        self.next_tx += 1;
        self.sessions[session].lease = Some(Lease {
            owner,
            kind: LeaseKind::Transaction(tx),
        });
        let begin = self.new_request(&plain(&["MULTI"]), None);
        self.txs.insert(
            tx,
            Tx {
                session,
                owner,
                queued: Vec::new(),
                begin: Some(begin),
                end: None,
            },
        );
        match watch {
            Some(watch) => self.send(session, Tag::TxWatch(tx), watch),
            None => self.send(session, Tag::TxMulti(tx), plain(&["MULTI"])),
        }
        Ok((tx, begin))
    }

    /// The session a new lease takes.
    fn lease_target(&self, what: &str) -> Result<usize, ClientError> {
        if self.mode == Mode::Pool {
            return self.free_session().ok_or_else(|| self.none_free());
        }
        let s = &self.sessions[0];
        match s.lease {
            _ if s.is_ended() => Err(closed()),
            Some(Lease {
                kind: LeaseKind::Transaction(_),
                ..
            }) => Err(ClientError::Refused(format!(
                "{what}: the connection is already in a transaction"
            ))),
            Some(_) => Err(ClientError::Refused(format!(
                "{what}: the connection is subscribed"
            ))),
            None if !s.is_ready() => Err(not_ready(s)),
            None => Ok(0),
        }
    }

    fn open_tx(&mut self, tx: TxId) -> Result<&mut Tx, ClientError> {
        self.txs
            .get_mut(&tx)
            .filter(|t| t.end.is_none() && t.begin.is_none())
            .ok_or_else(|| {
                ClientError::Transaction("Transaction already finished or invalid.".into())
            })
    }

    /// Queues a command in the transaction: it completes at EXEC.
    pub fn tx_request(&mut self, tx: TxId, cmd: Cmd) -> Result<RequestId, ClientError> {
        self.open_tx(tx)?;
        match cmd.role() {
            Role::Refused(why) => return Err(ClientError::Refused(why.into())),
            Role::Transaction if cmd.name() == "MULTI" => {
                return Err(ClientError::Refused(
                    "Multi calls can not be nested.".into(),
                ))
            }
            Role::Transaction => {
                return Err(ClientError::Refused(
                    "EXEC and DISCARD: use the Transaction's exec() and discard()".into(),
                ))
            }
            Role::Subscribe(_) | Role::Unsubscribe(_) => {
                return Err(ClientError::Refused(
                    "Cannot start pubsub listener when a protocol is in use.".into(),
                ))
            }
            _ => {}
        }
        let id = self.new_request(&cmd, None);
        let t = self.open_tx(tx)?;
        t.queued.push((id, None));
        let session = t.session;
        self.send(session, Tag::TxQueued(tx, id), cmd);
        Ok(id)
    }

    /// EXEC (`true`) or DISCARD: the returned request completes with it.
    pub fn tx_end(&mut self, tx: TxId, exec: bool) -> Result<RequestId, ClientError> {
        let word = if exec { "EXEC" } else { "DISCARD" };
        self.open_tx(tx)?;
        let id = self.new_request(&plain(&[word]), None);
        let t = self.open_tx(tx)?;
        t.end = Some(id);
        let session = t.session;
        let tag = if exec {
            Tag::TxExec(tx)
        } else {
            Tag::TxDiscard(tx)
        };
        self.send(session, tag, plain(&[word]));
        Ok(id)
    }

    /// EXEC's or DISCARD's reply: each queued request gets its own result.
    fn tx_ended(&mut self, tx: TxId, frame: Frame, exec: bool) {
        let Some(t) = self.release_tx(tx) else { return };
        let failure = match (exec, frame) {
            (true, Frame::Array(results)) if results.len() == t.queued.len() => {
                for ((id, _), result) in t.queued.into_iter().zip(results) {
                    self.complete(id, Outcome::Reply(result));
                }
                if let Some(end) = t.end {
                    self.complete(
                        end,
                        Outcome::Reply(Frame::Simple(Bytes::from_static(b"OK"))),
                    );
                }
                return;
            }
            (true, Frame::Null) => ClientError::Transaction(
                "a watched key changed: the transaction was not executed".into(),
            ),
            (_, Frame::Error(message)) => ClientError::Transaction(format!(
                "the transaction was aborted: {}",
                String::from_utf8_lossy(&message)
            )),
            (true, _) => ClientError::Transaction(
                "EXEC gave a reply that does not match the queued commands".into(),
            ),
            (false, frame) => {
                let discarded = ClientError::Transaction("the transaction was discarded".into());
                for (id, _) in t.queued {
                    self.complete(id, Outcome::Failed(discarded.clone()));
                }
                if let Some(end) = t.end {
                    self.complete(end, Outcome::Reply(frame));
                }
                return;
            }
        };
        for (id, queuing_error) in t.queued {
            match queuing_error {
                Some(error) => self.complete(id, Outcome::Reply(error)),
                None => self.complete(id, Outcome::Failed(failure.clone())),
            }
        }
        if let Some(end) = t.end {
            self.complete(end, Outcome::Failed(failure));
        }
    }

    /// WATCH or MULTI refused: the transaction never began.
    fn tx_failed_with(&mut self, tx: TxId, error: Frame) {
        if let Some(t) = self.release_tx(tx) {
            if let Some(begin) = t.begin {
                self.complete(begin, Outcome::Reply(error));
            }
        }
    }

    fn tx_failed(&mut self, tx: TxId, why: ClientError) {
        let Some(t) = self.release_tx(tx) else { return };
        let ids = t.queued.iter().map(|(id, _)| *id);
        for id in t.begin.into_iter().chain(ids).chain(t.end) {
            self.complete(id, Outcome::Failed(why.clone()));
        }
    }

    fn release_tx(&mut self, tx: TxId) -> Option<Tx> {
        let t = self.txs.remove(&tx)?;
        let s = &mut self.sessions[t.session];
        if s.lease
            == Some(Lease {
                owner: t.owner,
                kind: LeaseKind::Transaction(tx),
            })
        {
            s.lease = None;
        }
        Some(t)
    }

    // Subscriptions.

    /// Adds a session, dialled now, and returns its index: a cluster
    /// node's pool grows for blocking calls and subscriptions.
    pub fn add_session(&mut self, now: f64) -> usize {
        let i = self.sessions.len();
        self.sessions
            .push(Session::new(i, self.config.remembered.clone()));
        let (session, mut cx) = self.at(i, now);
        session.start(&mut cx);
        i
    }

    /// Leases session `i` for pub/sub (a cluster subscription's own socket).
    pub fn lease_session(&mut self, i: usize, owner: u32) {
        if let Some(s) = self.sessions.get_mut(i) {
            s.lease_subscription(owner);
        }
    }

    /// Leases a session for pub/sub (a `Connection`'s own, once; a free one
    /// of a pool) and returns it; it stays subscribed across reconnects.
    pub fn subscribe(&mut self, owner: u32) -> Result<usize, ClientError> {
        if self.mode == Mode::Single && self.sessions[0].in_pubsub() {
            return Ok(0);
        }
        let session = self.lease_target("startSubscribe")?;
        self.sessions[session].lease_subscription(owner);
        Ok(session)
    }

    // State, for the host's getters.

    pub fn size(&self) -> usize {
        self.sessions.len()
    }

    pub fn is_connected(&self, i: usize) -> bool {
        self.sessions.get(i).is_some_and(Session::is_ready)
    }

    pub fn is_ended(&self) -> bool {
        self.sessions.iter().all(Session::is_ended)
    }

    pub fn in_transaction(&self, i: usize) -> bool {
        self.sessions.get(i).is_some_and(|s| {
            matches!(
                s.lease,
                Some(Lease {
                    kind: LeaseKind::Transaction(_),
                    ..
                })
            )
        })
    }

    pub fn in_pubsub(&self, i: usize) -> bool {
        self.sessions.get(i).is_some_and(Session::in_pubsub)
    }

    pub fn in_blocking_call(&self, i: usize) -> bool {
        self.sessions.get(i).is_some_and(|s| s.blocking > 0)
    }

    /// Held by a transaction, a subscription or a blocking call.
    pub fn in_use(&self, i: usize) -> bool {
        self.sessions
            .get(i)
            .is_some_and(|s| s.lease.is_some() || s.blocking > 0)
    }

    pub fn in_flight(&self, i: usize) -> usize {
        self.sessions.get(i).map_or(0, |s| s.pipeline.in_flight())
    }

    pub fn offline_len(&self) -> usize {
        self.offline.len()
    }

    /// The client-side cache's counters, when it has one.
    pub fn cache_stats(&self) -> Option<cache::Stats> {
        self.cache.as_ref().map(Cache::stats)
    }

    /// Drops every cached entry (counted as invalidations).
    pub fn clear_cache(&mut self) {
        if let Some(cache) = &mut self.cache {
            cache.flushed();
        }
    }
}

/// The keys a write command changes (`Some(None)`: every key, a flush).
fn written(cmd: &Cmd) -> Option<Option<Vec<Vec<u8>>>> {
    let info = cmd.info()?;
    if matches!(info.name, "FLUSHALL" | "FLUSHDB" | "SWAPDB") {
        return Some(None);
    }
    let script = matches!(info.name, "EVAL" | "EVALSHA" | "FCALL");
    if !script && !info.flags.contains(super::command_info::Flags::WRITE) {
        return None;
    }
    let keys: Vec<Vec<u8>> = cmd.keys().into_iter().map(<[u8]>::to_vec).collect();
    (!keys.is_empty()).then_some(Some(keys))
}

fn plain(words: &[&str]) -> Cmd {
    Cmd::new(words, None, ReplyKind::Plain)
}

fn closed() -> ClientError {
    ClientError::NotConnected("the connection is closed".into())
}

fn not_ready(s: &Session) -> ClientError {
    match s.is_ended() {
        true => closed(),
        false => ClientError::NotConnected("not connected (reconnecting)".into()),
    }
}

fn is_noscript(frame: &Frame) -> bool {
    matches!(frame, Frame::Error(message) if message.starts_with(b"NOSCRIPT"))
}

/// What a command would change in the remembered state, if it succeeds.
fn remembered(cmd: &Cmd) -> Option<Remember> {
    let arg = |i| cmd.arg(i).map(<[u8]>::to_vec);
    match cmd.role() {
        Role::Select => arg(1).map(Remember::Select),
        Role::Auth if cmd.len() == 2 => arg(1).map(|p| Remember::Auth(None, p)),
        Role::Auth => Some(Remember::Auth(arg(1), arg(2)?)),
        Role::SetName => arg(2).map(Remember::SetName),
        Role::Hello => {
            let (mut auth, mut name, mut i) = (None, None, 2);
            while let Some(word) = cmd.arg(i) {
                if word.eq_ignore_ascii_case(b"AUTH") {
                    auth = Some((arg(i + 1)?, arg(i + 2)?));
                    i += 3;
                } else if word.eq_ignore_ascii_case(b"SETNAME") {
                    name = Some(arg(i + 1)?);
                    i += 2;
                } else {
                    return None;
                }
            }
            Some(Remember::Hello {
                protocol: arg(1),
                auth,
                name,
            })
        }
        _ => None,
    }
}

fn apply(state: &mut Remembered, change: Remember) {
    match change {
        Remember::Select(db) => state.db = Some(db),
        Remember::Auth(user, password) => {
            state.user = user;
            state.password = Some(password);
        }
        Remember::SetName(name) => state.name = Some(name),
        Remember::Hello {
            protocol,
            auth,
            name,
        } => {
            if protocol.is_some() {
                state.protocol = protocol;
            }
            if let Some((user, password)) = auth {
                state.user = Some(user);
                state.password = Some(password);
            }
            if name.is_some() {
                state.name = name;
            }
        }
    }
}
