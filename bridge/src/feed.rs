//! `/ws/cluster`: the topology feed of a cluster bridge.
//!
//! On open, and whenever the topology changes, the bridge sends one binary
//! message holding one RESP2 frame, [`Topology::feed`]: shards with their
//! slots and their nodes' ids, roles and health, no addresses. Anything the
//! browser sends is a request to refresh: the bridge reads the topology
//! again (within the cluster's rate limit) and then sends it, changed or
//! not. What the browser sends never reaches Redis.
//!
//! Liveness is the relay's: a ping every half `--idle-timeout`, 1001 after
//! a whole one without a word from the browser or with a send stuck.
//!
//! [`Topology::feed`]: crate::topology::Topology::feed

use std::time::Duration;

use axum::extract::ws::{Message, WebSocket};
use bytes::Bytes;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::time::{sleep_until, timeout, Instant};

use crate::cluster::Cluster;
use crate::metrics::Metrics;
use crate::relay::{pings, read_error, tick, End};

/// Sends the topology to one browser until it goes away.
pub(crate) async fn run(
    cluster: &Cluster,
    metrics: &Metrics,
    from_browser: &mut SplitStream<WebSocket>,
    to_browser: &mut SplitSink<WebSocket, Message>,
    idle: Option<Duration>,
) -> End {
    let mut changes = cluster.changes();
    let mut pings = pings(idle);
    let mut sent = None;
    let mut heard = Instant::now();
    // The first message goes at once; later ones when the feed changed,
    // or on request.
    let mut due = true;
    loop {
        if due {
            let feed = Bytes::from(changes.borrow_and_update().feed());
            due = false;
            if sent.as_ref() != Some(&feed) {
                if let Some(end) =
                    send(to_browser, metrics, Message::Binary(feed.clone()), idle).await
                {
                    return end;
                }
                sent = Some(feed);
            }
        }
        let silence = async {
            match idle {
                Some(idle) => sleep_until(heard + idle).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            changed = changes.changed() => {
                if changed.is_err() {
                    return End::Shutdown;
                }
                due = true;
            }
            next = from_browser.next() => {
                heard = Instant::now();
                match next {
                    None => return End::Browser,
                    Some(Ok(message)) => {
                        let size = match &message {
                            Message::Binary(data) => data.len(),
                            Message::Text(text) => text.len(),
                            // Pings are answered by the WebSocket layer.
                            _ => continue,
                        };
                        metrics.messages_from_browser.inc();
                        metrics.bytes_from_browser.inc_by(size as u64);
                        cluster.refreshed().await;
                        sent = None;
                        due = true;
                    }
                    Some(Err(error)) => return read_error(error),
                }
            }
            () = silence => return End::Idle,
            () = tick(&mut pings) => {
                if let Some(end) = send(to_browser, metrics, Message::Ping(Bytes::new()), idle).await {
                    return end;
                }
            }
        }
    }
}

/// Sends `message`, giving up after `idle`.
async fn send(
    to_browser: &mut SplitSink<WebSocket, Message>,
    metrics: &Metrics,
    message: Message,
    idle: Option<Duration>,
) -> Option<End> {
    if let Message::Binary(data) = &message {
        metrics.messages_to_browser.inc();
        metrics.bytes_to_browser.inc_by(data.len() as u64);
    }
    let sent = match idle {
        Some(idle) => timeout(idle, to_browser.send(message)).await,
        None => Ok(to_browser.send(message).await),
    };
    match sent {
        Ok(Ok(())) => None,
        Ok(Err(error)) => {
            tracing::debug!(%error, "websocket send failed");
            Some(End::Browser)
        }
        Err(_) => Some(End::NotReading),
    }
}
