//! Cluster mode against a real Redis Cluster (3 masters, 3 replicas): the
//! topology feed, node sockets, the redirections rewritten to node ids,
//! and never a connection to an address a reply names. One cluster serves
//! every step, as starting one takes seconds.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::*;
use futures_util::StreamExt;
use resp::Frame;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::{self, Message};

/// The refresh interval of the test's bridge: short, so that a failover
/// reaches the feed soon.
const REFRESH: &str = "300ms";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bridge_in_front_of_a_real_cluster() {
    let mut cluster = RedisCluster::start(3, 1).await;
    let metrics = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let metrics_flag = metrics.to_string();
    let seeds = cluster.seeds();
    let bridge = Bridge::start(&[
        "--redis-cluster",
        &seeds,
        "--cluster-refresh",
        REFRESH,
        "--profile",
        "trusted",
        "--allow-scripting",
        "--metrics",
        &metrics_flag,
    ]);

    let mut feed = connect(&bridge.url("/ws/cluster")).await;
    let topology = next_topology(&mut feed).await;
    the_feed_has_every_node_and_slot_and_no_address(&cluster, &topology);
    // Anything sent is a request: the topology comes again, unchanged.
    send(&mut feed, b"refresh, please").await;
    assert_eq!(next_topology(&mut feed).await, topology);

    node_sockets_relay_to_their_node(&cluster, &bridge).await;
    unknown_ids_and_plain_sockets_are_refused(&bridge).await;
    moved_names_the_node_by_id(&cluster, &bridge).await;
    forged_redirections_become_tryagain_and_are_never_dialled(&cluster, &bridge).await;
    ask_names_the_node_by_id(&cluster, &bridge).await;
    refreshes_are_rate_limited(&bridge, metrics).await;
    the_metrics_count_nodes_and_rewrites(metrics).await;
    the_web_profile_passes_sharded_pub_sub_and_denies_cluster(&cluster, &seeds).await;
    a_failover_reaches_the_feed(&cluster, &mut feed, &topology).await;
    a_killed_master_gives_way_to_its_replica(&mut cluster, &bridge, &mut feed).await;
    // Last: it turns every node's default user off.
    tokens_apply_to_every_node_socket(&cluster, &seeds).await;
}

/// The feed's shards as (slot ranges, nodes as (id, role, health)).
type Shards = Vec<(Vec<i64>, Vec<(String, String, String)>)>;

/// The next topology message on `feed`: exactly one frame in one message.
async fn next_topology(feed: &mut Ws) -> Shards {
    let data = loop {
        match within("a topology message", feed.next()).await {
            Some(Ok(Message::Binary(data))) => break data,
            Some(Ok(Message::Ping(_))) => {}
            other => panic!("expected a topology message, got {other:?}"),
        }
    };
    let shown = String::from_utf8_lossy(&data);
    assert!(
        !shown.contains("127.0.0.1"),
        "an address in the feed: {shown:?}"
    );
    let mut decoder = resp::Decoder::new();
    decoder.feed(&data);
    let frame = decoder.decode().expect("RESP").expect("a whole frame");
    assert_eq!(decoder.buffered(), 0, "one frame per message");
    let Frame::Array(shards) = frame else {
        panic!("an array of shards")
    };
    shards
        .iter()
        .map(|shard| {
            let fields = flat(shard);
            let keys: Vec<_> = fields.iter().map(|(key, _)| key.as_str()).collect();
            assert_eq!(keys, ["slots", "nodes"]);
            let Frame::Array(slots) = &fields[0].1 else {
                panic!("slots")
            };
            let slots = slots
                .iter()
                .map(|slot| match slot {
                    Frame::Integer(slot) => *slot,
                    other => panic!("a slot: {other:?}"),
                })
                .collect();
            let Frame::Array(nodes) = &fields[1].1 else {
                panic!("nodes")
            };
            let nodes = nodes
                .iter()
                .map(|node| {
                    let fields = flat(node);
                    let keys: Vec<_> = fields.iter().map(|(key, _)| key.as_str()).collect();
                    assert_eq!(keys, ["id", "role", "health"], "only these node fields");
                    let value = |at: usize| text(&fields[at].1);
                    (value(0), value(1), value(2))
                })
                .collect();
            (slots, nodes)
        })
        .collect()
}

/// A flat key/value array's pairs.
fn flat(frame: &Frame) -> Vec<(String, Frame)> {
    let Frame::Array(items) = frame else {
        panic!("a flat array, got {frame:?}")
    };
    items
        .chunks(2)
        .map(|pair| (text(&pair[0]), pair[1].clone()))
        .collect()
}

fn the_feed_has_every_node_and_slot_and_no_address(cluster: &RedisCluster, shards: &Shards) {
    assert_eq!(shards.len(), 3, "{shards:?}");
    let mut ranges: Vec<(i64, i64)> = shards
        .iter()
        .flat_map(|(slots, _)| slots.chunks(2).map(|pair| (pair[0], pair[1])))
        .collect();
    ranges.sort_unstable();
    let mut next = 0;
    for (start, end) in ranges {
        assert_eq!(start, next, "slots covered once, in order");
        next = end + 1;
    }
    assert_eq!(next, 16384);
    let mut ids: Vec<&str> = Vec::new();
    for (_, nodes) in shards {
        let roles: Vec<_> = nodes.iter().map(|(_, role, _)| role.as_str()).collect();
        assert_eq!(roles, ["master", "replica"]);
        for (id, _, health) in nodes {
            assert!(["online", "loading"].contains(&health.as_str()), "{health}");
            ids.push(id);
        }
    }
    ids.sort_unstable();
    let mut expected: Vec<&str> = cluster.nodes.iter().map(|node| node.id.as_str()).collect();
    expected.sort_unstable();
    assert_eq!(ids, expected);
}

/// A key (with a hash tag of its own) whose slot `master` serves, and the slot.
async fn key_on(cluster: &RedisCluster, master: &ClusterNode) -> (String, u16) {
    for n in 0..1000 {
        let key = format!("{{k{n}}}");
        let slot = match master.redis.call(&["CLUSTER", "KEYSLOT", &key]).await {
            Frame::Integer(slot) => slot as u16,
            other => panic!("CLUSTER KEYSLOT: {other:?}"),
        };
        if cluster.master_of(slot).await.id == master.id {
            return (key, slot);
        }
    }
    panic!("no key for node {}", master.id)
}

async fn masters(cluster: &RedisCluster) -> Vec<&ClusterNode> {
    let mut masters: Vec<&ClusterNode> = Vec::new();
    for slot in [0, 8192, 16383] {
        masters.push(cluster.master_of(slot).await);
    }
    masters
}

async fn node_sockets_relay_to_their_node(cluster: &RedisCluster, bridge: &Bridge) {
    for master in masters(cluster).await {
        let (key, _) = key_on(cluster, master).await;
        let mut ws = connect(&bridge.url(&format!("/ws/node/{}", master.id))).await;
        let replies = replies_to(&mut ws, &[&["SET", &key, &master.id], &["GET", &key]]).await;
        assert_eq!(replies, [simple("OK"), bulk(&master.id)]);
        // It is that node that holds it.
        assert_eq!(master.redis.call(&["GET", &key]).await, bulk(&master.id));
    }
    large_replies_arrive_whole_and_rewritten(cluster, bridge).await;
}

/// From a node as from a single server, a bulk reply of up to 2 MiB comes in
/// one message, a larger one read by read; a redirection that follows it in
/// the same message is still rewritten.
async fn large_replies_arrive_whole_and_rewritten(cluster: &RedisCluster, bridge: &Bridge) {
    let masters = masters(cluster).await;
    let (key, _) = key_on(cluster, masters[0]).await;
    let (elsewhere, slot) = key_on(cluster, masters[1]).await;
    let mut ws = connect(&bridge.url(&format!("/ws/node/{}", masters[0].id))).await;
    for (len, whole) in [(1 << 20, true), (3 << 20, false)] {
        let value = "x".repeat(len);
        round_trip(&mut ws, &command(&["SET", &key, &value]), b"+OK\r\n").await;
        let mut pipeline = command(&["GET", &key]);
        pipeline.extend_from_slice(&command(&["GET", &elsewhere]));
        send(&mut ws, &pipeline).await;
        let moved = format!("-MOVED {slot} {}\r\n", masters[1].id);
        let expected = format!("${len}\r\n{value}\r\n{moved}");
        let (got, messages) = receive(&mut ws, expected.len()).await;
        assert!(
            got == expected.as_bytes(),
            "GET of {len} bytes, then MOVED: other bytes"
        );
        match whole {
            true => assert_eq!(messages, 1, "{len} bytes and the MOVED in one message"),
            false => assert!(messages > 1, "{len} bytes span several 64 KiB reads"),
        }
    }
}

/// The status and body of a refused handshake.
async fn refused(url: &str) -> (u16, String) {
    match try_connect(url, None).await {
        Ok(_) => panic!("{url}: not refused"),
        Err(tungstenite::Error::Http(response)) => {
            let body = response.body().clone().unwrap_or_default();
            (
                response.status().as_u16(),
                String::from_utf8_lossy(&body).into_owned(),
            )
        }
        Err(error) => panic!("{url}: {error}"),
    }
}

async fn unknown_ids_and_plain_sockets_are_refused(bridge: &Bridge) {
    for id in ["0".repeat(40), "not-an-id".into(), "127.0.0.1:6379".into()] {
        let (status, body) = refused(&bridge.url(&format!("/ws/node/{id}"))).await;
        assert_eq!(status, 404, "{id}");
        assert!(
            body.contains("no node of the cluster has this id"),
            "{body}"
        );
    }
    let (status, body) = refused(&bridge.url("/ws")).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        "this bridge serves a cluster: use /ws/cluster and /ws/node/<id>"
    );
    assert_eq!(refused(&bridge.url("/")).await.0, 400);
}

async fn moved_names_the_node_by_id(cluster: &RedisCluster, bridge: &Bridge) {
    let masters = masters(cluster).await;
    let (key, slot) = key_on(cluster, masters[1]).await;
    let mut ws = connect(&bridge.url(&format!("/ws/node/{}", masters[0].id))).await;
    // Among other replies, split or not: the pipeline's second reply.
    let replies = replies_to(
        &mut ws,
        &[&["PING"], &["GET", &key], &["ECHO", "-MOVED 1 x:1"]],
    )
    .await;
    assert_eq!(replies[0], simple("PONG"));
    assert_eq!(
        error_text(&replies[1]),
        format!("MOVED {slot} {}", masters[1].id)
    );
    assert_eq!(replies[2], bulk("-MOVED 1 x:1"), "payloads go untouched");
}

async fn forged_redirections_become_tryagain_and_are_never_dialled(
    cluster: &RedisCluster,
    bridge: &Bridge,
) {
    // An address no node has, where the test would see a connection.
    let trap = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the trap");
    let trap_addr = trap.local_addr().expect("its address").to_string();
    // A node's port under a name the topology does not give it.
    let near = format!("localhost:{}", cluster.nodes[0].redis.addr.port());
    let master = masters(cluster).await[0];
    let mut ws = connect(&bridge.url(&format!("/ws/node/{}", master.id))).await;
    for (kind, address) in [("MOVED", &trap_addr), ("ASK", &trap_addr), ("MOVED", &near)] {
        let script = format!("return redis.error_reply('{kind} 77 {address}')");
        let reply = replies_to(&mut ws, &[&["EVAL", &script, "0"]]).await;
        assert_eq!(
            error_text(&reply[0]),
            "TRYAGAIN redis-ws-bridge: slot 77 moved to a node not yet in the topology"
        );
    }
    // A script's nested error is not a redirection of the connection.
    let nested = format!("return {{redis.error_reply('MOVED 1 {trap_addr}')}}");
    let reply = replies_to(&mut ws, &[&["EVAL", &nested, "0"]]).await;
    assert_eq!(
        reply[0],
        Frame::Array(vec![Frame::Error(format!("MOVED 1 {trap_addr}").into())])
    );
    // The refreshes they asked for come and go; nobody dials the trap.
    let dialled = tokio::time::timeout(Duration::from_millis(700), trap.accept()).await;
    assert!(
        dialled.is_err(),
        "the bridge dialled an address a reply named"
    );
}

async fn ask_names_the_node_by_id(cluster: &RedisCluster, bridge: &Bridge) {
    let masters = masters(cluster).await;
    let (source, target) = (masters[0], masters[1]);
    let (key, slot) = key_on(cluster, source).await;
    let absent = format!("{key}absent");
    setslot(target, slot, &["IMPORTING", &source.id]).await;
    setslot(source, slot, &["MIGRATING", &target.id]).await;

    let mut from = connect(&bridge.url(&format!("/ws/node/{}", source.id))).await;
    let reply = replies_to(&mut from, &[&["GET", &absent]]).await;
    assert_eq!(error_text(&reply[0]), format!("ASK {slot} {}", target.id));
    // The id leads to the node that takes the key, with ASKING.
    let mut to = connect(&bridge.url(&format!("/ws/node/{}", target.id))).await;
    let replies = replies_to(&mut to, &[&["ASKING"], &["SET", &absent, "1"]]).await;
    assert_eq!(replies, [simple("OK"), simple("OK")]);
    let replies = replies_to(&mut to, &[&["ASKING"], &["DEL", &absent]]).await;
    assert_eq!(replies, [simple("OK"), Frame::Integer(1)]);

    setslot(source, slot, &["STABLE"]).await;
    setslot(target, slot, &["STABLE"]).await;
}

async fn setslot(node: &ClusterNode, slot: u16, args: &[&str]) {
    let slot = slot.to_string();
    let mut all = vec!["CLUSTER", "SETSLOT", &slot];
    all.extend_from_slice(args);
    assert_eq!(node.redis.call(&all).await, simple("OK"), "{all:?}");
}

/// The sum of `name`'s samples with `labels`, as the bridge serves them.
async fn metric(addr: SocketAddr, name: &str, labels: &[(&str, &str)]) -> f64 {
    let (status, text) = http_get(addr, "/metrics").await;
    assert_eq!(status, 200);
    let lines = text.lines().map(|line| Ok(line.to_owned()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("Prometheus text");
    scrape
        .samples
        .iter()
        .filter(|sample| sample.metric == name)
        .filter(|sample| {
            labels
                .iter()
                .all(|(key, value)| sample.labels.get(key) == Some(value))
        })
        .map(|sample| match sample.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            _ => f64::NAN,
        })
        .sum()
}

async fn refreshes_are_rate_limited(bridge: &Bridge, metrics: SocketAddr) {
    let refreshes = || {
        metric(
            metrics,
            "redis_ws_bridge_cluster_topology_refreshes_total",
            &[],
        )
    };
    let mut feeds = Vec::new();
    for _ in 0..10 {
        let mut feed = connect(&bridge.url("/ws/cluster")).await;
        next_topology(&mut feed).await;
        feeds.push(feed);
    }
    let before = refreshes().await;
    let started = Instant::now();
    // Ten browsers asking three times each, all at once: each gets its
    // answer after a read that began after its request.
    let asking = feeds.iter_mut().map(|feed| async move {
        for _ in 0..3 {
            send(feed, b"?").await;
            next_topology(feed).await;
        }
    });
    futures_util::future::join_all(asking).await;
    let elapsed = started.elapsed();
    let reads = refreshes().await - before;
    // At most one read per 100 ms (one more for the interval's own, maybe
    // under way when they started).
    let allowed = (elapsed.as_millis() / 100) as f64 + 2.0;
    assert!(
        reads >= 3.0,
        "three rounds of requests need three reads: {reads}"
    );
    assert!(reads <= allowed, "{reads} reads in {elapsed:?}");
}

async fn the_metrics_count_nodes_and_rewrites(metrics: SocketAddr) {
    for (kind, at_least) in [("moved", 1.0), ("ask", 1.0), ("unknown_node", 3.0)] {
        let name = "redis_ws_bridge_cluster_redirects_rewritten_total";
        let count = metric(metrics, name, &[("kind", kind)]).await;
        assert!(count >= at_least, "{kind}: {count}");
    }
    let ok = metric(
        metrics,
        "redis_ws_bridge_cluster_topology_refreshes_total",
        &[("result", "ok")],
    );
    assert!(ok.await >= 3.0);
    // The node sockets of the test are still open, or just closed.
    let (status, text) = http_get(metrics, "/metrics").await;
    assert_eq!(status, 200);
    assert!(
        text.contains("redis_ws_bridge_cluster_node_connections{node=\""),
        "{text}"
    );
}

async fn the_web_profile_passes_sharded_pub_sub_and_denies_cluster(
    cluster: &RedisCluster,
    seeds: &str,
) {
    let web = Bridge::start(&["--redis-cluster", seeds]);
    let master = masters(cluster).await[2];
    let (key, _) = key_on(cluster, master).await;
    let channel = format!("{key}news");
    let url = web.url(&format!("/ws/node/{}", master.id));
    let mut subscriber = connect(&url).await;
    let confirmed = replies_to(&mut subscriber, &[&["SSUBSCRIBE", &channel]]).await;
    let subscribed = || Frame::Array(vec![bulk("ssubscribe"), bulk(&channel), Frame::Integer(1)]);
    assert_eq!(confirmed, [subscribed()]);
    let mut publisher = connect(&url).await;
    let published = replies_to(&mut publisher, &[&["SPUBLISH", &channel, "hi"]]).await;
    assert_eq!(published, [Frame::Integer(1)]);
    let message = Frame::Array(vec![bulk("smessage"), bulk(&channel), bulk("hi")]);
    assert_eq!(replies(&mut subscriber, 1).await, [message]);
    for denied in [
        &["CLUSTER", "NODES"][..],
        &["CLUSTER", "SHARDS"],
        &["CLUSTER", "MEET", "10.9.9.9", "1"],
    ] {
        let reply = replies_to(&mut publisher, &[denied]).await;
        assert!(
            error_text(&reply[0]).contains("redis-ws-bridge"),
            "{denied:?}: {reply:?}"
        );
    }
}

/// A manual failover makes a replica master: the feed says so unasked.
async fn a_failover_reaches_the_feed(cluster: &RedisCluster, feed: &mut Ws, before: &Shards) {
    let (_, nodes) = &before[0];
    let replica = cluster.node(&nodes[1].0);
    let reply = replica.redis.call(&["CLUSTER", "FAILOVER"]).await;
    assert_eq!(reply, simple("OK"));
    wait_for_master(feed, &replica.id).await;
}

/// Reads the feed until `id` is the master of the first shard; returns
/// that topology.
async fn wait_for_master(feed: &mut Ws, id: &str) -> Shards {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let shards = next_topology(feed).await;
        let (_, nodes) = &shards[0];
        if nodes[0].0 == id && nodes[0].1 == "master" {
            return shards;
        }
        assert!(
            Instant::now() < deadline,
            "{id} did not become master: {shards:?}"
        );
    }
}

/// SIGKILL on a master: its replica takes over, the feed shows the dead
/// node failed, and the new master's socket serves its slots.
async fn a_killed_master_gives_way_to_its_replica(
    cluster: &mut RedisCluster,
    bridge: &Bridge,
    feed: &mut Ws,
) {
    send(feed, b"?").await;
    let shards = next_topology(feed).await;
    let (slots, nodes) = &shards[0];
    let (victim, heir) = (nodes[0].0.clone(), nodes[1].0.clone());
    let victim_node = cluster.nodes.iter_mut().find(|node| node.id == victim);
    victim_node.expect("the master").redis.kill();
    let shards = wait_for_master(feed, &heir).await;
    // Redis 7.0 lists it on its own: a failed master without slots.
    let mut nodes = shards.iter().flat_map(|(_, nodes)| nodes);
    let listed = nodes
        .find(|(id, _, _)| *id == victim)
        .expect("still listed");
    assert_eq!(listed.2, "failed", "{shards:?}");
    let mut ws = connect(&bridge.url(&format!("/ws/node/{heir}"))).await;
    let key = (0..100_000)
        .map(|n| format!("k{n}"))
        .find(|key| i64::from(crc16_slot(key)) == slots[0])
        .expect("a key of the shard's first slot");
    assert_eq!(
        replies_to(&mut ws, &[&["SET", &key, "after"]]).await,
        [simple("OK")]
    );
    assert_eq!(
        cluster.node(&heir).redis.call(&["GET", &key]).await,
        bulk("after")
    );
}

/// A token bridge in front of the cluster (one node of which is dead):
/// the feed and the node sockets want the token, and its prefix holds on
/// every node socket.
async fn tokens_apply_to_every_node_socket(cluster: &RedisCluster, seeds: &str) {
    // Until every node is done with the failover, some answer CLUSTERDOWN.
    cluster.wait_until_agreed(TIMEOUT).await;
    let alive: Vec<_> = cluster
        .nodes
        .iter()
        .filter(|node| node.redis.is_running())
        .collect();
    for node in &alive {
        let alice = [
            "ACL",
            "SETUSER",
            "alice",
            "on",
            ">alice-pw",
            "~*",
            "&*",
            "+@all",
        ];
        assert_eq!(node.redis.call(&alice).await, simple("OK"));
    }
    for node in &alive {
        let off = node.redis.call(&["ACL", "SETUSER", "default", "off"]).await;
        assert_eq!(off, simple("OK"));
    }
    let entry = token_entry("t0ken", "alice", "alice-pw") + "prefix = \"app:\"\n";
    let dir = TempDir::new(&[("tokens.toml", &entry)]);
    let tokens = dir.path.join("tokens.toml");
    let tokens = tokens.to_str().expect("UTF-8 path");
    let bridge = Bridge::start(&["--redis-cluster", seeds, "--tokens", tokens]);

    let url = bridge.url("/ws/cluster");
    let anonymous = Handshake {
        without_origin: true,
        ..Handshake::default()
    };
    let error = anonymous.connect(&url).await.expect_err("no token");
    assert_eq!(refused_status(error), 401);
    let mut feed = connect_with_token(&url, "t0ken").await;
    let shards = next_topology(&mut feed).await;
    let key = "app:k";
    let slot = i64::from(crc16_slot(key));
    let (_, nodes) = shards
        .iter()
        .find(|(slots, _)| {
            slots
                .chunks(2)
                .any(|pair| (pair[0]..=pair[1]).contains(&slot))
        })
        .expect("a shard serves the key");
    let master = &nodes[0].0;
    let node_url = bridge.url(&format!("/ws/node/{master}"));
    let error = anonymous.connect(&node_url).await.expect_err("no token");
    assert_eq!(refused_status(error), 401);
    let mut ws = connect_with_token(&node_url, "t0ken").await;
    let replies = replies_to(
        &mut ws,
        &[&["SET", key, "v"], &["GET", key], &["GET", "other:k"]],
    )
    .await;
    assert_eq!(replies[..2], [simple("OK"), bulk("v")]);
    assert!(error_text(&replies[2]).contains("outside this token's prefix"));
}

/// Redis Cluster's hash slot of a key without a hash tag (CRC16/XMODEM).
fn crc16_slot(key: &str) -> u16 {
    let mut crc: u16 = 0;
    for &byte in key.as_bytes() {
        crc ^= u16::from(byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc % 16384
}
