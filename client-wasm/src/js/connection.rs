//! `Connection`: one Redis connection through a bridge.
//!
//! The state machines are the core's (`crate::core::pool` in single mode):
//! a transaction or a subscription makes the connection refuse other
//! commands, a blocking call makes later commands wait behind it, a lost
//! socket fails what was in flight and is dialled again with backoff, and
//! the handshake replays what `AUTH`, `SELECT`, `HELLO` and `CLIENT
//! SETNAME` set — sent as methods or through `call()` alike.

use std::rc::Rc;

use js_sys::Promise;
use wasm_bindgen::prelude::*;

use super::client::{seed, ClientInner, ClientOptions};
use super::opening::{open, Opening};
use super::options;
use super::subscription::Subscription;
use super::target::{sending_methods, Target, Via};
use super::transaction::Transaction;
use crate::core::pool::{Mode, Pool};

/// One connection to Redis through a WebSocket bridge.
#[wasm_bindgen]
pub struct Connection {
    inner: Rc<ClientInner>,
}

impl Target for Connection {
    fn via(&self) -> Via {
        Via::Client(Rc::clone(&self.inner))
    }
}

sending_methods!(Connection, issuing);

impl Connection {
    fn opening(options: ClientOptions) -> Opening {
        Opening {
            core: Box::new(Pool::new(options.config.clone(), 1, Mode::Single, seed())),
            options,
            ready: 1,
            wrap: |inner| Connection { inner }.into(),
        }
    }
}

#[wasm_bindgen]
impl Connection {
    /// Opens a connection: `{ url, password, db, encoder, autoReconnect,
    /// enableTypechecking, token, reconnectCap, connectTimeout,
    /// commandTimeout, maxRetries, offlineQueue, protocol, clientName,
    /// WebSocket }`. Resolves once the handshake is done.
    pub fn create(options: JsValue) -> Promise {
        open(Box::new(move || {
            options::read(&options, "Connection.create").map(Connection::opening)
        }))
    }

    /// Opens a connection from `ws[s]://[user:password@]host:port[/path][/DB][?password=...]`;
    /// `options` may add any other option of `create`.
    #[wasm_bindgen(js_name = fromUri)]
    pub fn from_uri(uri: String, options: JsValue) -> Promise {
        open(Box::new(move || {
            options::from_uri(&uri, &options, "Connection.fromUri").map(Connection::opening)
        }))
    }

    /// Closes the connection; commands still in flight reject with
    /// `ConnectionLostError`, later ones with `NotConnectedError`.
    pub fn close(&self) {
        self.inner.close();
    }

    /// Start a transaction, watching `watch` (any iterable of keys) first.
    pub fn multi(&self, watch: JsValue) -> Promise {
        Transaction::begin(&self.inner, watch)
    }

    /// Enter pub/sub mode: the `Subscription` subscribes and receives.
    #[wasm_bindgen(js_name = startSubscribe)]
    pub fn start_subscribe(&self) -> Promise {
        Subscription::start(&self.inner)
    }

    /// The lifecycle events (`connect`, `ready`, `reconnecting`, `error`,
    /// `close`, `end`), which `addEventListener` listens to.
    #[wasm_bindgen(getter)]
    pub fn events(&self) -> web_sys::EventTarget {
        self.inner.events.clone()
    }

    #[wasm_bindgen(getter, js_name = isConnected)]
    pub fn is_connected(&self) -> bool {
        self.inner.core.borrow().is_connected(0)
    }

    #[wasm_bindgen(getter, js_name = inTransaction)]
    pub fn in_transaction(&self) -> bool {
        self.inner.core.borrow().in_transaction(0)
    }

    #[wasm_bindgen(getter, js_name = inPubsub)]
    pub fn in_pubsub(&self) -> bool {
        self.inner.core.borrow().in_pubsub(0)
    }

    #[wasm_bindgen(getter, js_name = inBlockingCall)]
    pub fn in_blocking_call(&self) -> bool {
        self.inner.core.borrow().in_blocking_call(0)
    }

    /// In a transaction, a blocking call or pub/sub: a pool sends other
    /// commands elsewhere.
    #[wasm_bindgen(getter, js_name = inUse)]
    pub fn in_use(&self) -> bool {
        self.inner.core.borrow().in_use(0)
    }
}
