//! Requests out, replies in, strictly first-in first-out.
//!
//! A [`Pipeline`] owns the outgoing byte buffer, the queue of requests that
//! wait for a reply and the RESP decoder fed by the socket. Commands are
//! encoded into the buffer as they are issued and leave together when the
//! transport flushes, so un-awaited commands are pipelined for free. Each
//! complete reply frame pops the head of the queue: Redis answers in order,
//! so matching by position is exact. A request may ask for its reply to be
//! streamed: a top-level aggregate then comes as `Start`, one `Item` per
//! child as soon as it is parsed, and `End`, and only `End` pops the queue.
//! In pub/sub mode, which the connection enters before it sends its first
//! SUBSCRIBE, `message` and `pmessage` arrays are published messages: they
//! are handed out on their own and pop nothing. When the socket closes,
//! every request still waiting is handed back to be rejected, and the
//! pipeline refuses new ones: no later socket's bytes can ever reach an old
//! request.

use std::collections::VecDeque;

use resp::{AggregateKind, Decoder, Event, Frame};

use crate::core::ClientError;

/// A request waiting in the pipeline. It is cloned for each streamed event
/// it receives before its last one, so a clone must be a cheap handle.
pub trait Request: Clone {
    /// Whether an aggregate reply is handed out item by item.
    fn streams(&self) -> bool;
}

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
}

/// Outgoing buffers above this size are not kept for reuse after a flush.
const RETAINED_BUFFER: usize = 1 << 20;

pub struct Pipeline<R> {
    outgoing: Vec<u8>,
    waiting: VecDeque<R>,
    decoder: Decoder,
    closed: Option<ClientError>,
    pubsub: bool,
}

/// What the socket's bytes came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery<R> {
    /// An outcome, matched to the request it belongs to.
    Request(R, Outcome),
    /// A message published to a subscribed channel or pattern.
    Published(Frame),
}

impl<R> Default for Pipeline<R> {
    fn default() -> Self {
        Pipeline {
            outgoing: Vec::new(),
            waiting: VecDeque::new(),
            decoder: Decoder::new(),
            closed: None,
            pubsub: false,
        }
    }
}

impl<R: Request> Pipeline<R> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Queues one command (its words and arguments, already encoded to
    /// bytes) and the request that waits for its reply. A closed pipeline
    /// hands the request back with the reason, and nothing is written.
    pub fn push<I>(&mut self, args: I, request: R) -> Result<(), (R, ClientError)>
    where
        I: IntoIterator,
        I::IntoIter: ExactSizeIterator,
        I::Item: AsRef<[u8]>,
    {
        if let Some(why) = &self.closed {
            return Err((request, not_connected(why)));
        }
        resp::encode_command(&mut self.outgoing, args);
        self.waiting.push_back(request);
        Ok(())
    }

    /// Queues one command that Redis answers with one reply per request
    /// given (`SUBSCRIBE a b c` is answered three times). With no request,
    /// nothing is sent.
    pub fn push_many<I>(&mut self, args: I, requests: Vec<R>) -> Result<(), (Vec<R>, ClientError)>
    where
        I: IntoIterator,
        I::IntoIter: ExactSizeIterator,
        I::Item: AsRef<[u8]>,
    {
        let mut rest = requests.into_iter();
        let Some(first) = rest.next() else {
            return Ok(());
        };
        match self.push(args, first) {
            Ok(()) => {
                self.waiting.extend(rest);
                Ok(())
            }
            Err((first, why)) => Err((std::iter::once(first).chain(rest).collect(), why)),
        }
    }

    /// Enters pub/sub mode: from now on published messages are told apart
    /// from replies. Call it before sending the first SUBSCRIBE.
    pub fn enter_pubsub(&mut self) {
        self.pubsub = true;
    }

    pub fn in_pubsub(&self) -> bool {
        self.pubsub
    }

    /// Hands the bytes waiting to be sent to `send`, then forgets them.
    /// Returns false when there was nothing to send.
    pub fn flush(&mut self, send: impl FnOnce(&[u8])) -> bool {
        if self.outgoing.is_empty() {
            return false;
        }
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

    /// Feeds socket bytes and returns every reply they complete, each with
    /// its request, in order.
    pub fn receive(&mut self, data: &[u8]) -> Vec<Delivery<R>> {
        self.decoder.feed(data);
        self.replies()
    }

    /// Decodes what the input buffer holds into matched outcomes. A decode
    /// error, or a reply that no request waits for, closes the pipeline: the
    /// stream is out of step and nothing after it can be trusted.
    pub fn replies(&mut self) -> Vec<Delivery<R>> {
        let mut delivered = Vec::new();
        while self.closed.is_none() {
            let streams = !self.pubsub && self.waiting.front().is_some_and(Request::streams);
            let event = if streams {
                self.decoder.decode_streaming()
            } else {
                self.decoder.decode().map(|frame| frame.map(Event::Frame))
            };
            let outcome = match event {
                Ok(None) => break,
                Ok(Some(Event::Frame(frame))) if self.pubsub && is_published(&frame) => {
                    delivered.push(Delivery::Published(frame));
                    continue;
                }
                Ok(Some(Event::Frame(frame))) => Outcome::Reply(frame),
                Ok(Some(Event::Start { kind, len })) => Outcome::Start { kind, len },
                Ok(Some(Event::Item(frame))) => Outcome::Item(frame),
                Ok(Some(Event::End)) => Outcome::End,
                Err(err) => {
                    delivered.extend(self.close(ClientError::Protocol(err.to_string())));
                    break;
                }
            };
            let request = match outcome {
                Outcome::Start { .. } | Outcome::Item(_) => self.waiting.front().cloned(),
                _ => self.waiting.pop_front(),
            };
            match request {
                Some(request) => delivered.push(Delivery::Request(request, outcome)),
                None => {
                    let why =
                        ClientError::Protocol("a reply arrived that no command asked for".into());
                    delivered.extend(self.close(why));
                }
            }
        }
        delivered
    }

    /// Marks the pipeline closed and hands back every waiting request with
    /// `why`. Unsent bytes are dropped: their requests fail here too.
    pub fn close(&mut self, why: ClientError) -> Vec<Delivery<R>> {
        self.outgoing.clear();
        let failed = self
            .waiting
            .drain(..)
            .map(|request| Delivery::Request(request, Outcome::Failed(why.clone())))
            .collect();
        if self.closed.is_none() {
            self.closed = Some(why);
        }
        failed
    }

    pub fn is_closed(&self) -> bool {
        self.closed.is_some()
    }

    /// How many requests wait for a reply.
    pub fn in_flight(&self) -> usize {
        self.waiting.len()
    }
}

/// Whether a frame received in pub/sub mode is a published message rather
/// than the reply to a (un)subscribe or ping.
fn is_published(frame: &Frame) -> bool {
    match frame {
        Frame::Array(items) | Frame::Push(items) => {
            matches!(items.first(), Some(Frame::Bulk(kind)) if kind.as_ref() == b"message" || kind.as_ref() == b"pmessage")
        }
        _ => false,
    }
}

/// The error for a request issued after the pipeline closed.
fn not_connected(why: &ClientError) -> ClientError {
    match why {
        ClientError::NotConnected(_) => why.clone(),
        other => ClientError::NotConnected(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use resp::Bytes;

    /// A test request: an id, and whether it streams.
    #[derive(Debug, Clone, Copy, PartialEq)]
    struct Req(u32, bool);

    impl Request for Req {
        fn streams(&self) -> bool {
            self.1
        }
    }

    fn whole(id: u32) -> Req {
        Req(id, false)
    }

    fn reply(id: u32, frame: Frame) -> Delivery<Req> {
        Delivery::Request(whole(id), Outcome::Reply(frame))
    }

    fn streamed(outcome: Outcome) -> Delivery<Req> {
        Delivery::Request(Req(2, true), outcome)
    }

    fn bulk(s: &str) -> Frame {
        Frame::Bulk(Bytes::copy_from_slice(s.as_bytes()))
    }

    fn sent(p: &mut Pipeline<Req>) -> Vec<u8> {
        let mut out = Vec::new();
        p.flush(|bytes| out.extend_from_slice(bytes));
        out
    }

    #[test]
    fn commands_issued_together_leave_in_one_flush() {
        let mut p = Pipeline::new();
        p.push(["SET", "k", "v"], whole(1)).unwrap();
        p.push(["GET", "k"], whole(2)).unwrap();
        assert_eq!(
            sent(&mut p),
            b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
        );
        assert!(!p.flush(|_| panic!("nothing left to send")));
        assert_eq!(p.in_flight(), 2);
    }

    #[test]
    fn replies_match_requests_in_order_across_any_chunking() {
        let replies = b"+OK\r\n$5\r\nhello\r\n:42\r\n-ERR boom\r\n*2\r\n$1\r\na\r\n$-1\r\n";
        let expected = vec![
            reply(1, Frame::Simple(Bytes::from_static(b"OK"))),
            reply(2, bulk("hello")),
            reply(3, Frame::Integer(42)),
            reply(4, Frame::Error(Bytes::from_static(b"ERR boom"))),
            reply(5, Frame::Array(vec![bulk("a"), Frame::Null])),
        ];
        for chunk in 1..=replies.len() {
            let mut p = Pipeline::new();
            for id in 1..=5 {
                p.push(["PING"], whole(id)).unwrap();
            }
            let got: Vec<_> = replies.chunks(chunk).flat_map(|c| p.receive(c)).collect();
            assert_eq!(got, expected, "chunk size {chunk}");
            assert_eq!(p.in_flight(), 0);
        }
    }

    #[test]
    fn ten_thousand_pipelined_replies_stay_matched() {
        let mut p = Pipeline::new();
        let mut wire = Vec::new();
        for i in 0..10_000u32 {
            p.push(["INCR", "counter"], whole(i)).unwrap();
            wire.extend_from_slice(format!(":{}\r\n", i + 1).as_bytes());
        }
        let got = p.receive(&wire);
        assert_eq!(got.len(), 10_000);
        for (i, delivery) in got.into_iter().enumerate() {
            assert_eq!(delivery, reply(i as u32, Frame::Integer(i as i64 + 1)));
        }
    }

    #[test]
    fn a_streamed_reply_hands_out_items_as_they_arrive_between_whole_replies() {
        let mut p = Pipeline::new();
        p.push(["PING"], whole(1)).unwrap();
        p.push(["LRANGE", "l", "0", "-1"], Req(2, true)).unwrap();
        p.push(["GET", "k"], whole(3)).unwrap();
        assert_eq!(
            p.receive(b"+PONG\r\n*3\r\n$1\r\na\r\n$1"),
            vec![
                reply(1, Frame::Simple(Bytes::from_static(b"PONG"))),
                streamed(Outcome::Start {
                    kind: AggregateKind::Array,
                    len: 3
                }),
                streamed(Outcome::Item(bulk("a"))),
            ]
        );
        assert_eq!(
            p.in_flight(),
            2,
            "the streamed request stays queued until its end"
        );
        assert_eq!(
            p.receive(b"\r\nb\r\n*1\r\n:1\r\n$1\r\nv\r\n"),
            vec![
                streamed(Outcome::Item(bulk("b"))),
                streamed(Outcome::Item(Frame::Array(vec![Frame::Integer(1)]))),
                streamed(Outcome::End),
                reply(3, bulk("v")),
            ]
        );
    }

    #[test]
    fn a_streaming_request_gets_a_non_aggregate_reply_whole() {
        let mut p = Pipeline::new();
        p.push(["LRANGE", "k", "0", "-1"], Req(1, true)).unwrap();
        let got = p.receive(b"-WRONGTYPE nope\r\n");
        assert_eq!(
            got,
            vec![Delivery::Request(
                Req(1, true),
                Outcome::Reply(Frame::Error(Bytes::from_static(b"WRONGTYPE nope")))
            )]
        );
    }

    #[test]
    fn a_lost_connection_rejects_everything_in_flight_and_later_bytes_reach_nobody() {
        let mut p = Pipeline::new();
        p.push(["GET", "a"], whole(1)).unwrap();
        p.push(["LRANGE", "b", "0", "-1"], Req(2, true)).unwrap();
        let first = p.receive(b"$1\r\nx\r\n*2\r\n$1\r\ny\r\n");
        assert_eq!(first.len(), 3);
        let lost = ClientError::ConnectionLost("socket closed".into());
        assert_eq!(
            p.close(lost.clone()),
            vec![Delivery::Request(Req(2, true), Outcome::Failed(lost))]
        );
        assert!(p.receive(b"$1\r\nz\r\n").is_empty());
        let (request, err) = p.push(["GET", "c"], whole(3)).unwrap_err();
        assert_eq!(request, whole(3));
        assert_eq!(
            err,
            ClientError::NotConnected("connection lost: socket closed".into())
        );
        assert!(!p.flush(|_| panic!("a closed pipeline sends nothing")));
    }

    #[test]
    fn a_reply_nobody_asked_for_closes_the_pipeline() {
        let mut p = Pipeline::new();
        p.push(["PING"], whole(1)).unwrap();
        let got = p.receive(b"+PONG\r\n+SURPRISE\r\n");
        assert_eq!(
            got,
            vec![reply(1, Frame::Simple(Bytes::from_static(b"PONG")))]
        );
        assert!(p.is_closed());
    }

    #[test]
    fn malformed_bytes_reject_every_waiting_request() {
        let mut p = Pipeline::new();
        p.push(["PING"], whole(1)).unwrap();
        p.push(["PING"], whole(2)).unwrap();
        let got = p.receive(b"+PONG\r\n?garbage\r\n");
        assert_eq!(got[0], reply(1, Frame::Simple(Bytes::from_static(b"PONG"))));
        assert!(matches!(
            &got[1],
            Delivery::Request(Req(2, false), Outcome::Failed(ClientError::Protocol(_)))
        ));
        assert!(p.is_closed());
    }

    #[test]
    fn in_pubsub_mode_messages_pop_nothing_and_confirmations_pop_in_order() {
        let mut p = Pipeline::new();
        p.enter_pubsub();
        p.push(["SUBSCRIBE", "a", "b"], whole(1)).unwrap();
        p.push(["SUBSCRIBE", "a", "b"], whole(2)).unwrap();
        p.push(["PING"], whole(3)).unwrap();
        let confirm = |channel: &str, count| {
            Frame::Array(vec![
                bulk("subscribe"),
                bulk(channel),
                Frame::Integer(count),
            ])
        };
        let message = Frame::Array(vec![bulk("message"), bulk("a"), bulk("hi")]);
        let pmessage = Frame::Array(vec![bulk("pmessage"), bulk("a*"), bulk("ab"), bulk("ho")]);
        let mut wire = Vec::new();
        for frame in [&confirm("a", 1), &message, &confirm("b", 2), &pmessage] {
            resp::encode(frame, &mut wire);
        }
        wire.extend_from_slice(b"*2\r\n$4\r\npong\r\n$0\r\n\r\n");
        assert_eq!(
            p.receive(&wire),
            vec![
                reply(1, confirm("a", 1)),
                Delivery::Published(message),
                reply(2, confirm("b", 2)),
                Delivery::Published(pmessage),
                reply(3, Frame::Array(vec![bulk("pong"), bulk("")])),
            ]
        );
    }

    #[test]
    fn outside_pubsub_mode_a_message_shaped_reply_is_a_reply() {
        let mut p = Pipeline::new();
        p.push(["LRANGE", "l", "0", "-1"], whole(1)).unwrap();
        let list = Frame::Array(vec![bulk("message"), bulk("a"), bulk("b")]);
        let mut wire = Vec::new();
        resp::encode(&list, &mut wire);
        assert_eq!(p.receive(&wire), vec![reply(1, list)]);
    }
}
