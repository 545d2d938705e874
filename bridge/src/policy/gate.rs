//! The policy in force, kept in step with the server behind the bridge.
//!
//! The table is read at start, and again whenever Redis may have become
//! another server: a restarted or upgraded Redis can have other commands.
//! The bridge keeps one idle connection of its own to Redis for this; when
//! it drops (Redis went away), or a relay cannot reach Redis, the policy
//! is withdrawn until the table has been read again. Relays that open
//! meanwhile wait for it a little, then close with 1011: nothing is relayed
//! against a table the server may no longer have (fail closed).
//!
//! The table is read as the `--redis` URL's user if it names one, else as
//! the first token user allowed to run `COMMAND INFO`, else as the default
//! user. In cluster mode it is read from the first node that answers (the
//! nodes of one cluster run the same server), so that a node going away
//! withdraws the policy only until another answers.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::sync::{watch, Notify};
use tokio::time::{sleep, timeout};

use super::commands::Policy;
use super::rules::Rules;
use crate::redis::{self, OpenError, Stream, TableReadError, Target};
use crate::tokens::Tokens;

/// How long a relay waits for the table to be read again.
const WAIT_FOR_TABLE: Duration = Duration::from_secs(5);

/// How long the bridge waits at start for Redis to accept connections.
const STARTUP_WAIT: Duration = Duration::from_secs(10);

/// First and longest pause between attempts to read the table again.
const RETRY_MIN: Duration = Duration::from_millis(50);
const RETRY_MAX: Duration = Duration::from_secs(1);

/// The live policy; dropping it stops its watch on Redis.
pub struct Gate {
    shared: Arc<Shared>,
    _stop: watch::Sender<()>,
}

/// The servers the table may be read from, first choice first.
type Servers = Box<dyn Fn() -> Vec<Target> + Send + Sync>;

struct Shared {
    servers: Servers,
    rules: Rules,
    max_bulk_len: usize,
    tokens: Option<Arc<Tokens>>,
    current: watch::Sender<Option<Arc<Policy>>>,
    /// Tells the watch that its connection may be stale: read the table
    /// again now (ignored while it is already retrying).
    wake: Notify,
}

/// Why the table could not be read.
enum Failure {
    /// Redis did not accept a connection: worth waiting for.
    Unreachable(String),
    /// Anything else: a configuration to fix.
    Fatal(String),
}

impl Gate {
    /// Reads the table of the Redis at `redis` (waiting a while for it to
    /// accept connections) and keeps it fresh. Fails, with what to fix, if
    /// no user may read it or a flag names what the server does not have.
    pub async fn start(
        redis: Target,
        rules: Rules,
        max_bulk_len: usize,
        tokens: Option<Arc<Tokens>>,
    ) -> Result<Gate, String> {
        Gate::start_any(move || vec![redis.clone()], rules, max_bulk_len, tokens).await
    }

    /// The same, reading the table from the first of `servers()` that
    /// accepts a connection (a cluster's nodes).
    pub async fn start_any(
        servers: impl Fn() -> Vec<Target> + Send + Sync + 'static,
        rules: Rules,
        max_bulk_len: usize,
        tokens: Option<Arc<Tokens>>,
    ) -> Result<Gate, String> {
        let shared = Arc::new(Shared {
            servers: Box::new(servers),
            rules,
            max_bulk_len,
            tokens,
            current: watch::Sender::new(None),
            wake: Notify::new(),
        });
        let started = tokio::time::Instant::now();
        let (stream, policy) = loop {
            match shared.read().await {
                Ok(read) => break read,
                Err(Failure::Unreachable(why)) if started.elapsed() < STARTUP_WAIT => {
                    tracing::info!(%why, "waiting for redis");
                    sleep(RETRY_MAX / 4).await;
                }
                Err(Failure::Unreachable(why) | Failure::Fatal(why)) => return Err(why),
            }
        };
        shared.current.send_replace(Some(policy));
        let (stop, stopped) = watch::channel(());
        tokio::spawn(watch_redis(Arc::clone(&shared), stream, stopped));
        Ok(Gate {
            shared,
            _stop: stop,
        })
    }

    /// The policy in force, waiting a while when the table is being read
    /// again; `None` if it could not be read (close with 1011).
    pub async fn policy(&self) -> Option<Arc<Policy>> {
        let mut current = self.shared.current.subscribe();
        if let Some(policy) = current.borrow().clone() {
            return Some(policy);
        }
        // The watch retries on its own (at least once a second): waiting
        // relays must not make it hammer a Redis that refuses.
        let policy = match timeout(WAIT_FOR_TABLE, current.wait_for(Option::is_some)).await {
            Ok(Ok(policy)) => policy.clone(),
            _ => None,
        };
        policy
    }

    /// A relay could not reach Redis: when it is back it may be another
    /// server, so the table must be read again first.
    pub fn redis_unreachable(&self) {
        if self.shared.current.send_replace(None).is_some() {
            tracing::info!("redis unreachable: the command table will be read again");
        }
        self.shared.wake.notify_waiters();
    }
}

/// Waits for the bridge's own connection to drop (or a nudge), withdraws
/// the policy and reads the table again, until the [`Gate`] is dropped.
async fn watch_redis(shared: Arc<Shared>, stream: Box<dyn Stream>, mut stop: watch::Receiver<()>) {
    let mut stream = Some(stream);
    let mut pause = RETRY_MIN;
    loop {
        if let Some(mut connection) = stream.take() {
            let mut byte = [0u8; 1];
            tokio::select! {
                _ = stop.changed() => return,
                () = shared.wake.notified() => {}
                // End of stream, an error, or anything unasked for.
                _ = connection.read(&mut byte) => {}
            }
            if shared.current.send_replace(None).is_some() {
                tracing::info!("redis connection lost: the command table will be read again");
            }
        }
        tokio::select! {
            _ = stop.changed() => return,
            read = shared.read() => match read {
                Ok((connection, policy)) => {
                    shared.current.send_replace(Some(policy));
                    tracing::info!("command table read again");
                    stream = Some(connection);
                    pause = RETRY_MIN;
                    continue;
                }
                Err(Failure::Unreachable(why) | Failure::Fatal(why)) => {
                    tracing::warn!(%why, "command table not read: relays close with 1011");
                }
            },
        }
        tokio::select! {
            _ = stop.changed() => return,
            () = sleep(pause) => {}
        }
        pause = (pause * 2).min(RETRY_MAX);
    }
}

impl Shared {
    /// Reads the table from the first server that accepts a connection.
    async fn read(&self) -> Result<(Box<dyn Stream>, Arc<Policy>), Failure> {
        let mut unreachable = Vec::new();
        for server in (self.servers)() {
            match self.read_from(&server).await {
                Err(Failure::Unreachable(why)) => unreachable.push(why),
                read => return read,
            }
        }
        Err(Failure::Unreachable(unreachable.join("; ")))
    }

    /// Connects, logs in as the first user allowed to, and reads the table.
    async fn read_from(&self, server: &Target) -> Result<(Box<dyn Stream>, Arc<Policy>), Failure> {
        let users = redis::own_logins(server, self.tokens.as_deref());
        let mut refusals = Vec::new();
        for credentials in users {
            let user = credentials
                .as_ref()
                .map_or("the bridge's own", |c| c.user.as_str());
            let mut stream = match redis::open(server, credentials.as_ref()).await {
                Ok(stream) => stream,
                // A certificate Redis's TLS does not pass is a setting to fix.
                Err(OpenError::Connect(error)) if error.kind() == io::ErrorKind::InvalidData => {
                    return Err(Failure::Fatal(format!(
                        "TLS to redis at {} failed: {error}",
                        server
                    )))
                }
                Err(OpenError::Connect(error)) => {
                    return Err(Failure::Unreachable(format!(
                        "cannot reach redis at {}: {error}",
                        server
                    )))
                }
                Err(OpenError::Login(error)) => {
                    refusals.push(format!("{user}: {error}"));
                    continue;
                }
            };
            match redis::command_table(&mut stream, server).await {
                Ok(table) => {
                    let policy = Policy::new(&table, &self.rules, self.max_bulk_len)
                        .map_err(Failure::Fatal)?;
                    tracing::debug!(user, commands = table.commands.len(), "command table read");
                    return Ok((stream, Arc::new(policy)));
                }
                Err(TableReadError::Refused(reply)) => refusals.push(format!("{user}: {reply}")),
                Err(error) => {
                    return Err(Failure::Fatal(format!(
                        "cannot read the command table as {user}: {error}"
                    )))
                }
            }
        }
        Err(Failure::Fatal(format!(
            "cannot read the command table of redis at {} ({}): the bridge reads it with \
             COMMAND INFO as the --redis URL's user if it names one, else as the first token \
             user allowed to (the default user without either); allow one of them \
             `+command|info`",
            server,
            refusals.join("; ")
        )))
    }
}
