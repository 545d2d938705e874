//! `Subscription`: a connection in pub/sub mode.
//!
//! Published messages queue until `nextPublished()` takes them, so none is
//! lost between two calls. The channels and patterns subscribed to are
//! remembered and subscribed again when the connection reconnects.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::{Rc, Weak};

use js_sys::{Function, Promise};
use resp::Frame;
use wasm_bindgen::prelude::*;

use super::connection::ConnInner;
use super::convert::{plain, ArgReader};
use super::encoder::Encoder;
use super::errors::{error, ErrorClass};
use super::replies::reply_object;
use super::socket::Socket;
use crate::core::ReplyKind;

/// The Promise settlers of one `nextPublished()` call.
type Waiter = (Function, Function);

pub struct SubState {
    conn: Weak<ConnInner>,
    encoder: Encoder,
    channels: RefCell<Vec<Vec<u8>>>,
    patterns: RefCell<Vec<Vec<u8>>>,
    messages: RefCell<VecDeque<JsValue>>,
    waiters: RefCell<VecDeque<Waiter>>,
}

/// Which of the four subscription commands.
#[derive(Clone, Copy)]
enum Kind {
    Subscribe,
    Psubscribe,
    Unsubscribe,
    Punsubscribe,
}

impl Kind {
    fn word(self) -> &'static str {
        match self {
            Kind::Subscribe => "SUBSCRIBE",
            Kind::Psubscribe => "PSUBSCRIBE",
            Kind::Unsubscribe => "UNSUBSCRIBE",
            Kind::Punsubscribe => "PUNSUBSCRIBE",
        }
    }

    fn method(self) -> &'static str {
        match self {
            Kind::Subscribe => "subscribe",
            Kind::Psubscribe => "psubscribe",
            Kind::Unsubscribe => "unsubscribe",
            Kind::Punsubscribe => "punsubscribe",
        }
    }
}

impl SubState {
    pub fn new(conn: Weak<ConnInner>, encoder: Encoder) -> Rc<SubState> {
        Rc::new(SubState {
            conn,
            encoder,
            channels: RefCell::new(Vec::new()),
            patterns: RefCell::new(Vec::new()),
            messages: RefCell::new(VecDeque::new()),
            waiters: RefCell::new(VecDeque::new()),
        })
    }

    /// Puts `socket` in pub/sub mode for this subscription and subscribes
    /// it to everything subscribed so far (after a reconnect).
    pub fn renew(self: &Rc<Self>, socket: &Socket) {
        let weak = Rc::downgrade(self);
        socket.enter_pubsub(Rc::new(move |frame| {
            if let Some(state) = weak.upgrade() {
                state.published(frame);
            }
        }));
        for (kind, names) in [
            (Kind::Subscribe, &self.channels),
            (Kind::Psubscribe, &self.patterns),
        ] {
            let names = names.borrow().clone();
            if !names.is_empty() {
                send(socket, kind, names);
            }
        }
    }

    fn published(&self, frame: Frame) {
        let Frame::Array(items) = frame else { return };
        let mut items = items.into_iter();
        let kind = items.next();
        let (pattern, channel, payload) = match (kind, items.next(), items.next(), items.next()) {
            (_, Some(channel), Some(payload), None) => (Frame::Null, channel, payload),
            (_, Some(pattern), Some(channel), Some(payload)) => (pattern, channel, payload),
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

    /// The connection was closed by the user: nothing more will arrive.
    pub fn close(&self) {
        let closed = error(ErrorClass::NotConnectedError, "the connection is closed");
        for (_, reject) in self.waiters.borrow_mut().drain(..) {
            let _ = reject.call1(&JsValue::NULL, &closed);
        }
    }

    fn change(&self, kind: Kind, names: JsValue) -> Result<Promise, JsValue> {
        let conn = self
            .conn
            .upgrade()
            .ok_or_else(|| error(ErrorClass::NotConnectedError, "the connection is gone"))?;
        let socket = conn.socket().filter(|s| s.is_connected()).ok_or_else(|| {
            error(
                ErrorClass::NotConnectedError,
                "not connected (reconnecting)",
            )
        })?;
        let reader = ArgReader {
            encoder: &self.encoder,
            strict: socket.strict,
        };
        let mut line = Vec::new();
        reader.list(
            &names,
            &|| format!("{}: argument 'channels'", kind.method()),
            &mut line,
            |n, d| reader.native(n, d),
        )?;
        let tracked = match kind {
            Kind::Subscribe | Kind::Unsubscribe => &self.channels,
            Kind::Psubscribe | Kind::Punsubscribe => &self.patterns,
        };
        let mut tracked = tracked.borrow_mut();
        let names = match kind {
            Kind::Subscribe | Kind::Psubscribe => {
                for name in &line {
                    if !tracked.contains(name) {
                        tracked.push(name.clone());
                    }
                }
                line
            }
            Kind::Unsubscribe | Kind::Punsubscribe if line.is_empty() => {
                // Without names Redis unsubscribes from all of them, and
                // confirms each (or once when there were none).
                let all = std::mem::take(&mut *tracked);
                let replies = all.len().max(1);
                let promises = socket.send_answered(
                    vec![kind.word().into()],
                    ReplyKind::Plain,
                    kind.method(),
                    replies,
                );
                return Ok(all_done(promises));
            }
            Kind::Unsubscribe | Kind::Punsubscribe => {
                tracked.retain(|name| !line.contains(name));
                line
            }
        };
        Ok(all_done(send(&socket, kind, names)))
    }
}

/// Sends one subscription command for `names`: Redis confirms each name.
fn send(socket: &Socket, kind: Kind, names: Vec<Vec<u8>>) -> Vec<Promise> {
    let replies = names.len();
    let mut line = vec![kind.word().as_bytes().to_vec()];
    line.extend(names);
    socket.send_answered(line, ReplyKind::Plain, kind.method(), replies)
}

/// Resolves to `undefined` once all `promises` resolved.
fn all_done(promises: Vec<Promise>) -> Promise {
    let all = Promise::all(&promises.into_iter().collect::<js_sys::Array>());
    wasm_bindgen_futures::future_to_promise(async move {
        wasm_bindgen_futures::JsFuture::from(all).await?;
        Ok(JsValue::UNDEFINED)
    })
}

/// A connection's pub/sub side, from `startSubscribe()`.
#[wasm_bindgen]
pub struct Subscription {
    state: Rc<SubState>,
}

impl Subscription {
    pub fn new(state: Rc<SubState>) -> Subscription {
        Subscription { state }
    }

    fn change(&self, kind: Kind, names: JsValue) -> Promise {
        super::connection::settled(self.state.change(kind, names).map(JsValue::from))
    }
}

#[wasm_bindgen]
impl Subscription {
    /// Subscribe to channels (any iterable).
    pub fn subscribe(&self, channels: JsValue) -> Promise {
        self.change(Kind::Subscribe, channels)
    }

    /// Subscribe to patterns (any iterable).
    pub fn psubscribe(&self, patterns: JsValue) -> Promise {
        self.change(Kind::Psubscribe, patterns)
    }

    /// Unsubscribe from channels; an empty list unsubscribes from all.
    pub fn unsubscribe(&self, channels: JsValue) -> Promise {
        self.change(Kind::Unsubscribe, channels)
    }

    /// Unsubscribe from patterns; an empty list unsubscribes from all.
    pub fn punsubscribe(&self, patterns: JsValue) -> Promise {
        self.change(Kind::Punsubscribe, patterns)
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
        let socket = self
            .state
            .conn
            .upgrade()
            .and_then(|conn| conn.socket())
            .filter(|s| s.is_connected());
        match socket {
            Some(socket) => socket.send(vec![b"PING".to_vec()], ReplyKind::Status, "ping"),
            None => super::errors::rejected(ErrorClass::NotConnectedError, "not connected"),
        }
    }
}
