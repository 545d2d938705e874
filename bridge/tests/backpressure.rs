//! Back-pressure that protects Redis: a browser that pipelines and never
//! reads must make the bridge stop reading it, so that Redis does not
//! buffer replies for it without end; one that reads slowly must not make
//! Redis buffer more either; and reading again loses nothing.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use futures_util::stream::SplitStream;
use futures_util::{SinkExt, StreamExt};
use redis_ws_bridge::backpressure::OWED_BUDGET;
use redis_ws_bridge::replies::FIRST_ESTIMATE;
use tokio_tungstenite::tungstenite::Message;

/// Size of each value the reader asks for.
const VALUE: usize = 1 << 20;

/// Length of each key name: fat GETs, so that the socket buffers between
/// the client and the bridge hold few of them (each is answered with a
/// MiB once the client reads again).
const KEY: usize = 256 << 10;

/// Distinct keys, so that replies out of order would show.
const KEYS: usize = 4;

/// GET commands per WebSocket message.
const GETS_PER_MESSAGE: usize = 4;

/// The most GET command bytes the client sends if the bridge never stops
/// reading it (the failure this test is about), and the longest it tries.
const MAX_SENT: usize = 1 << 30;
const MAX_SENDING: Duration = Duration::from_secs(20);

/// A write that does not complete in this long means the bridge stopped reading.
const STALLED: Duration = Duration::from_millis(500);

/// Messages the client sends after the stall while it reads slowly.
const MORE_MESSAGES: usize = 8;

/// How much the client reads slowly, and how slowly.
const SLOW_READ: usize = 16 << 20;
const SLOW_PAUSE: Duration = Duration::from_millis(2);

/// The documented bound on what Redis holds for one client that reads
/// slowly or not at all (see `backpressure.rs`): the budget of replies owed,
/// plus one message's commands, plus those let through at the start, before
/// the first reply showed how big replies are.
const OMEM_BOUND: u64 =
    OWED_BUDGET + ((GETS_PER_MESSAGE as u64 + OWED_BUDGET / FIRST_ESTIMATE) * VALUE as u64);

fn key(i: usize) -> String {
    format!("{i}:{}", "k".repeat(KEY))
}

fn value(i: usize) -> String {
    char::from(b'a' + i as u8).to_string().repeat(VALUE)
}

/// The `n`th message: GETs of keys `n * GETS_PER_MESSAGE ..` (mod `KEYS`).
fn message(n: usize) -> Message {
    let gets: Vec<u8> = (0..GETS_PER_MESSAGE)
        .flat_map(|i| command(&["GET", &key((n * GETS_PER_MESSAGE + i) % KEYS)]))
        .collect();
    Message::binary(gets)
}

/// Reads and checks the replies to GETs `*checked..until`; `pause` after
/// each message received while fewer than `slowly` bytes were read.
/// Returns the most Redis held meanwhile, sampled every few messages.
async fn read_replies(
    from_bridge: &mut SplitStream<Ws>,
    pending: &mut Vec<u8>,
    checked: &mut usize,
    until: usize,
    (slowly, pause): (usize, Duration),
    redis: &RedisServer,
) -> u64 {
    let header = format!("${VALUE}\r\n");
    let reply_len = header.len() + VALUE + 2;
    let (mut read, mut messages, mut omem) = (0, 0, 0);
    while *checked < until {
        match within("replies", from_bridge.next()).await {
            Some(Ok(Message::Binary(data))) => {
                read += data.len();
                pending.extend_from_slice(&data);
            }
            Some(Ok(Message::Ping(_))) => continue,
            other => panic!("expected binary data, got {other:?}"),
        }
        while pending.len() >= reply_len && *checked < until {
            assert!(pending.starts_with(header.as_bytes()), "reply {checked}");
            let want = b'a' + (*checked % KEYS) as u8;
            let body = &pending[header.len()..header.len() + VALUE];
            assert!(body.iter().all(|&b| b == want), "reply {checked} misplaced");
            pending.drain(..reply_len);
            *checked += 1;
        }
        messages += 1;
        if read < slowly {
            if messages % 16 == 0 {
                omem = omem.max(redis.omem("normal").await);
            }
            tokio::time::sleep(pause).await;
        }
    }
    omem
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_stalled_readers_cannot_make_redis_buffer_their_replies() {
    let redis = RedisServer::start();
    for i in 0..KEYS {
        assert_eq!(redis.call(&["SET", &key(i), &value(i)]).await, simple("OK"));
    }
    let bridge = Bridge::with_redis(&redis, &[]);
    let (mut to_bridge, mut from_bridge) = connect(&bridge.url("/")).await.split();

    // Pipeline without reading until the client's writes block.
    let started = Instant::now();
    let mut accepted = 0;
    loop {
        // Checked now and then, so that a failing bridge fails fast rather
        // than filling this machine's memory through Redis.
        let omem = if accepted % 16 == 0 {
            redis.omem("normal").await
        } else {
            0
        };
        let sent = accepted * GETS_PER_MESSAGE * (KEY + 32);
        assert!(
            sent < MAX_SENT && started.elapsed() < MAX_SENDING && omem < 4 * OMEM_BOUND,
            "the bridge kept reading: {accepted} messages sent, Redis holds {omem} bytes",
        );
        // `feed` returns once the message is in the client's buffer: it
        // goes out sooner or later, and must be answered.
        let feed = to_bridge.feed(message(accepted));
        if tokio::time::timeout(STALLED, feed).await.is_err() {
            break;
        }
        accepted += 1;
        if tokio::time::timeout(STALLED, to_bridge.flush())
            .await
            .is_err()
        {
            break;
        }
    }

    let mut stalled_omem = 0;
    for _ in 0..10 {
        stalled_omem = stalled_omem.max(redis.omem("normal").await);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Then the client pipelines more while it reads slowly, then quickly:
    // every GET is answered, in order, and nothing else comes.
    let total = accepted + MORE_MESSAGES;
    let sent = Arc::new(AtomicUsize::new(accepted));
    let sender = tokio::spawn({
        let sent = Arc::clone(&sent);
        async move {
            for n in accepted..total {
                to_bridge.send(message(n)).await.expect("send");
                sent.fetch_add(1, Ordering::Relaxed);
            }
            to_bridge
        }
    });
    let (mut pending, mut checked) = (Vec::new(), 0);
    let slow_omem = read_replies(
        &mut from_bridge,
        &mut pending,
        &mut checked,
        total * GETS_PER_MESSAGE,
        (SLOW_READ, SLOW_PAUSE),
        &redis,
    )
    .await;
    assert!(pending.is_empty(), "bytes beyond the replies");
    let to_bridge = within("the sender", sender).await.expect("sender");
    assert_eq!(sent.load(Ordering::Relaxed), total);

    eprintln!(
        "{accepted} messages of {GETS_PER_MESSAGE} GET(s) of {} KiB values sent before the \
         client's writes blocked; Redis held at most {} KiB for it while it read nothing, \
         {} KiB while it read slowly; all {} replies arrived in order",
        VALUE >> 10,
        stalled_omem >> 10,
        slow_omem >> 10,
        total * GETS_PER_MESSAGE,
    );
    assert!(
        stalled_omem < OMEM_BOUND,
        "stalled: Redis held {stalled_omem} bytes"
    );
    assert!(slow_omem < OMEM_BOUND, "slow: Redis held {slow_omem} bytes");

    let mut ws = to_bridge.reunite(from_bridge).expect("one socket");
    round_trip(&mut ws, &command(&["PING"]), b"+PONG\r\n").await;
}

#[tokio::test]
async fn start_up_warns_when_redis_does_not_bound_normal_clients() {
    const UNBOUNDED: &str = "redis buffers replies for normal clients without bound";

    let redis = RedisServer::start();
    let bridge = Bridge::with_redis(&redis, &[]);
    bridge.wait_for_log(UNBOUNDED).await;

    let redis = RedisServer::start_with(&["--client-output-buffer-limit", "normal 64mb 16mb 60"]);
    let bridge = Bridge::with_redis(&redis, &[]);
    let line = bridge.wait_for_log("redis bounds its normal clients").await;
    assert!(line.contains("normal 67108864 16777216 60"), "{line}");
    assert!(bridge.log_line(UNBOUNDED).is_none());

    let redis = RedisServer::start_with(&["--maxmemory-clients", "5%"]);
    let bridge = Bridge::with_redis(&redis, &[]);
    let line = bridge.wait_for_log("redis bounds its normal clients").await;
    assert!(line.contains("maxmemory-clients 5%"), "{line}");

    // A token's user that may not run CONFIG: the bridge says it cannot tell.
    let redis =
        RedisServer::start_protected(&["--user", "web", "on", ">web-pw", "~*", "+@all", "-config"]);
    let dir = TempDir::new(&[]);
    let tokens = dir.write(
        "tokens.toml",
        &token_entry("web-token-0123456789", "web", "web-pw"),
    );
    let bridge = Bridge::with_redis(&redis, &["--tokens", &tokens]);
    let line = bridge
        .wait_for_log("cannot read redis's client limits")
        .await;
    assert!(line.contains("NOPERM"), "{line}");
}

#[tokio::test]
async fn a_client_that_never_reads_is_closed_after_the_idle_timeout() {
    let redis = RedisServer::start();
    assert_eq!(redis.call(&["SET", "big", &value(0)]).await, simple("OK"));
    let bridge = Bridge::with_redis(&redis, &["--idle-timeout", "1s"]);
    let mut ws = connect(&bridge.url("/")).await;
    send(&mut ws, &command(&["GET", "big"])).await;
    send(&mut ws, &command(&["GET", "big"]).repeat(16)).await;
    redis.wait_for_clients(2 + BRIDGE_OWN).await;

    // The replies fill the socket buffers, and the bridge stops reading the
    // client while Redis owes it so much; the send that does not fit is
    // stuck until the idle timeout ends the relay.
    let started = Instant::now();
    bridge.wait_for_log("NotReading").await;
    assert!(started.elapsed() >= Duration::from_millis(900));
    redis.wait_for_clients(1 + BRIDGE_OWN).await;
    drop(ws);
}
