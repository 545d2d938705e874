//! Back-pressure that protects Redis, not only the bridge.
//!
//! Each copy loop of the relay awaits its write before it reads again, so a
//! browser that stops reading stalls the bridge's Redis reads. That alone
//! lets Redis fill up: the browser's commands keep flowing, and Redis keeps
//! their replies in its output buffer for that client (93 MiB and growing
//! for a page pipelining GETs of a 1 MiB value that it never read).
//!
//! So the relay also stops reading the browser while Redis owes it too much:
//! the commands sent and not yet answered, times the size of recent replies
//! ([`ReplyCounter`](crate::replies::ReplyCounter)), must stay within
//! [`OWED_BUDGET`]. A browser that reads keeps pipelining small commands
//! freely (a million `+OK` fit in the budget), while one that asks for big
//! values gets one or two in flight, which is all that bandwidth needs.
//! Redis then holds about one round of replies for a browser that reads
//! slowly or not at all: the budget, plus the last message's commands.
//!
//! The count is a hint that may come out high (a command without a reply,
//! a blocking command, a subscription confirmed by a push). When Redis has
//! said nothing for [`QUIET`] while nothing was on its way to the browser,
//! whatever was thought owed is not coming soon, and the count starts again.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::timeout;

/// Bytes of replies Redis may owe a browser, as estimated, before the
/// bridge stops reading the browser's commands.
pub const OWED_BUDGET: u64 = 1 << 20;

/// Silence from Redis after which replies still counted as owed are written off.
pub const QUIET: Duration = Duration::from_secs(1);

/// What the two copy loops of one relay tell each other.
#[derive(Debug, Default)]
pub struct Backpressure {
    /// Commands sent to Redis and not answered yet, as far as the bridge can tell.
    owed: AtomicU64,
    /// The size to assume for each reply owed.
    reply_size: AtomicU64,
    /// A send to the browser is under way.
    sending: AtomicBool,
    /// Reads from Redis so far, so that a wait can tell silence.
    reads: AtomicU64,
    changed: Notify,
}

impl Backpressure {
    /// Waits until Redis owes little enough for the browser's next commands.
    pub async fn admit(&self) {
        loop {
            let changed = self.changed.notified();
            if self.open() {
                return;
            }
            let reads = self.reads.load(Ordering::Relaxed);
            let silent = timeout(QUIET, changed).await.is_err()
                && self.reads.load(Ordering::Relaxed) == reads
                && !self.sending.load(Ordering::Relaxed);
            if silent {
                self.owed.store(0, Ordering::Relaxed);
                return;
            }
        }
    }

    /// The browser's commands went to Redis: `commands` more replies owed.
    pub fn sent(&self, commands: u64) {
        self.owed.fetch_add(commands, Ordering::Relaxed);
    }

    /// A read from Redis completed `replies`; `reply_size` is the size to
    /// assume from now on (zero when replies are not being followed).
    pub fn received(&self, replies: u64, reply_size: u64) {
        let _ = self
            .owed
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |owed| {
                Some(owed.saturating_sub(replies))
            });
        self.reply_size.store(reply_size, Ordering::Relaxed);
        self.reads.fetch_add(1, Ordering::Relaxed);
        self.changed.notify_waiters();
    }

    /// Whether a send to the browser is under way.
    pub fn sending(&self, sending: bool) {
        self.sending.store(sending, Ordering::Relaxed);
    }

    fn open(&self) -> bool {
        let owed = self.owed.load(Ordering::Relaxed);
        owed.saturating_mul(self.reply_size.load(Ordering::Relaxed)) <= OWED_BUDGET
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn admits_within_the_budget_and_after_silence() {
        let backpressure = Backpressure::default();
        backpressure.admit().await;
        backpressure.received(0, 1000);
        backpressure.sent(1000);
        backpressure.admit().await;
        backpressure.sent(100);
        let started = tokio::time::Instant::now();
        tokio::join!(backpressure.admit(), async {
            // A few replies: still over the budget.
            tokio::time::sleep(QUIET / 2).await;
            backpressure.received(50, 1000);
        });
        // Written off after a quiet second counted from the last reply.
        assert_eq!(started.elapsed(), QUIET / 2 + QUIET);

        backpressure.sent(2000);
        backpressure.sending(true);
        let stalled = timeout(QUIET * 3, backpressure.admit()).await;
        assert!(
            stalled.is_err(),
            "a browser that does not read is not silence"
        );
        backpressure.sending(false);
        backpressure.received(1990, 1000);
        backpressure.admit().await;
    }
}
