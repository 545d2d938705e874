//! `redis-ws-bridge`: lets a browser speak RESP to one Redis server, or to
//! the nodes of one Redis Cluster.
//!
//! Browsers cannot open raw TCP sockets, so the bridge accepts WebSocket
//! connections and relays binary frames to a Redis connection and back, one
//! Redis connection per WebSocket. Because the browser side is untrusted,
//! everything between the two is a check:
//!
//! * [`listener`] accepts TCP (and TLS) connections and bounds how long a
//!   client may take to complete its handshake.
//! * [`server`] routes HTTP: WebSocket upgrades, static files, probes.
//! * [`health`] answers the readiness probe without flooding Redis.
//! * [`access`] decides who may open a WebSocket: `Host`, `Origin`, token.
//! * [`proxy`] tells who a request comes from behind trusted proxies.
//! * [`tokens`] maps the token a browser presents to a Redis ACL user.
//! * [`limits`] holds the size, count and time limits, and counts
//!   connections per client address.
//! * [`relay`] copies bytes both ways, with bounded buffers.
//! * [`backpressure`] stops reading a browser while Redis owes it too much,
//!   as [`replies`] counts it.
//! * [`policy`] parses browser commands and relays only those the server's
//!   own command table has and the policy allows; `acl-setup` lines.
//! * [`cluster`] keeps a Redis Cluster's [`topology`] (`--redis-cluster`),
//!   which [`feed`] sends browsers without addresses; [`redirects`]
//!   rewrites MOVED and ASK to node ids.
//! * [`redis`] reaches Redis (TCP, TLS or Unix socket) and logs in, as
//!   [`redis_url`] and [`redis_tls`] say.
//! * [`redis_limits`] warns at start when Redis does not bound its clients.
//! * [`metrics`] counts what happens, for Prometheus.
//! * [`tls`] loads the certificate for `wss://` and `https://`.
//!
//! * [`config_file`] turns `--config bridge.toml` into flags.
//!
//! The binary (`main.rs`) only reads flags (and the config file), sets up logging and signals, and
//! calls [`serve`]; tests and the soak example call it in the same way.

pub mod access;
pub mod backpressure;
pub mod cluster;
pub mod config_file;
pub mod feed;
pub mod health;
pub mod limits;
pub mod listener;
pub mod metrics;
pub mod policy;
pub mod proxy;
pub mod redirects;
pub mod redis;
pub mod redis_limits;
pub mod redis_tls;
pub mod redis_url;
pub mod relay;
pub mod replies;
pub mod server;
pub mod tls;
pub mod tokens;
pub mod topology;

pub use listener::serve;
pub use server::Config;
