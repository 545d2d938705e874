//! The core driven by a scripted fake transport: every byte the client
//! would send is read back, every byte the server would answer is typed in,
//! and the clock only moves when a test moves it.

use resp::{Bytes, Frame};

use super::backoff::FIRST_DELAY_MS;
use super::cmd::Cmd;
use super::command::ReplyKind;
use super::cursor::{Cursor, ScanKind};
use super::pipeline::{Outcome, BURST_BYTES};
use super::pool::{Config, Mode, Pool, QueueLimits};
use super::session::{Event, Output, Remembered, RequestId, Settings};
use super::{script, ClientError};

pub(super) struct Wire {
    pub(super) pool: Pool,
    pub(super) now: f64,
    pub(super) generations: Vec<u32>,
    pub(super) dials: usize,
    pub(super) completions: Vec<(RequestId, Outcome)>,
    pub(super) events: Vec<Event>,
    pub(super) pushes: Vec<(usize, Frame)>,
    pub(super) closes: Vec<usize>,
    pub(super) outbox: Vec<Vec<u8>>,
}

pub(super) fn settings() -> Settings {
    Settings {
        auto_reconnect: true,
        reconnect_cap_ms: 2000.0,
        max_retries: None,
        connect_timeout_ms: Some(10_000.0),
    }
}

pub(super) fn config() -> Config {
    Config {
        settings: settings(),
        remembered: Remembered::default(),
        command_timeout_ms: None,
        offline_queue: None,
        cache: None,
    }
}

pub(super) fn cmd(args: &[&str]) -> Cmd {
    Cmd::lookup(args, ReplyKind::Plain)
}

pub(super) fn streamed(args: &[&str]) -> Cmd {
    Cmd::lookup(args, ReplyKind::List)
}

pub(super) fn bulk(s: &str) -> Frame {
    Frame::Bulk(Bytes::copy_from_slice(s.as_bytes()))
}

pub(super) fn simple(s: &str) -> Frame {
    Frame::Simple(Bytes::copy_from_slice(s.as_bytes()))
}

pub(super) fn error(s: &str) -> Frame {
    Frame::Error(Bytes::copy_from_slice(s.as_bytes()))
}

pub(super) fn array(items: &[Frame]) -> Frame {
    Frame::Array(items.to_vec())
}

pub(super) fn reply(frame: Frame) -> Outcome {
    Outcome::Reply(frame)
}

/// RESP for a list of commands, as the client writes them.
pub(super) fn resp(lines: &[&[&str]]) -> String {
    let mut out = Vec::new();
    for line in lines {
        resp::encode_command(&mut out, line.iter());
    }
    String::from_utf8(out).unwrap()
}

impl Wire {
    pub(super) fn new(config: Config, size: usize, mode: Mode) -> Wire {
        let mut wire = Wire {
            pool: Pool::new(config, size, mode, 42),
            now: 1000.0,
            generations: vec![0; size],
            dials: 0,
            completions: Vec::new(),
            events: Vec::new(),
            pushes: Vec::new(),
            closes: Vec::new(),
            outbox: vec![Vec::new(); size],
        };
        wire.pool.start(wire.now);
        wire.collect();
        wire
    }

    /// A client whose sessions are open and ready.
    pub(super) fn ready(size: usize, mode: Mode) -> Wire {
        let mut wire = Wire::new(config(), size, mode);
        for i in 0..size {
            wire.handshake(i);
        }
        wire.events.clear();
        wire
    }

    /// Opens session `i` and answers the handshake's PING (nothing else to
    /// replay).
    pub(super) fn handshake(&mut self, i: usize) {
        self.open(i);
        assert!(
            !self.pool.is_connected(i),
            "not ready before Redis answered"
        );
        assert_eq!(self.sent(i), resp(&[&["PING"]]));
        self.answer(i, &[simple("PONG")]);
        assert!(self.pool.is_connected(i));
    }

    pub(super) fn collect(&mut self) {
        for output in self.pool.take_outputs() {
            match output {
                Output::Dial {
                    session,
                    generation,
                } => {
                    self.generations[session] = generation;
                    self.dials += 1;
                }
                Output::Close { session, .. } => self.closes.push(session),
                Output::Event(event) => self.events.push(event),
                Output::Completion(id, outcome) => self.completions.push((id, outcome)),
                Output::Push { session, frame } => self.pushes.push((session, frame)),
            }
        }
    }

    pub(super) fn open(&mut self, i: usize) {
        self.pool.on_open(i, self.generations[i], self.now);
        self.collect();
    }

    pub(super) fn send(&mut self, c: Cmd) -> RequestId {
        let id = self.pool.request(c, self.now).expect("accepted");
        self.collect();
        id
    }

    pub(super) fn refused(&mut self, c: Cmd) -> ClientError {
        let err = self.pool.request(c, self.now).expect_err("refused");
        self.collect();
        err
    }

    /// What session `i` writes to its socket now.
    pub(super) fn sent(&mut self, i: usize) -> String {
        let outbox = &mut self.outbox;
        self.pool
            .transmit(|session, bytes| outbox[session].extend_from_slice(bytes));
        String::from_utf8(std::mem::take(&mut self.outbox[i])).unwrap()
    }

    pub(super) fn answer(&mut self, i: usize, frames: &[Frame]) {
        let mut wire = Vec::new();
        frames.iter().for_each(|f| resp::encode(f, &mut wire));
        self.answer_bytes(i, &wire);
    }

    pub(super) fn answer_bytes(&mut self, i: usize, bytes: &[u8]) {
        self.pool.on_bytes(i, self.generations[i], bytes, self.now);
        self.collect();
    }

    pub(super) fn drop_socket(&mut self, i: usize) {
        self.pool
            .on_closed(i, self.generations[i], 1006, "", self.now);
        self.collect();
    }

    pub(super) fn advance(&mut self, ms: f64) {
        self.now += ms;
        self.pool.on_tick(self.now);
        self.collect();
    }

    pub(super) fn outcome(&mut self, id: RequestId) -> Outcome {
        let at = self
            .completions
            .iter()
            .position(|(done, outcome)| *done == id && outcome.is_last())
            .unwrap_or_else(|| panic!("request {id} is not complete: {:?}", self.completions));
        self.completions.remove(at).1
    }

    pub(super) fn pending(&self, id: RequestId) -> bool {
        !self
            .completions
            .iter()
            .any(|(done, o)| *done == id && o.is_last())
    }

    pub(super) fn failed(&mut self, id: RequestId) -> ClientError {
        match self.outcome(id) {
            Outcome::Failed(why) => why,
            other => panic!("request {id} did not fail: {other:?}"),
        }
    }
}

#[test]
fn replies_match_pipelined_requests_in_order_across_any_chunking() {
    let frames = [
        simple("OK"),
        bulk("hello"),
        Frame::Integer(42),
        error("ERR boom"),
        array(&[bulk("a"), Frame::Null]),
    ];
    let mut bytes = Vec::new();
    frames.iter().for_each(|f| resp::encode(f, &mut bytes));
    for chunk in 1..=bytes.len() {
        let mut wire = Wire::ready(1, Mode::Single);
        let ids: Vec<_> = (0..5)
            .map(|i| wire.send(cmd(&["ECHO", &i.to_string()])))
            .collect();
        assert_eq!(
            wire.sent(0),
            resp(&[
                &["ECHO", "0"],
                &["ECHO", "1"],
                &["ECHO", "2"],
                &["ECHO", "3"],
                &["ECHO", "4"]
            ])
        );
        for part in bytes.chunks(chunk) {
            wire.answer_bytes(0, part);
        }
        for (id, frame) in ids.into_iter().zip(frames.clone()) {
            assert_eq!(wire.outcome(id), reply(frame), "chunk size {chunk}");
        }
        assert_eq!(wire.pool.in_flight(0), 0);
    }
}

#[test]
fn ten_thousand_pipelined_replies_stay_matched() {
    let mut wire = Wire::ready(1, Mode::Single);
    let ids: Vec<_> = (0..10_000)
        .map(|_| wire.send(cmd(&["INCR", "n"])))
        .collect();
    wire.sent(0);
    let bytes: Vec<u8> = (1..=10_000)
        .flat_map(|i| format!(":{i}\r\n").into_bytes())
        .collect();
    wire.answer_bytes(0, &bytes);
    for (i, id) in ids.into_iter().enumerate() {
        assert_eq!(wire.outcome(id), reply(Frame::Integer(i as i64 + 1)));
    }
}

#[test]
fn a_burst_past_burst_bytes_is_due_once_and_leaves_whole() {
    let mut wire = Wire::ready(1, Mode::Single);
    let value = "v".repeat(1000);
    let set = || cmd(&["SET", "k", &value]);
    let weight = set().byte_len() + 8 * set().len();
    let needed = BURST_BYTES.div_ceil(weight);
    let mut ids: Vec<_> = (2..needed).map(|_| wire.send(set())).collect();
    // One taken back before it was sent no longer counts.
    let aborted = wire.send(set());
    wire.pool.abort(aborted);
    ids.push(wire.send(set()));
    assert!(
        !wire.pool.burst_due(),
        "{} commands are not a burst",
        needed - 1
    );
    ids.push(wire.send(set()));
    assert!(wire.pool.burst_due(), "{needed} commands are");
    ids.push(wire.send(set()));
    assert!(wire.pool.burst_due(), "due until the host transmits");
    let lines = vec![["SET", "k", value.as_str()]; ids.len()];
    let lines: Vec<&[&str]> = lines.iter().map(|line| &line[..]).collect();
    assert_eq!(
        wire.sent(0),
        resp(&lines),
        "every command, in order, at once"
    );
    assert!(!wire.pool.burst_due(), "sent: nothing due");
    ids.push(wire.send(set()));
    assert!(!wire.pool.burst_due(), "a new burst starts from nothing");
    wire.sent(0);
    wire.answer(0, &vec![simple("OK"); ids.len()]);
    for id in ids {
        assert_eq!(wire.outcome(id), reply(simple("OK")));
    }
    assert!(wire.completions.is_empty(), "none for the aborted request");
}

#[test]
fn a_streamed_reply_comes_item_by_item_between_whole_replies() {
    let mut wire = Wire::ready(1, Mode::Single);
    let ping = wire.send(cmd(&["PING"]));
    let list = wire.send(streamed(&["LRANGE", "l", "0", "-1"]));
    let get = wire.send(cmd(&["GET", "k"]));
    wire.sent(0);
    wire.answer_bytes(0, b"+PONG\r\n*2\r\n$1\r\na\r\n$1");
    assert_eq!(wire.outcome(ping), reply(simple("PONG")));
    assert!(wire.pending(list));
    wire.answer_bytes(0, b"\r\nb\r\n$1\r\nv\r\n");
    let items: Vec<_> = wire
        .completions
        .iter()
        .filter(|(id, _)| *id == list)
        .map(|(_, o)| o.clone())
        .collect();
    assert_eq!(
        items,
        [
            Outcome::Start {
                kind: resp::AggregateKind::Array,
                len: 2
            },
            Outcome::Item(bulk("a")),
            Outcome::Item(bulk("b")),
            Outcome::End
        ]
    );
    assert_eq!(wire.outcome(get), reply(bulk("v")));
}

#[test]
fn resp3_pushes_never_pop_a_request_even_one_that_streams() {
    let mut wire = Wire::ready(1, Mode::Single);
    let get = wire.send(cmd(&["GET", "k"]));
    let list = wire.send(streamed(&["LRANGE", "l", "0", "-1"]));
    wire.sent(0);
    let invalidate = Frame::Push(vec![bulk("invalidate"), array(&[bulk("k")])]);
    let message = Frame::Push(vec![bulk("message"), bulk("ch"), bulk("hi")]);
    let mut bytes = Vec::new();
    for f in [&invalidate, &bulk("v"), &message] {
        resp::encode(f, &mut bytes);
    }
    resp::encode(&invalidate, &mut bytes);
    bytes.extend_from_slice(b"*1\r\n$1\r\nx\r\n");
    wire.answer_bytes(0, &bytes);
    assert_eq!(wire.outcome(get), reply(bulk("v")));
    assert_eq!(wire.outcome(list), Outcome::End);
    assert_eq!(
        wire.pushes,
        [(0, invalidate.clone()), (0, message), (0, invalidate)],
        "in the order they came, none taken for a reply"
    );
}

#[test]
fn a_reply_nobody_asked_for_or_garbage_drops_the_socket_and_fails_what_waits() {
    for bytes in [&b"+PONG\r\n+SURPRISE\r\n"[..], b"+PONG\r\n?garbage\r\n"] {
        let mut wire = Wire::ready(1, Mode::Single);
        let first = wire.send(cmd(&["PING"]));
        let second = wire.send(cmd(&["PING"]));
        wire.sent(0);
        wire.answer_bytes(0, &bytes[..7]);
        assert_eq!(wire.outcome(first), reply(simple("PONG")));
        wire.answer_bytes(0, &bytes[7..]);
        if bytes.starts_with(b"+PONG\r\n?") {
            assert!(matches!(wire.failed(second), ClientError::Protocol(_)));
        } else {
            assert_eq!(wire.outcome(second), reply(simple("SURPRISE")));
        }
        if bytes.starts_with(b"+PONG\r\n+") {
            wire.answer_bytes(0, b"+MORE\r\n");
        }
        assert_eq!(wire.closes, [0], "the socket is closed");
        assert!(matches!(
            wire.events.last(),
            Some(Event::Reconnecting { attempt: 1, .. })
        ));
    }
}

#[test]
fn the_handshake_replays_the_options_and_its_replies_are_its_own() {
    let mut config = config();
    config.remembered = Remembered {
        protocol: Some(b"3".to_vec()),
        user: Some(b"app".to_vec()),
        password: Some(b"secret".to_vec()),
        db: Some(b"2".to_vec()),
        name: Some(b"tab".to_vec()),
        tracking: None,
        readonly: false,
    };
    let mut wire = Wire::new(config, 1, Mode::Single);
    wire.open(0);
    assert_eq!(wire.events, [Event::Connect { session: 0 }]);
    assert!(!wire.pool.is_connected(0));
    assert!(matches!(
        wire.pool.request(cmd(&["GET", "k"]), wire.now),
        Err(ClientError::NotConnected(_))
    ));
    assert_eq!(
        wire.sent(0),
        resp(&[
            &["HELLO", "3", "AUTH", "app", "secret"],
            &["SELECT", "2"],
            &["CLIENT", "SETNAME", "tab"]
        ])
    );
    wire.answer(
        0,
        &[
            Frame::Map(vec![(bulk("proto"), Frame::Integer(3))]),
            simple("OK"),
        ],
    );
    assert!(
        !wire.pool.is_connected(0),
        "not ready before the last reply"
    );
    wire.answer(0, &[simple("OK")]);
    assert_eq!(wire.events.last(), Some(&Event::Ready { session: 0 }));
    assert!(
        wire.completions.is_empty(),
        "no user request saw a handshake reply"
    );
    let get = wire.send(cmd(&["GET", "k"]));
    assert_eq!(wire.sent(0), resp(&[&["GET", "k"]]));
    wire.answer(0, &[bulk("v")]);
    assert_eq!(wire.outcome(get), reply(bulk("v")));
}

#[test]
fn a_wrong_password_ends_the_connection_with_the_server_error() {
    let mut config = config();
    config.remembered.password = Some(b"wrong".to_vec());
    let mut wire = Wire::new(config, 1, Mode::Single);
    wire.open(0);
    assert_eq!(wire.sent(0), resp(&[&["AUTH", "wrong"]]));
    wire.answer(0, &[error("WRONGPASS invalid username-password pair")]);
    let Some(Event::End {
        cause: Some(ClientError::Reply { command, message }),
        ..
    }) = wire.events.last()
    else {
        panic!("{:?}", wire.events)
    };
    assert_eq!(
        (command.as_str(), message.as_str()),
        ("AUTH", "WRONGPASS invalid username-password pair")
    );
    assert_eq!(wire.dials, 1, "a wrong password is not retried");
    assert!(wire.pool.is_ended());
}

#[test]
fn a_lost_socket_fails_in_flight_requests_and_the_reconnect_replays_select_sent_as_a_command() {
    let mut wire = Wire::ready(1, Mode::Single);
    let select = wire.send(cmd(&["select", "5"]));
    let failed_select = wire.send(cmd(&["SELECT", "99"]));
    wire.sent(0);
    wire.answer(0, &[simple("OK"), error("ERR DB index is out of range")]);
    assert_eq!(wire.outcome(select), reply(simple("OK")));
    assert_eq!(
        wire.outcome(failed_select),
        reply(error("ERR DB index is out of range"))
    );
    let auth = wire.send(cmd(&["AUTH", "u", "pw"]));
    let name = wire.send(cmd(&["CLIENT", "SETNAME", "n"]));
    wire.sent(0);
    wire.answer(0, &[simple("OK"), simple("OK")]);
    wire.outcome(auth);
    wire.outcome(name);
    let in_flight = wire.send(cmd(&["GET", "k"]));
    wire.sent(0);
    wire.drop_socket(0);
    assert!(matches!(
        wire.failed(in_flight),
        ClientError::ConnectionLost(_)
    ));
    assert!(matches!(
        wire.refused(cmd(&["GET", "k"])),
        ClientError::NotConnected(_)
    ));
    assert!(matches!(
        wire.events[..],
        [Event::Close { code: 1006, .. }, Event::Reconnecting { attempt: 1, delay, .. }] if (25.0..=50.0).contains(&delay)
    ));
    wire.advance(50.0);
    assert_eq!(wire.dials, 2);
    wire.open(0);
    assert_eq!(
        wire.sent(0),
        resp(&[
            &["AUTH", "u", "pw"],
            &["SELECT", "5"],
            &["CLIENT", "SETNAME", "n"]
        ]),
        "the state set by commands, not the failed SELECT"
    );
    wire.answer(0, &[simple("OK"), simple("OK"), simple("OK")]);
    assert!(wire.pool.is_connected(0));
}

#[test]
fn a_subscribe_sent_as_a_command_enters_pubsub_and_is_renewed_after_a_reconnect() {
    let mut wire = Wire::ready(1, Mode::Single);
    let sub = wire.send(cmd(&["SUBSCRIBE", "a", "b"]));
    let psub = wire.send(cmd(&["psubscribe", "p*"]));
    assert!(wire.pool.in_pubsub(0));
    assert_eq!(
        wire.sent(0),
        resp(&[&["SUBSCRIBE", "a", "b"], &["psubscribe", "p*"]])
    );
    let confirm = |kind: &str, name: &str, n| array(&[bulk(kind), bulk(name), Frame::Integer(n)]);
    let message = array(&[bulk("message"), bulk("a"), bulk("hi")]);
    wire.answer(
        0,
        &[
            confirm("subscribe", "a", 1),
            message.clone(),
            confirm("subscribe", "b", 2),
            confirm("psubscribe", "p*", 3),
        ],
    );
    assert_eq!(
        wire.outcome(sub),
        reply(array(&[
            confirm("subscribe", "a", 1),
            confirm("subscribe", "b", 2)
        ]))
    );
    assert_eq!(
        wire.outcome(psub),
        reply(array(&[confirm("psubscribe", "p*", 3)]))
    );
    assert_eq!(wire.pushes, [(0, message)]);
    assert!(matches!(
        wire.refused(cmd(&["GET", "k"])),
        ClientError::Refused(_)
    ));
    let ping = wire.send(cmd(&["PING"]));
    wire.sent(0);
    wire.answer(0, &[array(&[bulk("pong"), bulk("")])]);
    assert_eq!(wire.outcome(ping), reply(array(&[bulk("pong"), bulk("")])));
    let unsub = wire.send(cmd(&["UNSUBSCRIBE"]));
    wire.sent(0);
    wire.answer(0, &[confirm("unsubscribe", "a", 2)]);
    assert!(
        wire.pending(unsub),
        "one confirmation per channel subscribed"
    );
    wire.answer(0, &[confirm("unsubscribe", "b", 1)]);
    wire.outcome(unsub);
    wire.drop_socket(0);
    wire.advance(50.0);
    wire.open(0);
    assert_eq!(
        wire.sent(0),
        resp(&[&["PSUBSCRIBE", "p*"]]),
        "only what is still subscribed"
    );
    wire.answer(0, &[confirm("psubscribe", "p*", 1)]);
    assert!(wire.pool.is_connected(0) && wire.pool.in_pubsub(0));
    assert!(wire.completions.is_empty());
}

#[test]
fn resp3_subscribe_confirmations_are_pushes_taken_by_the_subscribe_only() {
    let mut config = config();
    config.remembered.protocol = Some(b"3".to_vec());
    let mut wire = Wire::new(config, 1, Mode::Single);
    wire.open(0);
    wire.sent(0);
    wire.answer(0, &[Frame::Map(vec![])]);
    let sub = wire.send(cmd(&["SUBSCRIBE", "a"]));
    let get = wire.send(cmd(&["PING"]));
    wire.sent(0);
    let confirm = Frame::Push(vec![bulk("subscribe"), bulk("a"), Frame::Integer(1)]);
    let stray = Frame::Push(vec![bulk("unsubscribe"), bulk("z"), Frame::Integer(0)]);
    let list = array(&[bulk("message"), bulk("a"), bulk("b")]);
    wire.answer(0, &[confirm.clone(), stray.clone(), list.clone()]);
    assert_eq!(wire.outcome(sub), reply(array(&[confirm])));
    assert_eq!(
        wire.outcome(get),
        reply(list),
        "an array is a reply in RESP3, whatever it holds"
    );
    assert_eq!(wire.pushes, [(0, stray)]);
}

#[test]
fn backoff_doubles_with_jitter_up_to_the_cap_and_max_retries_ends() {
    let mut config = config();
    config.settings.reconnect_cap_ms = 300.0;
    config.settings.max_retries = Some(5);
    config.settings.connect_timeout_ms = None;
    let mut wire = Wire::new(config, 1, Mode::Single);
    wire.open(0);
    let mut delays = Vec::new();
    for attempt in 1..=5 {
        wire.events.clear();
        wire.drop_socket(0);
        let Some(&Event::Reconnecting {
            attempt: a, delay, ..
        }) = wire.events.last()
        else {
            panic!("{:?}", wire.events)
        };
        assert_eq!(a, attempt);
        delays.push(delay);
        let dials = wire.dials;
        wire.advance(delay - 1.0);
        assert_eq!(wire.dials, dials, "not before the delay");
        assert_eq!(wire.pool.next_deadline(), Some(wire.now + 1.0));
        wire.advance(1.0);
        assert_eq!(wire.dials, dials + 1, "at the delay");
    }
    for (i, delay) in delays.iter().enumerate() {
        let ceiling = (FIRST_DELAY_MS * 2f64.powi(i as i32)).min(300.0);
        assert!(
            *delay >= ceiling / 2.0 && *delay <= ceiling,
            "attempt {}: {delay}",
            i + 1
        );
    }
    wire.drop_socket(0);
    assert!(matches!(
        wire.events.last(),
        Some(Event::End {
            cause: Some(ClientError::NotConnected(_)),
            ..
        })
    ));
    assert_eq!(wire.pool.next_deadline(), None);
}

#[test]
fn a_ready_connection_resets_the_attempt_count() {
    let mut wire = Wire::ready(1, Mode::Single);
    wire.drop_socket(0);
    wire.advance(50.0);
    wire.drop_socket(0);
    assert!(matches!(
        wire.events.last(),
        Some(Event::Reconnecting { attempt: 2, .. })
    ));
    wire.advance(100.0);
    wire.handshake(0);
    wire.drop_socket(0);
    assert!(matches!(
        wire.events.last(),
        Some(Event::Reconnecting { attempt: 1, .. })
    ));
}

#[test]
fn a_first_connection_that_fails_is_retried_until_connect_timeout() {
    let mut config = config();
    config.settings.connect_timeout_ms = Some(1000.0);
    let mut wire = Wire::new(config, 1, Mode::Single);
    for _ in 0..50 {
        wire.drop_socket(0);
        if wire.pool.is_ended() {
            break;
        }
        let deadline = wire.pool.next_deadline().unwrap();
        wire.advance(deadline - wire.now);
    }
    assert!(wire.pool.is_ended());
    assert!(
        wire.now <= 2000.0,
        "gave up within connectTimeout: {}",
        wire.now
    );
    assert!(wire.dials > 3, "retried: {} dials", wire.dials);
    assert!(
        matches!(wire.events.last(), Some(Event::End { cause: Some(ClientError::NotConnected(why)), .. }) if why.contains("cannot connect"))
    );

    let mut config = super::tests::config();
    config.settings.auto_reconnect = false;
    let mut once = Wire::new(config, 1, Mode::Single);
    once.drop_socket(0);
    assert!(
        once.pool.is_ended() && once.dials == 1,
        "without autoReconnect, one attempt"
    );
}

#[test]
fn a_dial_or_handshake_past_connect_timeout_is_abandoned_and_retried() {
    let mut config = config();
    config.settings.connect_timeout_ms = Some(500.0);
    config.remembered.db = Some(b"1".to_vec());
    let mut wire = Wire::new(config, 1, Mode::Single);
    wire.open(0);
    wire.sent(0);
    wire.advance(499.0);
    assert!(wire.closes.is_empty());
    wire.advance(1.0);
    assert_eq!(wire.closes, [0]);
    assert!(wire.events.iter().any(|e| matches!(
        e,
        Event::Error {
            error: ClientError::Timeout(_),
            ..
        }
    )));
    assert!(
        wire.pool.is_ended(),
        "the first connection's time is up too"
    );
}

#[test]
fn a_pool_never_sends_to_a_socket_with_a_blocking_call_even_through_call() {
    let mut wire = Wire::ready(2, Mode::Pool);
    let pop = wire.send(cmd(&["BLPOP", "l", "0"]));
    let blocked = if wire.sent(0).is_empty() { 1 } else { 0 };
    let free = 1 - blocked;
    wire.sent(blocked);
    assert!(wire.pool.in_blocking_call(blocked) && wire.pool.in_use(blocked));
    let gets: Vec<_> = (0..5).map(|_| wire.send(cmd(&["GET", "k"]))).collect();
    assert_eq!(wire.sent(blocked), "");
    assert_eq!(wire.sent(free), resp(&[&["GET", "k"][..]; 5]));
    let second_pop = wire.send(cmd(&["BRPOP", "l", "0"]));
    wire.sent(free);
    assert!(
        matches!(wire.refused(cmd(&["GET", "k"])), ClientError::NoAvailableConnections(why) if why.starts_with("No available connections in the pool"))
    );
    wire.answer(blocked, &[array(&[bulk("l"), bulk("x")])]);
    assert_eq!(wire.outcome(pop), reply(array(&[bulk("l"), bulk("x")])));
    assert!(!wire.pool.in_blocking_call(blocked));
    wire.send(cmd(&["GET", "k"]));
    assert_eq!(wire.sent(blocked), resp(&[&["GET", "k"]]));
    assert!(gets.iter().all(|&id| wire.pending(id)) && wire.pending(second_pop));
}

#[test]
fn on_one_connection_commands_wait_behind_a_blocking_call() {
    let mut wire = Wire::ready(1, Mode::Single);
    let pop = wire.send(cmd(&["BLPOP", "l", "5"]));
    assert!(wire.pool.in_blocking_call(0));
    let echo = wire.send(cmd(&["ECHO", "behind"]));
    assert_eq!(
        wire.sent(0),
        resp(&[&["BLPOP", "l", "5"], &["ECHO", "behind"]])
    );
    wire.answer(0, &[Frame::Null, bulk("behind")]);
    assert_eq!(wire.outcome(pop), reply(Frame::Null));
    assert_eq!(wire.outcome(echo), reply(bulk("behind")));
    assert!(!wire.pool.in_blocking_call(0));
}

#[test]
fn the_pool_picks_the_connection_with_the_fewest_in_flight() {
    let mut wire = Wire::ready(3, Mode::Pool);
    for _ in 0..6 {
        wire.send(cmd(&["GET", "k"]));
    }
    assert_eq!(
        [
            wire.pool.in_flight(0),
            wire.pool.in_flight(1),
            wire.pool.in_flight(2)
        ],
        [2, 2, 2]
    );
    assert!(matches!(
        wire.refused(cmd(&["SUBSCRIBE", "a"])),
        ClientError::Refused(_)
    ));
}

#[test]
fn transactions_complete_each_queued_request_from_exec() {
    let mut wire = Wire::ready(1, Mode::Single);
    let watch = cmd(&["WATCH", "a"]);
    let (tx, begin) = wire.pool.multi(Some(watch), 0).unwrap();
    assert!(wire.pool.in_transaction(0));
    assert_eq!(wire.sent(0), resp(&[&["WATCH", "a"]]));
    wire.answer(0, &[simple("OK")]);
    assert_eq!(
        wire.sent(0),
        resp(&[&["MULTI"]]),
        "MULTI after WATCH succeeded"
    );
    assert!(
        matches!(
            wire.pool.tx_request(tx, cmd(&["GET", "a"])),
            Err(ClientError::Transaction(_))
        ),
        "not before MULTI is answered"
    );
    wire.answer(0, &[simple("OK")]);
    wire.collect();
    assert_eq!(wire.outcome(begin), reply(simple("OK")));
    assert!(
        matches!(wire.refused(cmd(&["GET", "a"])), ClientError::Refused(why) if why.contains("in a transaction"))
    );
    let set = wire.pool.tx_request(tx, cmd(&["SET", "a", "1"])).unwrap();
    let incr = wire.pool.tx_request(tx, cmd(&["INCR", "a"])).unwrap();
    let exec = wire.pool.tx_end(tx, true).unwrap();
    assert_eq!(
        wire.sent(0),
        resp(&[&["SET", "a", "1"], &["INCR", "a"], &["EXEC"]])
    );
    wire.answer(0, &[simple("QUEUED"), simple("QUEUED")]);
    wire.collect();
    assert!(wire.pending(set), "queued commands settle at EXEC");
    wire.answer(0, &[array(&[simple("OK"), error("ERR not an integer")])]);
    assert_eq!(wire.outcome(set), reply(simple("OK")));
    assert_eq!(wire.outcome(incr), reply(error("ERR not an integer")));
    assert_eq!(wire.outcome(exec), reply(simple("OK")));
    assert!(!wire.pool.in_transaction(0));
    let finished = wire.pool.tx_request(tx, cmd(&["GET", "a"])).unwrap_err();
    assert_eq!(
        finished,
        ClientError::Transaction("Transaction already finished or invalid.".into())
    );
    assert_eq!(wire.pool.tx_end(tx, true).unwrap_err(), finished);
}

/// A transaction begun (MULTI answered) on session 0 of `wire`.
fn begun(wire: &mut Wire) -> u32 {
    let (tx, begin) = wire.pool.multi(None, 0).unwrap();
    wire.sent(0);
    wire.answer(0, &[simple("OK")]);
    wire.outcome(begin);
    tx
}

#[test]
fn a_watch_conflict_fails_exec_and_every_queued_request() {
    let mut wire = Wire::ready(1, Mode::Single);
    let tx = begun(&mut wire);
    let incr = wire.pool.tx_request(tx, cmd(&["INCR", "a"])).unwrap();
    let exec = wire.pool.tx_end(tx, true).unwrap();
    wire.sent(0);
    wire.answer(0, &[simple("QUEUED"), Frame::Null]);
    assert!(
        matches!(wire.failed(incr), ClientError::Transaction(why) if why.contains("watched key changed"))
    );
    assert!(matches!(wire.failed(exec), ClientError::Transaction(_)));
    assert!(!wire.pool.in_transaction(0));
}

#[test]
fn execabort_fails_each_request_with_its_own_queuing_error_where_it_had_one() {
    let mut wire = Wire::ready(1, Mode::Single);
    let tx = begun(&mut wire);
    let set = wire.pool.tx_request(tx, cmd(&["SET", "a", "1"])).unwrap();
    let unknown = wire.pool.tx_request(tx, cmd(&["NOSUCHCOMMAND"])).unwrap();
    let exec = wire.pool.tx_end(tx, true).unwrap();
    wire.sent(0);
    wire.answer(
        0,
        &[
            simple("QUEUED"),
            error("ERR unknown command 'NOSUCHCOMMAND'"),
            error("EXECABORT Transaction discarded because of previous errors."),
        ],
    );
    assert!(matches!(wire.failed(set), ClientError::Transaction(why) if why.contains("EXECABORT")));
    assert_eq!(
        wire.outcome(unknown),
        reply(error("ERR unknown command 'NOSUCHCOMMAND'"))
    );
    assert!(matches!(wire.failed(exec), ClientError::Transaction(_)));
}

#[test]
fn discard_and_a_lost_socket_end_transactions() {
    let mut wire = Wire::ready(1, Mode::Single);
    let tx = begun(&mut wire);
    let set = wire.pool.tx_request(tx, cmd(&["SET", "a", "1"])).unwrap();
    let discard = wire.pool.tx_end(tx, false).unwrap();
    wire.sent(0);
    wire.answer(0, &[simple("QUEUED"), simple("OK")]);
    assert!(matches!(wire.failed(set), ClientError::Transaction(why) if why.contains("discarded")));
    assert_eq!(wire.outcome(discard), reply(simple("OK")));

    let tx = begun(&mut wire);
    let queued = wire.pool.tx_request(tx, cmd(&["SET", "a", "1"])).unwrap();
    wire.sent(0);
    wire.answer(0, &[simple("QUEUED")]);
    wire.drop_socket(0);
    assert!(matches!(
        wire.failed(queued),
        ClientError::ConnectionLost(_)
    ));
    assert!(!wire.pool.in_transaction(0));
    assert!(wire.pool.tx_end(tx, true).is_err());
}

#[test]
fn nested_multi_and_subscribe_in_a_transaction_are_refused_with_the_peers_words() {
    let mut wire = Wire::ready(1, Mode::Single);
    let tx = begun(&mut wire);
    let nested = wire.pool.tx_request(tx, cmd(&["multi"])).unwrap_err();
    assert_eq!(
        nested,
        ClientError::Refused("Multi calls can not be nested.".into())
    );
    let pubsub = wire
        .pool
        .tx_request(tx, cmd(&["SUBSCRIBE", "a"]))
        .unwrap_err();
    assert_eq!(
        pubsub,
        ClientError::Refused("Cannot start pubsub listener when a protocol is in use.".into())
    );
    assert!(wire.pool.multi(None, 0).is_err());
    assert!(wire.pool.subscribe(0).is_err());
    assert_eq!(wire.sent(0), "", "nothing was sent");
}

#[test]
fn commands_that_would_desynchronise_the_connection_are_refused() {
    let mut wire = Wire::ready(1, Mode::Single);
    for line in [
        &["CLIENT", "REPLY", "OFF"][..],
        &["client", "reply", "skip"],
        &["MONITOR"],
        &["reset"],
        &["MULTI"],
        &["exec"],
        &["QUIT"],
    ] {
        assert!(
            matches!(wire.refused(cmd(line)), ClientError::Refused(_)),
            "{line:?}"
        );
    }
    assert_eq!(wire.sent(0), "");
}

#[test]
fn a_cursor_walks_every_page_once_until_the_cursor_is_zero() {
    let mut wire = Wire::ready(1, Mode::Single);
    let mut cursor = Cursor::new(ScanKind::Hash, Some(b"h".to_vec()), Some(b"f*".to_vec()));
    let mut items = Vec::new();
    let pages = [
        ("7", vec![bulk("f1"), bulk("1")]),
        ("3", vec![]),
        ("0", vec![bulk("f2"), bulk("2")]),
    ];
    let mut expected_cursor = "0";
    for (next, page) in pages {
        let page_cmd = cursor.next_page().expect("a page to fetch");
        assert!(
            cursor.next_page().is_none(),
            "no second page while one is on its way"
        );
        let id = wire.send(page_cmd);
        assert_eq!(
            wire.sent(0),
            resp(&[&["HSCAN", "h", expected_cursor, "MATCH", "f*"]])
        );
        wire.answer(0, &[array(&[bulk(next), array(&page)])]);
        let Outcome::Reply(frame) = wire.outcome(id) else {
            panic!()
        };
        items.extend(cursor.on_page(frame).unwrap());
        expected_cursor = next;
    }
    assert!(cursor.is_done() && cursor.next_page().is_none());
    assert_eq!(items, [bulk("f1"), bulk("1"), bulk("f2"), bulk("2")]);
    let mut failing = Cursor::new(ScanKind::Keys, None, None);
    failing.next_page();
    assert!(failing.on_page(error("ERR boom")).is_err());
    assert_eq!(
        failing.next_page().map(|c| c.len()),
        Some(2),
        "the same page again"
    );
}

#[test]
fn a_script_the_server_lost_is_sent_whole_once() {
    let mut wire = Wire::ready(1, Mode::Single);
    let (evalsha, eval) = script::run(b"abc", b"return 1", &[b"k"], &[b"a"]);
    let id = wire
        .pool
        .request_script(evalsha.clone(), eval.clone(), wire.now)
        .unwrap();
    assert_eq!(wire.sent(0), resp(&[&["EVALSHA", "abc", "1", "k", "a"]]));
    wire.answer(0, &[error("NOSCRIPT No matching script.")]);
    assert!(wire.pending(id));
    assert_eq!(wire.sent(0), resp(&[&["EVAL", "return 1", "1", "k", "a"]]));
    wire.answer(0, &[Frame::Integer(1)]);
    assert_eq!(wire.outcome(id), reply(Frame::Integer(1)));

    let id = wire.pool.request_script(evalsha, eval, wire.now).unwrap();
    wire.sent(0);
    wire.answer(0, &[error("NOSCRIPT No matching script.")]);
    wire.sent(0);
    wire.answer(0, &[error("NOSCRIPT still")]);
    assert_eq!(
        wire.outcome(id),
        reply(error("NOSCRIPT still")),
        "once only"
    );
    assert_eq!(
        script::load(b"x").args().collect::<Vec<_>>(),
        [&b"SCRIPT"[..], b"LOAD", b"x"]
    );
}

#[test]
fn the_offline_queue_is_bounded_flushed_in_order_after_the_handshake_and_failed_on_end() {
    let mut config = config();
    config.offline_queue = Some(QueueLimits {
        commands: 3,
        bytes: 20,
    });
    config.remembered.db = Some(b"3".to_vec());
    config.settings.max_retries = Some(1);
    let mut wire = Wire::new(config, 1, Mode::Single);
    wire.open(0);
    wire.sent(0);
    wire.answer(0, &[simple("OK")]);
    wire.drop_socket(0);
    let a = wire.send(cmd(&["SET", "a", "1"]));
    let b = wire.send(cmd(&["GET", "a"]));
    assert!(
        matches!(wire.refused(cmd(&["SET", "b", "0123456789"])), ClientError::NotConnected(why) if why.contains("offline queue is full"))
    );
    let c = wire.send(cmd(&["GET", "b"]));
    assert!(
        matches!(wire.refused(cmd(&["PING"])), ClientError::NotConnected(_)),
        "3 commands at most"
    );
    assert_eq!(wire.pool.offline_len(), 3);
    wire.advance(50.0);
    wire.open(0);
    assert_eq!(
        wire.sent(0),
        resp(&[&["SELECT", "3"]]),
        "the handshake first"
    );
    wire.answer(0, &[simple("OK")]);
    assert_eq!(
        wire.sent(0),
        resp(&[&["SET", "a", "1"], &["GET", "a"], &["GET", "b"]])
    );
    wire.answer(0, &[simple("OK"), bulk("1"), Frame::Null]);
    assert_eq!(
        [wire.outcome(a), wire.outcome(b), wire.outcome(c)],
        [reply(simple("OK")), reply(bulk("1")), reply(Frame::Null)]
    );

    wire.drop_socket(0);
    let queued = wire.send(cmd(&["GET", "a"]));
    wire.advance(50.0);
    wire.drop_socket(0);
    assert!(wire.pool.is_ended());
    assert!(
        matches!(wire.failed(queued), ClientError::NotConnected(_)),
        "rejected on end"
    );
}

#[test]
fn command_timeout_fails_the_request_and_its_late_reply_is_dropped() {
    let mut config = config();
    config.command_timeout_ms = Some(100.0);
    let mut wire = Wire::new(config, 1, Mode::Single);
    wire.handshake(0);
    let slow = wire.send(cmd(&["DEBUG", "SLEEP", "1"]));
    let pop = wire.send(cmd(&["BLPOP", "l", "0"]));
    let next = wire.send(cmd(&["GET", "k"]));
    wire.sent(0);
    assert_eq!(wire.pool.next_deadline(), Some(wire.now + 100.0));
    wire.advance(100.0);
    assert!(matches!(wire.failed(slow), ClientError::Timeout(_)));
    assert!(matches!(wire.failed(next), ClientError::Timeout(_)));
    assert!(
        wire.pending(pop),
        "blocking commands have no commandTimeout"
    );
    let later = wire.send(cmd(&["GET", "later"]));
    wire.sent(0);
    wire.answer(0, &[simple("OK"), bulk("popped"), bulk("late")]);
    assert_eq!(wire.outcome(pop), reply(bulk("popped")));
    assert!(wire.completions.is_empty(), "late replies reach nobody");
    wire.answer(0, &[bulk("mine")]);
    assert_eq!(wire.outcome(later), reply(bulk("mine")));
}

#[test]
fn an_aborted_request_is_not_sent_or_its_reply_is_dropped() {
    let mut wire = Wire::ready(1, Mode::Single);
    let first = wire.send(cmd(&["GET", "a"]));
    let aborted = wire.send(cmd(&["GET", "b"]));
    wire.pool.abort(aborted);
    assert_eq!(
        wire.sent(0),
        resp(&[&["GET", "a"]]),
        "aborted before it was sent: not sent"
    );
    let sent = wire.send(cmd(&["GET", "c"]));
    let last = wire.send(cmd(&["GET", "d"]));
    wire.sent(0);
    wire.pool.abort(sent);
    wire.answer(0, &[bulk("a"), bulk("c"), bulk("d")]);
    assert_eq!(wire.outcome(first), reply(bulk("a")));
    assert_eq!(wire.outcome(last), reply(bulk("d")));
    assert!(
        wire.completions.is_empty(),
        "no completion for aborted requests"
    );

    let pop = wire.send(cmd(&["BLPOP", "l", "0"]));
    wire.sent(0);
    wire.pool.abort(pop);
    assert!(
        wire.pool.in_blocking_call(0),
        "the socket stays blocked until the reply"
    );
    wire.answer(0, &[Frame::Null]);
    assert!(!wire.pool.in_blocking_call(0));
}

#[test]
fn close_fails_everything_and_later_requests_are_not_connected() {
    let mut wire = Wire::ready(1, Mode::Single);
    let pending = wire.send(cmd(&["BLPOP", "l", "0"]));
    wire.sent(0);
    wire.pool.close();
    wire.collect();
    assert!(matches!(
        wire.failed(pending),
        ClientError::ConnectionLost(_)
    ));
    assert!(matches!(
        wire.refused(cmd(&["PING"])),
        ClientError::NotConnected(_)
    ));
    assert!(matches!(
        wire.events[..],
        [
            Event::Close { code: 1000, .. },
            Event::End { cause: None, .. }
        ]
    ));
    wire.drop_socket(0);
    assert_eq!(wire.dials, 1, "no reconnect after close");
}

#[test]
fn a_subscription_lease_holds_a_pool_session() {
    let mut wire = Wire::ready(2, Mode::Pool);
    let session = wire.pool.subscribe(0).unwrap();
    assert!(wire.pool.in_pubsub(session) && wire.pool.in_use(session));
    let sub = wire
        .pool
        .request_on(session, cmd(&["SUBSCRIBE", "c"]))
        .unwrap();
    wire.sent(session);
    wire.answer(
        session,
        &[array(&[bulk("subscribe"), bulk("c"), Frame::Integer(1)])],
    );
    wire.outcome(sub);
    wire.send(cmd(&["GET", "k"]));
    assert_eq!(wire.sent(1 - session), resp(&[&["GET", "k"]]));
    let other = wire.pool.subscribe(0).unwrap();
    assert_ne!(other, session);
    assert!(matches!(
        wire.pool.subscribe(0),
        Err(ClientError::NoAvailableConnections(_))
    ));
}
