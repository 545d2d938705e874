//! Bounds on what a [`Decoder`](crate::Decoder) accepts.
//!
//! A length header is only a claim: the decoder checks it against these
//! limits as soon as the header is parsed, so a hostile peer is refused
//! before it can make the decoder buffer or nest without end.

/// Decoder limits. The defaults match Redis' own `proto-max-bulk-len`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted bulk payload (`$`, `!`, `=`), in bytes. Default 512 MiB.
    pub max_bulk_len: usize,
    /// Deepest accepted nesting of aggregates and attributes. Default 128.
    pub max_depth: usize,
    /// Longest accepted line (simple strings, numbers and headers), in bytes
    /// before the CRLF. Default 64 KiB.
    pub max_line_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bulk_len: 512 * 1024 * 1024,
            max_depth: 128,
            max_line_len: 64 * 1024,
        }
    }
}
