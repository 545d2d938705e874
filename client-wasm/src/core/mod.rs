//! The plain-Rust heart of the client: no JavaScript in here.
//!
//! Everything that decides *what* happens to a command — which socket it
//! goes to, which reply belongs to which request, what a dropped socket
//! does to the requests in flight, how a transaction, a subscription or a
//! reconnect unfolds — lives here, sans-IO: driven by inputs (bytes, socket
//! events, the clock) and answering with outputs, so it runs under a native
//! `cargo test` with a scripted transport. The `js` layer only moves bytes
//! and values across the wasm boundary.

pub mod backoff;
pub mod cache;
pub mod cluster;
pub mod cmd;
pub mod command;
pub mod command_info;
pub mod cursor;
pub mod error;
pub mod gather;
pub mod host;
pub mod ids;
pub mod keys;
pub mod pipeline;
pub mod pool;
pub mod script;
pub mod session;
pub mod slots;
pub mod small_map;
pub mod table;
pub mod uri;

#[cfg(test)]
mod cache_tests;
#[cfg(test)]
mod cluster_tests;
#[cfg(test)]
mod tests;

pub use command::ReplyKind;
pub use error::ClientError;
pub use host::Core;
