//! Test harness: a real `redis-server` and the real bridge binary, both
//! killed on drop, plus small clients (WebSocket, HTTP, Redis) with every
//! await bounded by [`TIMEOUT`].
//!
//! `redis-server` is looked up on PATH. Set `BRIDGE_TEST_LOG=1` to see the
//! bridge's debug logs on stderr.

use std::future::Future;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader as AsyncBufReader};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Upper bound for any single wait in these tests.
pub const TIMEOUT: Duration = Duration::from_secs(10);

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Awaits `future`, failing the test if it takes longer than [`TIMEOUT`].
pub async fn within<F: Future>(what: &str, future: F) -> F::Output {
    tokio::time::timeout(TIMEOUT, future)
        .await
        .unwrap_or_else(|_| panic!("timed out: {what}"))
}

/// A port that was free a moment ago (the OS picks it, then we release it).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("bind an ephemeral port")
        .port()
}

/// Kills and reaps `child` if it still runs.
fn stop(child: &mut Option<Child>) {
    if let Some(mut child) = child.take() {
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// A throwaway `redis-server` on a free loopback port, without persistence.
pub struct RedisServer {
    child: Option<Child>,
    pub addr: SocketAddr,
}

impl RedisServer {
    pub fn start() -> RedisServer {
        let port = free_port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn redis-server (is it installed and on PATH?)");
        let redis = RedisServer {
            child: Some(child),
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        };
        let deadline = Instant::now() + TIMEOUT;
        while std::net::TcpStream::connect(redis.addr).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            thread::sleep(Duration::from_millis(20));
        }
        redis
    }

    /// Kills the server now (the bridge sees its connections drop).
    pub fn kill(&mut self) {
        stop(&mut self.child);
    }

    /// Number of clients connected to Redis, counting the one asking.
    pub async fn client_count(&self) -> usize {
        let query = async {
            let stream = TcpStream::connect(self.addr)
                .await
                .expect("connect to redis");
            let mut stream = AsyncBufReader::new(stream);
            stream
                .write_all(b"*2\r\n$6\r\nCLIENT\r\n$4\r\nLIST\r\n")
                .await
                .expect("send CLIENT LIST");
            let mut header = String::new();
            stream
                .read_line(&mut header)
                .await
                .expect("read reply header");
            let len: usize = header
                .strip_prefix('$')
                .and_then(|rest| rest.trim_end().parse().ok())
                .unwrap_or_else(|| panic!("unexpected CLIENT LIST reply {header:?}"));
            let mut body = vec![0; len + 2];
            stream.read_exact(&mut body).await.expect("read reply body");
            String::from_utf8_lossy(&body)
                .lines()
                .filter(|line| !line.is_empty())
                .count()
        };
        within("CLIENT LIST", query).await
    }

    /// Waits until Redis has exactly `expected` clients (the asker included).
    pub async fn wait_for_clients(&self, expected: usize) {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let count = self.client_count().await;
            if count == expected {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "redis has {count} clients, expected {expected}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The bridge binary on a free port, killed on drop.
pub struct Bridge {
    child: Option<Child>,
    pub addr: SocketAddr,
}

impl Bridge {
    /// Starts the bridge with `--listen 127.0.0.1:0` plus `args`, and reads
    /// the port from its `listening on <addr>` line.
    pub fn start(args: &[&str]) -> Bridge {
        let log = std::env::var_os("BRIDGE_TEST_LOG").is_some();
        let mut command = Command::new(env!("CARGO_BIN_EXE_redis-ws-bridge"));
        command
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .env("RUST_LOG", "debug")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(if log { Stdio::inherit() } else { Stdio::null() });
        for var in [
            "LISTEN",
            "REDIS",
            "ALLOW_ORIGIN",
            "STATIC",
            "MAX_MESSAGE_SIZE",
        ] {
            command.env_remove(format!("REDIS_WS_BRIDGE_{var}"));
        }
        let mut child = command.spawn().expect("spawn the bridge");

        // Read stdout on a thread so a silent bridge cannot hang the test;
        // the thread keeps draining stdout until the bridge exits.
        let stdout = child.stdout.take().expect("piped stdout");
        let (lines_tx, lines_rx) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if lines_tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut bridge = Bridge {
            child: Some(child),
            addr: SocketAddr::from(([0, 0, 0, 0], 0)),
        };
        let line = lines_rx
            .recv_timeout(TIMEOUT)
            .expect("the bridge prints `listening on <addr>`");
        bridge.addr = line
            .strip_prefix("listening on ")
            .and_then(|addr| addr.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first stdout line {line:?}"));
        bridge
    }

    /// Starts the bridge in front of `redis`, plus `args`.
    pub fn with_redis(redis: &RedisServer, args: &[&str]) -> Bridge {
        let redis_addr = redis.addr.to_string();
        let mut all = vec!["--redis", &redis_addr];
        all.extend_from_slice(args);
        Bridge::start(&all)
    }

    pub fn url(&self, path: &str) -> String {
        format!("ws://{}{path}", self.addr)
    }

    /// Sends SIGTERM and waits for the bridge to exit.
    pub async fn terminate(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("bridge running");
        let sent = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -TERM failed");
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = child.try_wait().expect("wait for the bridge") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the bridge did not exit after SIGTERM");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

/// Runs the bridge with `args` alone, for runs that end by themselves
/// (`--help`, bad flags); returns its exit status and stdout.
pub fn run_to_exit(args: &[&str]) -> (ExitStatus, String) {
    let mut child = Some(
        Command::new(env!("CARGO_BIN_EXE_redis-ws-bridge"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn the bridge"),
    );
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let running = child.as_mut().expect("child");
        if running.try_wait().expect("wait for the bridge").is_some() {
            break;
        }
        if Instant::now() > deadline {
            stop(&mut child);
            panic!("the bridge did not exit with {args:?}");
        }
        thread::sleep(Duration::from_millis(20));
    }
    let output = child
        .take()
        .expect("child")
        .wait_with_output()
        .expect("collect output");
    (
        output.status,
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

/// A temporary directory of static files, removed on drop.
pub struct StaticDir {
    pub path: PathBuf,
}

impl StaticDir {
    pub fn new(files: &[(&str, &str)]) -> StaticDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "redis-ws-bridge-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let path = std::env::temp_dir().join(name);
        std::fs::create_dir_all(&path).expect("create static dir");
        for (name, contents) in files {
            std::fs::write(path.join(name), contents).expect("write static file");
        }
        StaticDir { path }
    }
}

impl Drop for StaticDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Opens a WebSocket, with an `Origin` header when given.
pub async fn try_connect(url: &str, origin: Option<&str>) -> Result<Ws, tungstenite::Error> {
    let mut request = url.into_client_request()?;
    if let Some(origin) = origin {
        let value = HeaderValue::from_str(origin).expect("origin is a header value");
        request.headers_mut().insert("Origin", value);
    }
    let (ws, _response) = within(
        "websocket handshake",
        tokio_tungstenite::connect_async(request),
    )
    .await?;
    Ok(ws)
}

/// Opens a WebSocket without an `Origin` header, as a non-browser client.
pub async fn connect(url: &str) -> Ws {
    try_connect(url, None).await.expect("websocket connects")
}

/// The HTTP status a refused handshake got.
pub fn refused_status(error: tungstenite::Error) -> StatusCode {
    match error {
        tungstenite::Error::Http(response) => response.status(),
        other => panic!("expected an HTTP refusal, got {other}"),
    }
}

/// Sends `bytes` as one binary message.
pub async fn send(ws: &mut Ws, bytes: &[u8]) {
    within("send", ws.send(Message::binary(bytes.to_vec())))
        .await
        .expect("send a binary message");
}

/// Reads binary messages until exactly `len` bytes arrived; returns them
/// and how many messages carried them.
pub async fn receive(ws: &mut Ws, len: usize) -> (Vec<u8>, usize) {
    let mut bytes = Vec::with_capacity(len);
    let mut messages = 0;
    while bytes.len() < len {
        match within("receive", ws.next()).await {
            Some(Ok(Message::Binary(data))) => {
                bytes.extend_from_slice(&data);
                messages += 1;
            }
            other => panic!("expected binary data, got {other:?}"),
        }
    }
    assert_eq!(bytes.len(), len, "more bytes than expected");
    (bytes, messages)
}

/// Sends `request` and checks that exactly `reply` comes back.
pub async fn round_trip(ws: &mut Ws, request: &[u8], reply: &[u8]) {
    send(ws, request).await;
    let (got, _) = receive(ws, reply.len()).await;
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(reply)
    );
}

/// Waits for the server's close frame, then for the end of the stream (our
/// reply goes out meanwhile); returns the frame's code and reason.
pub async fn closed_with(ws: &mut Ws) -> (u16, String) {
    let frame = loop {
        match within("close frame", ws.next()).await {
            Some(Ok(Message::Close(Some(frame)))) => break frame,
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    while let Some(Ok(_)) = within("end of stream", ws.next()).await {}
    (frame.code.into(), frame.reason.to_string())
}

/// Encodes a command as a RESP array of bulk strings.
pub fn resp(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n{arg}\r\n", arg.len()).as_bytes());
    }
    out
}

/// `GET path` over a fresh connection; returns the status and body.
pub async fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await.expect("connect over HTTP");
        let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        stream
            .write_all(request.as_bytes())
            .await
            .expect("send request");
        let mut response = Vec::new();
        stream
            .read_to_end(&mut response)
            .await
            .expect("read response");
        response
    };
    let response = String::from_utf8(within("HTTP GET", exchange).await).expect("UTF-8 response");
    let (head, body) = response.split_once("\r\n\r\n").expect("HTTP head and body");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("bad status line in {head:?}"));
    (status, body.to_owned())
}
