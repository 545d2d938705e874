//! The `redis-ws-bridge` binary: reads the flags, sets up logging and
//! signals, and runs [`redis_ws_bridge::serve`] until SIGINT or SIGTERM.
//! SIGHUP re-reads the `--tokens` file and the certificates (`--tls-cert`,
//! `--redis-ca`...). `redis-ws-bridge acl-setup` prints
//! the ACL lines for the tokens' users instead.
//!
//! Every flag also reads an environment variable, `REDIS_WS_BRIDGE_` and the
//! flag's name in capitals; repeatable flags take a comma-separated list
//! there. Defaults live next to what they limit (`limits`, `policy`).

use std::ffi::OsString;
use std::fmt;
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use clap::parser::ValueSource;
use clap::{ArgAction, CommandFactory, FromArgMatches, Parser};
use redis_ws_bridge::access::{self, Access};
use redis_ws_bridge::cluster::{self, Cluster};
use redis_ws_bridge::config_file::{self, Kind, Setting};
use redis_ws_bridge::limits::{self, Limits};
use redis_ws_bridge::metrics::{self, Metrics};
use redis_ws_bridge::policy::{self, acl, Gate, Profile, Rules};
use redis_ws_bridge::proxy::{Cidr, TrustedProxies};
use redis_ws_bridge::redis::Target;
use redis_ws_bridge::redis_tls::{RedisTls, TlsFiles};
use redis_ws_bridge::redis_url::{Endpoint, RedisUrl};
use redis_ws_bridge::tokens::{Credentials, Tokens};
use redis_ws_bridge::{redis, redis_limits, tls, Config};
use tokio::net::TcpListener;
use tokio::signal::unix::{signal, Signal, SignalKind};
use tracing_subscriber::EnvFilter;

/// Relays WebSocket binary frames to one Redis server (or the nodes of a
/// Redis Cluster, see --redis-cluster) and back.
///
/// A WebSocket upgrade on `/` or `/ws` is relayed to the `--redis` address,
/// after the `Host`, `Origin` and token checks. Plain GET requests are served
/// from `--static` when given. `GET /livez` answers 200 "ok" while the
/// process serves; `GET /readyz` answers 200 "ok" when Redis answers PING,
/// 503 otherwise, pinging Redis at most once a second (`/healthz` is the same
/// as `/readyz`).
///
/// Browser commands must be RESP arrays of bulk strings. A command is relayed
/// only if the Redis server has it and the policy allows it (see --profile);
/// any other gets an error reply in its place in the pipeline. `acl-setup`
/// prints the ACL lines that make each token's Redis user enforce the same.
///
/// The bridge closes a WebSocket with 1003 on a text frame, 1009 on a message
/// or argument over its limit, 1008 on an inline command or other RESP that
/// is not a command, 1002 on malformed RESP, 1011 when Redis is unavailable,
/// refuses the bridge's login or closes the connection, 1008 when a SIGHUP
/// reload drops or changes its token, and 1001 on idle timeout, on a send
/// to a browser that stays stuck for the idle timeout, after --max-session,
/// or when the bridge shuts down (SIGINT, SIGTERM).
///
/// For `wss://`, give `--tls-cert` and `--tls-key`, or run the bridge on
/// loopback behind a reverse proxy that terminates TLS and passes the
/// WebSocket upgrade with its Host, Origin and Sec-WebSocket-Protocol headers.
///
/// At start the bridge prints exactly one line to stdout, `listening on
/// <addr>`, with the real address (useful with `--listen 127.0.0.1:0`).
/// Logs go to stderr; set RUST_LOG (e.g. `debug`) to change the level.
#[derive(Debug, Parser)]
#[command(version = VERSION, about, long_about)]
struct Args {
    /// TOML file holding flags as keys, by their long names
    /// (`max-connections = 5000`, `allow-origin = ["https://a.example"]`,
    /// `insecure-open = true`); flags and environment variables override
    /// it. An unknown key is an error.
    #[arg(
        long,
        env = "REDIS_WS_BRIDGE_CONFIG",
        value_name = "FILE",
        global = true
    )]
    config: Option<PathBuf>,

    /// Address to listen on for HTTP and WebSocket connections (port 0 picks
    /// a free port). A non-loopback address needs --tokens or --insecure-open.
    #[arg(
        long,
        env = "REDIS_WS_BRIDGE_LISTEN",
        value_name = "ADDR",
        default_value = "127.0.0.1:7379"
    )]
    listen: SocketAddr,

    /// Redis server every WebSocket is relayed to, never taken from a
    /// request: `redis://[user[:password]@]host[:port][/db]`, `rediss://...`
    /// for TLS (needs --redis-ca), `unix:/path[?db=N]`, or `host:port`
    /// (default 127.0.0.1:6379 without --redis-cluster).
    ///
    /// The URL's user is the bridge's own ACL user: it logs in every relayed
    /// connection as it without --tokens, and runs `/readyz` and the start-up
    /// checks as it in both modes. Percent-encode `@`, `:` and `%` in the
    /// password, or give it with --redis-password instead.
    #[arg(long, env = "REDIS_WS_BRIDGE_REDIS", value_name = "URL")]
    // Parsed in `redis_target`, so that an error never echoes the URL,
    // which may hold a password.
    redis: Option<String>,

    /// Serve a Redis Cluster instead of one Redis: its seed nodes,
    /// `host:port` or `redis://`/`rediss://` URLs as for --redis, without a
    /// database (comma-separated or repeated; not with --redis). The first
    /// seed's login and TLS apply to every node.
    ///
    /// The bridge reads the topology with CLUSTER SHARDS from a seed (then
    /// from the nodes it knows), every --cluster-refresh and when told a node
    /// moved, and serves `/ws/cluster` (the topology, node ids without
    /// addresses) and `/ws/node/<id>` (a relay to that node); `/ws` is
    /// refused. Login, TLS and timeouts apply to every node. The bridge's
    /// own user (--redis-user, else each token's user) needs
    /// `+cluster|shards`.
    #[arg(
        long = "redis-cluster",
        env = "REDIS_WS_BRIDGE_REDIS_CLUSTER",
        value_name = "HOST:PORT",
        value_delimiter = ','
    )]
    redis_cluster: Vec<String>,

    /// How often the bridge reads the cluster's topology again (it also
    /// does when a reply names a node it does not know, at most every
    /// 100 ms).
    #[arg(
        long,
        env = "REDIS_WS_BRIDGE_CLUSTER_REFRESH",
        value_name = "DURATION",
        default_value_t = Span(cluster::DEFAULT_REFRESH)
    )]
    cluster_refresh: Span,

    /// The bridge's own ACL user, instead of one in the --redis URL.
    #[arg(long, env = "REDIS_WS_BRIDGE_REDIS_USER", value_name = "USER")]
    redis_user: Option<String>,

    /// The password of --redis-user (of the `default` user without one),
    /// instead of one in the --redis URL; best given in the environment or
    /// the config file, which `ps` does not show.
    #[arg(
        long,
        env = "REDIS_WS_BRIDGE_REDIS_PASSWORD",
        value_name = "PASSWORD",
        hide_env_values = true
    )]
    redis_password: Option<String>,

    /// PEM file of the certificates that may sign the certificate of a
    /// `rediss://` Redis (the system's bundle is one); the URL's host is
    /// checked in it and sent as SNI. Re-read on SIGHUP.
    #[arg(long, env = "REDIS_WS_BRIDGE_REDIS_CA", value_name = "FILE")]
    redis_ca: Option<PathBuf>,

    /// PEM client certificate chain for a `rediss://` Redis with
    /// `tls-auth-clients`; re-read on SIGHUP.
    #[arg(
        long,
        env = "REDIS_WS_BRIDGE_REDIS_CERT",
        value_name = "FILE",
        requires = "redis_key"
    )]
    redis_cert: Option<PathBuf>,

    /// PEM private key of --redis-cert.
    #[arg(
        long,
        env = "REDIS_WS_BRIDGE_REDIS_KEY",
        value_name = "FILE",
        requires = "redis_cert"
    )]
    redis_key: Option<PathBuf>,

    /// Longest a connection to Redis may take, TLS handshake included.
    #[arg(
        long,
        env = "REDIS_WS_BRIDGE_REDIS_CONNECT_TIMEOUT",
        value_name = "DURATION",
        default_value_t = Span(redis::DEFAULT_CONNECT_TIMEOUT)
    )]
    redis_connect_timeout: Span,

    /// Longest Redis may take to answer one of the bridge's own commands
    /// (AUTH, SELECT, the /readyz PING, the start-up checks). Relayed
    /// commands are not timed: blocking ones wait as long as the browser
    /// asked; the client's `commandTimeout` bounds them.
    #[arg(
        long,
        env = "REDIS_WS_BRIDGE_REDIS_COMMAND_TIMEOUT",
        value_name = "DURATION",
        default_value_t = Span(redis::DEFAULT_COMMAND_TIMEOUT)
    )]
    redis_command_timeout: Span,

    /// Origin allowed to open a WebSocket, e.g. `http://127.0.0.1:8080` (exact
    /// match, repeatable).
    ///
    /// An Origin equal to `<scheme>://<Host>` is always allowed: a page the
    /// bridge served itself, with the scheme it was served with (`https`
    /// with --tls-cert, or when a --trusted-proxy says the client used TLS;
    /// `http` otherwise). A request without Origin (not a browser: Node,
    /// Deno) is allowed only with --tokens. Anything else gets 403. An origin
    /// that is not this machine's (`localhost`, a loopback IP) needs --tokens
    /// or --insecure-open.
    #[arg(
        long = "allow-origin",
        env = "REDIS_WS_BRIDGE_ALLOW_ORIGIN",
        value_name = "ORIGIN",
        value_delimiter = ',',
        value_parser = parse_origin
    )]
    allow_origins: Vec<String>,

    /// Host header value the bridge serves, e.g. `bridge.example.com` or
    /// `bridge.example.com:8443` (case-insensitive, repeatable); any other
    /// gets 403, against DNS rebinding.
    ///
    /// Without it, `localhost:<port>` and IP literals with the listen port
    /// (`127.0.0.1:<port>`, `[::1]:<port>`, the listen address) are served.
    /// A host that is not this machine's needs --tokens or --insecure-open.
    /// The probes (`/livez`, `/readyz`, `/healthz`) do not check the Host.
    #[arg(
        long = "allow-host",
        env = "REDIS_WS_BRIDGE_ALLOW_HOST",
        value_name = "HOST[:PORT]",
        value_delimiter = ','
    )]
    allow_hosts: Vec<String>,

    /// TOML file of tokens mapped to Redis ACL users; re-read on SIGHUP.
    ///
    /// Entries: `[[token]]` with `token`, `user`, `password` and optionally
    /// `prefix` (the keys and channels the token is confined to). A browser
    /// presents its token as the WebSocket subprotocol value
    /// `redis-wasm.token.<base64url of the token, no padding>` next to
    /// `redis-wasm`; without a known token the handshake gets 401. The bridge
    /// then sends `AUTH user password` itself, and refuses the browser's own
    /// AUTH, RESET and HELLO with options other than a protocol version and
    /// SETNAME. Redis must refuse connections without credentials (see
    /// --insecure-default-user); the command table is read as the first user
    /// allowed COMMAND INFO. Tokens travel only over TLS or on loopback: a
    /// client off loopback over plain ws:// (no --tls-cert, no trusted proxy
    /// saying it used TLS) gets 403. A reload that drops or changes a token
    /// closes its WebSockets with 1008.
    #[arg(
        long,
        env = "REDIS_WS_BRIDGE_TOKENS",
        value_name = "FILE",
        global = true
    )]
    tokens: Option<PathBuf>,

    /// Serve others without --tokens (listen off loopback, a Host or Origin
    /// that is not this machine's, a --trusted-proxy), letting anyone who can
    /// reach the bridge use Redis.
    #[arg(long, env = "REDIS_WS_BRIDGE_INSECURE_OPEN")]
    insecure_open: bool,

    #[command(flatten)]
    policy: PolicyArgs,

    /// Directory served over plain HTTP GET (index.html at `/`).
    #[arg(long = "static", env = "REDIS_WS_BRIDGE_STATIC", value_name = "DIR")]
    static_dir: Option<PathBuf>,

    /// Largest WebSocket message (and frame) accepted from a browser, in
    /// bytes; a bigger one closes the WebSocket with 1009.
    #[arg(
        long,
        env = "REDIS_WS_BRIDGE_MAX_MESSAGE_SIZE",
        value_name = "BYTES",
        default_value_t = limits::DEFAULT_MAX_MESSAGE_SIZE
    )]
    max_message_size: usize,

    /// Largest command argument accepted from a browser, in bytes; a bigger
    /// one closes the WebSocket with 1009 as soon as its header arrives.
    #[arg(
        long,
        env = "REDIS_WS_BRIDGE_MAX_BULK_LEN",
        value_name = "BYTES",
        default_value_t = limits::DEFAULT_MAX_BULK_LEN
    )]
    max_bulk_len: usize,

    /// Most WebSockets open at once; more are refused with 503.
    #[arg(
        long,
        env = "REDIS_WS_BRIDGE_MAX_CONNECTIONS",
        value_name = "N",
        default_value_t = limits::DEFAULT_MAX_CONNECTIONS
    )]
    max_connections: usize,

    /// Most WebSockets open at once from one client address (an IPv6 /64
    /// counts as one); more are refused with 429. Behind a --trusted-proxy,
    /// the address the proxy forwards counts.
    #[arg(
        long,
        env = "REDIS_WS_BRIDGE_MAX_CONNECTIONS_PER_IP",
        value_name = "N",
        default_value_t = limits::DEFAULT_MAX_CONNECTIONS_PER_IP
    )]
    max_connections_per_ip: usize,

    /// Time a connection gets from accept to the end of its request headers,
    /// TLS handshake included (e.g. `10s`, `500ms`, `1m`).
    #[arg(
        long,
        env = "REDIS_WS_BRIDGE_HANDSHAKE_TIMEOUT",
        value_name = "DURATION",
        default_value_t = Span(limits::DEFAULT_HANDSHAKE_TIMEOUT)
    )]
    handshake_timeout: Span,

    /// Silence from a browser (pongs count as life) after which its
    /// WebSocket closes with 1001; the bridge pings every half of it. `0`
    /// disables both.
    #[arg(
        long,
        env = "REDIS_WS_BRIDGE_IDLE_TIMEOUT",
        value_name = "DURATION",
        default_value_t = Span(limits::DEFAULT_IDLE_TIMEOUT)
    )]
    idle_timeout: Span,

    /// PEM certificate chain (leaf first): serve `wss://` and `https://`.
    /// Re-read with --tls-key on SIGHUP (a pair that does not load keeps
    /// the previous one).
    #[arg(
        long,
        env = "REDIS_WS_BRIDGE_TLS_CERT",
        value_name = "FILE",
        requires = "tls_key"
    )]
    tls_cert: Option<PathBuf>,

    /// PEM private key of --tls-cert.
    #[arg(
        long,
        env = "REDIS_WS_BRIDGE_TLS_KEY",
        value_name = "FILE",
        requires = "tls_cert"
    )]
    tls_key: Option<PathBuf>,

    /// Address of a separate listener serving Prometheus metrics at
    /// `/metrics`; keep it private.
    #[arg(long, env = "REDIS_WS_BRIDGE_METRICS", value_name = "ADDR")]
    metrics: Option<SocketAddr>,

    // Sessions and who may connect (issue 18, items 7 and 8).
    /// Longest a WebSocket stays open; it then closes with 1001 "session
    /// expired", and the client reconnects (and is checked again). `0`: no
    /// limit.
    #[arg(
        long,
        env = "REDIS_WS_BRIDGE_MAX_SESSION",
        value_name = "DURATION",
        default_value_t = Span(limits::DEFAULT_MAX_SESSION)
    )]
    max_session: Span,

    /// Address or CIDR block of a reverse proxy whose forwarding headers the
    /// bridge believes (repeatable), e.g. `127.0.0.1` or `10.0.0.0/8`.
    ///
    /// From such a peer, the client is the rightmost hop of `Forwarded` or
    /// `X-Forwarded-For` that is not a trusted proxy, and it used TLS when
    /// that hop's `proto` (or `X-Forwarded-Proto`) is `https`; the proxy
    /// must set these headers, not pass on a client's. Forwarding headers
    /// from any other peer get 403. Needs --tokens or --insecure-open: a
    /// proxy serves the bridge to others.
    #[arg(
        long = "trusted-proxy",
        env = "REDIS_WS_BRIDGE_TRUSTED_PROXY",
        value_name = "CIDR",
        value_delimiter = ','
    )]
    trusted_proxies: Vec<Cidr>,

    /// Most connections accepted and not yet upgraded to a WebSocket (TLS
    /// and HTTP going on), at once; more are closed as they are accepted.
    #[arg(
        long,
        env = "REDIS_WS_BRIDGE_MAX_HANDSHAKES",
        value_name = "N",
        default_value_t = limits::DEFAULT_MAX_HANDSHAKES
    )]
    max_handshakes: usize,

    /// The same from one peer address (an IPv6 /64 counts as one); trusted
    /// proxies count in --max-handshakes only.
    #[arg(
        long,
        env = "REDIS_WS_BRIDGE_MAX_HANDSHAKES_PER_IP",
        value_name = "N",
        default_value_t = limits::DEFAULT_MAX_HANDSHAKES_PER_IP
    )]
    max_handshakes_per_ip: usize,

    /// Log lines on stderr: `text` for people, `json` (one object a line,
    /// with `timestamp`, `level`, `target`, `message` and the fields) for a
    /// log pipeline.
    #[arg(
        long,
        env = "REDIS_WS_BRIDGE_LOG_FORMAT",
        value_name = "text|json",
        default_value = "text",
        global = true
    )]
    log_format: LogFormat,

    #[command(subcommand)]
    command: Option<Subcommand>,
}

/// What `--log-format` takes.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

/// `--version`: the crate's version and the commit it was built from.
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("REDIS_WS_BRIDGE_COMMIT"),
    ")"
);

#[derive(Debug, clap::Subcommand)]
enum Subcommand {
    /// Prints, for each user of --tokens, the `ACL SETUSER` line that gives
    /// it exactly what the policy flags allow (and the token's prefix), to
    /// apply with redis-cli. Needs no Redis. The passwords appear as their
    /// SHA-256.
    AclSetup,
    /// Reads the flags, the environment and the --config file, and the
    /// files they name (tokens, certificates), as a start would; prints
    /// `configuration ok` or why not, and exits. Needs no Redis: run it
    /// before a restart or an upgrade.
    CheckConfig,
}

/// The command policy: which browser commands reach Redis.
///
/// A command is relayed only if its name (and subcommand), compared ASCII
/// case-insensitively and otherwise exactly, is one the Redis server has
/// (read with COMMAND INFO at start, and again when Redis comes back) and
/// the policy allows it. The most specific rule wins: NAME|SUB, then NAME,
/// then the command's ACL categories; deny beats allow at the same level,
/// and a flag replaces the profile's rule for the same name.
#[derive(Debug, clap::Args)]
struct PolicyArgs {
    /// Starting rules: `web` (the default) or `trusted`.
    #[arg(
        long,
        env = "REDIS_WS_BRIDGE_PROFILE",
        value_name = "web|trusted",
        default_value_t = Profile::Web,
        global = true,
        long_help = profile_help()
    )]
    profile: Profile,

    /// ACL category to allow, e.g. `@geo` (repeatable); lifts the profile's
    /// denial of it, but a command in another denied category stays denied.
    #[arg(
        long = "allow-category",
        env = "REDIS_WS_BRIDGE_ALLOW_CATEGORY",
        value_name = "@CATEGORY",
        value_delimiter = ',',
        global = true
    )]
    allow_categories: Vec<String>,

    /// ACL category to deny, e.g. `@pubsub` (repeatable).
    #[arg(
        long = "deny-category",
        env = "REDIS_WS_BRIDGE_DENY_CATEGORY",
        value_name = "@CATEGORY",
        value_delimiter = ',',
        global = true
    )]
    deny_categories: Vec<String>,

    /// Command to allow, `NAME` or `NAME|SUB` (case-insensitive,
    /// repeatable); an unknown name is an error at start.
    #[arg(
        long = "allow-command",
        env = "REDIS_WS_BRIDGE_ALLOW_COMMAND",
        value_name = "NAME[|SUB]",
        value_delimiter = ',',
        global = true
    )]
    allow_commands: Vec<String>,

    /// Command to deny, `NAME` (all its subcommands) or `NAME|SUB`
    /// (case-insensitive, repeatable). A denied command gets an error reply
    /// in its place in the pipeline.
    #[arg(
        long = "deny-command",
        env = "REDIS_WS_BRIDGE_DENY_COMMAND",
        value_name = "NAME[|SUB]",
        value_delimiter = ',',
        global = true
    )]
    deny_commands: Vec<String>,

    /// Allow @scripting (EVAL, EVALSHA, FCALL, FUNCTION, SCRIPT...). This
    /// gives the page the power of every command the Redis user may run: a
    /// script calls commands inside Redis, where the bridge cannot see them.
    #[arg(long, env = "REDIS_WS_BRIDGE_ALLOW_SCRIPTING", global = true)]
    allow_scripting: bool,

    /// Allow SELECT, MOVE and COPY ... DB: the page may use every database.
    #[arg(long, env = "REDIS_WS_BRIDGE_ALLOW_SELECT", global = true)]
    allow_select: bool,

    /// With --tokens, start even if Redis accepts connections without
    /// credentials (its default user is on without a password).
    #[arg(long, env = "REDIS_WS_BRIDGE_INSECURE_DEFAULT_USER")]
    insecure_default_user: bool,
}

impl PolicyArgs {
    fn rules(&self, bridge_authenticates: bool) -> Result<Rules, String> {
        let flags = policy::Flags {
            profile: self.profile,
            allow_categories: self.allow_categories.clone(),
            deny_categories: self.deny_categories.clone(),
            allow_commands: self.allow_commands.clone(),
            deny_commands: self.deny_commands.clone(),
            allow_scripting: self.allow_scripting,
            allow_select: self.allow_select,
        };
        Rules::new(&flags, bridge_authenticates)
    }
}

fn profile_help() -> String {
    use policy::rules::*;
    let list = |names: &[&str]| names.join(", ");
    let categories = |names: &[&str]| {
        names
            .iter()
            .map(|name| format!("@{name}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    format!(
        "Starting rules, which the other policy flags adjust.\n\n\
         web (the default), for pages on the web: allows {} and the commands {}; \
         denies {} and the commands {}. Also refuses HELLO with options other than \
         a protocol version and SETNAME, CLIENT TRACKING with REDIRECT, COPY with DB, \
         and SETRANGE, SETBIT and BITFIELD offsets past --max-bulk-len.\n\n\
         trusted, for a bridge that only serves its operator: everything the Redis user \
         may run except {}.\n\n\
         With --tokens, AUTH, RESET and HELLO with options other than a protocol version \
         and SETNAME are refused in both, and a token's prefix confines its keys and \
         channels.",
        categories(WEB_ALLOWED_CATEGORIES),
        list(WEB_ALLOWED_COMMANDS),
        categories(WEB_DENIED_CATEGORIES),
        list(WEB_DENIED_COMMANDS),
        list(TRUSTED_DENIED),
    )
}

/// Accepts `scheme://host[:port]` as browsers send it in the Origin header.
///
/// Catches `http://host/`-style values at start-up, which would otherwise
/// never match and silently refuse every browser.
fn parse_origin(value: &str) -> Result<String, String> {
    let rest = value
        .strip_prefix("http://")
        .or_else(|| value.strip_prefix("https://"))
        .ok_or("an origin starts with http:// or https://")?;
    if rest.is_empty() || rest.contains('/') {
        return Err("an origin is scheme://host[:port], without a path or trailing slash".into());
    }
    Ok(value.to_owned())
}

/// A duration flag: a number with `ms`, `s`, `m` or `h`; a bare number is seconds.
#[derive(Debug, Clone, Copy)]
struct Span(Duration);

impl FromStr for Span {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, String> {
        let split = value
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(value.len());
        let (number, unit) = value.split_at(split);
        let number: u64 = number
            .parse()
            .map_err(|_| format!("{value:?}: expected e.g. 10s, 500ms, 5m"))?;
        let duration = match unit {
            "ms" => Duration::from_millis(number),
            "" | "s" => Duration::from_secs(number),
            "m" => Duration::from_secs(number.saturating_mul(60)),
            "h" => Duration::from_secs(number.saturating_mul(3600)),
            _ => return Err(format!("{value:?}: the unit is one of ms, s, m, h")),
        };
        Ok(Span(duration))
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.as_secs();
        match (self.0.subsec_millis(), secs) {
            (0, 0) => f.write_str("0"),
            (0, _) if secs.is_multiple_of(3600) => write!(f, "{}h", secs / 3600),
            (0, _) if secs.is_multiple_of(60) => write!(f, "{}m", secs / 60),
            (0, _) => write!(f, "{secs}s"),
            _ => write!(f, "{}ms", self.0.as_millis()),
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args(std::env::args_os().collect()) {
        Ok(args) => args,
        Err(error) => {
            eprintln!("redis-ws-bridge: {error}");
            return ExitCode::FAILURE;
        }
    };

    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr);
    match args.log_format {
        LogFormat::Text => logs.with_ansi(std::io::stderr().is_terminal()).init(),
        LogFormat::Json => logs.json().flatten_event(true).init(),
    }

    let result = match args.command {
        Some(Subcommand::AclSetup) => acl_setup(&args),
        Some(Subcommand::CheckConfig) => {
            Settings::load(&args).map(|_| println!("configuration ok"))
        }
        None => run(args).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("redis-ws-bridge: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Reads the command line and, with `--config`, the file under it: the
/// file's keys become flags placed before the real ones, for the values no
/// flag or environment variable gave (flag > env > file > default).
/// `--help`, `--version` and flag errors exit here, as clap does.
fn parse_args(argv: Vec<OsString>) -> Result<Args, String> {
    let command = Args::command();
    let matches = command.clone().get_matches_from(&argv);
    let Some(path) = matches.get_one::<PathBuf>("config") else {
        return Args::from_arg_matches(&matches).map_err(|error| error.to_string());
    };
    let in_file = |error: String| format!("--config {}: {error}", path.display());
    let text = std::fs::read_to_string(path).map_err(|error| in_file(error.to_string()))?;
    let from_file = file_args(&command, &matches, &argv[0], &text).map_err(in_file)?;
    let argv = argv[..1]
        .iter()
        .cloned()
        .chain(from_file)
        .chain(argv[1..].iter().cloned());
    let matches = command
        .try_get_matches_from(argv)
        .map_err(|error| in_file(error.render().to_string()))?;
    Args::from_arg_matches(&matches).map_err(|error| error.to_string())
}

/// The flags a config file's `text` sets, leaving out those that `matches`
/// (the real command line) got from a flag or the environment.
fn file_args(
    command: &clap::Command,
    matches: &clap::ArgMatches,
    argv0: &OsString,
    text: &str,
) -> Result<Vec<OsString>, String> {
    let settings = config_file::parse(text, |name| flag_kind(command, name))?;
    let mut args = Vec::new();
    for setting in settings {
        let id = long_flag(command, &setting.name).map(|arg| arg.get_id().clone());
        let source = id.and_then(|id| matches.value_source(id.as_str()));
        if matches!(
            source,
            Some(ValueSource::CommandLine | ValueSource::EnvVariable)
        ) {
            continue;
        }
        check_setting(command, argv0, &setting)?;
        args.extend(setting.to_args().into_iter().map(OsString::from));
    }
    Ok(args)
}

/// The flag whose long name is `name`; `--config` itself is not one a file
/// may set.
fn long_flag<'a>(command: &'a clap::Command, name: &str) -> Option<&'a clap::Arg> {
    let mut args = command.get_arguments();
    args.find(|arg| arg.get_long() == Some(name) && name != "config")
}

/// What a key of the config file may hold, from its flag's action.
fn flag_kind(command: &clap::Command, name: &str) -> Option<Kind> {
    Some(match long_flag(command, name)?.get_action() {
        ArgAction::SetTrue => Kind::Switch,
        ArgAction::Append => Kind::List,
        ArgAction::Set => Kind::Value,
        _ => return None,
    })
}

/// Parses one setting on its own, so that a bad value is reported with its
/// line (the checks between flags, such as --tls-cert needing --tls-key,
/// come with the whole command line).
fn check_setting(
    command: &clap::Command,
    argv0: &OsString,
    setting: &Setting,
) -> Result<(), String> {
    let argv =
        std::iter::once(argv0.clone()).chain(setting.to_args().into_iter().map(OsString::from));
    match command.clone().try_get_matches_from(argv) {
        Err(error)
            if matches!(
                error.kind(),
                clap::error::ErrorKind::ValueValidation | clap::error::ErrorKind::InvalidValue
            ) =>
        {
            let message = error.render().to_string();
            let first = message.lines().next().unwrap_or_default();
            let first = first.strip_prefix("error: ").unwrap_or(first);
            Err(format!("line {}: {first}", setting.line))
        }
        _ => Ok(()),
    }
}

/// `acl-setup`: the ACL lines of the tokens' users, on stdout.
fn acl_setup(args: &Args) -> Result<(), String> {
    let path = args
        .tokens
        .as_deref()
        .ok_or("acl-setup needs --tokens FILE: it prints one line per user of the file")?;
    let tokens = Tokens::load(path)?;
    let rules = args.policy.rules(true)?;
    for line in acl::setup_lines(&rules, &tokens.all()) {
        println!("{line}");
    }
    Ok(())
}

/// What a start reads before it reaches Redis, all checked.
struct Settings {
    tokens: Option<Arc<Tokens>>,
    tls: Option<Arc<rustls::ServerConfig>>,
    certificate: Option<Arc<tls::Certificate>>,
    redis: Target,
    /// The seeds, in cluster mode (the first is `redis`).
    seeds: Option<Vec<Target>>,
    rules: Rules,
}

impl Settings {
    fn load(args: &Args) -> Result<Settings, String> {
        let tokens = args
            .tokens
            .as_deref()
            .map(Tokens::load)
            .transpose()?
            .map(Arc::new);
        check_exposure(args, tokens.is_some())?;
        if args.max_message_size < limits::CLIENT_MESSAGE_SIZE {
            tracing::warn!(
                max_message_size = args.max_message_size,
                "redis-wasm sends writes in WebSocket messages of up to 2 MiB: a smaller \
                 --max-message-size closes its connections at a larger write (1009)"
            );
        }
        if let Some(dir) = &args.static_dir {
            if !dir.is_dir() {
                return Err(format!("--static {}: not a directory", dir.display()));
            }
        }
        let tls = match (&args.tls_cert, &args.tls_key) {
            (Some(cert), Some(key)) => Some(tls::load(cert, key)?),
            _ => None,
        };
        let (tls, certificate) = tls.unzip();
        let seeds = cluster_seeds(args)?;
        let redis = match &seeds {
            Some(seeds) => seeds[0].clone(),
            None => redis_target(
                args,
                args.redis.as_deref().unwrap_or(DEFAULT_REDIS),
                "--redis",
            )?,
        };
        Ok(Settings {
            redis,
            seeds,
            rules: args.policy.rules(tokens.is_some())?,
            tokens,
            tls,
            certificate,
        })
    }
}

async fn run(args: Args) -> Result<(), String> {
    // Handlers go in before anything listens, so that no signal finds the
    // default action (exit) in place.
    let listen_for = |kind: SignalKind| {
        signal(kind).map_err(|error| format!("cannot listen for signal {kind:?}: {error}"))
    };
    let hangups = listen_for(SignalKind::hangup())?;
    let shutdown = shutdown_signal(
        listen_for(SignalKind::interrupt())?,
        listen_for(SignalKind::terminate())?,
    );

    let Settings {
        tokens,
        tls,
        certificate,
        redis,
        seeds,
        rules,
    } = Settings::load(&args)?;
    let metrics = Arc::new(match seeds {
        Some(_) => Metrics::for_cluster(),
        None => Metrics::default(),
    });
    // In cluster mode the start-up checks ask a node that is up: the
    // topology's first master.
    let (cluster, policy, redis) = match seeds {
        Some(seeds) => {
            let every = args.cluster_refresh.0;
            let cluster =
                Cluster::start(seeds, tokens.clone(), every, Arc::clone(&metrics)).await?;
            let cluster = Arc::new(cluster);
            let nodes = {
                let cluster = Arc::clone(&cluster);
                move || cluster.targets()
            };
            let policy = Gate::start_any(nodes, rules, args.max_bulk_len, tokens.clone()).await?;
            let first = cluster.targets().remove(0);
            (Some(cluster), policy, first)
        }
        None => {
            let policy =
                Gate::start(redis.clone(), rules, args.max_bulk_len, tokens.clone()).await?;
            (None, policy, redis)
        }
    };
    if tokens.is_some() {
        check_default_user(&redis, args.policy.insecure_default_user).await?;
    }

    let listener = TcpListener::bind(args.listen)
        .await
        .map_err(|error| format!("--listen {}: {error}", args.listen))?;
    let addr = listener.local_addr().map_err(|error| error.to_string())?;

    if let Some(metrics_addr) = args.metrics {
        let listener = TcpListener::bind(metrics_addr)
            .await
            .map_err(|error| format!("--metrics {metrics_addr}: {error}"))?;
        tracing::info!(addr = ?listener.local_addr().ok(), "metrics listening");
        let metrics = Arc::clone(&metrics);
        tokio::spawn(async move {
            if let Err(error) = metrics::serve(listener, metrics).await {
                tracing::error!(%error, "metrics listener failed");
            }
        });
    }
    tokio::spawn(reload_on_sighup(
        hangups,
        Reloadable {
            tokens: tokens.clone(),
            certificate,
            redis_tls: redis.tls().cloned(),
        },
        Arc::clone(&metrics),
    ));

    let config = Config {
        redis,
        cluster,
        access: Access::new(
            &args.allow_hosts,
            args.allow_origins,
            addr.port(),
            tls.is_some(),
            tokens,
        )
        .with_trusted_proxies(TrustedProxies::new(args.trusted_proxies)),
        policy,
        limits: Limits {
            max_message_size: args.max_message_size,
            max_bulk_len: args.max_bulk_len,
            max_connections: args.max_connections,
            max_connections_per_ip: args.max_connections_per_ip,
            max_handshakes: args.max_handshakes,
            max_handshakes_per_ip: args.max_handshakes_per_ip,
            handshake_timeout: args.handshake_timeout.0,
            idle_timeout: args.idle_timeout.0,
            max_session: args.max_session.0,
        },
        static_dir: args.static_dir,
        tls,
    };

    let credentials = config.own_login();
    tokio::spawn({
        let redis = config.redis.clone();
        async move { redis_limits::check(&redis, credentials.as_ref()).await }
    });

    tracing::info!(%addr, redis = %config.redis, tls = config.tls.is_some(), "listening");
    println!("listening on {addr}");
    redis_ws_bridge::serve(listener, config, metrics, shutdown).await;
    tracing::info!("bye");
    Ok(())
}

/// The Redis of a bridge given neither --redis nor --redis-cluster.
const DEFAULT_REDIS: &str = "127.0.0.1:6379";

/// The `--redis-cluster` seeds, each with the login, TLS and timeout flags;
/// `None` without the flag.
fn cluster_seeds(args: &Args) -> Result<Option<Vec<Target>>, String> {
    if args.redis_cluster.is_empty() {
        return Ok(None);
    }
    if args.redis.is_some() {
        return Err("--redis and --redis-cluster: give one of them".into());
    }
    let flag = "--redis-cluster";
    let seeds = args
        .redis_cluster
        .iter()
        .map(|seed| redis_target(args, seed.trim(), flag))
        .collect::<Result<Vec<_>, _>>()?;
    for seed in &seeds {
        if !matches!(seed.endpoint(), Endpoint::Tcp { .. }) {
            return Err(format!(
                "{flag}: cluster nodes are host:port, not a Unix socket"
            ));
        }
        if seed.db().is_some() {
            return Err(format!(
                "{flag}: a cluster has only database 0: no /db in the seeds"
            ));
        }
        if seed.tls().is_some() != seeds[0].tls().is_some() {
            return Err(format!("{flag}: all seeds rediss://, or none"));
        }
    }
    // One login and one TLS configuration (reloaded on SIGHUP) for every node.
    let first = &seeds[0];
    Ok(Some(
        seeds
            .iter()
            .map(|seed| first.with_endpoint(seed.endpoint().clone()))
            .collect(),
    ))
}

/// How to reach Redis: the URL `text` (of `flag`) with the login, TLS and
/// timeout flags. What does not fit together is refused, never half applied.
fn redis_target(args: &Args, text: &str, flag: &str) -> Result<Target, String> {
    let mut url: RedisUrl = text.parse().map_err(|error| format!("{flag}: {error}"))?;
    if args.redis_user.is_some() || args.redis_password.is_some() {
        if url.login.is_some() {
            return Err(format!(
                "{flag} names a user or password and so does --redis-user/--redis-password: \
                 give one of them"
            ));
        }
        let user = args.redis_user.as_deref().unwrap_or("default");
        let password = args.redis_password.as_deref().unwrap_or_default();
        url.login = Some(Credentials::new(user, password));
    }
    let tls = match (&url.endpoint, url.tls, &args.redis_ca) {
        (Endpoint::Tcp { host, .. }, true, Some(ca)) => {
            let files = TlsFiles {
                ca: ca.clone(),
                client: args.redis_cert.clone().zip(args.redis_key.clone()),
            };
            Some(RedisTls::load(files, host)?)
        }
        (_, true, None) => {
            return Err(
                "rediss:// needs --redis-ca FILE, the certificates that may sign \
                        Redis's (e.g. /etc/ssl/certs/ca-certificates.crt for the system's)"
                    .into(),
            )
        }
        (_, false, _) if args.redis_ca.is_some() || args.redis_cert.is_some() => {
            return Err(format!(
                "--redis-ca and --redis-cert need a rediss:// {flag} URL"
            ))
        }
        _ => None,
    };
    let target =
        Target::new(url).with_timeouts(args.redis_connect_timeout.0, args.redis_command_timeout.0);
    Ok(match tls {
        Some(tls) => target.with_tls(Arc::new(tls)),
        None => target,
    })
}

/// Refuses to serve others without tokens, unless told to
/// (`--insecure-open`): a listen address off loopback, a Host or Origin that
/// is not this machine's, or a trusted proxy (which serves the bridge to
/// others) each mean that others can reach the bridge, and so Redis.
fn check_exposure(args: &Args, tokens: bool) -> Result<(), String> {
    let loopback = args.listen.ip().is_loopback();
    if tokens {
        if !loopback && args.tls_cert.is_none() && args.trusted_proxies.is_empty() {
            tracing::warn!(
                "tokens travel only over TLS or on loopback: without --tls-cert, or a \
                 --trusted-proxy that terminates TLS, clients off loopback are refused"
            );
        }
        return Ok(());
    }
    let mut exposed = Vec::new();
    if !loopback {
        exposed.push(format!("--listen {}", args.listen));
    }
    let hosts = args
        .allow_hosts
        .iter()
        .filter(|host| !access::is_local_host(host));
    exposed.extend(hosts.map(|host| format!("--allow-host {host}")));
    let origins = args.allow_origins.iter();
    let origins = origins.filter(|origin| !access::is_local_origin(origin));
    exposed.extend(origins.map(|origin| format!("--allow-origin {origin}")));
    let proxies = args.trusted_proxies.iter();
    exposed.extend(proxies.map(|proxy| format!("--trusted-proxy {proxy}")));
    if exposed.is_empty() {
        return Ok(());
    }
    let exposed = exposed.join(", ");
    if args.insecure_open {
        tracing::warn!(%exposed, "--insecure-open: anyone who can reach the bridge can use Redis");
        return Ok(());
    }
    Err(format!(
        "refusing to serve others without --tokens ({exposed}): anyone who can reach the \
         bridge could use Redis. Give --tokens FILE, serve this machine only, or add \
         --insecure-open."
    ))
}

/// With tokens the bridge is who logs in, so a connection without
/// credentials must get nowhere: otherwise anything that reaches Redis
/// (another process, a RESET that slipped through) is the default user.
async fn check_default_user(addr: &Target, insecure: bool) -> Result<(), String> {
    let reply = match redis::default_user_refuses(addr).await {
        Ok(Ok(())) => return Ok(()),
        Ok(Err(reply)) => reply,
        Err(error) => {
            return Err(format!(
                "cannot check redis' default user at {addr}: {error}"
            ))
        }
    };
    if insecure {
        tracing::warn!(%reply, "--insecure-default-user: redis accepts connections without credentials");
        return Ok(());
    }
    Err(format!(
        "with --tokens, redis must refuse connections without credentials, but a PING without \
         them was answered {reply:?}. Turn its default user off (`ACL SETUSER default off`) or \
         give it a password, or add --insecure-default-user."
    ))
}

/// What SIGHUP re-reads.
struct Reloadable {
    tokens: Option<Arc<Tokens>>,
    /// The listener's --tls-cert and --tls-key.
    certificate: Option<Arc<tls::Certificate>>,
    /// --redis-ca, --redis-cert and --redis-key.
    redis_tls: Option<Arc<RedisTls>>,
}

/// Re-reads the tokens file and the certificates on each SIGHUP; what
/// does not load keeps its previous version (logged, and counted in
/// `errors_total`), and open connections go on either way.
async fn reload_on_sighup(mut hangups: Signal, reloadable: Reloadable, metrics: Arc<Metrics>) {
    while hangups.recv().await.is_some() {
        let Reloadable {
            tokens,
            certificate,
            redis_tls,
        } = &reloadable;
        if tokens.is_none() && certificate.is_none() && redis_tls.is_none() {
            tracing::info!("SIGHUP: nothing to reload without --tokens or certificates");
            continue;
        }
        if let Some(tokens) = tokens {
            match tokens.reload() {
                Ok(count) => tracing::info!(count, "tokens reloaded"),
                Err(error) => {
                    tracing::error!(%error, "tokens not reloaded, keeping the previous table");
                    metrics.error("tokens_reload");
                }
            }
        }
        let certificates = [
            (
                "listener",
                "tls_reload",
                certificate.as_ref().map(|c| c.reload()),
            ),
            (
                "redis",
                "redis_tls_reload",
                redis_tls.as_ref().map(|t| t.reload()),
            ),
        ];
        for (side, kind, reloaded) in certificates {
            match reloaded {
                None => {}
                Some(Ok(())) => tracing::info!(side, "certificates reloaded"),
                Some(Err(error)) => {
                    tracing::error!(side, %error, "certificates not reloaded, keeping the previous ones");
                    metrics.error(kind);
                }
            }
        }
    }
}

/// Resolves on the first SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal(mut interrupts: Signal, mut terminates: Signal) {
    tokio::select! {
        _ = interrupts.recv() => {}
        _ = terminates.recv() => {}
    }
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example shipped in `deploy/`, which must stay complete and valid.
    const EXAMPLE: &str = include_str!("../deploy/bridge.toml");

    /// Parses a config file's text as the binary does, with no flags.
    fn parse_config(text: &str) -> Result<Args, String> {
        let command = Args::command();
        let argv0 = OsString::from("redis-ws-bridge");
        let matches = command
            .clone()
            .try_get_matches_from([&argv0])
            .expect("no flags");
        let args = file_args(&command, &matches, &argv0, text)?;
        let matches = command
            .try_get_matches_from(std::iter::once(argv0).chain(args))
            .map_err(|error| error.to_string())?;
        Args::from_arg_matches(&matches).map_err(|error| error.to_string())
    }

    /// The example with its `# key = value` lines uncommented.
    fn uncommented(text: &str) -> String {
        let lines = text.lines().map(|line| match line.strip_prefix("# ") {
            Some(setting) if is_setting(setting) => setting,
            _ => line,
        });
        lines.collect::<Vec<_>>().join("\n")
    }

    fn is_setting(line: &str) -> bool {
        line.split_once(" = ").is_some_and(|(key, _)| {
            !key.is_empty() && key.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
        })
    }

    #[test]
    fn the_example_config_parses_and_sets_every_flag() {
        let args = parse_config(EXAMPLE).expect("the example parses");
        assert_eq!(args.listen.to_string(), "0.0.0.0:443");
        let redis: RedisUrl = args
            .redis
            .as_deref()
            .unwrap()
            .parse()
            .expect("the example's --redis");
        assert!(redis.tls);
        assert_eq!(args.redis_user.as_deref(), Some("bridge"));

        let all = uncommented(EXAMPLE);
        let args = parse_config(&all).expect("the example, every key set, parses");
        assert_eq!(args.policy.allow_categories, ["@geo"]);
        assert_eq!(args.trusted_proxies.len(), 1);
        let keys: Vec<&str> = all
            .lines()
            .filter(|line| is_setting(line))
            .filter_map(|line| line.split_once(" = ").map(|(key, _)| key))
            .collect();
        let command = Args::command();
        for arg in command.get_arguments() {
            let Some(long) = arg.get_long() else { continue };
            if ["config", "help", "version"].contains(&long) {
                continue;
            }
            assert!(keys.contains(&long), "deploy/bridge.toml lacks {long}");
        }
    }

    #[test]
    fn a_bad_value_in_the_file_is_refused_with_its_line() {
        let error = parse_config("listen = \"127.0.0.1:1\"\nmax-connections = \"many\"\n");
        let error = error.expect_err("a bad number");
        assert!(error.starts_with("line 2: "), "{error}");
        assert!(error.contains("many"), "{error}");
    }
}
