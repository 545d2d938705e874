//! `Pool`: several connections behind one command API.
//!
//! Each command goes to a free connection: one not in a transaction, a
//! blocking call or pub/sub (the seed's `in_use`), the one with the fewest
//! commands in flight among them. When every connection is in use, the
//! command rejects with `NoAvailableConnectionsInPoolError`.

use std::rc::Rc;

use js_sys::{Promise, Reflect};
use wasm_bindgen::prelude::*;

use super::connection::{settled, ConnInner, Options};
use super::errors::{error, type_error, ErrorClass};
use super::target::{Build, Issuer, Target};
use super::transaction::Transaction;

pub struct PoolInner {
    connections: Vec<Rc<ConnInner>>,
}

impl PoolInner {
    fn free_connection(&self) -> Result<Rc<ConnInner>, JsValue> {
        self.connections
            .iter()
            .filter(|conn| conn.is_connected() && !conn.in_use())
            .min_by_key(|conn| conn.in_flight())
            .cloned()
            .ok_or_else(|| {
                error(
                    ErrorClass::NoAvailableConnectionsInPoolError,
                    &format!(
                        "all {} connections of the pool are in use or disconnected",
                        self.connections.len()
                    ),
                )
            })
    }
}

impl Issuer for Rc<PoolInner> {
    fn issue_with(&self, build: Build) -> Promise {
        match self.free_connection() {
            Ok(conn) => conn.issue_with(build),
            Err(err) => Promise::reject(&err),
        }
    }
}

/// A pool of connections with every command method of `Connection`.
#[wasm_bindgen]
pub struct Pool {
    inner: Rc<PoolInner>,
}

impl Target for Pool {
    fn issuer(&self) -> Rc<dyn Issuer> {
        Rc::new(Rc::clone(&self.inner))
    }
}

#[wasm_bindgen]
impl Pool {
    /// Opens `poolsize` connections (default 1) with the options of
    /// `Connection.create`.
    pub async fn create(options: JsValue) -> Result<Pool, JsValue> {
        let size = Reflect::get(&options, &"poolsize".into())
            .ok()
            .filter(|size| !size.is_undefined());
        let size = match size.map(|size| size.as_f64()) {
            None => 1,
            Some(Some(size)) if size >= 1.0 && size.fract() == 0.0 => size as usize,
            Some(_) => {
                return Err(type_error(
                    "Pool.create: options.poolsize must be a positive integer",
                ))
            }
        };
        let mut connections = Vec::with_capacity(size);
        for _ in 0..size {
            let options = Options::read(&options, "Pool.create")?;
            match ConnInner::connect(options).await {
                Ok(conn) => connections.push(conn),
                Err(err) => {
                    connections.iter().for_each(|conn| conn.close());
                    return Err(err);
                }
            }
        }
        Ok(Pool {
            inner: Rc::new(PoolInner { connections }),
        })
    }

    #[wasm_bindgen(getter)]
    pub fn poolsize(&self) -> usize {
        self.inner.connections.len()
    }

    /// How many connections are in a transaction, blocking call or pub/sub.
    #[wasm_bindgen(getter, js_name = connectionsInUse)]
    pub fn connections_in_use(&self) -> usize {
        self.inner
            .connections
            .iter()
            .filter(|conn| conn.in_use())
            .count()
    }

    #[wasm_bindgen(getter, js_name = connectionsConnected)]
    pub fn connections_connected(&self) -> usize {
        self.inner
            .connections
            .iter()
            .filter(|conn| conn.is_connected())
            .count()
    }

    pub fn close(&self) {
        self.inner.connections.iter().for_each(|conn| conn.close());
    }

    /// A transaction on a free connection.
    pub async fn multi(&self, watch: JsValue) -> Result<Transaction, JsValue> {
        self.inner.free_connection()?.multi(watch).await
    }

    /// Pub/sub on a free connection, which stays subscribed.
    #[wasm_bindgen(js_name = startSubscribe)]
    pub fn start_subscribe(&self) -> Promise {
        settled(
            self.inner
                .free_connection()
                .and_then(|conn| conn.start_subscribe())
                .map(JsValue::from),
        )
    }
}
