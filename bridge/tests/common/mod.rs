//! Test harness: the real bridge binary, killed on drop, a real
//! `redis-server` (see `support`), and small WebSocket and HTTP clients
//! with every await bounded by [`TIMEOUT`].
//!
//! `redis-server` is looked up on PATH. Set `BRIDGE_TEST_LOG=1` to see the
//! bridge's debug logs on stderr.

// Each test binary uses its own part of the harness.
#![allow(dead_code)]

mod cluster;
mod support;
mod tls;

use std::io::{BufRead, BufReader};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use resp::Frame;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::client::Response;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

// Only the cluster tests use these.
#[allow(unused_imports)]
pub use cluster::*;
pub use support::*;
// Only the TLS tests use these.
#[allow(unused_imports)]
pub use tls::*;

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Connections a running bridge keeps to Redis of its own: the one that
/// tells it Redis restarted, so that it reads the command table again.
pub const BRIDGE_OWN: usize = 1;

/// The bridge binary with every `REDIS_WS_BRIDGE_*` variable of the test's
/// environment removed, so that only the given flags count.
fn bridge_command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_redis-ws-bridge"));
    for (var, _) in std::env::vars_os() {
        if var.to_string_lossy().starts_with("REDIS_WS_BRIDGE_") {
            command.env_remove(var);
        }
    }
    command
}

/// The bridge binary on a free port, killed on drop.
pub struct Bridge {
    child: Option<Child>,
    pub addr: SocketAddr,
    /// Its log lines (stderr) so far.
    log: Arc<Mutex<Vec<String>>>,
}

impl Bridge {
    /// Starts the bridge with `args`, plus `--listen 127.0.0.1:0` unless
    /// they (or a config file) name the address, and reads the address from its `listening on
    /// <addr>` line.
    pub fn start(args: &[&str]) -> Bridge {
        Bridge::start_with_env(args, &[])
    }

    /// The same with `REDIS_WS_BRIDGE_*` variables `env` set.
    pub fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> Bridge {
        let log = std::env::var_os("BRIDGE_TEST_LOG").is_some();
        // A config file or the environment may name the address instead.
        let named = args
            .iter()
            .any(|arg| ["--listen", "--config"].contains(arg))
            || env
                .iter()
                .any(|(var, _)| ["REDIS_WS_BRIDGE_LISTEN", "REDIS_WS_BRIDGE_CONFIG"].contains(var));
        let listen: &[&str] = if named {
            &[]
        } else {
            &["--listen", "127.0.0.1:0"]
        };
        let mut child = bridge_command()
            .args(listen)
            .args(args)
            .envs(env.iter().copied())
            .env("RUST_LOG", "debug")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn the bridge");

        // Kept for `wait_for_log`, and shown with BRIDGE_TEST_LOG.
        let stderr = child.stderr.take().expect("piped stderr");
        let lines = Arc::new(Mutex::new(Vec::new()));
        thread::spawn({
            let lines = Arc::clone(&lines);
            move || {
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    if log {
                        eprintln!("{line}");
                    }
                    lines.lock().expect("log lines").push(line);
                }
            }
        });

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
            log: lines,
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

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("bridge running").id()
    }

    /// Sends `signal` (`HUP`, `TERM`...) to the bridge.
    pub fn signal(&self, signal: &str) {
        let sent = Command::new("kill")
            .args([&format!("-{signal}"), &self.pid().to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -{signal} failed");
    }

    /// Waits until a log line contains `text`, and returns it.
    pub async fn wait_for_log(&self, text: &str) -> String {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(line) = self.log_line(text) {
                return line;
            }
            assert!(Instant::now() < deadline, "no log line with {text:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until `count` log lines contain `text`.
    pub async fn wait_for_logs(&self, text: &str, count: usize) {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if self.log_count(text) >= count {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "fewer than {count} log lines with {text:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// How many log lines so far contain `text`.
    pub fn log_count(&self, text: &str) -> usize {
        let lines = self.log.lock().expect("log lines");
        lines.iter().filter(|line| line.contains(text)).count()
    }

    /// The first log line so far that contains `text`.
    pub fn log_line(&self, text: &str) -> Option<String> {
        let lines = self.log.lock().expect("log lines");
        lines.iter().find(|line| line.contains(text)).cloned()
    }

    /// The bridge's resident memory (VmRSS), in bytes.
    pub fn rss(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("read /proc/<pid>/status");
        let kib: u64 = status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("a VmRSS line");
        kib * 1024
    }

    /// Sends SIGTERM and waits for the bridge to exit.
    pub async fn terminate(&mut self) -> ExitStatus {
        self.signal("TERM");
        let mut child = self.child.take().expect("bridge running");
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

/// Runs the bridge with `args`, which must make it refuse to start before
/// it listens; returns its stderr, which says why.
pub fn refused_at_start(args: &[&str]) -> String {
    let (status, stdout, stderr) = run_to_exit(args);
    assert!(!status.success(), "{args:?}: the bridge started");
    assert!(stdout.is_empty(), "{args:?}: nothing is listening");
    stderr
}

/// Runs the bridge with `args` alone, for runs that end by themselves
/// (`--help`, bad flags); returns its exit status, stdout and stderr.
pub fn run_to_exit(args: &[&str]) -> (ExitStatus, String, String) {
    let mut child = Some(
        bridge_command()
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
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
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A temporary directory of files, removed on drop.
pub struct TempDir {
    pub path: PathBuf,
}

impl TempDir {
    pub fn new(files: &[(&str, &str)]) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "redis-ws-bridge-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let dir = TempDir {
            path: std::env::temp_dir().join(name),
        };
        std::fs::create_dir_all(&dir.path).expect("create temp dir");
        for (name, contents) in files {
            dir.write(name, contents);
        }
        dir
    }

    /// (Re)writes `name` and returns its path.
    pub fn write(&self, name: &str, contents: &str) -> String {
        let path = self.path.join(name);
        std::fs::write(&path, contents).expect("write temp file");
        path.to_str().expect("UTF-8 temp path").to_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// How a test client opens its WebSocket.
#[derive(Default, Clone, Copy)]
pub struct Handshake<'a> {
    /// `Origin` header; by default the bridge's own, `http://<Host>`, as a
    /// page the bridge served sends it.
    pub origin: Option<&'a str>,
    /// Send no `Origin` at all, as a client that is not a browser.
    pub without_origin: bool,
    /// `Host` header instead of the URL's.
    pub host: Option<&'a str>,
    /// `Sec-WebSocket-Protocol` header, if any.
    pub protocols: Option<&'a str>,
    /// More headers (`Forwarded`, say).
    pub headers: &'a [(&'a str, &'a str)],
    /// Local address to connect from (any 127.0.0.0/8 address works, or ::1).
    pub from: Option<IpAddr>,
}

impl Handshake<'_> {
    /// Opens a WebSocket to `url`; returns it and the handshake response.
    pub async fn connect(self, url: &str) -> Result<(Ws, Response), tungstenite::Error> {
        let mut request = url.into_client_request()?;
        let authority = request
            .uri()
            .authority()
            .expect("URL with host:port")
            .to_string();
        let addr: SocketAddr = authority.parse().expect("an IP:port URL");
        let own_origin = format!("http://{}", self.host.unwrap_or(&authority));
        let origin = match (self.without_origin, self.origin) {
            (true, _) => None,
            (false, origin) => Some(origin.unwrap_or(&own_origin)),
        };
        let headers = request.headers_mut();
        for (name, value) in [
            ("Origin", origin),
            ("Host", self.host),
            ("Sec-WebSocket-Protocol", self.protocols),
        ] {
            if let Some(value) = value {
                let value = HeaderValue::from_str(value).expect("a header value");
                headers.insert(name, value);
            }
        }
        for (name, value) in self.headers {
            let name = HeaderName::from_bytes(name.as_bytes()).expect("a header name");
            let value = HeaderValue::from_str(value).expect("a header value");
            headers.append(name, value);
        }
        let from = self.from.unwrap_or(match addr {
            SocketAddr::V4(_) => IpAddr::from([127, 0, 0, 1]),
            SocketAddr::V6(_) => IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
        });
        let handshake = async {
            let socket = match from {
                IpAddr::V4(_) => TcpSocket::new_v4()?,
                IpAddr::V6(_) => TcpSocket::new_v6()?,
            };
            socket.bind(SocketAddr::new(from, 0))?;
            let stream = socket.connect(addr).await?;
            tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(stream)).await
        };
        within("websocket handshake", handshake).await
    }
}

/// Opens a WebSocket with `origin`, or the bridge's own.
pub async fn try_connect(url: &str, origin: Option<&str>) -> Result<Ws, tungstenite::Error> {
    let handshake = Handshake {
        origin,
        ..Handshake::default()
    };
    Ok(handshake.connect(url).await?.0)
}

/// Opens a WebSocket as a page the bridge served (its own `Origin`).
pub async fn connect(url: &str) -> Ws {
    try_connect(url, None).await.expect("websocket connects")
}

/// Opens a WebSocket presenting `token` as the client does, without an
/// `Origin` (as from Node; a browser sends one).
pub async fn connect_with_token(url: &str, token: &str) -> Ws {
    let protocols = token_protocols(token);
    let handshake = Handshake {
        protocols: Some(&protocols),
        without_origin: true,
        ..Handshake::default()
    };
    handshake.connect(url).await.expect("websocket connects").0
}

/// The HTTP status a refused handshake got.
pub fn refused_status(error: tungstenite::Error) -> StatusCode {
    match error {
        tungstenite::Error::Http(response) => response.status(),
        other => panic!("expected an HTTP refusal, got {other}"),
    }
}

/// Sends `bytes` as one binary message.
pub async fn send<S: AsyncRead + AsyncWrite + Unpin>(ws: &mut WebSocketStream<S>, bytes: &[u8]) {
    within("send", ws.send(Message::binary(bytes.to_vec())))
        .await
        .expect("send a binary message");
}

/// Reads binary messages until exactly `len` bytes arrived; returns them
/// and how many messages carried them.
pub async fn receive<S: AsyncRead + AsyncWrite + Unpin>(
    ws: &mut WebSocketStream<S>,
    len: usize,
) -> (Vec<u8>, usize) {
    let mut bytes = Vec::with_capacity(len);
    let mut messages = 0;
    while bytes.len() < len {
        match within("receive", ws.next()).await {
            Some(Ok(Message::Binary(data))) => {
                bytes.extend_from_slice(&data);
                messages += 1;
            }
            Some(Ok(Message::Ping(_))) => {}
            other => panic!("expected binary data, got {other:?}"),
        }
    }
    assert_eq!(bytes.len(), len, "more bytes than expected");
    (bytes, messages)
}

/// A PING as a client sends it, and Redis's answer.
pub const PING: &[u8] = b"*1\r\n$4\r\nPING\r\n";
pub const PONG: &[u8] = b"+PONG\r\n";

/// Sends `request` and checks that exactly `reply` comes back.
pub async fn round_trip<S: AsyncRead + AsyncWrite + Unpin>(
    ws: &mut WebSocketStream<S>,
    request: &[u8],
    reply: &[u8],
) {
    send(ws, request).await;
    let (got, _) = receive(ws, reply.len()).await;
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(reply)
    );
}

/// Reads the next `count` replies, decoded.
pub async fn replies(ws: &mut Ws, count: usize) -> Vec<Frame> {
    let mut decoder = resp::Decoder::new();
    let mut frames = Vec::with_capacity(count);
    while frames.len() < count {
        if let Some(frame) = decoder.decode().expect("valid RESP from the bridge") {
            frames.push(frame);
            continue;
        }
        match within("replies", ws.next()).await {
            Some(Ok(Message::Binary(data))) => decoder.feed(&data),
            Some(Ok(Message::Ping(_))) => {}
            other => panic!("expected binary data, got {other:?}"),
        }
    }
    assert_eq!(decoder.buffered(), 0, "more bytes than {count} replies");
    frames
}

/// Encodes `commands` back to back, as one pipelined message.
pub fn pipeline<A: AsRef<[u8]>>(commands: &[&[A]]) -> Vec<u8> {
    commands.iter().flat_map(|args| command(args)).collect()
}

/// Sends `commands` in one message and reads one reply for each.
pub async fn replies_to<A: AsRef<[u8]>>(ws: &mut Ws, commands: &[&[A]]) -> Vec<Frame> {
    send(ws, &pipeline(commands)).await;
    replies(ws, commands.len()).await
}

/// Shorthands for expected replies.
pub fn simple(text: &str) -> Frame {
    Frame::Simple(text.as_bytes().to_vec().into())
}

pub fn bulk(text: &str) -> Frame {
    Frame::Bulk(text.as_bytes().to_vec().into())
}

/// The text of an error reply, or a panic.
pub fn error_text(frame: &Frame) -> String {
    match frame {
        Frame::Error(text) => String::from_utf8_lossy(text).into_owned(),
        other => panic!("expected an error reply, got {other:?}"),
    }
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

/// `GET path` over a fresh connection; returns the status and body.
pub async fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    http_get_from_host(addr, path, &addr.to_string()).await
}

/// `GET path` with a given `Host` header.
pub async fn http_get_from_host(addr: SocketAddr, path: &str, host: &str) -> (u16, String) {
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await.expect("connect over HTTP");
        let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
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
    parse_response(&response)
}

/// Splits an HTTP/1.1 response into status and body.
pub fn parse_response(response: &str) -> (u16, String) {
    let (head, body) = response.split_once("\r\n\r\n").expect("HTTP head and body");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("bad status line in {head:?}"));
    (status, body.to_owned())
}
