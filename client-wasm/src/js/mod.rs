//! The `#[wasm_bindgen]` layer: JS values and browser sockets around the
//! plain-Rust core.

pub mod connection;
pub mod convert;
pub mod cursor;
pub mod encoder;
pub mod errors;
pub mod interned;
#[cfg(feature = "bench")]
pub mod micro;
pub mod old_pipeline;
pub mod pool;
pub mod replies;
pub mod script;
pub mod socket;
pub mod subscription;
pub mod target;
pub mod texts;
pub mod transaction;
