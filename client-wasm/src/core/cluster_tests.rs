//! The cluster router driven by a scripted transport: the bridge's
//! topology feed and each node's sockets are typed in by the tests, and the
//! clock moves only when a test moves it.

use std::collections::HashMap;

use resp::Frame;

use super::cache_tests::{cache_config, cached_config};
use super::cluster::{Cluster, ClusterConfig, ReadFrom, MAX_REDIRECTS, RETRY_MS};
use super::host::Core;
use super::pipeline::Outcome;
use super::session::{Event, Output, RequestId};
use super::slots::slot;
use super::tests::{bulk, cmd, config, error, resp, simple};
use super::ClientError;

struct Net {
    cluster: Cluster,
    now: f64,
    generations: HashMap<usize, u32>,
    completions: Vec<(RequestId, Outcome)>,
    events: Vec<Event>,
    closes: Vec<usize>,
    pushes: Vec<(usize, Frame)>,
    outbox: HashMap<usize, Vec<u8>>,
}

/// A node of the feed's frame.
pub(super) fn node_frame(id: &str, role: &str, health: &str) -> Frame {
    Frame::Array(vec![
        bulk("id"),
        bulk(id),
        bulk("role"),
        bulk(role),
        bulk("health"),
        bulk(health),
    ])
}

/// A shard of the feed's frame: slot bounds (start, end, ...) and nodes.
pub(super) fn shard_frame(slots: &[i64], nodes: Vec<Frame>) -> Frame {
    Frame::Array(vec![
        bulk("slots"),
        Frame::Array(slots.iter().map(|&s| Frame::Integer(s)).collect()),
        bulk("nodes"),
        Frame::Array(nodes),
    ])
}

/// Three masters, a replica each: `a` (slots 0-5460), `b` (5461-10922),
/// `c` (10923-16383); replicas `ra`, `rb`, `rc`.
fn shards(moved: &[(&str, u16, u16)]) -> Frame {
    let layout: Vec<(&str, u16, u16)> = if moved.is_empty() {
        vec![("a", 0, 5460), ("b", 5461, 10922), ("c", 10923, 16383)]
    } else {
        moved.to_vec()
    };
    Frame::Array(
        layout
            .iter()
            .map(|&(id, start, end)| {
                let nodes = vec![
                    node_frame(id, "master", "online"),
                    node_frame(&format!("r{id}"), "replica", "online"),
                ];
                shard_frame(&[start.into(), end.into()], nodes)
            })
            .collect(),
    )
}

/// A key in a slot of master `node` of [`shards`].
fn key_on(node: &str) -> String {
    let range = match node {
        "a" => 0..=5460,
        "b" => 5461..=10922,
        _ => 10923..=16383,
    };
    (0..)
        .map(|i| format!("key:{i}"))
        .find(|k| range.contains(&slot(k.as_bytes())))
        .unwrap()
}

impl Net {
    fn new(read_from: ReadFrom) -> Net {
        let config = ClusterConfig {
            pool: config(),
            per_node: 1,
            read_from,
        };
        let mut net = Net {
            cluster: Cluster::new(config, 7),
            now: 1000.0,
            generations: HashMap::new(),
            completions: Vec::new(),
            events: Vec::new(),
            closes: Vec::new(),
            pushes: Vec::new(),
            outbox: HashMap::new(),
        };
        net.cluster.start(net.now);
        net.collect();
        net
    }

    /// A cluster client whose feed said [`shards`] and whose masters (and
    /// replicas, when it reads from them) are ready.
    fn ready(read_from: ReadFrom) -> Net {
        let mut net = Net::new(read_from);
        assert_eq!(net.cluster.path(0).as_deref(), Some("/cluster"));
        net.open(0);
        net.feed(&shards(&[]));
        for id in ["a", "b", "c"] {
            net.handshake(id);
        }
        if read_from != ReadFrom::Master {
            for id in ["ra", "rb", "rc"] {
                let s = net.session(id);
                net.open(s);
                assert_eq!(net.sent(s), resp(&[&["READONLY"]]));
                net.answer(s, &[simple("OK")]);
            }
        }
        assert!(
            net.events.contains(&Event::Ready { session: 0 }),
            "ready once every master is: {:?}",
            net.events
        );
        net.events.clear();
        net
    }

    fn collect(&mut self) {
        for output in self.cluster.take_outputs() {
            match output {
                Output::Dial {
                    session,
                    generation,
                } => {
                    self.generations.insert(session, generation);
                }
                Output::Close { session, .. } => self.closes.push(session),
                Output::Event(event) => self.events.push(event),
                Output::Completion(id, outcome) => self.completions.push((id, outcome)),
                Output::Push { session, frame } => self.pushes.push((session, frame)),
            }
        }
    }

    /// The host session of node `id`'s socket.
    fn session(&self, id: &str) -> usize {
        let path = format!("/node/{id}");
        (1..self.cluster.size())
            .find(|&s| self.cluster.path(s).as_deref() == Some(path.as_str()))
            .unwrap_or_else(|| panic!("no socket for node {id}"))
    }

    fn open(&mut self, s: usize) {
        self.cluster.on_open(s, self.generations[&s], self.now);
        self.collect();
    }

    fn handshake(&mut self, id: &str) {
        let s = self.session(id);
        self.open(s);
        assert_eq!(self.sent(s), resp(&[&["PING"]]));
        self.answer(s, &[simple("PONG")]);
    }

    fn feed(&mut self, frame: &Frame) {
        let mut bytes = Vec::new();
        resp::encode(frame, &mut bytes);
        self.answer_bytes(0, &bytes);
    }

    fn sent(&mut self, s: usize) -> String {
        let outbox = &mut self.outbox;
        self.cluster.transmit(&mut |session, bytes| {
            outbox.entry(session).or_default().extend_from_slice(bytes)
        });
        String::from_utf8(self.outbox.remove(&s).unwrap_or_default()).unwrap()
    }

    fn answer(&mut self, s: usize, frames: &[Frame]) {
        let mut bytes = Vec::new();
        frames.iter().for_each(|f| resp::encode(f, &mut bytes));
        self.answer_bytes(s, &bytes);
    }

    fn answer_bytes(&mut self, s: usize, bytes: &[u8]) {
        let input = self
            .cluster
            .input(s, self.generations[&s])
            .expect("a current socket");
        input.extend_from_slice(bytes);
        self.cluster.on_received(s, self.now);
        self.collect();
    }

    fn drop_socket(&mut self, s: usize) {
        self.cluster
            .on_closed(s, self.generations[&s], 1006, "", self.now);
        self.collect();
    }

    fn advance(&mut self, ms: f64) {
        self.now += ms;
        self.cluster.on_tick(self.now);
        self.collect();
    }

    fn send(&mut self, words: &[&str]) -> RequestId {
        let id = self
            .cluster
            .request(cmd(words), self.now)
            .expect("accepted");
        self.collect();
        id
    }

    fn outcome(&mut self, id: RequestId) -> Outcome {
        let at = self
            .completions
            .iter()
            .position(|(done, outcome)| *done == id && outcome.is_last())
            .unwrap_or_else(|| panic!("request {id} is not complete: {:?}", self.completions));
        self.completions.remove(at).1
    }

    fn pending(&self, id: RequestId) -> bool {
        !self.completions.iter().any(|(done, _)| *done == id)
    }
}

#[test]
fn commands_go_to_the_master_of_their_slot() {
    let mut net = Net::ready(ReadFrom::Master);
    for node in ["a", "b", "c"] {
        let key = key_on(node);
        let id = net.send(&["SET", &key, "v"]);
        let s = net.session(node);
        assert_eq!(net.sent(s), resp(&[&["SET", &key, "v"]]), "{key} on {node}");
        net.answer(s, &[simple("OK")]);
        assert_eq!(net.outcome(id), Outcome::Reply(simple("OK")));
    }
    // A hash tag puts keys in one slot.
    let id = net.send(&["MSET", "{x}1", "1", "{x}2", "2"]);
    let owner = net.cluster.owner(slot(b"x")).unwrap();
    let s = 1 + owner;
    assert!(net.sent(s).contains("MSET"));
    net.answer(s, &[simple("OK")]);
    assert_eq!(net.outcome(id), Outcome::Reply(simple("OK")));
    // Keyless commands go to the masters in turn.
    let mut seen = Vec::new();
    for _ in 0..3 {
        let id = net.send(&["PING"]);
        let masters: Vec<usize> = ["a", "b", "c"].iter().map(|n| net.session(n)).collect();
        let s = masters
            .into_iter()
            .find(|&s| !net.sent(s).is_empty())
            .unwrap();
        seen.push(s);
        net.answer(s, &[simple("PONG")]);
        net.outcome(id);
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 3, "each master once: {seen:?}");
}

#[test]
fn keys_in_two_slots_are_refused_before_anything_is_sent() {
    let mut net = Net::ready(ReadFrom::Master);
    let err = net
        .cluster
        .request(cmd(&["MGET", &key_on("a"), &key_on("b")]), net.now)
        .unwrap_err();
    assert!(matches!(err, ClientError::CrossSlot(_)), "{err:?}");
    for node in ["a", "b", "c"] {
        let s = net.session(node);
        assert_eq!(net.sent(s), "");
    }
    let err = net
        .cluster
        .request(cmd(&["SELECT", "1"]), net.now)
        .unwrap_err();
    assert!(matches!(err, ClientError::Refused(_)));
}

#[test]
fn moved_updates_the_map_and_retries_where_it_points() {
    let mut net = Net::ready(ReadFrom::Master);
    let key = key_on("a");
    let (a, b) = (net.session("a"), net.session("b"));
    let id = net.send(&["GET", &key]);
    assert_eq!(net.sent(a), resp(&[&["GET", &key]]));
    let moved = format!("MOVED {} b", slot(key.as_bytes()));
    net.answer(a, &[error(&moved)]);
    assert!(net.pending(id), "not failed: redirected");
    assert_eq!(net.sent(b), resp(&[&["GET", &key]]));
    assert_eq!(net.sent(0), "REFRESH", "asks the bridge for the topology");
    net.answer(b, &[bulk("v")]);
    assert_eq!(net.outcome(id), Outcome::Reply(bulk("v")));
    // The next command for that slot goes straight to b.
    let id = net.send(&["GET", &key]);
    assert_eq!(net.sent(a), "");
    assert_eq!(net.sent(b), resp(&[&["GET", &key]]));
    net.answer(b, &[bulk("v")]);
    net.outcome(id);
}

#[test]
fn ask_sends_asking_then_the_command_once_and_keeps_the_map() {
    let mut net = Net::ready(ReadFrom::Master);
    let key = key_on("a");
    let (a, c) = (net.session("a"), net.session("c"));
    let id = net.send(&["GET", &key]);
    net.sent(a);
    net.answer(a, &[error(&format!("ASK {} c", slot(key.as_bytes())))]);
    assert_eq!(net.sent(c), resp(&[&["ASKING"], &["GET", &key]]));
    net.answer(c, &[simple("OK"), bulk("v")]);
    assert_eq!(net.outcome(id), Outcome::Reply(bulk("v")));
    let id = net.send(&["GET", &key]);
    assert_eq!(net.sent(a), resp(&[&["GET", &key]]), "the map did not move");
    net.answer(a, &[bulk("v")]);
    net.outcome(id);
}

#[test]
fn tryagain_waits_and_redirections_are_bounded() {
    let mut net = Net::ready(ReadFrom::Master);
    let key = key_on("b");
    let b = net.session("b");
    let id = net.send(&["GET", &key]);
    net.sent(b);
    net.answer(
        b,
        &[error(
            "TRYAGAIN Multiple keys request during rehashing of slot",
        )],
    );
    net.advance(RETRY_MS / 2.0);
    assert_eq!(net.sent(b), "", "not before the pause");
    net.advance(RETRY_MS / 2.0);
    assert_eq!(net.sent(b), resp(&[&["GET", &key]]));
    // A node that keeps redirecting: the command fails after the limit.
    let moved = format!("MOVED {} b", slot(key.as_bytes()));
    for _ in 1..MAX_REDIRECTS {
        net.answer(b, &[error(&moved)]);
        assert_eq!(net.sent(b), resp(&[&["GET", &key]]));
    }
    net.answer(b, &[error(&moved)]);
    match net.outcome(id) {
        Outcome::Failed(ClientError::Cluster(why)) => assert!(why.contains("MOVED"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(net.sent(b), "");
}

#[test]
fn a_failed_master_fails_only_what_it_carried_and_the_rest_waits_for_the_failover() {
    let mut net = Net::ready(ReadFrom::Master);
    let key = key_on("c");
    let c = net.session("c");
    let in_flight = net.send(&["INCR", &key]);
    net.sent(c);
    net.drop_socket(c);
    assert!(matches!(
        net.outcome(in_flight),
        Outcome::Failed(ClientError::ConnectionLost(_))
    ));
    // Issued while c is down: it waits, and the bridge is asked.
    let waiting = net.send(&["INCR", &key]);
    assert!(net.pending(waiting));
    net.advance(RETRY_MS);
    assert!(net.sent(0).contains("REFRESH"));
    // The replica took over: the topology names it master of c's slots.
    net.feed(&shards(&[
        ("a", 0, 5460),
        ("b", 5461, 10922),
        ("rc", 10923, 16383),
    ]));
    let rc = net.session("rc");
    assert!(net.pending(waiting), "its pool connects first");
    net.open(rc);
    assert_eq!(net.sent(rc), resp(&[&["PING"]]));
    net.answer(rc, &[simple("PONG")]);
    assert_eq!(net.sent(rc), resp(&[&["INCR", &key]]));
    net.answer(rc, &[Frame::Integer(2)]);
    assert_eq!(net.outcome(waiting), Outcome::Reply(Frame::Integer(2)));
    // c is gone from the topology: its pool was closed.
    assert!(!net.cluster.node_ids().contains(&"c".to_owned()));
}

#[test]
fn a_command_waits_for_a_node_no_longer_than_the_connect_timeout() {
    let mut net = Net::ready(ReadFrom::Master);
    let c = net.session("c");
    net.drop_socket(c);
    let id = net.send(&["GET", &key_on("c")]);
    net.advance(9_000.0);
    assert!(net.pending(id));
    net.advance(1_000.0);
    assert!(matches!(
        net.outcome(id),
        Outcome::Failed(ClientError::NotConnected(_))
    ));
}

#[test]
fn a_transaction_binds_to_the_slot_of_its_first_key() {
    let mut net = Net::ready(ReadFrom::Master);
    let b = net.session("b");
    let (tx, begin) = net.cluster.multi(None, 0).unwrap();
    net.collect();
    assert_eq!(net.outcome(begin), Outcome::Reply(simple("OK")));
    let key = key_on("b");
    let ping = net.cluster.tx_request(tx, cmd(&["PING"])).unwrap();
    let set = net
        .cluster
        .tx_request(tx, cmd(&["SET", &key, "1"]))
        .unwrap();
    let err = net
        .cluster
        .tx_request(tx, cmd(&["SET", &key_on("a"), "1"]))
        .unwrap_err();
    assert!(matches!(err, ClientError::CrossSlot(_)), "{err:?}");
    let exec = net.cluster.tx_end(tx, true).unwrap();
    net.collect();
    assert_eq!(net.sent(b), resp(&[&["MULTI"]]));
    net.answer(b, &[simple("OK")]);
    assert_eq!(
        net.sent(b),
        resp(&[&["PING"], &["SET", &key, "1"], &["EXEC"]])
    );
    net.answer(
        b,
        &[
            simple("QUEUED"),
            simple("QUEUED"),
            Frame::Array(vec![simple("PONG"), simple("OK")]),
        ],
    );
    assert_eq!(net.outcome(ping), Outcome::Reply(simple("PONG")));
    assert_eq!(net.outcome(set), Outcome::Reply(simple("OK")));
    assert_eq!(net.outcome(exec), Outcome::Reply(simple("OK")));
    let again = net.cluster.tx_request(tx, cmd(&["PING"])).unwrap_err();
    assert_eq!(
        again,
        ClientError::Transaction("Transaction already finished or invalid.".into())
    );
}

#[test]
fn reads_go_to_replicas_when_asked_and_writes_to_masters() {
    let mut net = Net::ready(ReadFrom::Replica);
    let key = key_on("a");
    let (a, ra) = (net.session("a"), net.session("ra"));
    let get = net.send(&["GET", &key]);
    assert_eq!(net.sent(ra), resp(&[&["GET", &key]]));
    assert_eq!(net.sent(a), "");
    net.answer(ra, &[bulk("v")]);
    net.outcome(get);
    let set = net.send(&["SET", &key, "v"]);
    assert_eq!(net.sent(a), resp(&[&["SET", &key, "v"]]));
    net.answer(a, &[simple("OK")]);
    net.outcome(set);
}

#[test]
fn a_feed_the_bridge_refuses_ends_the_client_with_why() {
    let mut config = config();
    config.settings.auto_reconnect = false;
    let mut cluster = Cluster::new(
        ClusterConfig {
            pool: config,
            per_node: 1,
            read_from: ReadFrom::Master,
        },
        1,
    );
    cluster.start(0.0);
    let outputs = cluster.take_outputs();
    assert!(matches!(outputs[..], [Output::Dial { session: 0, .. }]));
    cluster.on_closed(0, 1, 1008, "token refused", 5.0);
    let outputs = cluster.take_outputs();
    assert!(
        outputs.iter().any(|o| matches!(o,
            Output::Event(Event::End { session: 0, cause: Some(ClientError::NotConnected(why)) })
                if why.contains("token refused"))),
        "{outputs:?}"
    );
}

#[test]
fn a_bad_topology_frame_closes_the_feed() {
    let mut net = Net::new(ReadFrom::Master);
    net.open(0);
    net.feed(&bulk("not a topology"));
    assert!(net.closes.contains(&0));
    assert!(net.events.iter().any(
        |e| matches!(e, Event::Error { session: 0, error: ClientError::Protocol(why) } if why.contains("topology"))
    ));
}

impl Net {
    /// The host sessions dialled since `before` (new sockets).
    fn dialled_since(&self, before: usize) -> Vec<usize> {
        (before..self.cluster.size())
            .filter(|s| self.generations.contains_key(s))
            .collect()
    }
}

#[test]
fn a_blocking_call_gets_the_node_a_socket_more_and_the_next_command_waits_for_it() {
    let mut net = Net::ready(ReadFrom::Master);
    let key = key_on("a");
    let a = net.session("a");
    let blpop = net.send(&["BLPOP", &key, "0"]);
    assert_eq!(net.sent(a), resp(&[&["BLPOP", &key, "0"]]));
    let before = net.cluster.size();
    let get = net.send(&["GET", &key]);
    let grown = net.dialled_since(before);
    assert_eq!(grown.len(), 1, "one more socket for node a");
    assert_eq!(net.cluster.path(grown[0]).as_deref(), Some("/node/a"));
    assert!(net.pending(get));
    net.open(grown[0]);
    assert_eq!(net.sent(grown[0]), resp(&[&["PING"]]));
    net.answer(grown[0], &[simple("PONG")]);
    assert_eq!(net.sent(grown[0]), resp(&[&["GET", &key]]));
    net.answer(grown[0], &[Frame::Null]);
    assert_eq!(net.outcome(get), Outcome::Reply(Frame::Null));
    assert!(net.pending(blpop));
}

#[test]
fn a_subscription_has_a_socket_of_its_own_and_sharded_channels_one_per_node() {
    let mut net = Net::ready(ReadFrom::Master);
    let before = net.cluster.size();
    let sub = net.cluster.subscribe(0).unwrap();
    net.collect();
    let plain = net.dialled_since(before);
    assert_eq!(plain.len(), 1, "the subscription's own socket");
    let subscribe = net
        .cluster
        .request_on(sub, cmd(&["SUBSCRIBE", "news"]))
        .unwrap();
    net.collect();
    assert!(net.pending(subscribe), "waits for its socket");
    net.open(plain[0]);
    assert_eq!(net.sent(plain[0]), resp(&[&["PING"]]));
    net.answer(plain[0], &[simple("PONG")]);
    assert_eq!(net.sent(plain[0]), resp(&[&["SUBSCRIBE", "news"]]));
    let confirm = Frame::Array(vec![bulk("subscribe"), bulk("news"), Frame::Integer(1)]);
    net.answer(plain[0], &[confirm]);
    net.outcome(subscribe);
    // Commands still flow on the masters' own sockets.
    let a = net.session("a");
    let get = net.send(&["GET", &key_on("a")]);
    assert!(net.sent(a).contains("GET"));
    net.answer(a, &[Frame::Null]);
    net.outcome(get);
    // A sharded channel of node c: a socket there, for this subscription.
    let channel = key_on("c");
    let before = net.cluster.size();
    let ssub = net
        .cluster
        .request_on(sub, cmd(&["SSUBSCRIBE", &channel]))
        .unwrap();
    net.collect();
    let shard = net.dialled_since(before);
    assert_eq!(shard.len(), 1);
    assert_eq!(net.cluster.path(shard[0]).as_deref(), Some("/node/c"));
    net.open(shard[0]);
    net.sent(shard[0]);
    net.answer(shard[0], &[simple("PONG")]);
    assert_eq!(net.sent(shard[0]), resp(&[&["SSUBSCRIBE", &channel]]));
    let confirm = Frame::Array(vec![bulk("ssubscribe"), bulk(&channel), Frame::Integer(1)]);
    net.answer(shard[0], &[confirm]);
    net.outcome(ssub);
    // Messages of both sockets arrive as the subscription's.
    let message = Frame::Array(vec![bulk("smessage"), bulk(&channel), bulk("hi")]);
    net.answer(shard[0], std::slice::from_ref(&message));
    let news = Frame::Array(vec![bulk("message"), bulk("news"), bulk("hello")]);
    net.answer(plain[0], std::slice::from_ref(&news));
    assert_eq!(net.pushes, [(sub, message), (sub, news)]);
    let err = net
        .cluster
        .request_on(sub, cmd(&["SUNSUBSCRIBE"]))
        .unwrap_err();
    assert!(matches!(err, ClientError::Refused(_)), "{err:?}");
}

#[test]
fn a_command_to_a_named_node_goes_there_and_follows_no_redirect() {
    let mut net = Net::ready(ReadFrom::Master);
    let (a, b) = (net.session("a"), net.session("b"));
    let scan = net
        .cluster
        .request_to("b", cmd(&["SCAN", "0"]), net.now)
        .unwrap();
    net.collect();
    assert_eq!(net.sent(b), resp(&[&["SCAN", "0"]]));
    net.answer(b, &[Frame::Array(vec![bulk("0"), Frame::Array(vec![])])]);
    net.outcome(scan);
    let key = key_on("a");
    let get = net
        .cluster
        .request_to("b", cmd(&["GET", &key]), net.now)
        .unwrap();
    net.collect();
    assert_eq!(net.sent(b), resp(&[&["GET", &key]]));
    let moved = error(&format!("MOVED {} a", slot(key.as_bytes())));
    net.answer(b, std::slice::from_ref(&moved));
    assert_eq!(
        net.outcome(get),
        Outcome::Reply(moved),
        "the node's own answer"
    );
    assert_eq!(net.sent(a), "");
    assert!(net
        .cluster
        .request_to("zz", cmd(&["PING"]), net.now)
        .is_err());
    let err = net
        .cluster
        .request(cmd(&["SCAN", "0"]), net.now)
        .unwrap_err();
    assert!(matches!(err, ClientError::Refused(_)), "{err:?}");
    let topology = net.cluster.topology().unwrap();
    assert_eq!(topology.shards.len(), 3);
    assert_eq!(topology.shards[1].master.as_deref(), Some("b"));
}

#[test]
fn each_node_caches_its_own_keys_and_their_invalidations_reach_the_sum() {
    let pool = cached_config(cache_config());
    let mut net = Net::new(ReadFrom::Master);
    net.cluster = Cluster::new(
        ClusterConfig {
            pool,
            per_node: 1,
            read_from: ReadFrom::Master,
        },
        3,
    );
    net.cluster.start(net.now);
    net.collect();
    net.open(0);
    net.feed(&shards(&[]));
    for id in ["a", "b", "c"] {
        let s = net.session(id);
        net.open(s);
        let sent = net.sent(s);
        assert!(
            sent.contains("HELLO") && sent.contains("TRACKING"),
            "{sent:?}"
        );
        net.answer(s, &[Frame::Map(Vec::new()), simple("OK")]);
    }
    let key = key_on("b");
    let b = net.session("b");
    let get = net
        .cluster
        .request(
            super::cmd::Cmd::lookup(["GET", key.as_str()], super::command::ReplyKind::Native),
            net.now,
        )
        .unwrap();
    net.collect();
    assert_eq!(net.sent(b), resp(&[&["GET", &key], &["PTTL", &key]]));
    net.answer(b, &[bulk("v"), Frame::Integer(-1)]);
    net.outcome(get);
    let hit = net
        .cluster
        .request(
            super::cmd::Cmd::lookup(["GET", key.as_str()], super::command::ReplyKind::Native),
            net.now,
        )
        .unwrap();
    net.collect();
    assert_eq!(net.sent(b), "", "a hit sends nothing");
    assert_eq!(net.outcome(hit), Outcome::Reply(bulk("v")));
    let invalidate = Frame::Push(vec![bulk("invalidate"), Frame::Array(vec![bulk(&key)])]);
    net.answer(b, &[invalidate]);
    let stats = net.cluster.cache_stats().unwrap();
    assert_eq!(
        (stats.hits, stats.misses, stats.invalidations, stats.entries),
        (1, 1, 1, 0)
    );
}

#[test]
fn failed_masters_do_not_hold_up_the_start() {
    // After a failover the old master stays listed, failed, in a shard of
    // its own without slots; before it, a failed master keeps its slots.
    let frame = Frame::Array(vec![
        shard_frame(&[0, 5460], vec![node_frame("a", "master", "online")]),
        shard_frame(&[5461, 10922], vec![node_frame("b", "master", "failed")]),
        shard_frame(&[10923, 16383], vec![node_frame("rc", "master", "online")]),
        shard_frame(&[], vec![node_frame("c", "master", "failed")]),
    ]);
    let mut net = Net::new(ReadFrom::Master);
    net.open(0);
    net.feed(&frame);
    assert!(
        !net.cluster.node_ids().contains(&"c".to_owned()),
        "a node without slots gets no socket"
    );
    net.handshake("a");
    net.handshake("rc");
    assert!(
        net.events.contains(&Event::Ready { session: 0 }),
        "ready without the failed master: {:?}",
        net.events
    );
    // b's commands wait for its failover.
    let id = net.send(&["GET", &key_on("b")]);
    assert!(net.pending(id));
}

#[test]
fn a_node_named_again_gets_new_sockets_that_an_old_socket_cannot_touch() {
    let mut net = Net::ready(ReadFrom::Master);
    let old = net.session("c");
    // c leaves (its slots to rc), then comes back as the master.
    net.feed(&shards(&[
        ("a", 0, 5460),
        ("b", 5461, 10922),
        ("rc", 10923, 16383),
    ]));
    net.feed(&shards(&[]));
    let new = net.session("c");
    assert_ne!(new, old, "a host session of its own");
    assert_eq!(
        net.cluster.path(old),
        None,
        "the old one stands for nothing"
    );
    // The old socket's late close, with the generation the new socket has.
    net.cluster
        .on_closed(old, net.generations[&new], 1006, "", net.now);
    net.collect();
    net.handshake("c");
    let key = key_on("c");
    let id = net.send(&["GET", &key]);
    assert_eq!(net.sent(new), resp(&[&["GET", &key]]));
    net.answer(new, &[bulk("v")]);
    assert_eq!(net.outcome(id), Outcome::Reply(bulk("v")));
}
