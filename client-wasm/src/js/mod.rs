//! The `#[wasm_bindgen]` layer: JS values, transports and timers around the
//! plain-Rust core.

pub mod client;
pub mod cluster;
pub mod connection;
pub mod convert;
pub mod cursor;
pub mod encoder;
pub mod errors;
pub mod interned;
#[cfg(feature = "bench")]
pub mod micro;
pub mod opening;
pub mod options;
pub mod pool;
pub mod replies;
pub mod script;
pub mod subscription;
pub mod target;
pub mod texts;
pub mod transaction;
pub mod transport;
