//! Decoding errors.
//!
//! Every error carries the absolute stream offset of the token at fault, so
//! that a bridge can log where a client's stream went wrong. Errors are
//! `Copy` because a decoder that failed keeps returning the same error.

use std::fmt;

/// Why and where decoding failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeError {
    /// What was wrong.
    pub kind: DecodeErrorKind,
    /// Absolute byte offset in the stream of the token at fault.
    pub offset: u64,
}

/// What was wrong with the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeErrorKind {
    /// The byte where a frame should start is not a RESP type.
    InvalidType(u8),
    /// A length header is not a number, or is negative other than `-1`.
    InvalidLength,
    /// A bulk length header exceeds [`Limits::max_bulk_len`](crate::Limits::max_bulk_len).
    BulkTooLong {
        /// The length the header claimed.
        len: u64,
        /// The limit in force.
        limit: usize,
    },
    /// Aggregates nest deeper than [`Limits::max_depth`](crate::Limits::max_depth).
    TooDeep {
        /// The limit in force.
        limit: usize,
    },
    /// No CRLF within [`Limits::max_line_len`](crate::Limits::max_line_len) bytes.
    LineTooLong {
        /// The limit in force.
        limit: usize,
    },
    /// An integer or big number is malformed or out of range.
    InvalidInteger,
    /// A double is malformed.
    InvalidDouble,
    /// A boolean is neither `#t` nor `#f`.
    InvalidBoolean,
    /// A verbatim string does not start with a three-byte format and `:`.
    InvalidVerbatim,
    /// A line or payload is not terminated by CRLF.
    MissingCrlf,
    /// [`Decoder::decode`](crate::Decoder::decode) was called while an
    /// aggregate started by `decode_streaming` is still open. This misuse
    /// does not poison the decoder.
    StreamInProgress,
}

impl fmt::Display for DecodeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeErrorKind::InvalidType(byte) => write!(f, "invalid type byte 0x{byte:02x}"),
            DecodeErrorKind::InvalidLength => f.write_str("invalid length"),
            DecodeErrorKind::BulkTooLong { len, limit } => {
                write!(f, "bulk length {len} exceeds the limit of {limit} bytes")
            }
            DecodeErrorKind::TooDeep { limit } => {
                write!(f, "nesting exceeds the limit of {limit} levels")
            }
            DecodeErrorKind::LineTooLong { limit } => {
                write!(f, "no CRLF within the line limit of {limit} bytes")
            }
            DecodeErrorKind::InvalidInteger => f.write_str("invalid integer"),
            DecodeErrorKind::InvalidDouble => f.write_str("invalid double"),
            DecodeErrorKind::InvalidBoolean => f.write_str("invalid boolean"),
            DecodeErrorKind::InvalidVerbatim => f.write_str("invalid verbatim string"),
            DecodeErrorKind::MissingCrlf => f.write_str("missing CRLF"),
            DecodeErrorKind::StreamInProgress => {
                f.write_str("decode called while a streamed aggregate is open")
            }
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.kind, self.offset)
    }
}

impl std::error::Error for DecodeError {}
