//! The RESP value model.
//!
//! One enum covers RESP2 and RESP3 so that a client can speak either
//! protocol version with the same types. Strings stay [`Bytes`]: RESP is
//! binary-safe, and the decoder hands payloads out without copying them.

use bytes::Bytes;

/// One RESP value.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// `+OK`
    Simple(Bytes),
    /// `-ERR message`
    Error(Bytes),
    /// `:1`
    Integer(i64),
    /// `$3\r\nfoo`
    Bulk(Bytes),
    /// `$-1` and `*-1` (RESP2) or `_` (RESP3); encoded as `$-1\r\n`.
    Null,
    /// `*`
    Array(Vec<Frame>),
    /// `,` (`inf`, `-inf` and `nan` included)
    Double(f64),
    /// `#t` / `#f`
    Boolean(bool),
    /// `(` followed by the decimal digits
    BigNumber(Bytes),
    /// `!`
    BulkError(Bytes),
    /// `=15\r\ntxt:Some string`
    Verbatim {
        /// The three-byte format before the colon, such as `txt` or `mkd`.
        format: [u8; 3],
        /// The text after the colon.
        text: Bytes,
    },
    /// `%`, as key/value pairs in wire order
    Map(Vec<(Frame, Frame)>),
    /// `~`
    Set(Vec<Frame>),
    /// `>`, out-of-band data such as pub/sub messages
    Push(Vec<Frame>),
    /// `|`: an attribute map and the frame it annotates, decoded as one frame.
    Attributed {
        /// The attribute map's key/value pairs.
        attributes: Vec<(Frame, Frame)>,
        /// The frame that followed the attribute map.
        frame: Box<Frame>,
    },
}

impl Frame {
    /// Whether this is an error reply (`-` or `!`).
    pub fn is_error(&self) -> bool {
        matches!(self, Frame::Error(_) | Frame::BulkError(_))
    }
}
