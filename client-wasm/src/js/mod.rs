//! The `#[wasm_bindgen]` layer: JS values and browser sockets around the
//! plain-Rust core.

pub mod connection;
pub mod convert;
pub mod encoder;
pub mod errors;
pub mod replies;
pub mod socket;
