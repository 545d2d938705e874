//! Requests out, replies in, strictly first-in first-out.
//!
//! A [`Pipeline`] owns the outgoing byte buffer, the queue of requests that
//! wait for a reply and the RESP decoder fed by the socket. Commands are
//! encoded into the buffer as they are issued and leave together when the
//! transport flushes, so un-awaited commands are pipelined for free. Each
//! complete reply frame pops the head of the queue: Redis answers in order,
//! so matching by position is exact. When the socket closes, every request
//! still waiting is handed back to be rejected, and the pipeline refuses new
//! ones: no later socket's bytes can ever reach an old request.

use std::collections::VecDeque;

use resp::{Decoder, Frame};

use super::ClientError;

/// Outgoing buffers above this size are not kept for reuse after a flush.
const RETAINED_BUFFER: usize = 1 << 20;

pub struct Pipeline<R> {
    outgoing: Vec<u8>,
    waiting: VecDeque<R>,
    decoder: Decoder,
    closed: Option<ClientError>,
}

/// One reply matched to the request that asked for it.
pub type Delivery<R> = (R, Result<Frame, ClientError>);

impl<R> Default for Pipeline<R> {
    fn default() -> Self {
        Pipeline {
            outgoing: Vec::new(),
            waiting: VecDeque::new(),
            decoder: Decoder::new(),
            closed: None,
        }
    }
}

impl<R> Pipeline<R> {
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

    /// Decodes what the input buffer holds into matched replies. A decode
    /// error, or a reply that no request waits for, closes the pipeline: the
    /// stream is out of step and nothing after it can be trusted.
    pub fn replies(&mut self) -> Vec<Delivery<R>> {
        let mut delivered = Vec::new();
        if self.closed.is_some() {
            return delivered;
        }
        loop {
            match self.decoder.decode() {
                Ok(None) => break,
                Ok(Some(frame)) => match self.waiting.pop_front() {
                    Some(request) => delivered.push((request, Ok(frame))),
                    None => {
                        let why = ClientError::Protocol("a reply arrived that no command asked for".into());
                        delivered.extend(self.close(why));
                        break;
                    }
                },
                Err(err) => {
                    delivered.extend(self.close(ClientError::Protocol(err.to_string())));
                    break;
                }
            }
        }
        delivered
    }

    /// Marks the pipeline closed and hands back every waiting request with
    /// `why`. Unsent bytes are dropped: their requests fail here too.
    pub fn close(&mut self, why: ClientError) -> Vec<Delivery<R>> {
        self.outgoing.clear();
        let failed = self.waiting.drain(..).map(|request| (request, Err(why.clone()))).collect();
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

    fn bulk(s: &str) -> Frame {
        Frame::Bulk(Bytes::copy_from_slice(s.as_bytes()))
    }

    fn sent(p: &mut Pipeline<u32>) -> Vec<u8> {
        let mut out = Vec::new();
        p.flush(|bytes| out.extend_from_slice(bytes));
        out
    }

    #[test]
    fn commands_issued_together_leave_in_one_flush() {
        let mut p = Pipeline::new();
        p.push(["SET", "k", "v"], 1).unwrap();
        p.push(["GET", "k"], 2).unwrap();
        assert_eq!(sent(&mut p), b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
        assert!(!p.flush(|_| panic!("nothing left to send")));
        assert_eq!(p.in_flight(), 2);
    }

    #[test]
    fn replies_match_requests_in_order_across_any_chunking() {
        let replies = b"+OK\r\n$5\r\nhello\r\n:42\r\n-ERR boom\r\n*2\r\n$1\r\na\r\n$-1\r\n";
        let expected = vec![
            (1, Ok(Frame::Simple(Bytes::from_static(b"OK")))),
            (2, Ok(bulk("hello"))),
            (3, Ok(Frame::Integer(42))),
            (4, Ok(Frame::Error(Bytes::from_static(b"ERR boom")))),
            (5, Ok(Frame::Array(vec![bulk("a"), Frame::Null]))),
        ];
        for chunk in 1..=replies.len() {
            let mut p = Pipeline::new();
            for id in 1..=5 {
                p.push(["PING"], id).unwrap();
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
            p.push(["INCR", "counter"], i).unwrap();
            wire.extend_from_slice(format!(":{}\r\n", i + 1).as_bytes());
        }
        let got = p.receive(&wire);
        assert_eq!(got.len(), 10_000);
        for (request, reply) in got {
            assert_eq!(reply, Ok(Frame::Integer(i64::from(request) + 1)));
        }
    }

    #[test]
    fn a_lost_connection_rejects_everything_in_flight_and_later_bytes_reach_nobody() {
        let mut p = Pipeline::new();
        p.push(["GET", "a"], 1).unwrap();
        p.push(["GET", "b"], 2).unwrap();
        let first = p.receive(b"$1\r\nx\r\n$1");
        assert_eq!(first, vec![(1, Ok(bulk("x")))]);
        let lost = ClientError::ConnectionLost("socket closed".into());
        assert_eq!(p.close(lost.clone()), vec![(2, Err(lost))]);
        assert!(p.receive(b"\r\ny\r\n").is_empty());
        let (request, err) = p.push(["GET", "c"], 3).unwrap_err();
        assert_eq!(request, 3);
        assert_eq!(err, ClientError::NotConnected("connection lost: socket closed".into()));
        assert!(!p.flush(|_| panic!("a closed pipeline sends nothing")));
    }

    #[test]
    fn a_reply_nobody_asked_for_closes_the_pipeline() {
        let mut p = Pipeline::new();
        p.push(["PING"], 1).unwrap();
        let got = p.receive(b"+PONG\r\n+SURPRISE\r\n");
        assert_eq!(got[0], (1, Ok(Frame::Simple(Bytes::from_static(b"PONG")))));
        assert_eq!(got.len(), 1);
        assert!(p.is_closed());
    }

    #[test]
    fn malformed_bytes_reject_every_waiting_request() {
        let mut p = Pipeline::new();
        p.push(["PING"], 1).unwrap();
        p.push(["PING"], 2).unwrap();
        let got = p.receive(b"+PONG\r\n?garbage\r\n");
        assert_eq!(got[0], (1, Ok(Frame::Simple(Bytes::from_static(b"PONG")))));
        assert!(matches!(&got[1], (2, Err(ClientError::Protocol(_)))));
        assert!(p.is_closed());
    }
}
