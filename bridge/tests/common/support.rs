//! What the integration tests and the soak example share: a throwaway
//! `redis-server` (looked up on PATH), a plain RESP client for side
//! connections, and the token formats, with every wait bounded by
//! [`TIMEOUT`].

use std::future::Future;
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use base64::Engine;
use resp::Frame;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Upper bound for any single wait.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// Awaits `future`, panicking if it takes longer than [`TIMEOUT`].
pub async fn within<F: Future>(what: &str, future: F) -> F::Output {
    tokio::time::timeout(TIMEOUT, future)
        .await
        .unwrap_or_else(|_| panic!("timed out: {what}"))
}

/// A port that was free a moment ago (the OS picks it, then we release it).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("bind an ephemeral port")
        .port()
}

/// Kills (SIGKILL) and reaps `child` if it still runs.
pub fn stop(child: &mut Option<Child>) {
    if let Some(mut child) = child.take() {
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// The user a protected [`RedisServer`] gives the test's own connections.
pub const ADMIN: (&str, &str) = ("admin", "admin-pw");

/// `redis-server` on a free loopback port, without persistence, killed on drop.
pub struct RedisServer {
    child: Option<Child>,
    pub addr: SocketAddr,
    args: Vec<String>,
    /// Whether the default user is off (the test logs in as [`ADMIN`]).
    protected: bool,
}

impl RedisServer {
    pub fn start() -> RedisServer {
        RedisServer::start_with(&[])
    }

    /// Starts with extra command-line configuration, e.g. `["--user", "alice", "on", ">pw", "+@all"]`.
    pub fn start_with(args: &[&str]) -> RedisServer {
        RedisServer::spawned(args, false)
    }

    /// As a token bridge wants it: the default user off, and an [`ADMIN`]
    /// user for the test's own commands.
    pub fn start_protected(args: &[&str]) -> RedisServer {
        let admin = format!(">{}", ADMIN.1);
        let mut all = vec!["--user", "default", "off", "--user", ADMIN.0, "on", &admin];
        all.extend(["~*", "&*", "+@all"]);
        all.extend_from_slice(args);
        RedisServer::spawned(&all, true)
    }

    fn spawned(args: &[&str], protected: bool) -> RedisServer {
        let mut redis = RedisServer {
            child: None,
            addr: SocketAddr::from(([127, 0, 0, 1], free_port())),
            args: args.iter().map(|arg| arg.to_string()).collect(),
            protected,
        };
        // The free port may be taken between `free_port` and redis' bind
        // (another test); a fresh one then does.
        for _ in 0..3 {
            if redis.spawn().is_ok() {
                return redis;
            }
            redis.addr.set_port(free_port());
        }
        panic!("redis-server did not start on three free ports");
    }

    /// Starts redis-server and waits until it answers what the test uses:
    /// PING on its TCP port (the test's own connections), with
    /// `--unixsocket` PING on the socket too, which Redis creates after it
    /// opens the port, and with `--tls-port` a connection to that port. Errs if it exits first (its port was taken).
    fn spawn(&mut self) -> Result<(), String> {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &self.addr.port().to_string(),
                "--bind",
                "127.0.0.1",
            ])
            .args(["--save", "", "--appendonly", "no"])
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn redis-server (is it installed and on PATH?)");
        let child = self.child.insert(child);
        let option = |name: &str| {
            let at = self.args.iter().position(|arg| arg == name)?;
            self.args.get(at + 1)
        };
        let unix_socket = option("--unixsocket");
        let tls_port = option("--tls-port").map(|port| port.parse::<u16>().expect("a port"));
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = child.try_wait().expect("wait for redis-server") {
                self.child = None;
                return Err(format!("redis-server exited: {status}"));
            }
            let tcp = std::net::TcpStream::connect(self.addr).is_ok_and(|stream| {
                stream.set_read_timeout(Some(PING_TIMEOUT)).is_ok() && answers_ping(stream)
            });
            let unix = || {
                unix_socket.is_none_or(|path| {
                    std::os::unix::net::UnixStream::connect(path).is_ok_and(|stream| {
                        stream.set_read_timeout(Some(PING_TIMEOUT)).is_ok() && answers_ping(stream)
                    })
                })
            };
            // The test speaks TLS on the TLS port: that it accepts will do.
            let tls = || {
                tls_port.is_none_or(|port| {
                    std::net::TcpStream::connect(SocketAddr::from(([127, 0, 0, 1], port))).is_ok()
                })
            };
            if tcp && unix() && tls() {
                return Ok(());
            }
            assert!(Instant::now() < deadline, "redis-server did not start");
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Starts a server as a token bridge wants it ([`start_protected`]),
    /// with ACL users `users`, each with the password `<user>-pw` and every
    /// right.
    ///
    /// [`start_protected`]: RedisServer::start_protected
    pub async fn with_users(users: &[&str]) -> RedisServer {
        let redis = RedisServer::start_protected(&[]);
        for user in users {
            let password = format!(">{user}-pw");
            let reply = redis
                .call(&["ACL", "SETUSER", user, "on", &password, "~*", "&*", "+@all"])
                .await;
            assert_eq!(reply, Frame::Simple("OK".into()), "ACL SETUSER {user}");
        }
        redis
    }

    /// Output buffer memory Redis holds for its clients of `kind` (`normal`,
    /// `pubsub`), in bytes, from `CLIENT LIST`.
    pub async fn omem(&self, kind: &str) -> u64 {
        match self.call(&["CLIENT", "LIST", "TYPE", kind]).await {
            Frame::Bulk(list) => String::from_utf8_lossy(&list)
                .split_whitespace()
                .filter_map(|field| field.strip_prefix("omem="))
                .filter_map(|omem| omem.parse::<u64>().ok())
                .sum(),
            other => panic!("unexpected CLIENT LIST reply {other:?}"),
        }
    }

    /// Sends `signal` to the server: `STOP` stalls it (connections are
    /// still accepted by the kernel, nothing is answered), `CONT` resumes it.
    pub fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("redis-server running").id();
        let sent = Command::new("kill")
            .args([&format!("-{signal}"), &pid.to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -{signal} redis-server failed");
    }

    /// Kills the server now (the bridge sees its connections drop).
    pub fn kill(&mut self) {
        stop(&mut self.child);
    }

    /// Whether it runs (it was not killed).
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// Kills the server with SIGKILL and starts a fresh one on the same port.
    pub fn restart(&mut self) {
        self.kill();
        if let Err(error) = self.spawn() {
            panic!("restart redis-server on {}: {error}", self.addr);
        }
    }

    /// Restarts on the same port with other extra configuration.
    pub fn restart_with(&mut self, args: &[&str]) {
        self.args = args.iter().map(|arg| arg.to_string()).collect();
        self.restart();
    }

    /// A connection for the test itself: as the default user, or as
    /// [`ADMIN`] when the server is protected.
    pub async fn connect(&self) -> RedisConn {
        let mut conn = RedisConn::connect(self.addr).await;
        if self.protected {
            let reply = conn.call(&["AUTH", ADMIN.0, ADMIN.1]).await;
            assert_eq!(reply, Frame::Simple("OK".into()), "admin login");
        }
        conn
    }

    /// Runs one command on a fresh connection of the test's.
    pub async fn call(&self, args: &[&str]) -> Frame {
        self.connect().await.call(args).await
    }

    /// Number of clients connected to Redis, counting the one asking.
    pub async fn client_count(&self) -> usize {
        match self.call(&["CLIENT", "LIST"]).await {
            Frame::Bulk(list) => String::from_utf8_lossy(&list)
                .lines()
                .filter(|line| !line.is_empty())
                .count(),
            other => panic!("unexpected CLIENT LIST reply {other:?}"),
        }
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

/// How long a readiness PING waits for its reply.
const PING_TIMEOUT: Duration = Duration::from_secs(1);

/// Whether a fresh connection's PING gets PONG, or NOAUTH from a server
/// whose default user is off: either way Redis serves commands (it is not
/// still LOADING, say).
fn answers_ping<S: std::io::Read + std::io::Write>(mut stream: S) -> bool {
    let mut reply = [0; 7];
    stream.write_all(&command(&["PING"])).is_ok()
        && stream.read_exact(&mut reply).is_ok()
        && (reply.starts_with(b"+PONG\r\n") || reply.starts_with(b"-NOAUTH"))
}

/// A plain RESP connection to Redis.
pub struct RedisConn {
    stream: TcpStream,
    decoder: resp::Decoder,
}

impl RedisConn {
    pub async fn connect(addr: SocketAddr) -> RedisConn {
        let stream = within("connect to redis", TcpStream::connect(addr))
            .await
            .expect("connect to redis");
        RedisConn {
            stream,
            decoder: resp::Decoder::new(),
        }
    }

    /// Sends one command and returns its reply.
    pub async fn call(&mut self, args: &[&str]) -> Frame {
        self.send(&command(args)).await;
        self.reply().await
    }

    /// Sends raw bytes (a pipeline, say).
    pub async fn send(&mut self, bytes: &[u8]) {
        within("write to redis", self.stream.write_all(bytes))
            .await
            .expect("write to redis");
    }

    /// The next reply.
    pub async fn reply(&mut self) -> Frame {
        loop {
            if let Some(frame) = self.decoder.decode().expect("valid RESP from redis") {
                return frame;
            }
            let read = within(
                "read from redis",
                self.stream.read_buf(self.decoder.buffer_mut()),
            )
            .await
            .expect("read from redis");
            assert!(read > 0, "redis closed the connection");
        }
    }
}

/// Encodes a command as a RESP array of bulk strings (text or raw bytes).
pub fn command<A: AsRef<[u8]>>(args: &[A]) -> Vec<u8> {
    let mut out = Vec::new();
    resp::encode_command(&mut out, args);
    out
}

/// A tokens file entry for `--tokens`.
pub fn token_entry(token: &str, user: &str, password: &str) -> String {
    format!("[[token]]\ntoken = {token:?}\nuser = {user:?}\npassword = {password:?}\n\n")
}

/// The `Sec-WebSocket-Protocol` value a browser offers with `token`.
pub fn token_protocols(token: &str) -> String {
    let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(token);
    format!("redis-wasm, redis-wasm.token.{encoded}")
}
