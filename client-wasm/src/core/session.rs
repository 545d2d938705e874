//! One socket's lifecycle: dial → handshake → ready → backoff → … → ended.
//!
//! A [`Session`] is driven only by inputs (the transport opened, bytes
//! arrived, it closed; the clock ticked) and answers only with outputs (dial,
//! close, events) and with the deliveries of its pipeline, which the
//! [`Pool`](super::pool::Pool) hands to their requests. The handshake
//! replays what the connection was told to be: `HELLO 3` for RESP3, `AUTH`,
//! `SELECT`, `CLIENT SETNAME`, and the subscriptions it had (or a `PING`
//! when there is nothing to replay: a bridge accepts the WebSocket before it
//! reaches Redis, and ready means Redis answered); its replies are the
//! session's own and never reach a user's request. A lost socket is
//! dialled again after a jittered exponential backoff, up to `maxRetries`
//! failed attempts in a row.

use resp::Frame;

use super::backoff::{self, Rng};
use super::cmd::{Channels, Cmd};
use super::command::ReplyKind;
use super::error::error_code;
use super::pipeline::{Delivery, Outcome, Pipeline, Shape};
use super::ClientError;

pub type RequestId = u64;
pub type TxId = u32;

/// Who waits for a reply in the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    /// The handshake's own commands.
    Handshake,
    /// A user's request.
    User(RequestId),
    /// The steps of a transaction.
    TxWatch(TxId),
    TxMulti(TxId),
    TxQueued(TxId, RequestId),
    TxExec(TxId),
    TxDiscard(TxId),
    /// A read's helpers for the client-side cache (`CLIENT CACHING YES`
    /// before it, `PTTL`s after it).
    Cache(RequestId),
    /// The idle check of a cached socket (a `PING`).
    Health,
    /// The `ASKING` before a command a cluster node is importing.
    Asking,
}

/// Who holds a session for itself. `owner` tells leases of different
/// contexts apart (each tab of a shared worker); 0 is the local one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    pub owner: u32,
    pub kind: LeaseKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseKind {
    Transaction(TxId),
    /// Pub/sub: kept across reconnects, which resubscribe.
    Subscription,
}

/// What the host is asked to do, or told.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Open a transport for `session`; its events carry `generation`.
    Dial {
        session: usize,
        generation: u32,
    },
    /// Close that transport (the core is done with it).
    Close {
        session: usize,
        generation: u32,
        code: u16,
        reason: String,
    },
    Event(Event),
    /// A request's outcome.
    Completion(RequestId, Outcome),
    /// Out-of-band data from `session`: a published message, a push.
    Push {
        session: usize,
        frame: Frame,
    },
}

/// The lifecycle events users see.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The transport opened; the handshake begins.
    Connect {
        session: usize,
    },
    /// The handshake is done: commands flow.
    Ready {
        session: usize,
    },
    /// A new attempt is due in `delay` ms.
    Reconnecting {
        session: usize,
        attempt: u32,
        delay: f64,
    },
    Error {
        session: usize,
        error: ClientError,
    },
    /// The transport closed.
    Close {
        session: usize,
        code: u16,
        reason: String,
    },
    /// Redis said these keys changed (`None`: all of them, a flush); their
    /// cached replies are gone.
    Invalidate {
        session: usize,
        keys: Option<Vec<resp::Bytes>>,
    },
    /// No more attempts: the session is over (`cause` unless closed by the user).
    End {
        session: usize,
        cause: Option<ClientError>,
    },
}

/// How sessions connect and reconnect.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub auto_reconnect: bool,
    pub reconnect_cap_ms: f64,
    /// Failed attempts in a row after which the session ends.
    pub max_retries: Option<u32>,
    /// Bounds each attempt's dial and handshake, and how long the first
    /// connection is retried before it gives up.
    pub connect_timeout_ms: Option<f64>,
}

/// What a session's inputs work with: the time, the settings, the jitter
/// source and where outputs go.
pub struct Cx<'a> {
    pub now: f64,
    pub settings: &'a Settings,
    pub rng: &'a mut Rng,
    pub out: &'a mut Vec<Output>,
}

/// What the handshake replays: the options, then whatever succeeded since.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Remembered {
    pub protocol: Option<Vec<u8>>,
    pub user: Option<Vec<u8>>,
    pub password: Option<Vec<u8>>,
    pub db: Option<Vec<u8>>,
    pub name: Option<Vec<u8>>,
    /// The `CLIENT TRACKING` line of client-side caching.
    pub tracking: Option<Vec<Vec<u8>>>,
    /// `READONLY`: a cluster replica's socket serves reads.
    pub readonly: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum State {
    Idle,
    Dialing { deadline: Option<f64> },
    Handshake { deadline: Option<f64> },
    Ready,
    Backoff { until: f64 },
    Ended,
}

pub struct Session {
    pub index: usize,
    pub state: State,
    socket: Option<u32>,
    generations: u32,
    pub pipeline: Pipeline<Tag>,
    pub remembered: Remembered,
    /// The channels, patterns and shard channels subscribed to, as sent.
    channels: [Vec<Vec<u8>>; 3],
    pub blocking: usize,
    pub lease: Option<Lease>,
    attempt: u32,
    /// Until the first ready, when the first connection stops being retried.
    first_deadline: Option<f64>,
    handshake: Vec<String>,
    last_error: Option<ClientError>,
    /// When the current socket last gave bytes, and when the idle check's
    /// `PING` went out (client-side caching only).
    last_heard: f64,
    health_sent: Option<f64>,
}

impl Session {
    pub fn new(index: usize, remembered: Remembered) -> Session {
        Session {
            index,
            state: State::Idle,
            socket: None,
            generations: 0,
            pipeline: Pipeline::new(),
            remembered,
            channels: Default::default(),
            blocking: 0,
            lease: None,
            attempt: 0,
            first_deadline: None,
            handshake: Vec::new(),
            last_error: None,
            last_heard: 0.0,
            health_sent: None,
        }
    }

    pub fn is_ready(&self) -> bool {
        self.state == State::Ready
    }

    pub fn is_ended(&self) -> bool {
        self.state == State::Ended
    }

    pub fn in_pubsub(&self) -> bool {
        matches!(
            self.lease,
            Some(Lease {
                kind: LeaseKind::Subscription,
                ..
            })
        )
    }

    fn resp2(&self) -> bool {
        self.remembered.protocol.as_deref() != Some(b"3")
    }

    /// Enters pub/sub for good: messages are told apart from replies, and
    /// reconnects resubscribe.
    pub fn lease_subscription(&mut self, owner: u32) {
        self.lease = Some(Lease {
            owner,
            kind: LeaseKind::Subscription,
        });
        if self.resp2() {
            self.pipeline.enter_pubsub();
        }
    }

    pub fn subscribed(&self, kind: Channels) -> usize {
        self.channels[kind as usize].len()
    }

    /// Records a (un)subscribe as sent, for the next handshake.
    pub fn track(&mut self, kind: Channels, subscribe: bool, names: &[&[u8]]) {
        let tracked = &mut self.channels[kind as usize];
        if subscribe {
            for name in names {
                if !tracked.iter().any(|t| t == name) {
                    tracked.push(name.to_vec());
                }
            }
        } else if names.is_empty() {
            tracked.clear();
        } else {
            tracked.retain(|t| !names.contains(&t.as_slice()));
        }
    }

    /// Bytes came from transport `generation` at `now`.
    pub fn heard(&mut self, generation: u32, now: f64) {
        if self.is_current(generation) {
            self.heard_now(now);
        }
    }

    pub fn heard_now(&mut self, now: f64) {
        self.last_heard = now;
        self.health_sent = None;
    }

    /// When the idle check of a ready socket is due (a blocking call
    /// keeps Redis from answering, so none then).
    pub fn health_due(&self, idle_ms: f64) -> Option<f64> {
        if !self.is_ready() || self.blocking > 0 {
            return None;
        }
        Some(self.health_sent.unwrap_or(self.last_heard) + idle_ms)
    }

    pub fn health_pending(&self) -> bool {
        self.health_sent.is_some()
    }

    pub fn health_sent(&mut self, now: f64) {
        self.health_sent = Some(now);
    }

    /// Gives up on the current socket, as a broken stream does.
    pub fn give_up(&mut self, why: ClientError, cx: &mut Cx) -> Vec<Delivery<Tag>> {
        self.fail(why, 4000, "health check failed", cx)
    }

    /// Starts the first attempt.
    pub fn start(&mut self, cx: &mut Cx) {
        self.first_deadline = cx.settings.connect_timeout_ms.map(|ms| cx.now + ms);
        self.dial(cx);
    }

    fn dial(&mut self, cx: &mut Cx) {
        let (now, settings, out) = (cx.now, cx.settings, &mut *cx.out);
        self.generations += 1;
        self.socket = Some(self.generations);
        self.state = State::Dialing {
            deadline: settings.connect_timeout_ms.map(|ms| now + ms),
        };
        out.push(Output::Dial {
            session: self.index,
            generation: self.generations,
        });
    }

    /// Whether events of transport `generation` concern this session now.
    pub fn is_current(&self, generation: u32) -> bool {
        self.socket == Some(generation)
    }

    /// The transport opened: send the handshake.
    pub fn on_open(&mut self, generation: u32, out: &mut Vec<Output>) {
        if !self.is_current(generation) || !matches!(self.state, State::Dialing { .. }) {
            out.push(self.close_output(generation, "not wanted any more"));
            return;
        }
        let deadline = match self.state {
            State::Dialing { deadline } => deadline,
            _ => None,
        };
        self.pipeline = Pipeline::new();
        if self.in_pubsub() && self.resp2() {
            self.pipeline.enter_pubsub();
        }
        out.push(Output::Event(Event::Connect {
            session: self.index,
        }));
        self.handshake.clear();
        for cmd in self.handshake_commands() {
            self.handshake.push(cmd.name());
            let shape = match cmd.role() {
                super::cmd::Role::Subscribe(kind) => Shape {
                    replies: cmd.len() - 1,
                    confirms: Some(kind),
                    ..Shape::ONE
                },
                _ => Shape::ONE,
            };
            let _ = self.pipeline.push(cmd, Tag::Handshake, shape);
        }
        self.handshake.reverse();
        self.state = State::Handshake { deadline };
    }

    fn handshake_commands(&self) -> Vec<Cmd> {
        let r = &self.remembered;
        let mut cmds = Vec::new();
        let line = |args: Vec<&[u8]>| Cmd::new(args, None, ReplyKind::Plain);
        let user = r.user.as_deref().unwrap_or(b"default");
        match (&r.protocol, &r.password) {
            (Some(protocol), Some(password)) => {
                cmds.push(line(vec![b"HELLO", protocol, b"AUTH", user, password]))
            }
            (Some(protocol), None) => cmds.push(line(vec![b"HELLO", protocol])),
            (None, Some(password)) if r.user.is_some() => {
                cmds.push(line(vec![b"AUTH", user, password]))
            }
            (None, Some(password)) => cmds.push(line(vec![b"AUTH", password])),
            (None, None) => {}
        }
        if let Some(db) = r.db.as_deref().filter(|db| *db != b"0") {
            cmds.push(line(vec![b"SELECT", db]));
        }
        if let Some(name) = &r.name {
            cmds.push(line(vec![b"CLIENT", b"SETNAME", name]));
        }
        if let Some(tracking) = &r.tracking {
            cmds.push(Cmd::new(tracking, None, ReplyKind::Plain));
        }
        if r.readonly {
            cmds.push(line(vec![b"READONLY"]));
        }
        for kind in Channels::ALL {
            let names = &self.channels[kind as usize];
            if !names.is_empty() {
                let mut cmd = Cmd::new([kind.subscribe_word()], None, ReplyKind::Plain);
                names.iter().for_each(|name| cmd.push(name));
                cmds.push(cmd);
            }
        }
        // A bridge opens the WebSocket before it reaches Redis: ready means
        // Redis answered, so there is always something to answer.
        if cmds.is_empty() {
            cmds.push(line(vec![b"PING"]));
        }
        cmds
    }

    fn ready(&mut self, now: f64, out: &mut Vec<Output>) {
        self.state = State::Ready;
        self.last_heard = now;
        self.health_sent = None;
        self.attempt = 0;
        self.first_deadline = None;
        self.last_error = None;
        out.push(Output::Event(Event::Ready {
            session: self.index,
        }));
    }

    /// Bytes from transport `generation`: the handshake's replies are taken
    /// here, the rest returned. A broken stream loses the socket.
    pub fn on_bytes(&mut self, generation: u32, data: &[u8], cx: &mut Cx) -> Vec<Delivery<Tag>> {
        if !self.is_current(generation) {
            return Vec::new();
        }
        self.pipeline.input().extend_from_slice(data);
        self.received(cx)
    }

    /// See [`Pipeline::take_large_bulk`]: for the requests of a ready session.
    pub fn take_large_bulk(
        &mut self,
        generation: u32,
        min: usize,
    ) -> Option<(usize, bytes::BytesMut)> {
        if !self.is_current(generation) || !self.is_ready() {
            return None;
        }
        self.pipeline.take_large_bulk(min)
    }

    /// See [`Pipeline::gathered`]; a bulk string not ended by CRLF is a
    /// protocol error, as the decoder would have found it.
    pub fn gathered(&mut self, generation: u32, ended: bool, cx: &mut Cx) -> Vec<Delivery<Tag>> {
        if !self.is_current(generation) {
            return Vec::new();
        }
        match self.pipeline.gathered(ended) {
            Ok(delivered) => delivered,
            Err(why) => self.fail(why, 4002, "protocol error", cx),
        }
    }

    /// Decodes what [`Pipeline::input`] was given.
    pub fn received(&mut self, cx: &mut Cx) -> Vec<Delivery<Tag>> {
        let mut delivered = Vec::new();
        let result = self.pipeline.replies(&mut delivered);
        let mut rest = Vec::with_capacity(delivered.len());
        let mut failed = None;
        for delivery in delivered {
            match delivery {
                Delivery::Reply(Tag::Handshake, Outcome::Reply(frame)) => {
                    if let Some(why) = self.handshake_reply(frame) {
                        failed.get_or_insert(why);
                    }
                }
                Delivery::Reply(Tag::Handshake, _) | Delivery::Dropped(Tag::Handshake) => {}
                other => rest.push(other),
            }
        }
        if let Err(why) = result {
            rest.extend(self.fail(why, 4002, "protocol error", cx));
        } else if let Some(why) = failed {
            rest.extend(self.fail(why, 1000, "handshake failed", cx));
        } else if matches!(self.state, State::Handshake { .. }) && self.handshake.is_empty() {
            self.ready(cx.now, cx.out);
        }
        rest
    }

    /// One handshake reply; the error that fails the handshake, if any.
    fn handshake_reply(&mut self, frame: Frame) -> Option<ClientError> {
        let command = self.handshake.pop().unwrap_or_default();
        let message = match frame {
            Frame::Error(message) | Frame::BulkError(message) => {
                String::from_utf8_lossy(&message).into_owned()
            }
            _ => return None,
        };
        Some(ClientError::Reply { command, message })
    }

    /// The transport closed by itself.
    pub fn on_closed(
        &mut self,
        generation: u32,
        code: u16,
        reason: &str,
        cx: &mut Cx,
    ) -> Vec<Delivery<Tag>> {
        if !self.is_current(generation) {
            return Vec::new();
        }
        let opened = !matches!(self.state, State::Dialing { .. });
        let why = match reason {
            "" => format!("the WebSocket closed (code {code})"),
            _ => format!("the WebSocket closed (code {code}: {reason})"),
        };
        let why = match opened {
            true => ClientError::ConnectionLost(why),
            false => ClientError::NotConnected(format!("cannot connect: {why}")),
        };
        self.socket = None;
        cx.out.push(Output::Event(Event::Close {
            session: self.index,
            code,
            reason: reason.to_owned(),
        }));
        self.lose(why, cx)
    }

    /// Gives up on the current socket with `why`: closes it, fails what it
    /// carried, and reconnects or ends.
    fn fail(
        &mut self,
        why: ClientError,
        code: u16,
        reason: &str,
        cx: &mut Cx,
    ) -> Vec<Delivery<Tag>> {
        let out = &mut *cx.out;
        out.push(Output::Event(Event::Error {
            session: self.index,
            error: why.clone(),
        }));
        if let Some(generation) = self.socket.take() {
            out.push(self.close_output(generation, reason).with_code(code));
            out.push(Output::Event(Event::Close {
                session: self.index,
                code,
                reason: reason.to_owned(),
            }));
        }
        self.lose(why, cx)
    }

    fn lose(&mut self, why: ClientError, cx: &mut Cx) -> Vec<Delivery<Tag>> {
        let (now, settings) = (cx.now, cx.settings);
        let lost = match &why {
            ClientError::Reply { .. } | ClientError::Timeout(_) => {
                ClientError::ConnectionLost(why.to_string())
            }
            other => other.clone(),
        };
        let failed = self
            .pipeline
            .close()
            .into_iter()
            .map(|tag| Delivery::Reply(tag, Outcome::Failed(lost.clone())))
            .collect();
        self.blocking = 0;
        if matches!(
            self.lease,
            Some(Lease {
                kind: LeaseKind::Transaction(_),
                ..
            })
        ) {
            self.lease = None;
        }
        let fatal =
            matches!(&why, ClientError::Reply { message, .. } if error_code(message) != "LOADING");
        self.last_error = Some(why);
        let attempt = self.attempt + 1;
        let delay = backoff::delay(attempt, settings.reconnect_cap_ms, cx.rng);
        let gives_up = fatal
            || !settings.auto_reconnect
            || settings.max_retries.is_some_and(|max| attempt > max)
            || self.first_deadline.is_some_and(|d| now + delay > d);
        if gives_up {
            self.end(cx.out);
        } else {
            self.attempt = attempt;
            self.state = State::Backoff { until: now + delay };
            cx.out.push(Output::Event(Event::Reconnecting {
                session: self.index,
                attempt,
                delay,
            }));
        }
        failed
    }

    fn end(&mut self, out: &mut Vec<Output>) {
        self.state = State::Ended;
        let cause = self.last_error.take().map(|why| match why {
            ClientError::Reply { .. } | ClientError::NotConnected(_) => why,
            other => ClientError::NotConnected(other.to_string()),
        });
        out.push(Output::Event(Event::End {
            session: self.index,
            cause,
        }));
    }

    /// Timers: a dial or handshake past `connectTimeout`, a backoff over.
    pub fn on_tick(&mut self, cx: &mut Cx) -> Vec<Delivery<Tag>> {
        let now = cx.now;
        match self.state {
            State::Dialing { deadline: Some(d) } | State::Handshake { deadline: Some(d) }
                if now >= d =>
            {
                let ms = cx.settings.connect_timeout_ms.unwrap_or_default();
                let why = ClientError::Timeout(format!(
                    "connectTimeout: not connected within {} ms",
                    super::error::number_text(ms)
                ));
                self.fail(why, 1000, "connect timeout", cx)
            }
            State::Backoff { until } if now >= until => {
                self.dial(cx);
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    pub fn deadline(&self) -> Option<f64> {
        match self.state {
            State::Dialing { deadline } | State::Handshake { deadline } => deadline,
            State::Backoff { until } => Some(until),
            _ => None,
        }
    }

    /// Closed by the user: everything in flight fails, no reconnect.
    pub fn close(&mut self, out: &mut Vec<Output>) -> Vec<Delivery<Tag>> {
        if self.is_ended() {
            return Vec::new();
        }
        let why = ClientError::ConnectionLost("the connection was closed by the client".into());
        if let Some(generation) = self.socket.take() {
            out.push(self.close_output(generation, "closed by the client"));
            out.push(Output::Event(Event::Close {
                session: self.index,
                code: 1000,
                reason: "closed by the client".into(),
            }));
        }
        let failed = self
            .pipeline
            .close()
            .into_iter()
            .map(|tag| Delivery::Reply(tag, Outcome::Failed(why.clone())))
            .collect();
        self.blocking = 0;
        self.last_error = None;
        self.end(out);
        failed
    }

    fn close_output(&self, generation: u32, reason: &str) -> Output {
        Output::Close {
            session: self.index,
            generation,
            code: 1000,
            reason: reason.to_owned(),
        }
    }
}

impl Output {
    fn with_code(mut self, new: u16) -> Output {
        if let Output::Close { code, .. } = &mut self {
            *code = new;
        }
        self
    }
}
