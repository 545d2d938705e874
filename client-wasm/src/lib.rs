//! redis-wasm: a Redis client for the browser.
//!
//! `core` is plain Rust, sans-IO (the command table, sessions, the pool,
//! transactions, reply matching) and is tested natively; `js` is the thin
//! `#[wasm_bindgen]` layer: transports, timers, Promises and JS values. The
//! command methods are JS, installed from the generated table
//! (`js/commands.js`, `js/install.js`). The npm entry module (`js/index.js`)
//! initialises the wasm and re-exports the classes.

pub mod core;
pub mod js;

use wasm_bindgen::prelude::*;

pub use js::connection::Connection;
pub use js::pool::Pool;

/// The JS classes (errors, encoders) for the package entry to re-export.
#[wasm_bindgen(js_name = __classes)]
pub fn exported_classes() -> JsValue {
    js::errors::classes()
}
