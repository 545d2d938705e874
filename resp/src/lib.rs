//! RESP2 and RESP3 codec shared by the browser client and the WebSocket bridge.
//!
//! The client decodes Redis replies and encodes commands; the bridge decodes
//! commands that arrive from untrusted browsers. Both therefore need a
//! decoder that can be fed arbitrary chunks, never re-parses what it has
//! already consumed, and refuses hostile input (huge length headers, deep
//! nesting, endless lines) before it costs memory. The crate depends only on
//! `bytes` and `memchr` (and, in the browser, `js-sys`, to read doubles
//! with the host's parser: see `double.rs`), so it builds for wasm and
//! native targets alike.
//!
//! * [`Frame`] is one RESP value.
//! * [`Decoder`] turns a byte stream into frames, whole or streamed as [`Event`]s.
//! * [`encode`] and its helpers turn frames and commands back into bytes.
//! * [`parse_double`] reads a double's text, as `,` frames carry it.
//! * [`corpus`] is the input of the decoder benchmarks, native and in-browser.

pub mod corpus;
mod decode;
mod double;
mod encode;
mod error;
mod frame;
mod limits;
mod stack;
mod token;

pub use bytes::{Bytes, BytesMut};
pub use decode::{AggregateKind, Decoder, Event};
pub use double::parse_double;
pub use encode::{encode, encode_command, write_array_header, write_bulk};
pub use error::{DecodeError, DecodeErrorKind};
pub use frame::Frame;
pub use limits::Limits;
