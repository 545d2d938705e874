//! redis-wasm: a Redis client for the browser.
//!
//! `core` is plain Rust (pipeline, reply matching, the command model) and is
//! tested natively; `js` is the thin `#[wasm_bindgen]` layer over browser
//! WebSockets; `commands` is the table of command methods. The npm entry
//! module (`js/index.js`) initialises the wasm and re-exports the classes.

pub mod commands;
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
