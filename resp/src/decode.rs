//! The incremental decoder.
//!
//! Bytes go in with [`Decoder::feed`] in whatever chunks the transport
//! delivers; frames come out once complete. [`Decoder::decode_streaming`]
//! additionally hands out the children of a large top-level reply (a big
//! `LRANGE`, `SCAN` page or pub/sub push) as each one completes, so a client
//! can show progress before the whole reply has arrived.
//!
//! Malformed input leaves no reliable frame boundary to resume from, so the
//! first error poisons the decoder: every later call returns it again.
//!
//! The path from a token to the returned frame is `#[inline]` on purpose:
//! copying a just-built `Frame` through the `Result` and `Option` layers in
//! between stalls store forwarding, while inlined the optimizer builds each
//! frame where it ends up. That made decoding about 1.8 times faster.

use bytes::BytesMut;

use crate::stack::Stack;
use crate::token::{Header, Reader, Token};
use crate::{DecodeError, DecodeErrorKind, Frame, Limits};

/// What [`Decoder::decode_streaming`] hands out.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A complete top-level frame that is not streamed: anything but an
    /// array, set, map or push (including nulls and attributed frames).
    Frame(Frame),
    /// A top-level aggregate begins. For a map, `len` counts pairs.
    Start {
        /// Which aggregate it is.
        kind: AggregateKind,
        /// How many children (pairs for a map) follow.
        len: usize,
    },
    /// One complete child of the streamed aggregate; map children alternate
    /// key, value, key, value...
    Item(Frame),
    /// The streamed aggregate is complete.
    End,
}

/// The aggregates that [`Decoder::decode_streaming`] streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggregateKind {
    /// `*`
    Array,
    /// `~`
    Set,
    /// `%`
    Map,
    /// `>`
    Push,
}

/// Incremental RESP2/RESP3 decoder.
///
/// ```
/// use resp::{Decoder, Frame};
///
/// let mut decoder = Decoder::new();
/// decoder.feed(b"*2\r\n$3\r\nfoo\r\n:4");
/// assert_eq!(decoder.decode(), Ok(None));
/// decoder.feed(b"2\r\n");
/// assert_eq!(
///     decoder.decode(),
///     Ok(Some(Frame::Array(vec![Frame::Bulk("foo".into()), Frame::Integer(42)])))
/// );
/// ```
#[derive(Debug)]
pub struct Decoder {
    reader: Reader,
    stack: Stack,
    error: Option<DecodeError>,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new()
    }
}

impl Decoder {
    /// A decoder with the default [`Limits`].
    pub fn new() -> Self {
        Decoder::with_limits(Limits::default())
    }

    /// A decoder with the given limits.
    pub fn with_limits(limits: Limits) -> Self {
        Decoder {
            reader: Reader::new(limits),
            stack: Stack::new(limits.max_depth),
            error: None,
        }
    }

    /// Appends input bytes.
    pub fn feed(&mut self, data: &[u8]) {
        self.reader.buf.extend_from_slice(data);
    }

    /// The input buffer, for callers that copy input straight into it.
    /// Append only: bytes already buffered must stay as they are.
    pub fn buffer_mut(&mut self) -> &mut BytesMut {
        &mut self.reader.buf
    }

    /// Bytes fed but not yet consumed.
    pub fn buffered(&self) -> usize {
        self.reader.buf.len()
    }

    /// Hands a large bulk string to the caller instead of buffering it: when
    /// the next top-level frame is a `$` bulk string of at least `min` bytes
    /// that has not all arrived, consumes its header and what is buffered of
    /// its payload and CRLF, and returns its length and those bytes. The
    /// caller then takes the rest of the payload and the CRLF (`len + 2`
    /// bytes in all) from the stream itself, and feeds what follows. A host
    /// that receives a large value in many messages can so gather it in
    /// place once, instead of buffering it here and copying it out again.
    pub fn take_large_bulk(&mut self, min: usize) -> Option<(usize, BytesMut)> {
        if self.error.is_some() || !self.stack.is_empty() {
            return None;
        }
        self.reader.large_bulk(min)
    }

    /// Next complete top-level frame, `Ok(None)` if more input is needed.
    ///
    /// Fails with [`DecodeErrorKind::StreamInProgress`] while an aggregate
    /// started by [`decode_streaming`](Self::decode_streaming) is open.
    #[inline]
    pub fn decode(&mut self) -> Result<Option<Frame>, DecodeError> {
        if self.error.is_none() && self.stack.stream().is_some() {
            return Err(DecodeError {
                kind: DecodeErrorKind::StreamInProgress,
                offset: self.reader.offset(),
            });
        }
        self.next_frame(false)
    }

    /// Next streaming event, `Ok(None)` if more input is needed.
    ///
    /// A top-level array, set, map or push comes as [`Event::Start`], then
    /// one [`Event::Item`] per child as soon as that child is complete
    /// (children themselves are whole frames), then [`Event::End`]. Any
    /// other top-level frame comes as [`Event::Frame`], as does an aggregate
    /// that [`decode`](Self::decode) had already begun.
    pub fn decode_streaming(&mut self) -> Result<Option<Event>, DecodeError> {
        if self.error.is_none() && self.stack.end_stream() {
            return Ok(Some(Event::End));
        }
        let was_streaming = self.stack.stream().is_some();
        let frame = self.next_frame(true)?;
        Ok(match (frame, self.stack.stream()) {
            (Some(frame), None) => Some(Event::Frame(frame)),
            (Some(frame), Some(_)) => Some(Event::Item(frame)),
            (None, Some((kind, len))) if !was_streaming => Some(Event::Start { kind, len }),
            (None, _) => None,
        })
    }

    /// The next frame to come out at the bottom of the stack: a complete
    /// top-level frame or a child of the streamed aggregate. With
    /// `streaming`, also stops after opening a streamed aggregate.
    #[inline]
    fn next_frame(&mut self, streaming: bool) -> Result<Option<Frame>, DecodeError> {
        if let Some(error) = self.error {
            return Err(error);
        }
        let result = self.read_frame(streaming);
        if let Err(error) = result {
            self.error = Some(error);
        }
        result
    }

    #[inline]
    fn read_frame(&mut self, streaming: bool) -> Result<Option<Frame>, DecodeError> {
        loop {
            let offset = self.reader.offset();
            let fail = |kind| DecodeError { kind, offset };
            let frame = match self.reader.next().map_err(fail)? {
                None => return Ok(None),
                Some(Token::Frame(frame)) => self.stack.push(frame),
                Some(Token::Header(header, len)) => {
                    let streamed = streaming
                        && self.stack.is_empty()
                        && matches!(header, Header::Aggregate(_));
                    let frame = self.stack.open(header, len, streamed).map_err(fail)?;
                    if streamed {
                        return Ok(None);
                    }
                    frame
                }
            };
            if frame.is_some() {
                return Ok(frame);
            }
        }
    }
}
