//! Health probes: `/livez` says the process is up and serving (it touches
//! nothing else), `/readyz` whether Redis answers, so that a load balancer
//! sends browsers only to bridges that can relay them.
//!
//! Readiness is a Redis `PING` on a fresh connection (logged in as the first
//! token's user with `--tokens`), cached for [`FRESH`]: however many probes
//! come, and from whomever (the probes skip the `Host` check), Redis sees at
//! most one `PING` per second from them. Probes that arrive while a `PING` is
//! under way wait for its answer instead of sending their own.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use crate::redis::{self, Target};
use crate::tokens::Credentials;

/// How long a readiness answer is reused.
pub const FRESH: Duration = Duration::from_secs(1);

/// The last readiness answer, and the one check that may be under way.
#[derive(Debug, Default)]
pub struct Readiness {
    /// When the last check ended, and what it found.
    last: Mutex<Option<(Instant, bool)>>,
    /// Held while a check runs.
    checking: tokio::sync::Mutex<()>,
}

impl Readiness {
    /// Whether Redis answered `PING` less than [`FRESH`] ago, checking
    /// again if the last answer is older.
    pub async fn ready(&self, redis: &Target, credentials: Option<&Credentials>) -> bool {
        if let Some(ready) = self.fresh() {
            return ready;
        }
        let _checking = self.checking.lock().await;
        // Another probe may have checked while this one waited.
        if let Some(ready) = self.fresh() {
            return ready;
        }
        let ready = redis::ping(redis, credentials).await;
        *self.last.lock().unwrap_or_else(PoisonError::into_inner) = Some((Instant::now(), ready));
        ready
    }

    fn fresh(&self) -> Option<bool> {
        let last = *self.last.lock().unwrap_or_else(PoisonError::into_inner);
        last.filter(|(when, _)| when.elapsed() < FRESH)
            .map(|(_, ready)| ready)
    }
}
