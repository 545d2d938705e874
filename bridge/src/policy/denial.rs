//! A refused command, and the stand-in Redis answers in its place.
//!
//! The stand-in is a one-word command whose name cannot exist, such as
//! `FLUSHALL: denied by redis-ws-bridge`: no command name holds a space or
//! a colon, and its text comes from the server's table or a fixed string,
//! never from the browser, so it cannot resolve to a command, however
//! Redis compares names, and is safe to log. Redis answers it like any
//! unknown command, in its place in the pipeline:
//!
//! ```text
//! -ERR unknown command 'FLUSHALL: denied by redis-ws-bridge', with args beginning with:
//! ```

use std::fmt;
use std::sync::Arc;

/// Why a command was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// The policy denies it.
    Denied,
    /// It would change who the connection is logged in as (`--tokens`).
    Identity,
    /// Not a command name this server has (or not a name at all).
    Unknown,
    /// Not a subcommand of this container.
    UnknownSubcommand,
    /// An argument the policy does not allow (`HELLO ... AUTH`, `CLIENT
    /// TRACKING ... REDIRECT`, `COPY ... DB`, an unparsable `BITFIELD`).
    Argument,
    /// An offset that would grow a string past `--max-bulk-len`.
    Offset,
    /// A key outside the token's prefix.
    Key,
    /// A channel or pattern outside the token's prefix.
    Channel,
    /// The part that must be judged is longer than the bridge holds.
    TooLong,
}

impl Why {
    fn reason(self) -> &'static str {
        match self {
            Why::Denied => "denied by redis-ws-bridge",
            Why::Identity => "not allowed, redis-ws-bridge authenticates this connection",
            Why::Unknown => "refused by redis-ws-bridge",
            Why::UnknownSubcommand => "unknown subcommand, refused by redis-ws-bridge",
            Why::Argument => "argument not allowed, denied by redis-ws-bridge",
            Why::Offset => "offset past --max-bulk-len, denied by redis-ws-bridge",
            Why::Key => "key outside this token's prefix, denied by redis-ws-bridge",
            Why::Channel => "channel outside this token's prefix, denied by redis-ws-bridge",
            Why::TooLong => "too long to judge, refused by redis-ws-bridge",
        }
    }
}

/// A command the bridge kept from Redis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    /// The command as the server's table names it (`CLIENT KILL`), or
    /// `None` for a name that is not one.
    label: Option<Arc<str>>,
    why: Why,
}

/// What an unknown command is called in logs and stand-ins.
const UNKNOWN: &str = "unknown command";

impl Denial {
    pub(crate) fn new(label: Option<&Arc<str>>, why: Why) -> Self {
        Denial {
            label: label.cloned(),
            why,
        }
    }

    /// The command as refused, e.g. `FLUSHALL` or `CLIENT KILL`.
    pub fn command(&self) -> &str {
        self.label.as_deref().unwrap_or(UNKNOWN)
    }

    /// The command's name in the server's table, `None` for a name the
    /// table lacks (a bounded set, for metric labels).
    pub fn known_command(&self) -> Option<&str> {
        self.label.as_deref()
    }

    /// Appends the stand-in command, without allocating.
    pub(crate) fn write_stand_in(&self, out: &mut Vec<u8>) {
        let (name, reason) = (self.command(), self.why.reason());
        let len = name.len() + 2 + reason.len();
        resp::write_array_header(out, 1);
        out.push(b'$');
        write_decimal(out, len);
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(reason.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.command(), self.why.reason())
    }
}

fn write_decimal(out: &mut Vec<u8>, mut value: usize) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stand_ins_are_one_bulk_string_with_a_space() {
        let label: Arc<str> = "CLIENT KILL".into();
        for (denial, text) in [
            (
                Denial::new(Some(&label), Why::Denied),
                "CLIENT KILL: denied by redis-ws-bridge",
            ),
            (
                Denial::new(None, Why::Unknown),
                "unknown command: refused by redis-ws-bridge",
            ),
        ] {
            let mut out = Vec::new();
            denial.write_stand_in(&mut out);
            let mut expected = Vec::new();
            resp::encode_command(&mut expected, [text]);
            assert_eq!(out, expected);
            assert_eq!(denial.to_string(), text);
        }
    }
}
