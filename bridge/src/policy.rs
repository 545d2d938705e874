//! Command policy: which browser commands reach Redis, and how the others
//! are answered without breaking the pipeline.
//!
//! The browser→Redis stream is parsed with [`resp::Decoder`]: only RESP
//! arrays of bulk strings are accepted (what every Redis client sends), and
//! anything else ends the connection with a [`Violation`]. Commands are
//! judged on their first arguments and then streamed on argument by
//! argument, so a large `SET` costs the bridge one argument of memory, not
//! the whole command. The Redis→browser stream is not parsed at all.
//!
//! # Denied commands keep their place in the pipeline
//!
//! A browser pipelines: it sends many commands and matches replies to them
//! strictly in order. A denied command must therefore get exactly one error
//! reply, in its place. The bridge does this by sending Redis, in place of
//! the denied command, a one-word command whose name cannot exist, such as
//! `FLUSHALL: denied by redis-ws-bridge` (no Redis command name contains a
//! space). Redis answers it like any unknown command, in order:
//!
//! ```text
//! -ERR unknown command 'FLUSHALL: denied by redis-ws-bridge', with args beginning with:
//! ```
//!
//! The alternative, answering from the bridge and splicing the error into
//! the reply stream, needs the bridge to know where each reply ends and
//! which command it belongs to. That is not one reply per command: after
//! `SUBSCRIBE` replies are pushed (and one `SUBSCRIBE a b` has two),
//! `CLIENT REPLY OFF|SKIP` suppresses replies, `MONITOR` streams, `HELLO 3`
//! switches protocol and brings out-of-band pushes, and inside `MULTI` a
//! rejected command must make `EXEC` fail (`EXECABORT`), which the bridge
//! cannot do by itself. Letting Redis answer the stand-in is right in every
//! one of these states by construction, needs no state on the reply side,
//! and keeps that side a plain byte copy. Inside `MULTI` the stand-in makes
//! Redis discard the transaction, exactly as for any command it rejects.
//!
//! The stand-in carries no browser bytes (its text comes from the deny list),
//! and an unknown command does nothing but count in Redis' error statistics,
//! so it cannot be used to reach anything.
//!
//! # What is denied
//!
//! [`DEFAULT_DENIED`] (administration, persistence, replication and
//! whole-keyspace commands) unless `--allow-command` removes an entry, plus
//! every `--deny-command`. Names match case-insensitively; `CONFIG` denies
//! every `CONFIG` subcommand, `CONFIG|SET` (or `CONFIG SET`) only that one.
//! This list is a second line of defence: the permission boundary is the
//! Redis ACL user a token maps to (a script, for one, can still call what
//! the list denies if the user may).
//!
//! When the bridge authenticates the connection itself (`--tokens`), the
//! browser may not change who it is: `AUTH`, `HELLO ... AUTH ...` and
//! `RESET` (which logs the connection back in as the default user) get the
//! same kind of stand-in, saying the bridge authenticates the connection.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use resp::{AggregateKind, DecodeError, DecodeErrorKind, Decoder, Event, Frame};

/// Commands denied unless `--allow-command` names them.
pub const DEFAULT_DENIED: &[&str] = &[
    "FLUSHALL",
    "FLUSHDB",
    "CONFIG",
    "SHUTDOWN",
    "DEBUG",
    "MONITOR",
    "SAVE",
    "BGSAVE",
    "BGREWRITEAOF",
    "REPLICAOF",
    "SLAVEOF",
    "SYNC",
    "PSYNC",
    "MODULE",
    "ACL",
    "CLUSTER",
    "MIGRATE",
    "FAILOVER",
];

/// Longest command or subcommand name compared with the deny list; Redis'
/// own names are at most about 30 bytes, so a longer one is never denied.
const MAX_NAME_LEN: usize = 64;

/// `HELLO protover AUTH user pass SETNAME name`: more arguments are a
/// syntax error for Redis, and are not worth holding to inspect.
const HELLO_MAX_ARGS: usize = 7;

/// Longest line (an array or bulk header) in a command. Headers are at most
/// 21 bytes; anything longer is not a command.
const MAX_LINE_LEN: usize = 64;

/// Which commands are denied, built once from the flags.
#[derive(Debug)]
pub struct Policy {
    /// Upper-case command name → what of it is denied. Looked up for every
    /// command: a B-tree of a few dozen short names needs no hashing.
    denied: BTreeMap<Vec<u8>, Rule>,
    /// Whether the bridge authenticates connections itself (`--tokens`).
    bridge_authenticates: bool,
}

#[derive(Debug)]
enum Rule {
    /// The command, whatever its subcommand.
    Command,
    /// These upper-case subcommands only.
    Subcommands(BTreeSet<Vec<u8>>),
}

impl Policy {
    /// [`DEFAULT_DENIED`] without `allow`, plus `deny`. Each `allow` entry
    /// must name a default entry, so that a typo does not go unnoticed.
    pub fn new(
        deny: &[String],
        allow: &[String],
        bridge_authenticates: bool,
    ) -> Result<Self, String> {
        let allow = allow
            .iter()
            .map(|name| {
                let name = normalize(name)?;
                if DEFAULT_DENIED.contains(&name.as_str()) {
                    Ok(name)
                } else {
                    Err(format!(
                        "--allow-command {name}: not in the default deny list"
                    ))
                }
            })
            .collect::<Result<HashSet<_>, _>>()?;
        let mut policy = Policy {
            denied: BTreeMap::new(),
            bridge_authenticates,
        };
        for name in DEFAULT_DENIED.iter().filter(|name| !allow.contains(**name)) {
            policy.deny(name);
        }
        for name in deny {
            policy.deny(&normalize(name)?);
        }
        Ok(policy)
    }

    /// Adds a normalized `NAME` or `NAME|SUB`.
    fn deny(&mut self, entry: &str) {
        let (name, sub) = match entry.split_once('|') {
            Some((name, sub)) => (name, Some(sub)),
            None => (entry, None),
        };
        let rule = self
            .denied
            .entry(name.as_bytes().to_vec())
            .or_insert_with(|| Rule::Subcommands(BTreeSet::new()));
        match (rule, sub) {
            (Rule::Subcommands(subs), Some(sub)) => {
                subs.insert(sub.as_bytes().to_vec());
            }
            (rule, None) => *rule = Rule::Command,
            (Rule::Command, Some(_)) => {}
        }
    }

    /// Judges a command of `argc` arguments from its first `args`, or
    /// returns `None` if it needs more of them. Decides once all have come.
    fn judge(&self, args: &[Bytes], argc: usize) -> Option<Verdict> {
        let Some(name) = args.first().and_then(|name| upper(name)) else {
            return Some(Verdict::Relay);
        };
        if self.bridge_authenticates {
            let refused = match &name[..] {
                b"AUTH" | b"RESET" => true,
                b"HELLO" if argc > HELLO_MAX_ARGS => true,
                b"HELLO" if args.len() < argc => return None,
                b"HELLO" => hello_authenticates(&args[1..]),
                _ => false,
            };
            if refused {
                return Some(Verdict::Deny(Denial::new(
                    &name,
                    None,
                    Why::BridgeAuthenticates,
                )));
            }
        }
        match self.denied.get(&name[..]) {
            None => Some(Verdict::Relay),
            Some(Rule::Command) => Some(Verdict::Deny(Denial::new(&name, None, Why::Denied))),
            // Without a subcommand Redis answers with an arity error.
            Some(Rule::Subcommands(_)) if argc < 2 => Some(Verdict::Relay),
            Some(Rule::Subcommands(_)) if args.len() < 2 => None,
            Some(Rule::Subcommands(subs)) => match upper(&args[1]) {
                Some(sub) if subs.contains(&sub[..]) => {
                    Some(Verdict::Deny(Denial::new(&name, Some(&sub), Why::Denied)))
                }
                _ => Some(Verdict::Relay),
            },
        }
    }
}

/// Upper-cases a flag value: `NAME`, `NAME|SUB` or `NAME SUB`.
fn normalize(entry: &str) -> Result<String, String> {
    let parts: Vec<&str> = entry
        .split(['|', ' '])
        .filter(|part| !part.is_empty())
        .collect();
    let valid =
        |part: &&str| part.len() <= MAX_NAME_LEN && part.bytes().all(|b| b.is_ascii_graphic());
    match parts[..] {
        [_] | [_, _] if parts.iter().all(valid) => Ok(parts.join("|").to_ascii_uppercase()),
        _ => Err(format!(
            "{entry:?}: expected a command name, or NAME|SUBCOMMAND"
        )),
    }
}

/// `name` upper-cased, or `None` if it is too long to be a command name.
fn upper(name: &[u8]) -> Option<Name> {
    let mut upper = Name {
        bytes: [0; MAX_NAME_LEN],
        len: name.len(),
    };
    upper.bytes.get_mut(..name.len())?.copy_from_slice(name);
    upper.bytes[..name.len()].make_ascii_uppercase();
    Some(upper)
}

/// An upper-cased command name, on the stack: every command's name is
/// looked up, and that must not cost an allocation.
struct Name {
    bytes: [u8; MAX_NAME_LEN],
    len: usize,
}

impl std::ops::Deref for Name {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// Whether `HELLO` options (after the name) include `AUTH`. The value of
/// `SETNAME` is skipped, so a client may still be called "auth".
fn hello_authenticates(options: &[Bytes]) -> bool {
    let mut options = options.iter();
    while let Some(option) = options.next() {
        if option.eq_ignore_ascii_case(b"AUTH") {
            return true;
        }
        if option.eq_ignore_ascii_case(b"SETNAME") {
            options.next();
        }
    }
    false
}

enum Verdict {
    Relay,
    Deny(Denial),
}

/// A command the bridge kept from Redis. Its text comes from the deny list
/// or a fixed name, never from the browser's bytes, so it is safe to log.
#[derive(Debug)]
pub struct Denial {
    command: String,
    why: Why,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Why {
    Denied,
    BridgeAuthenticates,
}

impl Denial {
    fn new(name: &[u8], sub: Option<&[u8]>, why: Why) -> Self {
        let mut command = String::from_utf8_lossy(name).into_owned();
        if let Some(sub) = sub {
            command.push(' ');
            command.push_str(&String::from_utf8_lossy(sub));
        }
        Denial { command, why }
    }

    /// The command as denied, e.g. `FLUSHALL` or `CONFIG SET`.
    pub fn command(&self) -> &str {
        &self.command
    }

    /// Appends the stand-in command Redis answers with an error in place of
    /// the denied one.
    fn write_stand_in(&self, out: &mut Vec<u8>) {
        let name = match self.why {
            Why::Denied => format!("{}: denied by redis-ws-bridge", self.command),
            Why::BridgeAuthenticates => format!(
                "{}: not allowed, redis-ws-bridge authenticates this connection",
                self.command
            ),
        };
        resp::encode_command(out, [name]);
    }
}

/// Why a browser's stream was refused; ends the WebSocket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Violation {
    /// A command in Redis' inline (telnet) form.
    Inline,
    /// Valid RESP, but not an array of bulk strings.
    NotCommand,
    /// An argument longer than `--max-bulk-len`.
    ArgumentTooLong {
        /// The limit in force.
        limit: usize,
    },
    /// Not RESP.
    Malformed(DecodeError),
}

impl Violation {
    /// The WebSocket close code: 1008 (policy), 1009 (too big) or 1002
    /// (protocol error).
    pub fn close_code(&self) -> u16 {
        match self {
            Violation::Inline | Violation::NotCommand => 1008,
            Violation::ArgumentTooLong { .. } => 1009,
            Violation::Malformed(_) => 1002,
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::Inline => {
                f.write_str("inline commands are not accepted: send RESP arrays of bulk strings")
            }
            Violation::NotCommand => f.write_str("only RESP arrays of bulk strings are accepted"),
            Violation::ArgumentTooLong { limit } => {
                write!(f, "argument longer than {limit} bytes")
            }
            Violation::Malformed(error) => write!(f, "malformed RESP: {error}"),
        }
    }
}

impl std::error::Error for Violation {}

/// Turns one browser's byte stream into what Redis should receive.
///
/// ```
/// use std::sync::Arc;
/// use redis_ws_bridge::policy::{CommandFilter, Policy};
///
/// let policy = Arc::new(Policy::new(&[], &[], false).unwrap());
/// let mut filter = CommandFilter::new(policy, 1024);
/// let mut out = Vec::new();
/// let denials = filter.feed(b"*1\r\n$4\r\nPING\r\n*1\r\n$8\r\nFLUSHALL\r\n", &mut out).unwrap();
/// assert_eq!(denials[0].command(), "FLUSHALL");
/// assert!(out.starts_with(b"*1\r\n$4\r\nPING\r\n*1\r\n$"));
/// ```
pub struct CommandFilter {
    policy: Arc<Policy>,
    decoder: Decoder,
    /// The command being received, if one has started.
    command: Option<Command>,
    /// Its first arguments while it is judged (reused, command to command).
    judging: Vec<Bytes>,
    /// Commands sent on to Redis so far, stand-ins included: each gets a reply.
    sent: u64,
}

struct Command {
    argc: usize,
    state: State,
}

enum State {
    /// The first arguments are held (in `judging`) until the policy can decide.
    Judging,
    /// Allowed: arguments go on to Redis as they come.
    Relaying,
    /// Denied: arguments are dropped, and the stand-in goes out at the end.
    Dropping(Denial),
}

impl CommandFilter {
    /// A filter for one connection; arguments over `max_bulk_len` bytes are
    /// refused as soon as their header arrives.
    pub fn new(policy: Arc<Policy>, max_bulk_len: usize) -> Self {
        let limits = resp::Limits {
            max_bulk_len,
            // The command array itself: anything nested is refused at its header.
            max_depth: 1,
            max_line_len: MAX_LINE_LEN,
        };
        CommandFilter {
            policy,
            decoder: Decoder::with_limits(limits),
            command: None,
            judging: Vec::new(),
            sent: 0,
        }
    }

    /// Takes the next bytes from the browser, appends what Redis should get
    /// to `out` (allowed commands, re-encoded, and stand-ins for denied ones,
    /// in order), and returns the commands denied on the way. After an error
    /// the connection must end: the stream has no reliable boundary left.
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<Vec<Denial>, Violation> {
        self.decoder.feed(input);
        let mut denials = Vec::new();
        loop {
            let event = match self.decoder.decode_streaming() {
                Ok(Some(event)) => event,
                Ok(None) => return Ok(denials),
                Err(error) => return Err(self.violation(error)),
            };
            match event {
                Event::Start {
                    kind: AggregateKind::Array,
                    len,
                } => {
                    self.judging.clear();
                    self.command = Some(Command {
                        argc: len,
                        state: State::Judging,
                    });
                }
                Event::Item(Frame::Bulk(arg)) => self.argument(arg, out),
                Event::End => denials.extend(self.end(out)),
                Event::Start { .. } | Event::Item(_) | Event::Frame(_) => {
                    return Err(Violation::NotCommand)
                }
            }
        }
    }

    /// Whether a command has started and not ended: what Redis got of it so
    /// far may be an incomplete command.
    pub fn in_command(&self) -> bool {
        self.command.is_some()
    }

    /// How many commands went out so far, stand-ins for denied ones included.
    pub fn commands_sent(&self) -> u64 {
        self.sent
    }

    fn argument(&mut self, arg: Bytes, out: &mut Vec<u8>) {
        let CommandFilter {
            policy,
            command,
            judging,
            sent,
            ..
        } = self;
        let command = command
            .as_mut()
            .expect("the decoder hands out items between Start and End");
        match &mut command.state {
            State::Relaying => resp::write_bulk(out, &arg),
            State::Dropping(_) => {}
            State::Judging => {
                judging.push(arg);
                match policy.judge(judging, command.argc) {
                    None => return,
                    Some(Verdict::Relay) => {
                        *sent += 1;
                        resp::write_array_header(out, command.argc);
                        for arg in judging.iter() {
                            resp::write_bulk(out, arg);
                        }
                        command.state = State::Relaying;
                    }
                    Some(Verdict::Deny(denial)) => command.state = State::Dropping(denial),
                }
                judging.clear();
            }
        }
    }

    fn end(&mut self, out: &mut Vec<u8>) -> Option<Denial> {
        match self.command.take()?.state {
            State::Dropping(denial) => {
                self.sent += 1;
                denial.write_stand_in(out);
                Some(denial)
            }
            // A command judged once complete was judged already; what is
            // left here is `*0`, which Redis ignores, and so does the bridge.
            State::Relaying | State::Judging => None,
        }
    }

    fn violation(&self, error: DecodeError) -> Violation {
        match error.kind {
            DecodeErrorKind::InvalidType(_) if self.command.is_none() => Violation::Inline,
            DecodeErrorKind::TooDeep { .. } => Violation::NotCommand,
            DecodeErrorKind::BulkTooLong { limit, .. } => Violation::ArgumentTooLong { limit },
            _ => Violation::Malformed(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(deny: &[&str], allow: &[&str], bridge_authenticates: bool) -> CommandFilter {
        let strings = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        let policy = Policy::new(&strings(deny), &strings(allow), bridge_authenticates)
            .expect("valid policy");
        CommandFilter::new(Arc::new(policy), 1024)
    }

    fn command(args: &[&str]) -> Vec<u8> {
        let mut out = Vec::new();
        resp::encode_command(&mut out, args);
        out
    }

    /// Feeds `input` one byte at a time; returns the output and denials.
    fn run(filter: &mut CommandFilter, input: &[u8]) -> Result<(Vec<u8>, Vec<String>), Violation> {
        let mut out = Vec::new();
        let mut denied = Vec::new();
        for byte in input {
            for denial in filter.feed(std::slice::from_ref(byte), &mut out)? {
                denied.push(denial.command().to_owned());
            }
        }
        Ok((out, denied))
    }

    fn stand_in(name: &str) -> Vec<u8> {
        command(&[&format!("{name}: denied by redis-ws-bridge")])
    }

    #[test]
    fn allowed_commands_pass_unchanged() {
        let input = [command(&["SET", "k", "v"]), command(&["GET", "k"])].concat();
        let (out, denied) = run(&mut filter(&[], &[], false), &input).unwrap();
        assert_eq!(out, input);
        assert!(denied.is_empty());
    }

    #[test]
    fn denied_commands_are_replaced_in_place() {
        let input = [
            command(&["SET", "a", "1"]),
            command(&["flushall"]),
            command(&["GET", "a"]),
        ]
        .concat();
        let (out, denied) = run(&mut filter(&[], &[], false), &input).unwrap();
        let expected = [
            command(&["SET", "a", "1"]),
            stand_in("FLUSHALL"),
            command(&["GET", "a"]),
        ]
        .concat();
        assert_eq!(out, expected);
        assert_eq!(denied, ["FLUSHALL"]);
    }

    #[test]
    fn subcommands_can_be_denied_alone() {
        let mut filter = filter(&["client|kill", "OBJECT FREQ"], &["CONFIG"], false);
        let input = [
            command(&["CLIENT", "KILL", "ID", "7"]),
            command(&["client", "list"]),
            command(&["CONFIG", "GET", "maxmemory"]),
            command(&["object", "freq", "k"]),
            command(&["CLIENT"]),
        ]
        .concat();
        let (out, denied) = run(&mut filter, &input).unwrap();
        let expected = [
            stand_in("CLIENT KILL"),
            command(&["client", "list"]),
            command(&["CONFIG", "GET", "maxmemory"]),
            stand_in("OBJECT FREQ"),
            command(&["CLIENT"]),
        ]
        .concat();
        assert_eq!(
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(&expected)
        );
        assert_eq!(denied, ["CLIENT KILL", "OBJECT FREQ"]);
    }

    #[test]
    fn allow_command_must_name_a_default() {
        let error = Policy::new(&[], &["GETT".into()], false).unwrap_err();
        assert!(error.contains("GETT"), "{error}");
        assert!(Policy::new(&["A B C".into()], &[], false).is_err());
        assert!(Policy::new(&["".into()], &[], false).is_err());
    }

    #[test]
    fn authentication_is_the_bridges_when_it_authenticates() {
        let input = [
            command(&["AUTH", "pw"]),
            command(&["HELLO", "3", "AUTH", "u", "pw"]),
            command(&["HELLO", "3", "SETNAME", "auth"]),
            command(&["RESET"]),
        ]
        .concat();
        let (out, denied) = run(&mut filter(&[], &[], true), &input).unwrap();
        assert_eq!(denied, ["AUTH", "HELLO", "RESET"]);
        assert!(
            !out.windows(2).any(|w| w == b"pw"),
            "no password reaches Redis"
        );
        assert!(out.windows(7).any(|w| w == b"SETNAME"));

        let (out, denied) = run(&mut filter(&[], &[], false), &input).unwrap();
        assert_eq!(out, input);
        assert!(denied.is_empty());
    }

    #[test]
    fn refuses_what_is_not_a_command() {
        let cases: [(&[u8], Violation); 5] = [
            (b"PING\r\n", Violation::Inline),
            (b"+OK\r\n", Violation::NotCommand),
            (b"*1\r\n:1\r\n", Violation::NotCommand),
            (b"*1\r\n*1\r\n$1\r\na\r\n", Violation::NotCommand),
            (
                b"*1\r\n$2000\r\n",
                Violation::ArgumentTooLong { limit: 1024 },
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(
                run(&mut filter(&[], &[], false), input).unwrap_err(),
                expected
            );
        }
        let error = run(&mut filter(&[], &[], false), b"*1\r\n$1\r\nab\r\n").unwrap_err();
        assert!(matches!(error, Violation::Malformed(_)));
        assert_eq!(error.close_code(), 1002);
    }

    #[test]
    fn empty_commands_are_ignored() {
        let input = [b"*0\r\n".to_vec(), command(&["PING"])].concat();
        let (out, _) = run(&mut filter(&[], &[], false), &input).unwrap();
        assert_eq!(out, command(&["PING"]));
    }
}
