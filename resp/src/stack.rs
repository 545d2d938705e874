//! Assembling aggregates from their children.
//!
//! An aggregate's children may arrive over many `feed` calls, so the
//! partially built aggregates live on an explicit stack rather than in a
//! recursive parser. That lets a call stop after any token and resume
//! without re-parsing, keeps native stack use flat on hostile nesting, and
//! makes the depth limit a length check.
//!
//! A length header is only a claim: storage is preallocated up to a small
//! bound and grows as children actually arrive.

use std::mem;

use crate::token::Header;
use crate::{AggregateKind, DecodeErrorKind, Frame};

/// Upper bound on the bytes reserved for an aggregate's children before they arrive.
const PREALLOC_BYTES: usize = 16 * 1024;

#[derive(Debug)]
pub(crate) struct Stack {
    open: Vec<Open>,
    max_depth: usize,
}

/// An aggregate still waiting for children.
#[derive(Debug)]
struct Open {
    /// Children still to come; two per pair in maps and attributes.
    remaining: u64,
    partial: Partial,
}

#[derive(Debug)]
enum Partial {
    /// A top-level aggregate decoded by `decode_streaming`: its children are
    /// handed out as they complete instead of being stored.
    Streamed { kind: AggregateKind, len: usize },
    /// An array, set or push, with the constructor of its frame.
    Seq(fn(Vec<Frame>) -> Frame, Vec<Frame>),
    /// A map, or the attribute map of an attributed frame.
    Pairs {
        attribute: bool,
        pairs: Vec<(Frame, Frame)>,
        key: Option<Frame>,
    },
    /// A complete attribute map waiting for the frame it annotates.
    Annotated(Vec<(Frame, Frame)>),
}

impl Stack {
    pub(crate) fn new(max_depth: usize) -> Self {
        Stack {
            open: Vec::new(),
            max_depth,
        }
    }

    /// The kind and length of the top-level aggregate being streamed, if any.
    pub(crate) fn stream(&self) -> Option<(AggregateKind, usize)> {
        match self.open.first()?.partial {
            Partial::Streamed { kind, len } => Some((kind, len)),
            _ => None,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.open.is_empty()
    }

    /// Closes the streamed top-level aggregate if all its children have
    /// been handed out, and tells whether it did.
    pub(crate) fn end_stream(&mut self) -> bool {
        let done = matches!(
            self.open[..],
            [Open {
                remaining: 0,
                partial: Partial::Streamed { .. },
            }]
        );
        if done {
            self.open.clear();
        }
        done
    }

    /// Opens the aggregate announced by a header of `len` elements (pairs
    /// for maps and attributes); `streamed` makes it the streamed top-level
    /// aggregate. Returns the frame this completes, if any: an empty
    /// aggregate is complete at once.
    pub(crate) fn open(
        &mut self,
        header: Header,
        len: usize,
        streamed: bool,
    ) -> Result<Option<Frame>, DecodeErrorKind> {
        if self.open.len() >= self.max_depth {
            return Err(DecodeErrorKind::TooDeep {
                limit: self.max_depth,
            });
        }
        // Headers carry `i64` lengths, so doubling them cannot overflow.
        let remaining = match header {
            Header::Aggregate(AggregateKind::Map) | Header::Attribute => len as u64 * 2,
            Header::Aggregate(_) => len as u64,
        };
        let partial = match header {
            Header::Aggregate(kind) if streamed => Partial::Streamed { kind, len },
            Header::Aggregate(AggregateKind::Array) => seq(Frame::Array, len),
            Header::Aggregate(AggregateKind::Set) => seq(Frame::Set, len),
            Header::Aggregate(AggregateKind::Push) => seq(Frame::Push, len),
            Header::Aggregate(AggregateKind::Map) => pairs(false, len),
            Header::Attribute => pairs(true, len),
        };
        self.open.push(Open { remaining, partial });
        Ok(self.close().and_then(|frame| self.push(frame)))
    }

    /// Hands a complete frame to the innermost open aggregate, closing every
    /// aggregate it completes. Returns the frame that comes out at the
    /// bottom, if any: a complete top-level frame, or a child of the
    /// streamed aggregate.
    #[inline]
    pub(crate) fn push(&mut self, mut frame: Frame) -> Option<Frame> {
        loop {
            let Some(top) = self.open.last_mut() else {
                return Some(frame);
            };
            top.remaining -= 1;
            match &mut top.partial {
                Partial::Streamed { .. } => return Some(frame),
                Partial::Seq(_, items) => items.push(frame),
                Partial::Pairs { pairs, key, .. } => match key.take() {
                    Some(key) => pairs.push((key, frame)),
                    None => *key = Some(frame),
                },
                Partial::Annotated(attributes) => {
                    frame = Frame::Attributed {
                        attributes: mem::take(attributes),
                        frame: Box::new(frame),
                    };
                    self.open.pop();
                    continue;
                }
            }
            frame = self.close()?;
        }
    }

    /// Takes the innermost aggregate off the stack as a frame if it has all
    /// its children.
    fn close(&mut self) -> Option<Frame> {
        let top = self.open.last_mut()?;
        if top.remaining > 0 {
            return None;
        }
        let frame = match &mut top.partial {
            Partial::Seq(make, items) => make(mem::take(items)),
            Partial::Pairs {
                attribute: false,
                pairs,
                ..
            } => Frame::Map(mem::take(pairs)),
            Partial::Pairs {
                attribute: true,
                pairs,
                ..
            } => {
                top.partial = Partial::Annotated(mem::take(pairs));
                top.remaining = 1;
                return None;
            }
            // The streamed aggregate closes with `Event::End`, an annotation
            // with the frame it annotates.
            Partial::Streamed { .. } | Partial::Annotated(_) => return None,
        };
        self.open.pop();
        Some(frame)
    }
}

fn seq(make: fn(Vec<Frame>) -> Frame, len: usize) -> Partial {
    Partial::Seq(make, bounded_vec(len))
}

fn pairs(attribute: bool, len: usize) -> Partial {
    Partial::Pairs {
        attribute,
        pairs: bounded_vec(len),
        key: None,
    }
}

/// A vector for `len` elements announced by an untrusted header.
fn bounded_vec<T>(len: usize) -> Vec<T> {
    Vec::with_capacity(len.min(PREALLOC_BYTES / mem::size_of::<T>()))
}
