//! The plain-Rust heart of the client: no JavaScript in here.
//!
//! Everything that decides *what* happens to a command — how it is encoded,
//! which reply belongs to which request, what a dropped socket does to the
//! requests in flight — lives here so that it runs under a native
//! `cargo test`. The `js` layer only moves bytes and values across the
//! wasm boundary.

pub mod command;
pub mod command_info;
pub mod error;
pub mod keys;
pub mod pipeline;
pub mod table;
pub mod uri;

pub use command::ReplyKind;
pub use error::ClientError;
pub use pipeline::Pipeline;
