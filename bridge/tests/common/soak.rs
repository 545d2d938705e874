//! The soak: clients pipeline numbered commands through the bridge while
//! faults are injected, and every reply is checked against the command it
//! must belong to.
//!
//! The bridge runs in this process ([`redis_ws_bridge::serve`], as the
//! binary runs it) in front of a real `redis-server` whose default user is
//! off, with a token mapped to an ACL user. Faults rotate through: `redis-server` killed with SIGKILL
//! and restarted on the same port, `CLIENT KILL TYPE normal` from a side
//! connection, and a bridge restart on the same port.
//!
//! Each client sends batches of groups `SET k:<client>:<n> v<n>`,
//! `GET k:<client>:<n>`, `INCR counter:<client>`, and now and then a denied
//! `FLUSHALL`, all in one message, and checks each reply: `+OK`, `v<n>`, a
//! counter exactly one above the previous one on the same connection, the
//! bridge's denial. Counted:
//!
//! * lost by disconnect (expected): replies still due when the socket
//!   closed, which a fault explains;
//! * lost: replies that never came on a socket that stayed open;
//! * misattributed: a reply that does not match its command.

use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use redis_ws_bridge::access::Access;
use redis_ws_bridge::limits::Limits;
use redis_ws_bridge::metrics::Metrics;
use redis_ws_bridge::policy::{Flags, Gate, Rules};
use redis_ws_bridge::redis::Target;
use redis_ws_bridge::tokens::Tokens;
use redis_ws_bridge::Config;
use resp::Frame;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use super::support::{token_entry, token_protocols, RedisServer, TIMEOUT};

const TOKEN: &str = "soak-token-0123456789abcdef";
const USER: &str = "soak";
const PASSWORD: &str = "soak-password";

/// Command groups per message.
const GROUPS: u64 = 16;

/// How long a reply may take on a socket that stays open.
const REPLY_TIMEOUT: Duration = Duration::from_secs(5);

/// How a soak runs.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub faults: usize,
    pub clients: usize,
    /// Pause before each fault.
    pub interval: Duration,
}

/// What a soak saw.
#[derive(Debug, Default)]
pub struct Report {
    /// Faults injected: Redis SIGKILL + restart, CLIENT KILL, bridge restart.
    pub faults: [usize; 3],
    pub connections: u64,
    pub replies_ok: u64,
    pub lost_by_disconnect: u64,
    pub lost: u64,
    pub misattributed: u64,
    /// The first few misattributed replies.
    pub examples: Vec<String>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [redis, client_kill, bridge] = self.faults;
        writeln!(
            f,
            "faults = {} (redis SIGKILL + restart {redis}, CLIENT KILL {client_kill}, bridge restart {bridge})",
            redis + client_kill + bridge
        )?;
        writeln!(
            f,
            "connections = {}, replies checked = {}, in-flight lost by disconnect (expected) = {}",
            self.connections, self.replies_ok, self.lost_by_disconnect
        )?;
        write!(
            f,
            "replies lost = {}, misattributed = {}",
            self.lost, self.misattributed
        )?;
        for example in &self.examples {
            write!(f, "\n  misattributed: {example}")?;
        }
        Ok(())
    }
}

/// Counters shared by the clients.
#[derive(Default)]
struct Tally {
    connections: AtomicU64,
    replies_ok: AtomicU64,
    lost_by_disconnect: AtomicU64,
    lost: AtomicU64,
    misattributed: AtomicU64,
    examples: Mutex<Vec<String>>,
}

impl Tally {
    fn wrong(&self, what: String) {
        self.misattributed.fetch_add(1, Ordering::Relaxed);
        let mut examples = self.examples.lock().expect("examples");
        if examples.len() < 5 {
            examples.push(what);
        }
    }
}

/// Runs a soak; `tokens_dir` holds the token file while it runs.
pub async fn run(options: Options, tokens_dir: &std::path::Path) -> Report {
    let user = format!(">{PASSWORD}");
    let mut redis =
        RedisServer::start_protected(&["--user", USER, "on", &user, "~*", "&*", "+@all"]);
    let tokens_file = tokens_dir.join("soak-tokens.toml");
    std::fs::write(&tokens_file, token_entry(TOKEN, USER, PASSWORD)).expect("write tokens");
    let tokens = Arc::new(Tokens::load(&tokens_file).expect("load tokens"));

    let mut bridge = InProcessBridge::start(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        redis.addr,
        Arc::clone(&tokens),
    )
    .await;
    let url = format!("ws://{}/", bridge.addr);

    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Tally::default());
    let clients: Vec<_> = (0..options.clients)
        .map(|id| {
            tokio::spawn(client(
                id,
                url.clone(),
                Arc::clone(&stop),
                Arc::clone(&tally),
            ))
        })
        .collect();

    let mut report = Report::default();
    for fault in 0..options.faults {
        tokio::time::sleep(options.interval).await;
        match fault % 3 {
            0 => tokio::task::block_in_place(|| redis.restart()),
            1 => {
                let mut side = redis.connect().await;
                side.call(&["CLIENT", "KILL", "TYPE", "normal"]).await;
            }
            _ => {
                let addr = bridge.addr;
                bridge.stop().await;
                bridge = InProcessBridge::start(addr, redis.addr, Arc::clone(&tokens)).await;
            }
        }
        report.faults[fault % 3] += 1;
    }
    // Some calm at the end, so that the last connections prove themselves.
    tokio::time::sleep(options.interval * 2).await;
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.await.expect("a client panicked");
    }
    bridge.stop().await;

    report.connections = tally.connections.load(Ordering::Relaxed);
    report.replies_ok = tally.replies_ok.load(Ordering::Relaxed);
    report.lost_by_disconnect = tally.lost_by_disconnect.load(Ordering::Relaxed);
    report.lost = tally.lost.load(Ordering::Relaxed);
    report.misattributed = tally.misattributed.load(Ordering::Relaxed);
    report.examples = std::mem::take(&mut tally.examples.lock().expect("examples"));
    report
}

/// The bridge, served in this process.
struct InProcessBridge {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl InProcessBridge {
    /// Starts on `addr` (port 0 picks one), retrying while the port is still
    /// held by the previous instance.
    async fn start(addr: SocketAddr, redis: SocketAddr, tokens: Arc<Tokens>) -> Self {
        let deadline = Instant::now() + TIMEOUT;
        let listener = loop {
            match TcpListener::bind(addr).await {
                Ok(listener) => break listener,
                Err(error) if Instant::now() > deadline => panic!("bind {addr}: {error}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        };
        let addr = listener.local_addr().expect("local address");
        let redis = Target::new(redis.to_string().parse().expect("host:port"));
        let rules = Rules::new(&Flags::default(), true).expect("the web profile");
        let limits = Limits::default();
        let policy = Gate::start(
            redis.clone(),
            rules,
            limits.max_bulk_len,
            Some(Arc::clone(&tokens)),
        )
        .await
        .expect("the command table");
        let config = Config {
            redis,
            cluster: None,
            access: Access::new(&[], Vec::new(), addr.port(), false, Some(tokens)),
            policy,
            limits,
            static_dir: None,
            tls: None,
        };
        let (stop, stopped) = oneshot::channel();
        let shutdown = async {
            let _ = stopped.await;
        };
        let metrics = Arc::new(Metrics::default());
        let task = tokio::spawn(redis_ws_bridge::serve(listener, config, metrics, shutdown));
        InProcessBridge { addr, stop, task }
    }

    /// Shuts down as on SIGTERM (WebSockets close with 1001).
    async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.expect("the bridge task panicked");
    }
}

/// What a reply must be.
enum Expect {
    Ok,
    Value(u64),
    Counter,
    Denied,
}

type Ws = WebSocketStream<TcpStream>;

async fn connect(url: &str) -> Option<Ws> {
    let mut request = url.into_client_request().expect("a URL");
    let protocols = HeaderValue::from_str(&token_protocols(TOKEN)).expect("a header value");
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", protocols);
    let addr = url
        .trim_start_matches("ws://")
        .trim_end_matches('/')
        .parse::<SocketAddr>()
        .expect("ws://ip:port/");
    let stream = TcpStream::connect(addr).await.ok()?;
    let handshake = tokio_tungstenite::client_async(request, stream);
    match tokio::time::timeout(REPLY_TIMEOUT, handshake).await {
        Ok(Ok((ws, _))) => Some(ws),
        _ => None,
    }
}

/// One client: connects (again and again), pipelines, checks.
async fn client(id: usize, url: String, stop: Arc<AtomicBool>, tally: Arc<Tally>) {
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let Some(mut ws) = connect(&url).await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        tally.connections.fetch_add(1, Ordering::Relaxed);
        let mut counter: Option<i64> = None;
        let mut decoder = resp::Decoder::new();
        while !stop.load(Ordering::Relaxed) {
            let mut message = Vec::new();
            let mut expected = Vec::new();
            for _ in 0..GROUPS {
                n += 1;
                let key = format!("k:{id}:{n}");
                resp::encode_command(&mut message, ["SET", &key, &format!("v{n}")]);
                resp::encode_command(&mut message, ["GET", &key]);
                resp::encode_command(&mut message, ["INCR", &format!("counter:{id}")]);
                expected.extend([Expect::Ok, Expect::Value(n), Expect::Counter]);
                if n.is_multiple_of(7) {
                    resp::encode_command(&mut message, ["FLUSHALL"]);
                    expected.push(Expect::Denied);
                }
            }
            if ws.send(Message::binary(message)).await.is_err() {
                tally
                    .lost_by_disconnect
                    .fetch_add(expected.len() as u64, Ordering::Relaxed);
                break;
            }
            if !check_replies(&mut ws, &mut decoder, &expected, &mut counter, &tally).await {
                break;
            }
        }
    }
}

/// Reads and checks one reply per `expected`; returns whether the
/// connection is still usable.
async fn check_replies(
    ws: &mut Ws,
    decoder: &mut resp::Decoder,
    expected: &[Expect],
    counter: &mut Option<i64>,
    tally: &Tally,
) -> bool {
    for (done, expect) in expected.iter().enumerate() {
        let remaining = (expected.len() - done) as u64;
        let frame = loop {
            match decoder.decode() {
                Ok(Some(frame)) => break frame,
                Ok(None) => {}
                Err(error) => {
                    tally.wrong(format!("undecodable reply stream: {error}"));
                    return false;
                }
            }
            match tokio::time::timeout(REPLY_TIMEOUT, ws.next()).await {
                Ok(Some(Ok(Message::Binary(data)))) => decoder.feed(&data),
                Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => {}
                Ok(_) => {
                    // Closed (1011 after a Redis fault, 1001 on a bridge
                    // restart) or broken: what was in flight is gone.
                    tally
                        .lost_by_disconnect
                        .fetch_add(remaining, Ordering::Relaxed);
                    return false;
                }
                Err(_) => {
                    tally.lost.fetch_add(remaining, Ordering::Relaxed);
                    return false;
                }
            }
        };
        if let Err(wrong) = judge(expect, &frame, counter) {
            tally.wrong(wrong);
            return false;
        }
        tally.replies_ok.fetch_add(1, Ordering::Relaxed);
    }
    true
}

fn judge(expect: &Expect, frame: &Frame, counter: &mut Option<i64>) -> Result<(), String> {
    let what = match expect {
        Expect::Ok => "+OK".to_owned(),
        Expect::Value(n) => format!("v{n}"),
        Expect::Counter => format!("the counter after {counter:?}"),
        Expect::Denied => "the FLUSHALL denial".to_owned(),
    };
    let ok = match (expect, frame) {
        (Expect::Ok, Frame::Simple(text)) => text[..] == *b"OK",
        (Expect::Value(n), Frame::Bulk(value)) => value[..] == *format!("v{n}").as_bytes(),
        (Expect::Counter, Frame::Integer(value)) => {
            let next = counter.map_or(*value >= 1, |previous| *value == previous + 1);
            *counter = Some(*value);
            next
        }
        (Expect::Denied, Frame::Error(text)) => {
            text.starts_with(b"ERR unknown command 'FLUSHALL: denied by redis-ws-bridge'")
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("expected {what}, got {frame:?}"))
    }
}
