//! Drives decoders over chunked input. Shared by the property tests and the
//! fuzz target, which compiles this file into itself.

use std::fmt::Debug;

use resp::{AggregateKind, DecodeError, Decoder, Event, Frame};

/// Everything a decoder yielded from a stream, and the error it stopped at.
#[derive(Debug)]
pub struct Outcome<T> {
    pub items: Vec<T>,
    pub error: Option<DecodeError>,
}

/// Feeds `chunks` one by one, calling `next` after each until it needs more
/// input. Also checks that an error poisons the decoder.
fn drive<'a, T>(
    chunks: impl IntoIterator<Item = &'a [u8]>,
    mut next: impl FnMut(&mut Decoder) -> Result<Option<T>, DecodeError>,
) -> Outcome<T> {
    let mut decoder = Decoder::new();
    let mut items = Vec::new();
    for chunk in chunks {
        decoder.feed(chunk);
        loop {
            match next(&mut decoder) {
                Ok(Some(item)) => items.push(item),
                Ok(None) => break,
                Err(error) => {
                    decoder.feed(b"+OK\r\n");
                    assert_eq!(next(&mut decoder).err(), Some(error), "not poisoned");
                    return Outcome {
                        items,
                        error: Some(error),
                    };
                }
            }
        }
    }
    Outcome { items, error: None }
}

/// Frames from [`Decoder::decode`] over `chunks`.
pub fn decode_chunks<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> Outcome<Frame> {
    drive(chunks, Decoder::decode)
}

/// Events from [`Decoder::decode_streaming`] over `chunks`.
pub fn stream_chunks<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> Outcome<Event> {
    drive(chunks, Decoder::decode_streaming)
}

/// Rebuilds whole frames from streaming events, checking that the events
/// are well formed. An aggregate still open at the end is left out.
pub fn reassemble(events: Vec<Event>) -> Vec<Frame> {
    let mut frames = Vec::new();
    let mut open: Option<(AggregateKind, usize, Vec<Frame>)> = None;
    for event in events {
        match (event, open.take()) {
            (Event::Frame(frame), None) => frames.push(frame),
            (Event::Start { kind, len }, None) => open = Some((kind, len, Vec::new())),
            (Event::Item(frame), Some((kind, len, mut items))) => {
                items.push(frame);
                open = Some((kind, len, items));
            }
            (Event::End, Some((kind, len, items))) => {
                let children = if kind == AggregateKind::Map {
                    2 * len
                } else {
                    len
                };
                assert_eq!(items.len(), children, "{kind:?} children");
                frames.push(match kind {
                    AggregateKind::Array => Frame::Array(items),
                    AggregateKind::Set => Frame::Set(items),
                    AggregateKind::Push => Frame::Push(items),
                    AggregateKind::Map => {
                        let mut items = items.into_iter();
                        let pairs = std::iter::from_fn(|| Some((items.next()?, items.next()?)));
                        Frame::Map(pairs.collect())
                    }
                });
            }
            (event, open) => panic!("{event:?} while {open:?} is open"),
        }
    }
    frames
}

/// Asserts equality through `Debug`, which, unlike `PartialEq`, tells
/// `-0.0` from `0.0` and equates NaNs.
fn assert_same<T: Debug>(actual: &T, expected: &T, what: &str) {
    assert_eq!(format!("{actual:?}"), format!("{expected:?}"), "{what}");
}

/// The fuzz body. The first byte picks a chunk size for the rest of the
/// input; decoding whole, decoding chunked and streaming chunked must yield
/// the same frames and stop at the same error.
pub fn check(data: &[u8]) {
    let Some((&size, input)) = data.split_first() else {
        return;
    };
    let chunks = || input.chunks(usize::from(size) + 1);
    let whole = decode_chunks([input]);
    let chunked = decode_chunks(chunks());
    assert_same(&chunked.items, &whole.items, "chunked frames");
    assert_eq!(chunked.error, whole.error, "chunked error");
    let streamed = stream_chunks(chunks());
    assert_eq!(streamed.error, whole.error, "streamed error");
    assert_same(&reassemble(streamed.items), &whole.items, "streamed frames");
}
