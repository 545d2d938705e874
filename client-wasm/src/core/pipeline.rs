//! Requests out, replies in, strictly first-in first-out, on one socket.
//!
//! A [`Pipeline`] owns the commands not yet handed to the transport, the
//! queue of entries that wait for replies and the RESP decoder fed by the
//! socket. Commands are encoded when the transport flushes, so commands
//! issued together leave together, and a command can still be taken back
//! (aborted) until then. Each reply pops the head of the queue: Redis
//! answers in order, so matching by position is exact.
//!
//! - An entry may stream: a top-level aggregate then comes as `Start`, one
//!   `Item` per child as soon as it is parsed, and `End`.
//! - An entry may take several replies (`SUBSCRIBE a b c` is answered three
//!   times); they are collected into one array.
//! - Pushes never pop an entry: a RESP3 `>` frame is out of band, except the
//!   (un)subscribe confirmation that the head entry waits for; in RESP2
//!   pub/sub mode `message`, `pmessage` and `smessage` arrays are pushes.
//! - An abandoned entry (timed out, aborted after sending) still takes its
//!   replies, which are dropped, so the order holds.
//! - A large bulk reply still arriving may be gathered by the host outside
//!   the decoder ([`Pipeline::take_large_bulk`]), for an entry whose reply
//!   is taken as it is: the host then fills the value in place as messages
//!   come, instead of the bytes being buffered in wasm memory and copied
//!   out again; the entry completes with [`Outcome::Gathered`].
//!
//! Commands issued together leave together when the host flushes (at the
//! end of its task), except a burst that grows past [`BURST_BYTES`]: the
//! pipeline then says the burst is due ([`Pipeline::take_burst_due`]), so
//! the host sends it at once and the server works on its start while the
//! host still issues the rest.
//!
//! When the socket closes, every entry still waiting is handed back to be
//! failed, and the pipeline takes nothing more: no later socket's bytes can
//! ever reach an old request.

use std::collections::VecDeque;

use resp::{AggregateKind, Decoder, Event, Frame};

use super::cmd::{Channels, Cmd};
use super::ClientError;

/// What happened to a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Its whole reply: the request is done.
    Reply(Frame),
    /// It failed without a reply: the request is done.
    Failed(ClientError),
    /// A streamed aggregate reply begins (`len` counts pairs for a map).
    Start { kind: AggregateKind, len: usize },
    /// One child of the streamed reply.
    Item(Frame),
    /// The streamed reply is complete: the request is done.
    End,
    /// Its reply, a bulk string, was gathered by the host: the request is
    /// done, and the host has the value.
    Gathered,
}

impl Outcome {
    /// Whether the request is done with this outcome.
    pub fn is_last(&self) -> bool {
        !matches!(self, Outcome::Start { .. } | Outcome::Item(_))
    }
}

/// What the socket's bytes came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery<T> {
    /// An outcome, matched to the entry it belongs to.
    Reply(T, Outcome),
    /// Out-of-band data: a published message, an invalidation, a push.
    Push(Frame),
    /// An abandoned entry's last reply arrived (and was dropped).
    Dropped(T),
}

/// How an entry takes its replies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// How many replies Redis sends for it.
    pub replies: usize,
    /// Whether an aggregate reply is handed out item by item.
    pub streams: bool,
    /// The subscription kind it (un)subscribes: its RESP3 confirmations are
    /// pushes that it takes.
    pub confirms: Option<Channels>,
    /// Whether a large bulk reply may be gathered by the host: its value is
    /// the bulk string's bytes as they are, with nothing to read in them.
    pub gathers: bool,
}

impl Shape {
    pub const ONE: Shape = Shape {
        replies: 1,
        streams: false,
        confirms: None,
        gathers: false,
    };
}

struct Entry<T> {
    tag: T,
    shape: Shape,
    collected: Vec<Frame>,
    abandoned: bool,
    started: bool,
}

/// Unsent commands past this many bytes are worth sending before the end
/// of the task. Smaller bursts cost more in messages than they save: in
/// `bench/run`'s pipeline of 1,000 SETs (about 40 bytes each), sending every
/// 32 commands cut the throughput by a third, and 8 KiB (about 200 commands)
/// raised it by a sixth (0.58 to 0.64–0.83 of a bare WebSocket).
pub const BURST_BYTES: usize = 8 * 1024;

/// What a command weighs against [`BURST_BYTES`]: its arguments and
/// about what RESP adds to each.
fn weight(cmd: &Cmd) -> usize {
    cmd.byte_len() + 8 * cmd.len()
}

/// Outgoing buffers above this size are not kept for reuse after a flush.
const RETAINED_BUFFER: usize = 1 << 20;

pub struct Pipeline<T> {
    unsent: VecDeque<Cmd>,
    /// The [`weight`] of `unsent`.
    unsent_bytes: usize,
    /// `unsent` grew past [`BURST_BYTES`] since the host last asked.
    burst_due: bool,
    outgoing: Vec<u8>,
    /// Every entry; the last `unsent.len()` have not been handed out yet.
    waiting: VecDeque<Entry<T>>,
    decoder: Decoder,
    closed: bool,
    pubsub: bool,
    /// A push being streamed because the head entry streams: collected.
    push: Option<Vec<Frame>>,
    /// The host is gathering the head entry's bulk reply.
    gathering: bool,
}

impl<T> Default for Pipeline<T> {
    fn default() -> Self {
        Pipeline {
            unsent: VecDeque::new(),
            unsent_bytes: 0,
            burst_due: false,
            outgoing: Vec::new(),
            waiting: VecDeque::new(),
            decoder: Decoder::new(),
            closed: false,
            pubsub: false,
            push: None,
            gathering: false,
        }
    }
}

impl<T: Copy + PartialEq> Pipeline<T> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Queues a command and the entry that waits for its replies. A closed
    /// pipeline hands the command back.
    pub fn push(&mut self, cmd: Cmd, tag: T, shape: Shape) -> Result<(), Cmd> {
        if self.closed {
            return Err(cmd);
        }
        let before = self.unsent_bytes;
        self.unsent_bytes += weight(&cmd);
        self.burst_due |= before < BURST_BYTES && self.unsent_bytes >= BURST_BYTES;
        self.unsent.push_back(cmd);
        self.waiting.push_back(Entry {
            tag,
            shape,
            collected: Vec::new(),
            abandoned: false,
            started: false,
        });
        Ok(())
    }

    /// Takes back a command not handed to the transport yet.
    pub fn unsend(&mut self, tag: T) -> Option<Cmd> {
        let first_unsent = self.waiting.len() - self.unsent.len();
        let at = (first_unsent..self.waiting.len()).find(|&i| self.waiting[i].tag == tag)?;
        self.waiting.remove(at);
        let cmd = self.unsent.remove(at - first_unsent)?;
        self.unsent_bytes -= weight(&cmd);
        Some(cmd)
    }

    /// Whether the unsent commands grew past [`BURST_BYTES`] since the
    /// last call: the host should flush now rather than at the end of its
    /// task.
    pub fn take_burst_due(&mut self) -> bool {
        std::mem::take(&mut self.burst_due)
    }

    /// Drops the replies of a sent entry when they come. False if no entry
    /// has that tag.
    pub fn abandon(&mut self, tag: T) -> bool {
        match self
            .waiting
            .iter_mut()
            .find(|e| e.tag == tag && !e.abandoned)
        {
            Some(entry) => {
                entry.abandoned = true;
                true
            }
            None => false,
        }
    }

    /// Enters RESP2 pub/sub mode: from now on published messages are told
    /// apart from replies. Call it before sending the first SUBSCRIBE.
    pub fn enter_pubsub(&mut self) {
        self.pubsub = true;
    }

    pub fn in_pubsub(&self) -> bool {
        self.pubsub
    }

    pub fn has_unsent(&self) -> bool {
        !self.unsent.is_empty()
    }

    /// Encodes the queued commands and hands the bytes to `send`. Returns
    /// false when there was nothing to send.
    pub fn flush(&mut self, send: impl FnOnce(&[u8])) -> bool {
        if self.unsent.is_empty() || self.closed {
            return false;
        }
        for cmd in self.unsent.drain(..) {
            cmd.encode(&mut self.outgoing);
        }
        self.unsent_bytes = 0;
        self.burst_due = false;
        send(&self.outgoing);
        if self.outgoing.capacity() > RETAINED_BUFFER {
            self.outgoing = Vec::new();
        } else {
            self.outgoing.clear();
        }
        true
    }

    /// The decoder's input buffer, for transports that copy socket data in
    /// place; call [`Pipeline::replies`] afterwards.
    pub fn input(&mut self) -> &mut bytes::BytesMut {
        self.decoder.buffer_mut()
    }

    /// Feeds socket bytes and returns everything they complete, in order.
    pub fn receive(&mut self, data: &[u8]) -> Result<Vec<Delivery<T>>, ClientError> {
        self.decoder.feed(data);
        let mut out = Vec::new();
        self.replies(&mut out)?;
        Ok(out)
    }

    /// When the head entry's reply is a bulk string of at least `min` bytes
    /// still arriving and the entry gathers, hands it to the host: its
    /// length, and what is buffered of it and of its CRLF (the host takes
    /// the rest of those `len + 2` bytes from the socket, then calls
    /// [`Pipeline::gathered`] before feeding what follows).
    pub fn take_large_bulk(&mut self, min: usize) -> Option<(usize, bytes::BytesMut)> {
        if self.closed || self.pubsub || self.push.is_some() || self.gathering {
            return None;
        }
        let head = self.waiting.front()?;
        let sent = self.waiting.len() > self.unsent.len();
        if !sent || !head.shape.gathers || head.started || !head.collected.is_empty() {
            return None;
        }
        let taken = self.decoder.take_large_bulk(min)?;
        self.gathering = true;
        Some(taken)
    }

    /// The host gathered the head entry's bulk reply (`ended`: it was
    /// followed by CRLF, else the stream is out of step).
    pub fn gathered(&mut self, ended: bool) -> Result<Vec<Delivery<T>>, ClientError> {
        if !std::mem::take(&mut self.gathering) {
            return Ok(Vec::new());
        }
        if !ended {
            return Err(ClientError::Protocol(
                "a bulk string not ended by CRLF".into(),
            ));
        }
        let head = self.waiting.pop_front().ok_or_else(unasked)?;
        Ok(vec![match head.abandoned {
            true => Delivery::Dropped(head.tag),
            false => Delivery::Reply(head.tag, Outcome::Gathered),
        }])
    }

    /// Decodes what the input buffer holds into `out`. A decode error, or a
    /// reply that no entry waits for, is an error: the stream is out of step
    /// and nothing after it can be trusted (close the pipeline then).
    pub fn replies(&mut self, out: &mut Vec<Delivery<T>>) -> Result<(), ClientError> {
        // A gathered bulk's bytes never reach the decoder.
        while !self.closed && !self.gathering {
            let head = self.waiting.front();
            let streams = !self.pubsub
                && head.is_some_and(|e| e.shape.streams && (e.started || !e.abandoned));
            let event = if streams || self.push.is_some() {
                self.decoder.decode_streaming()
            } else {
                self.decoder.decode().map(|frame| frame.map(Event::Frame))
            };
            let event = match event {
                Ok(Some(event)) => event,
                Ok(None) => return Ok(()),
                Err(err) => return Err(ClientError::Protocol(err.to_string())),
            };
            if let Some(items) = &mut self.push {
                match event {
                    Event::Item(frame) => items.push(frame),
                    _ => {
                        let push = Frame::Push(self.push.take().unwrap_or_default());
                        self.frame(push, out)?;
                    }
                }
                continue;
            }
            match event {
                Event::Frame(frame) => self.frame(frame, out)?,
                Event::Start {
                    kind: AggregateKind::Push,
                    ..
                } => self.push = Some(Vec::new()),
                Event::Start { kind, len } => self.stream(Outcome::Start { kind, len }, out)?,
                Event::Item(frame) => self.stream(Outcome::Item(frame), out)?,
                Event::End => self.stream(Outcome::End, out)?,
            }
        }
        Ok(())
    }

    /// A whole top-level frame: a push, or the head entry's reply.
    fn frame(&mut self, frame: Frame, out: &mut Vec<Delivery<T>>) -> Result<(), ClientError> {
        if self.is_push(&frame) {
            out.push(Delivery::Push(frame));
            return Ok(());
        }
        let head = self.head()?;
        let frame = if head.shape.replies > 1 || head.shape.confirms.is_some() {
            head.collected.push(frame);
            if head.collected.len() < head.shape.replies {
                return Ok(());
            }
            None
        } else {
            Some(frame)
        };
        let head = self.waiting.pop_front().ok_or_else(unasked)?;
        out.push(match head.abandoned {
            true => Delivery::Dropped(head.tag),
            false => Delivery::Reply(
                head.tag,
                Outcome::Reply(frame.unwrap_or(Frame::Array(head.collected))),
            ),
        });
        Ok(())
    }

    fn stream(&mut self, outcome: Outcome, out: &mut Vec<Delivery<T>>) -> Result<(), ClientError> {
        let head = self.head()?;
        head.started = true;
        let (tag, abandoned) = (head.tag, head.abandoned);
        if outcome.is_last() {
            self.waiting.pop_front();
        }
        match (abandoned, outcome.is_last()) {
            (false, _) => out.push(Delivery::Reply(tag, outcome)),
            (true, true) => out.push(Delivery::Dropped(tag)),
            (true, false) => {}
        }
        Ok(())
    }

    /// The entry the next reply belongs to: the oldest one sent.
    fn head(&mut self) -> Result<&mut Entry<T>, ClientError> {
        if self.waiting.len() == self.unsent.len() {
            return Err(unasked());
        }
        self.waiting.front_mut().ok_or_else(unasked)
    }

    /// Whether a frame is out of band rather than the head entry's reply.
    fn is_push(&self, frame: &Frame) -> bool {
        let kind = match frame {
            Frame::Push(items) => items.first(),
            Frame::Array(items) if self.pubsub => items.first(),
            _ => return false,
        };
        let word = match kind {
            Some(Frame::Bulk(word) | Frame::Simple(word)) => word.as_ref(),
            _ => return matches!(frame, Frame::Push(_)),
        };
        if matches!(word, b"message" | b"pmessage" | b"smessage") {
            return true;
        }
        let confirmed = Channels::of_confirmation(word).map(|(kind, _)| kind);
        let awaited = self.waiting.front().and_then(|e| e.shape.confirms);
        matches!(frame, Frame::Push(_)) && (confirmed.is_none() || confirmed != awaited)
    }

    /// Marks the pipeline closed and hands back the tag of every entry that
    /// still waits (abandoned ones excepted). Unsent commands are dropped.
    pub fn close(&mut self) -> Vec<T> {
        self.closed = true;
        self.gathering = false;
        self.unsent.clear();
        self.unsent_bytes = 0;
        self.burst_due = false;
        self.outgoing.clear();
        self.waiting
            .drain(..)
            .filter(|e| !e.abandoned)
            .map(|e| e.tag)
            .collect()
    }

    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// How many entries wait for a reply (sent or not).
    pub fn in_flight(&self) -> usize {
        self.waiting.len()
    }
}

fn unasked() -> ClientError {
    ClientError::Protocol("a reply arrived that no command asked for".into())
}
