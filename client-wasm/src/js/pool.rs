//! `Pool`: several connections behind one command API.
//!
//! The core's pool mode chooses the connection of each command: one that no
//! transaction, blocking call or subscription holds, the one with the fewest
//! commands in flight; when there is none, the command rejects with
//! `NoAvailableConnectionsInPoolError`.

use std::rc::Rc;

use js_sys::Promise;
use wasm_bindgen::prelude::*;

use super::client::{seed, ClientInner};
use super::opening::{open, Opening};
use super::options;
use super::subscription::Subscription;
use super::target::{sending_methods, Target, Via};
use super::transaction::Transaction;
use crate::core::pool::{Mode, Pool as PoolCore};
use crate::core::Core;

/// A pool of connections with every command method of `Connection`.
#[wasm_bindgen]
pub struct Pool {
    inner: Rc<ClientInner>,
}

impl Target for Pool {
    fn via(&self) -> Via {
        Via::Client(Rc::clone(&self.inner))
    }
}

sending_methods!(Pool, issuing);

impl Pool {
    fn count(&self, test: impl Fn(&dyn Core, usize) -> bool) -> usize {
        let core = self.inner.core.borrow();
        (0..core.size()).filter(|&i| test(&**core, i)).count()
    }
}

#[wasm_bindgen]
impl Pool {
    /// Opens `poolsize` connections (default 1) with the options of
    /// `Connection.create`; resolves once each was ready.
    pub fn create(options: JsValue) -> Promise {
        open(Box::new(move || {
            let size = options::poolsize(&options, "Pool.create")?;
            let options = options::read(&options, "Pool.create")?;
            Ok(Opening {
                core: Box::new(PoolCore::new(
                    options.config.clone(),
                    size,
                    Mode::Pool,
                    seed(),
                )),
                options,
                ready: size,
                wrap: |inner| Pool { inner }.into(),
            })
        }))
    }

    #[wasm_bindgen(getter)]
    pub fn poolsize(&self) -> usize {
        self.inner.core.borrow().size()
    }

    /// How many connections are in a transaction, blocking call or pub/sub.
    #[wasm_bindgen(getter, js_name = connectionsInUse)]
    pub fn connections_in_use(&self) -> usize {
        self.count(|pool, i| pool.in_use(i))
    }

    #[wasm_bindgen(getter, js_name = connectionsConnected)]
    pub fn connections_connected(&self) -> usize {
        self.count(|pool, i| pool.is_connected(i))
    }

    /// The lifecycle events of every connection (`detail.connection` says
    /// which); `end` once all have ended.
    #[wasm_bindgen(getter)]
    pub fn events(&self) -> web_sys::EventTarget {
        self.inner.events.clone()
    }

    pub fn close(&self) {
        self.inner.close();
    }

    /// A transaction on a free connection.
    pub fn multi(&self, watch: JsValue) -> Promise {
        Transaction::begin(&self.inner, watch)
    }

    /// Pub/sub on a free connection, which stays subscribed.
    #[wasm_bindgen(js_name = startSubscribe)]
    pub fn start_subscribe(&self) -> Promise {
        Subscription::start(&self.inner)
    }
}
