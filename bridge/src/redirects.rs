//! MOVED and ASK, rewritten on their way to the browser: Redis names the
//! node to go to by its internal address, the browser knows nodes by id.
//!
//! A top-level `-MOVED <slot> <host>:<port>` (or `-ASK`) becomes
//! `-MOVED <slot> <id>` when the topology has a node at that address;
//! otherwise, since the bridge never dials an address a reply names, it
//! becomes `-TRYAGAIN redis-ws-bridge: slot <slot> moved to a node not yet
//! in the topology`, and the caller refreshes the topology. So no internal
//! address reaches the browser in these errors.
//!
//! The reply counter marks where top-level errors start, so bulk payloads
//! are never looked at. An error line split across reads is held back
//! until its end arrives (only while it may still be a redirection: any
//! other error goes on at once); a redirection longer than any real one
//! ([`MAX_LINE`]) is replaced as one to an unknown node, and the rest of
//! its line dropped as it comes.

use bytes::{Bytes, BytesMut};

use crate::topology::Topology;

/// Longer than any real redirection: `-MOVED 16383 `, a host name of at
/// most 255 bytes, `:65535` and CRLF.
pub const MAX_LINE: usize = 300;

/// What a rewrite did, for the metrics and the topology refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rewrite {
    Moved,
    Ask,
    /// To a node the topology does not have (TRYAGAIN): refresh.
    Unknown,
}

impl Rewrite {
    pub fn label(self) -> &'static str {
        match self {
            Rewrite::Moved => "moved",
            Rewrite::Ask => "ask",
            Rewrite::Unknown => "unknown_node",
        }
    }
}

/// One Redis connection's redirections in progress.
#[derive(Debug, Default)]
pub struct Redirects {
    state: State,
}

#[derive(Debug, Default)]
enum State {
    #[default]
    Clear,
    /// The start of a redirection whose line has not ended yet.
    Held(Vec<u8>),
    /// The rest of an over-long redirection, already replaced.
    Dropping,
}

const KINDS: [(&[u8], Rewrite); 2] = [(b"-MOVED ", Rewrite::Moved), (b"-ASK ", Rewrite::Ask)];

/// Whether `start` (of a line) is, or may still become, a redirection.
fn may_redirect(start: &[u8]) -> bool {
    KINDS.iter().any(|(prefix, _)| {
        let n = start.len().min(prefix.len());
        start[..n] == prefix[..n]
    })
}

fn is_redirect(line: &[u8]) -> bool {
    KINDS.iter().any(|(prefix, _)| line.starts_with(prefix))
}

impl Redirects {
    /// Rewrites the redirections in `read` (bytes from Redis, just fed to
    /// the counter whose [`top_level_errors`] are `errors`); returns what
    /// goes to the browser (`read` itself when nothing changed; empty while
    /// a redirection is held), and notes each rewrite in `done`.
    ///
    /// [`top_level_errors`]: crate::replies::ReplyCounter::top_level_errors
    pub fn rewrite(
        &mut self,
        read: Bytes,
        errors: &[usize],
        topology: &Topology,
        done: &mut Vec<Rewrite>,
    ) -> Bytes {
        if errors.is_empty() && matches!(self.state, State::Clear) {
            return read;
        }
        let mut out = BytesMut::new();
        // How much of `read` is in `out`, or replaced.
        let mut copied = 0;
        let mut changed = false;
        // The end of a line that an earlier read started.
        match std::mem::take(&mut self.state) {
            State::Clear => {}
            State::Held(mut line) => {
                changed = true;
                let Some(end) = line_end(&read) else {
                    line.extend_from_slice(&read);
                    self.hold(line, topology, &mut out, done);
                    return out.freeze();
                };
                line.extend_from_slice(&read[..=end]);
                if is_redirect(&line) {
                    replace(&line, topology, &mut out, done);
                } else {
                    out.extend_from_slice(&line);
                }
                copied = end + 1;
            }
            State::Dropping => {
                changed = true;
                let Some(end) = line_end(&read) else {
                    self.state = State::Dropping;
                    return Bytes::new();
                };
                copied = end + 1;
            }
        }
        for &start in errors {
            if start < copied {
                continue;
            }
            let rest = &read[start..];
            match line_end(rest) {
                Some(end) if is_redirect(&rest[..=end]) => {
                    out.extend_from_slice(&read[copied..start]);
                    replace(&rest[..=end], topology, &mut out, done);
                    copied = start + end + 1;
                    changed = true;
                }
                None if may_redirect(rest) => {
                    out.extend_from_slice(&read[copied..start]);
                    self.hold(rest.to_vec(), topology, &mut out, done);
                    copied = read.len();
                    changed = true;
                }
                _ => {}
            }
        }
        if !changed {
            return read;
        }
        out.extend_from_slice(&read[copied..]);
        out.freeze()
    }

    /// Keeps the start of a line that may be a redirection, or replaces it
    /// now if it is already too long to be a real one.
    fn hold(
        &mut self,
        line: Vec<u8>,
        topology: &Topology,
        out: &mut BytesMut,
        done: &mut Vec<Rewrite>,
    ) {
        if !may_redirect(&line) {
            // It turned out to be another error: it goes on as it is.
            out.extend_from_slice(&line);
        } else if line.len() > MAX_LINE {
            replace(b"", topology, out, done);
            self.state = State::Dropping;
        } else {
            self.state = State::Held(line);
        }
    }
}

/// The rewrite of redirection `line` (`-MOVED <slot> <host:port>\r\n`);
/// one that does not read as such, or is longer than any real one, is one
/// to an unknown node.
fn replace(line: &[u8], topology: &Topology, out: &mut BytesMut, done: &mut Vec<Rewrite>) {
    let line = if line.len() > MAX_LINE { &[][..] } else { line };
    let parsed = KINDS.iter().find_map(|&(prefix, kind)| {
        let rest = line.strip_prefix(prefix)?;
        let rest = rest
            .strip_suffix(b"\r\n")
            .or_else(|| rest.strip_suffix(b"\n"))?;
        let text = std::str::from_utf8(rest).ok()?;
        let (slot, address) = text.split_once(' ')?;
        let slot: u16 = slot.parse().ok()?;
        Some((kind, prefix, slot, address))
    });
    match parsed.and_then(|(kind, prefix, slot, address)| {
        let node = topology.node_at(address.as_bytes())?;
        Some((kind, prefix, slot, &node.id))
    }) {
        Some((kind, prefix, slot, id)) => {
            out.extend_from_slice(prefix);
            out.extend_from_slice(format!("{slot} {id}\r\n").as_bytes());
            done.push(kind);
        }
        None => {
            let slot = parsed.map_or(String::from("?"), |(_, _, slot, _)| slot.to_string());
            out.extend_from_slice(
                format!(
                    "-TRYAGAIN redis-ws-bridge: slot {slot} moved to a node not yet in the topology\r\n"
                )
                .as_bytes(),
            );
            done.push(Rewrite::Unknown);
        }
    }
}

fn line_end(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'\n')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replies::ReplyCounter;
    use resp::Frame;

    /// Two nodes, `a…` at 10.0.0.1:7000 and `b…` at 10.0.0.2:7001.
    fn topology() -> Topology {
        let node = |id: char, ip: &str, port: i64| {
            let bulk = |text: &str| Frame::Bulk(text.to_owned().into());
            Frame::Array(vec![
                bulk("id"),
                bulk(&id.to_string().repeat(40)),
                bulk("port"),
                Frame::Integer(port),
                bulk("ip"),
                bulk(ip),
                bulk("endpoint"),
                bulk(ip),
                bulk("role"),
                bulk("master"),
                bulk("health"),
                bulk("online"),
            ])
        };
        let shard = |slots: [i64; 2], node: Frame| {
            Frame::Array(vec![
                Frame::Bulk("slots".into()),
                Frame::Array(slots.map(Frame::Integer).to_vec()),
                Frame::Bulk("nodes".into()),
                Frame::Array(vec![node]),
            ])
        };
        let reply = Frame::Array(vec![
            shard([0, 8191], node('a', "10.0.0.1", 7000)),
            shard([8192, 16383], node('b', "10.0.0.2", 7001)),
        ]);
        Topology::from_shards(&reply, false).unwrap()
    }

    /// What the browser gets for `stream` read in pieces of `cut` bytes.
    fn relayed(stream: &[u8], cut: usize) -> (Vec<u8>, Vec<Rewrite>) {
        let topology = topology();
        let mut counter = ReplyCounter::marking_errors();
        let mut redirects = Redirects::default();
        let (mut out, mut done) = (Vec::new(), Vec::new());
        for piece in stream.chunks(cut) {
            counter.feed(piece);
            let read = Bytes::copy_from_slice(piece);
            let sent = redirects.rewrite(read, counter.top_level_errors(), &topology, &mut done);
            out.extend_from_slice(&sent);
        }
        (out, done)
    }

    /// `stream` relayed whole and in every cut from 1 to 9 bytes, each
    /// giving `expected` and the rewrites `kinds`.
    fn check(stream: &[u8], expected: &[u8], kinds: &[Rewrite]) {
        for cut in (1..=9).chain([stream.len()]) {
            let (out, done) = relayed(stream, cut);
            assert_eq!(
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(expected),
                "cut every {cut} bytes"
            );
            assert_eq!(done, kinds, "cut every {cut} bytes");
        }
    }

    #[test]
    fn moved_and_ask_name_the_node_by_id() {
        let a = "a".repeat(40);
        let b = "b".repeat(40);
        check(
            b"+OK\r\n-MOVED 3999 10.0.0.2:7001\r\n$5\r\nhello\r\n-ASK 12 10.0.0.1:7000\r\n:1\r\n",
            format!("+OK\r\n-MOVED 3999 {b}\r\n$5\r\nhello\r\n-ASK 12 {a}\r\n:1\r\n").as_bytes(),
            &[Rewrite::Moved, Rewrite::Ask],
        );
    }

    #[test]
    fn an_unknown_address_becomes_tryagain() {
        check(
            b"-MOVED 1 10.9.9.9:1\r\n-MOVED 2 10.0.0.1:7001\r\n-MOVED nonsense\r\n",
            b"-TRYAGAIN redis-ws-bridge: slot 1 moved to a node not yet in the topology\r\n\
              -TRYAGAIN redis-ws-bridge: slot 2 moved to a node not yet in the topology\r\n\
              -TRYAGAIN redis-ws-bridge: slot ? moved to a node not yet in the topology\r\n",
            &[Rewrite::Unknown; 3],
        );
    }

    #[test]
    fn other_errors_and_payloads_go_untouched() {
        let stream = b"-ERR MOVED 1 10.9.9.9:1\r\n-ASKING x\r\n-MOVEDX\r\n$22\r\n-MOVED 1 10.9.9.9:1\r\n\r\n\
                       *1\r\n-MOVED 1 10.9.9.9:1\r\n-A\r\n";
        check(stream, stream, &[]);
    }

    #[test]
    fn an_endless_redirection_is_replaced_and_dropped() {
        let mut stream = b"-MOVED 1 ".to_vec();
        stream.extend(std::iter::repeat_n(b'x', 2 * MAX_LINE));
        stream.extend_from_slice(b":1\r\n+OK\r\n");
        check(
            &stream,
            b"-TRYAGAIN redis-ws-bridge: slot ? moved to a node not yet in the topology\r\n+OK\r\n",
            &[Rewrite::Unknown],
        );
    }
}
