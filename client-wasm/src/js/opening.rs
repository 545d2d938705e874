//! `Connection.create`, `Connection.fromUri`, `Pool.create` and
//! `Cluster.create` share one async body: each `async fn` export would be a
//! future of its own, with its own copy of the machinery that turns it into
//! a Promise (a few KB of wasm apiece).

use std::rc::Rc;

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::client::{ClientInner, ClientOptions};
use super::target::adopted;
use crate::core::Core;

/// What a `create` opens, read from its arguments.
pub struct Opening {
    pub options: ClientOptions,
    pub core: Box<dyn Core>,
    /// The sessions that must each be ready once before the Promise resolves.
    pub ready: usize,
    /// The class around the client (`Connection`, `Pool`, `Cluster`).
    pub wrap: fn(Rc<ClientInner>) -> JsValue,
}

/// Opens what `read` says once the Promise's task runs, as an `async fn`
/// export would: an error of `read` rejects the Promise.
pub fn open(read: Box<dyn FnOnce() -> Result<Opening, JsValue>>) -> Promise {
    future_to_promise(async move {
        let Opening {
            options,
            core,
            ready,
            wrap,
        } = read()?;
        let inner = ClientInner::connect_core(options, core, ready).await?;
        Ok(adopted(wrap(Rc::clone(&inner)), &inner))
    })
}
