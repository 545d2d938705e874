//! A large bulk reply gathered by the host, in place, as its messages come.
//!
//! A value of megabytes arrives in many WebSocket messages. Buffered in
//! wasm memory and copied out into a fresh array once whole, it cost two
//! more passes over its bytes than a bare WebSocket spends, one of them on
//! the critical path of the reply. So when a bulk reply that is taken as
//! it is begins and is not yet whole (`Core::take_large_bulk`), the host
//! allocates the value once and copies each message's share of it there;
//! [`Gathering`] says which bytes of the stream that share is, and checks
//! the CRLF after it. Then `Core::gathered` completes the request.
//!
//! Fresh memory costs a browser page faults as it is first written, more
//! than the copy itself. So the bridge sends a bulk reply of up to 2 MiB in
//! one message, and when a message begins with a large bulk reply's header
//! ([`bulk_header`]) and holds all of its value, the host hands the value
//! over as a view of that message: nothing is copied at all.

/// The smallest bulk reply worth gathering: below it, one copy out of wasm
/// memory costs less than the host's bookkeeping.
pub const MIN_GATHERED: usize = 32 * 1024;

/// The longest bulk reply header [`bulk_header`] reads (`$`, 20 digits,
/// CRLF).
pub const BULK_HEADER_MAX: usize = 23;

/// A bulk reply header at the start of `bytes`, `$<len>\r\n`: its length
/// and the value's. Anything else (a null, a header cut short) is `None`.
pub fn bulk_header(bytes: &[u8]) -> Option<(usize, usize)> {
    let digits = bytes
        .get(1..)?
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    if bytes[0] != b'$' || digits == 0 || bytes.get(1 + digits..3 + digits)? != b"\r\n" {
        return None;
    }
    let len = std::str::from_utf8(&bytes[1..1 + digits])
        .ok()?
        .parse()
        .ok()?;
    Some((3 + digits, len))
}

/// How far the host has gathered a bulk reply of `len` bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gathering {
    len: usize,
    filled: usize,
    /// The bytes of its CRLF seen, and whether they were CR then LF.
    tail: usize,
    ended: bool,
}

impl Gathering {
    pub fn new(len: usize) -> Gathering {
        Gathering {
            len,
            filled: 0,
            tail: 0,
            ended: true,
        }
    }

    /// Where the next bytes of the value go.
    pub fn filled(&self) -> usize {
        self.filled
    }

    /// How many of the next `available` bytes of the stream belong to the
    /// value (the host copies them to [`Gathering::filled`], then calls
    /// [`Gathering::fill`]).
    pub fn share(&self, available: usize) -> usize {
        (self.len - self.filled).min(available)
    }

    pub fn fill(&mut self, n: usize) {
        self.filled = (self.filled + n).min(self.len);
    }

    /// Offers the next byte of the stream once the value is whole: true if
    /// it was one of the CRLF after it (checked, not kept).
    pub fn end_byte(&mut self, byte: u8) -> bool {
        if self.filled < self.len || self.tail == 2 {
            return false;
        }
        self.ended &= byte == b"\r\n"[self.tail];
        self.tail += 1;
        true
    }

    /// The value and its CRLF have all come.
    pub fn is_done(&self) -> bool {
        self.filled == self.len && self.tail == 2
    }

    /// Whether CRLF followed the value (else the stream is out of step).
    pub fn ended(&self) -> bool {
        self.ended
    }

    /// Takes the front of `bytes` (the stream's next bytes): copies the
    /// value's share into `value` with `copy(offset, part)`, checks the CRLF,
    /// and returns how many bytes it consumed. For bytes at hand in memory;
    /// a host with bytes elsewhere does the same with `share` and `fill`.
    pub fn take(&mut self, bytes: &[u8], mut copy: impl FnMut(usize, &[u8])) -> usize {
        let share = self.share(bytes.len());
        copy(self.filled, &bytes[..share]);
        self.fill(share);
        let mut used = share;
        while used < bytes.len() && self.end_byte(bytes[used]) {
            used += 1;
        }
        used
    }
}

#[cfg(test)]
mod tests {
    use resp::Frame;

    use super::*;
    use crate::core::cmd::Cmd;
    use crate::core::command::ReplyKind;
    use crate::core::pipeline::Outcome;
    use crate::core::pool::Mode;
    use crate::core::session::RequestId;
    use crate::core::tests::{bulk, cmd, simple, Wire};

    /// The host of `js/client.rs` for session 0, with values gathered into
    /// `Vec`s: each message goes first to a value being gathered, the rest
    /// to the decoder, and then the core is asked whether a large bulk reply
    /// begins.
    #[derive(Default)]
    struct Host {
        gathering: Option<(Gathering, Vec<u8>)>,
        values: Vec<Vec<u8>>,
    }

    impl Host {
        fn message(&mut self, wire: &mut Wire, mut data: &[u8], min: usize) {
            loop {
                if let Some((gathering, value)) = &mut self.gathering {
                    let used = gathering.take(data, |at, part| {
                        value[at..at + part.len()].copy_from_slice(part)
                    });
                    data = &data[used..];
                    if !gathering.is_done() {
                        return;
                    }
                    let ended = gathering.ended();
                    let (_, value) = self.gathering.take().unwrap();
                    self.values.push(value);
                    wire.pool.gathered(0, wire.generations[0], ended, wire.now);
                    wire.collect();
                }
                if !data.is_empty() {
                    wire.answer_bytes(0, data);
                    data = &[];
                }
                let generation = wire.generations[0];
                let Some((len, buffered)) = wire.pool.take_large_bulk(0, generation, min) else {
                    return;
                };
                let mut gathering = Gathering::new(len);
                let mut value = vec![0; len];
                let used = gathering.take(&buffered, |at, part| {
                    value[at..at + part.len()].copy_from_slice(part)
                });
                assert_eq!(
                    used,
                    buffered.len(),
                    "the buffered bytes are all the bulk's"
                );
                assert!(
                    !gathering.is_done(),
                    "a bulk handed over is never whole yet"
                );
                self.gathering = Some((gathering, value));
            }
        }
    }

    fn get(key: &str) -> Cmd {
        Cmd::lookup(["GET", key], ReplyKind::Native)
    }

    fn value(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 % 251) as u8).collect()
    }

    fn reply_bytes(frames: &[Frame]) -> Vec<u8> {
        let mut out = Vec::new();
        frames.iter().for_each(|f| resp::encode(f, &mut out));
        out
    }

    #[test]
    fn bulk_header_reads_a_whole_header_and_nothing_else() {
        assert_eq!(bulk_header(b"$1048576\r\nxx"), Some((10, 1 << 20)));
        assert_eq!(bulk_header(b"$0\r\n"), Some((4, 0)));
        for not_one in [
            &b""[..],
            b"$",
            b"$12",
            b"$12\r",
            b"$-1\r\n",
            b"$\r\n",
            b"+OK\r\n",
            b"$1x\r\n",
            b"$99999999999999999999999\r\n",
        ] {
            assert_eq!(
                bulk_header(not_one),
                None,
                "{:?}",
                String::from_utf8_lossy(not_one)
            );
        }
    }

    #[test]
    fn a_large_value_is_gathered_whatever_the_messages_and_what_follows_decodes() {
        let big = value(1000);
        let wire_bytes = reply_bytes(&[
            Frame::Bulk(big.clone().into()),
            simple("OK"),
            Frame::Bulk(big.clone().into()),
        ]);
        let mut gathers = 0;
        for chunk in [1, 2, 3, 7, 100, 999, 1003, 1004, 1005, 1010, 5000] {
            let mut wire = Wire::ready(1, Mode::Single);
            let first = wire.send(get("a"));
            let set = wire.send(cmd(&["SET", "a", "b"]));
            let second = wire.send(get("a"));
            wire.sent(0);
            let mut host = Host::default();
            for message in wire_bytes.chunks(chunk) {
                host.message(&mut wire, message, 64);
            }
            // A value that came whole in one message is decoded as ever.
            gathers += host.values.len();
            let mut gathered = host.values.drain(..);
            let mut value_of = |outcome| match outcome {
                Outcome::Gathered => gathered.next().expect("a gathered value"),
                Outcome::Reply(Frame::Bulk(bytes)) => bytes.to_vec(),
                other => panic!("not a value: {other:?}"),
            };
            assert!(value_of(wire.outcome(first)) == big, "chunks of {chunk}");
            assert_eq!(wire.outcome(set), Outcome::Reply(simple("OK")));
            assert!(value_of(wire.outcome(second)) == big, "chunks of {chunk}");
            assert_eq!(gathered.next(), None);
            assert!(wire.pool.is_connected(0));
        }
        assert!(gathers >= 16, "most chunkings gather: {gathers}");
    }

    #[test]
    fn small_whole_and_read_replies_are_decoded_as_ever() {
        let big = value(500);
        let mut wire = Wire::ready(1, Mode::Single);
        // `call()` takes a bulk as it is; a list, a float, a status do not.
        let plain = wire.send(cmd(&["GET", "a"]));
        let text = wire.send(Cmd::lookup(["GET", "a"], ReplyKind::Text));
        let list = wire.send(Cmd::lookup(["LRANGE", "l", "0", "-1"], ReplyKind::List));
        let small = wire.send(get("b"));
        wire.sent(0);
        let mut host = Host::default();
        let bytes = reply_bytes(&[
            Frame::Bulk(big.clone().into()),
            Frame::Bulk(big.clone().into()),
            Frame::Array(vec![Frame::Bulk(big.clone().into())]),
            bulk("tiny"),
        ]);
        for message in bytes.chunks(100) {
            host.message(&mut wire, message, 64);
        }
        assert!(
            host.values == [big.clone()],
            "only call()'s bulk is gathered"
        );
        assert_eq!(wire.outcome(plain), Outcome::Gathered);
        assert!(wire.outcome(text) == Outcome::Reply(Frame::Bulk(big.clone().into())));
        assert!(matches!(wire.outcome(list), Outcome::End));
        assert_eq!(wire.outcome(small), Outcome::Reply(bulk("tiny")));
    }

    #[test]
    fn a_value_without_its_crlf_is_a_protocol_error_that_fails_what_waits() {
        let mut wire = Wire::ready(1, Mode::Single);
        let first = wire.send(get("a"));
        let second = wire.send(get("b"));
        wire.sent(0);
        let mut host = Host::default();
        let mut bytes = b"$100\r\n".to_vec();
        bytes.extend(value(100));
        bytes.extend(b"X\n");
        for message in bytes.chunks(30) {
            host.message(&mut wire, message, 64);
        }
        assert_eq!(host.values.len(), 1);
        assert!(matches!(wire.failed(first), ClientError::Protocol(_)));
        assert!(matches!(wire.failed(second), ClientError::Protocol(_)));
        assert!(!wire.pool.is_connected(0));
    }

    #[test]
    fn an_aborted_request_drops_its_gathered_value_and_the_order_holds() {
        let mut wire = Wire::ready(1, Mode::Single);
        let first = wire.send(get("a"));
        let second = wire.send(get("b"));
        wire.sent(0);
        let mut host = Host::default();
        let bytes = reply_bytes(&[Frame::Bulk(value(300).into()), bulk("after")]);
        host.message(&mut wire, &bytes[..50], 64);
        wire.pool.abort(first);
        wire.collect();
        host.message(&mut wire, &bytes[50..], 64);
        assert!(wire.pending(first), "no outcome for an aborted request");
        assert_eq!(wire.outcome(second), Outcome::Reply(bulk("after")));
    }

    #[test]
    fn a_socket_lost_while_gathering_fails_the_request_and_the_next_socket_starts_clean() {
        let mut wire = Wire::ready(1, Mode::Single);
        let id: RequestId = wire.send(get("a"));
        wire.sent(0);
        let mut host = Host::default();
        let bytes = reply_bytes(&[Frame::Bulk(value(300).into())]);
        host.message(&mut wire, &bytes[..100], 64);
        wire.drop_socket(0);
        assert!(matches!(wire.failed(id), ClientError::ConnectionLost(_)));
        let generation = wire.generations[0];
        assert_eq!(wire.pool.take_large_bulk(0, generation, 64), None);
    }

    use crate::core::ClientError;

    #[test]
    fn the_crlf_is_checked_byte_by_byte() {
        let mut gathering = Gathering::new(3);
        let mut value: Vec<u8> = Vec::new();
        assert_eq!(gathering.take(b"ab", |_, part| value.extend(part)), 2);
        assert_eq!(gathering.take(b"c\r", |_, part| value.extend(part)), 2);
        assert!(!gathering.is_done());
        assert_eq!(gathering.take(b"\n:1\r\n", |_, part| value.extend(part)), 1);
        assert!(gathering.is_done() && gathering.ended());
        assert_eq!(value, b"abc");
        let mut broken = Gathering::new(1);
        assert_eq!(broken.take(b"a\n\r", |_, _| {}), 3);
        assert!(broken.is_done() && !broken.ended());
    }
}
