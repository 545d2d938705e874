//! `Subscription`: a connection in pub/sub mode.
//!
//! The core leases the session and renews its subscriptions after a
//! reconnect; here published messages become `PubSubReply` values, queued
//! until `nextPublished()` takes them, so none is lost between two calls.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::{Rc, Weak};

use js_sys::{Function, Promise};
use resp::Frame;
use wasm_bindgen::prelude::*;

use super::client::{not_connected, reply_error, ClientInner};
use super::convert::{plain, ArgReader};
use super::encoder::Encoder;
use super::replies::reply_object;
use crate::core::cmd::Cmd;
use crate::core::pipeline::Outcome;
use crate::core::ReplyKind;

/// The Promise settlers of one `nextPublished()` call.
type Waiter = (Function, Function);

pub struct SubState {
    client: Weak<ClientInner>,
    session: usize,
    encoder: Encoder,
    messages: RefCell<VecDeque<JsValue>>,
    waiters: RefCell<VecDeque<Waiter>>,
}

impl SubState {
    pub fn new(client: Weak<ClientInner>, session: usize, encoder: Encoder) -> SubState {
        SubState {
            client,
            session,
            encoder,
            messages: RefCell::new(VecDeque::new()),
            waiters: RefCell::new(VecDeque::new()),
        }
    }

    /// A push from the session: published messages are kept for the user.
    pub fn published(&self, frame: Frame) {
        let (Frame::Array(items) | Frame::Push(items)) = frame else {
            return;
        };
        let mut items = items.into_iter();
        let kind = items.next();
        let with_pattern = matches!(&kind, Some(Frame::Bulk(k)) if k.as_ref() == b"pmessage");
        let is_message =
            matches!(&kind, Some(Frame::Bulk(k)) if matches!(k.as_ref(), b"message" | b"smessage"));
        let (pattern, channel, payload) = match (items.next(), items.next(), items.next()) {
            (Some(pattern), Some(channel), Some(payload)) if with_pattern => {
                (pattern, channel, payload)
            }
            (Some(channel), Some(payload), None) if is_message => (Frame::Null, channel, payload),
            _ => return,
        };
        let decode = |frame| plain(frame, &self.encoder).unwrap_or(JsValue::NULL);
        let message = reply_object("PubSubReply", &decode(channel), &decode(payload));
        js_sys::Reflect::set(&message, &"pattern".into(), &decode(pattern)).ok();
        match self.waiters.borrow_mut().pop_front() {
            Some((resolve, _)) => {
                let _ = resolve.call1(&JsValue::NULL, &message);
            }
            None => self.messages.borrow_mut().push_back(message),
        }
    }

    /// The connection is closed: nothing more will arrive.
    pub fn close(&self) {
        for (_, reject) in self.waiters.borrow_mut().drain(..) {
            let _ = reject.call1(&JsValue::NULL, &not_connected());
        }
    }

    /// Sends `word names...` on the subscribed session; resolves to
    /// `undefined` once Redis confirmed every name.
    fn change(&self, word: &str, names: JsValue) -> Result<Promise, JsValue> {
        let client = self.client.upgrade().ok_or_else(not_connected)?;
        let reader = ArgReader {
            encoder: &self.encoder,
            strict: client.strict,
        };
        let mut line = vec![word.as_bytes().to_vec()];
        reader.list(
            &names,
            &|| format!("{}: argument 'channels'", word.to_ascii_lowercase()),
            &mut line,
            |n, d| reader.native(n, d),
        )?;
        let id = client
            .core
            .borrow_mut()
            .request_on(self.session, Cmd::lookup(line, ReplyKind::Plain))?;
        let command = word.to_owned();
        Ok(Promise::new(&mut |resolve, reject| {
            let command = command.clone();
            client.wait(id, move |_, outcome| {
                let _ = match outcome {
                    Outcome::Reply(frame) => match reply_error(&frame, &command) {
                        Some(error) => reject.call1(&JsValue::NULL, &error),
                        None => resolve.call0(&JsValue::NULL),
                    },
                    Outcome::Failed(why) => reject.call1(&JsValue::NULL, &why.into()),
                    _ => Ok(JsValue::UNDEFINED),
                };
            });
        }))
    }
}

/// A connection's pub/sub side, from `startSubscribe()`.
#[wasm_bindgen]
pub struct Subscription {
    state: Rc<SubState>,
}

impl Subscription {
    /// Leases a session for pub/sub and resolves to its `Subscription`.
    pub fn start(client: &Rc<ClientInner>) -> Promise {
        let leased = client.core.borrow_mut().subscribe(0);
        match leased {
            Ok(session) => {
                let subscription = Subscription {
                    state: client.subscription(session),
                };
                Promise::resolve(&JsValue::from(subscription))
            }
            Err(why) => Promise::reject(&why.into()),
        }
    }

    fn change(&self, word: &str, names: JsValue) -> Promise {
        self.state
            .change(word, names)
            .unwrap_or_else(|err| Promise::reject(&err))
    }
}

#[wasm_bindgen]
impl Subscription {
    /// Subscribe to channels (any iterable).
    pub fn subscribe(&self, channels: JsValue) -> Promise {
        self.change("SUBSCRIBE", channels)
    }

    /// Subscribe to patterns (any iterable).
    pub fn psubscribe(&self, patterns: JsValue) -> Promise {
        self.change("PSUBSCRIBE", patterns)
    }

    /// Unsubscribe from channels; an empty list unsubscribes from all.
    pub fn unsubscribe(&self, channels: JsValue) -> Promise {
        self.change("UNSUBSCRIBE", channels)
    }

    /// Unsubscribe from patterns; an empty list unsubscribes from all.
    pub fn punsubscribe(&self, patterns: JsValue) -> Promise {
        self.change("PUNSUBSCRIBE", patterns)
    }

    /// Subscribe to sharded channels (`SSUBSCRIBE`, Redis 7): on a
    /// `Cluster`, each on the node of its slot (channels of one call share
    /// a slot).
    pub fn ssubscribe(&self, channels: JsValue) -> Promise {
        self.change("SSUBSCRIBE", channels)
    }

    /// Unsubscribe from sharded channels (a `Cluster` needs them named).
    pub fn sunsubscribe(&self, channels: JsValue) -> Promise {
        self.change("SUNSUBSCRIBE", channels)
    }

    /// The next published message, as a `PubSubReply { channel, value,
    /// pattern }`; messages that arrived earlier come first.
    #[wasm_bindgen(js_name = nextPublished)]
    pub fn next_published(&self) -> Promise {
        if let Some(message) = self.state.messages.borrow_mut().pop_front() {
            return Promise::resolve(&message);
        }
        let mut waiter = None;
        let promise = Promise::new(&mut |resolve, reject| waiter = Some((resolve, reject)));
        self.state.waiters.borrow_mut().extend(waiter);
        promise
    }

    /// Ping the server through the subscribed connection.
    pub fn ping(&self) -> Promise {
        match self.state.client.upgrade() {
            Some(client) => {
                client.request_on(self.state.session, Cmd::lookup(["PING"], ReplyKind::Status))
            }
            None => Promise::reject(&not_connected()),
        }
    }
}
