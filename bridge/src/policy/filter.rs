//! The browser→Redis stream filter: a RESP parser that judges each
//! command's name (and subcommand, and the few arguments a check needs) and
//! passes everything else through as byte ranges of the input.
//!
//! Only what a browser's client sends is accepted: top-level `*` arrays of
//! `$` bulk strings, with canonical lengths. Anything else (inline
//! commands, RESP3 attributes, maps, pushes, nesting) ends the connection
//! at its first byte, so it costs nothing to refuse.
//!
//! Memory: a command is held only while it is judged, and only the part
//! the judgement needs, at most [`JUDGE_LIMIT`] bytes; the rest streams on
//! as it arrives, so a 64 MiB argument costs the filter nothing beyond the
//! WebSocket message it came in. Each [`feed`](CommandFilter::feed) returns
//! after at most about [`OUTPUT_LIMIT`] bytes of stand-ins, so that a
//! message of refused commands cannot make the output grow without bound.
//!
//! Allocation: none per command once the connection's few buffers have
//! grown to their working size.

use std::fmt;
use std::io::{self, IoSlice};
use std::sync::Arc;

use tokio::io::{AsyncWrite, AsyncWriteExt};

use super::checks::{Args, Context, Plan};
use super::commands::{Command, Policy};
use super::denial::{Denial, Why};
use super::MAX_NAME_LEN;

/// Most bytes of one command the filter holds while judging it; a command
/// whose judged part is longer is refused (its rest is dropped unread).
pub const JUDGE_LIMIT: usize = 64 * 1024;

/// Bytes of stand-ins and held commands after which a feed returns early.
pub const OUTPUT_LIMIT: usize = 64 * 1024;

/// Output pieces after which a feed returns early (one vectored write).
const MAX_SEGMENTS: usize = 64;

/// Redis refuses more arguments than this (`invalid multibulk length`).
const MAX_ARGC: u64 = i32::MAX as u64;

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
    Malformed(&'static str),
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
            Violation::Malformed(what) => write!(f, "malformed RESP: {what}"),
        }
    }
}

impl std::error::Error for Violation {}

/// What one [`feed`](CommandFilter::feed) lets through, in order: ranges of
/// its input, and bytes of the filter's own (stand-ins, held commands).
#[derive(Debug, Default)]
pub struct Output {
    segments: Vec<Segment>,
    owned: Vec<u8>,
    denials: Vec<Denial>,
    /// Commands completed, stand-ins included: Redis answers each once.
    commands: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Segment {
    Input(usize, usize),
    Owned(usize, usize),
}

impl Output {
    /// The commands refused on the way.
    pub fn denials(&self) -> &[Denial] {
        &self.denials
    }

    /// How many whole commands (relayed or stand-ins) the output ends,
    /// each owed one reply by Redis.
    pub fn commands(&self) -> u64 {
        self.commands
    }

    /// Empties the output for the next feed.
    pub fn clear(&mut self) {
        self.segments.clear();
        self.owned.clear();
        self.denials.clear();
        self.commands = 0;
        self.owned.shrink_to(2 * OUTPUT_LIMIT);
    }

    /// Writes the output of a feed of `input` to `to`, in one write call
    /// where the stream takes it all.
    pub async fn write_to<W: AsyncWrite + Unpin + ?Sized>(
        &self,
        input: &[u8],
        to: &mut W,
    ) -> io::Result<()> {
        if let [segment] = self.segments[..] {
            return to.write_all(self.slice(segment, input)).await;
        }
        let mut slices = [IoSlice::new(&[]); MAX_SEGMENTS + 4];
        let count = self.segments.len();
        for (slice, segment) in slices.iter_mut().zip(&self.segments) {
            *slice = IoSlice::new(self.slice(*segment, input));
        }
        let mut slices = &mut slices[..count];
        while !slices.is_empty() {
            let written = to.write_vectored(slices).await?;
            if written == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            IoSlice::advance_slices(&mut slices, written);
        }
        Ok(())
    }

    /// The output of a feed of `input`, as one buffer (for tests).
    pub fn to_vec(&self, input: &[u8]) -> Vec<u8> {
        self.segments
            .iter()
            .flat_map(|segment| self.slice(*segment, input).iter().copied())
            .collect()
    }

    fn slice<'a>(&'a self, segment: Segment, input: &'a [u8]) -> &'a [u8] {
        match segment {
            Segment::Input(start, end) => &input[start..end],
            Segment::Owned(start, end) => &self.owned[start..end],
        }
    }

    fn pass(&mut self, start: usize, end: usize) {
        if start == end {
            return;
        }
        match self.segments.last_mut() {
            Some(Segment::Input(_, last)) if *last == start => *last = end,
            _ => self.segments.push(Segment::Input(start, end)),
        }
    }

    fn own(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        let start = self.owned.len();
        write(&mut self.owned);
        let end = self.owned.len();
        match self.segments.last_mut() {
            Some(Segment::Owned(_, last)) if *last == start => *last = end,
            _ => self.segments.push(Segment::Owned(start, end)),
        }
    }

    fn full(&self) -> bool {
        self.segments.len() >= MAX_SEGMENTS || self.owned.len() >= OUTPUT_LIMIT
    }
}

/// Turns one browser's byte stream into what Redis should receive.
///
/// ```
/// # use redis_ws_bridge::policy::{CommandFilter, Output, Policy};
/// # fn demo(policy: std::sync::Arc<Policy>) {
/// let mut filter = CommandFilter::new(policy, None);
/// let mut out = Output::default();
/// let input = b"*1\r\n$4\r\nPING\r\n*1\r\n$8\r\nFLUSHALL\r\n";
/// let consumed = filter.feed(input, &mut out).unwrap();
/// assert_eq!(consumed, input.len());
/// assert_eq!(out.denials()[0].command(), "FLUSHALL");
/// # }
/// ```
pub struct CommandFilter {
    policy: Arc<Policy>,
    /// The token's key and channel prefix, if it has one.
    prefix: Option<Arc<[u8]>>,
    grammar: Grammar,
    number: Number,
    command: Option<Cmd>,
    /// The command being judged, when it began in an earlier input.
    held: Vec<u8>,
    /// Start and length of each argument held, from the command's start.
    spans: Vec<(u32, u32)>,
    /// The first violation: the stream has no boundary left to resume at.
    failed: Option<Violation>,
}

#[derive(Debug, Clone, Copy)]
enum Grammar {
    /// `*` expected: a command begins.
    Array,
    /// The digits of `*<n>` or `$<n>`, then CRLF.
    Length { bulk: bool },
    /// `$` expected.
    Bulk,
    /// This many bytes of an argument to come.
    Data { left: usize },
    /// The CRLF after an argument; `cr` once the CR came.
    End { cr: bool },
}

/// A length being read.
#[derive(Debug, Clone, Copy, Default)]
struct Number {
    value: u64,
    digits: u8,
    cr: bool,
}

struct Cmd {
    argc: usize,
    /// The argument being read.
    arg: usize,
    /// Bytes of the command so far.
    len: usize,
    mode: Mode,
}

enum Mode {
    /// Held until the policy decides.
    Judging(Stage),
    /// Allowed: bytes go on as they come.
    Relaying,
    /// Refused: bytes are dropped, the stand-in goes out at the end.
    Dropping(Denial),
}

#[derive(Debug, Clone, Copy)]
enum Stage {
    Name,
    /// The container at this index waits for its subcommand.
    Subcommand(u32),
    /// The checks of this (sub)command wait for the argument at `hold_to`.
    Checks {
        command: u32,
        sub: Option<u32>,
        hold_to: usize,
    },
}

/// Where the current command's bytes are within one feed.
struct Cursor {
    /// Where the command began in this input, if it did.
    start: Option<usize>,
    /// Input before this is already in `held`.
    synced: usize,
    /// Start of the input range being relayed, if any.
    run: Option<usize>,
}

impl CommandFilter {
    /// A filter for one connection; `prefix` is its token's key and channel
    /// prefix.
    pub fn new(policy: Arc<Policy>, prefix: Option<Arc<[u8]>>) -> Self {
        CommandFilter {
            policy,
            prefix,
            grammar: Grammar::Array,
            number: Number::default(),
            command: None,
            held: Vec::new(),
            spans: Vec::new(),
            failed: None,
        }
    }

    /// Whether a command has started and not ended: what Redis got of it so
    /// far may be an incomplete command.
    pub fn in_command(&self) -> bool {
        self.command.is_some()
    }

    /// Takes the next bytes from the browser and appends to `out` what
    /// Redis should get (ranges of `input`, stand-ins for refused commands,
    /// in order). Returns how much of `input` it took: all of it, or less
    /// when the output filled up at a command boundary (write it, clear it
    /// and feed the rest). After an error the connection must end.
    pub fn feed(&mut self, input: &[u8], out: &mut Output) -> Result<usize, Violation> {
        if let Some(violation) = self.failed {
            return Err(violation);
        }
        let result = self.parse(input, out);
        if let Err(violation) = result {
            self.failed = Some(violation);
        }
        result
    }

    fn parse(&mut self, input: &[u8], out: &mut Output) -> Result<usize, Violation> {
        let relaying = matches!(
            &self.command,
            Some(Cmd {
                mode: Mode::Relaying,
                ..
            })
        );
        let mut at = Cursor {
            start: None,
            synced: 0,
            run: relaying.then_some(0),
        };
        let mut pos = 0;
        while pos < input.len() {
            match self.grammar {
                Grammar::Array => {
                    if pos > 0 && out.full() {
                        return Ok(pos);
                    }
                    let byte = input[pos];
                    if byte != b'*' {
                        return Err(if is_resp_type(byte) {
                            Violation::NotCommand
                        } else {
                            Violation::Inline
                        });
                    }
                    self.held.clear();
                    self.spans.clear();
                    self.command = Some(Cmd {
                        argc: 0,
                        arg: 0,
                        len: 1,
                        mode: Mode::Judging(Stage::Name),
                    });
                    at.start = Some(pos);
                    at.synced = pos;
                    pos += 1;
                    self.number = Number::default();
                    self.grammar = Grammar::Length { bulk: false };
                }
                Grammar::Bulk => {
                    let byte = input[pos];
                    if byte != b'$' {
                        return Err(if is_resp_type(byte) {
                            Violation::NotCommand
                        } else {
                            Violation::Malformed("expected a bulk string")
                        });
                    }
                    pos += 1;
                    self.cmd().len += 1;
                    self.number = Number::default();
                    self.grammar = Grammar::Length { bulk: true };
                }
                Grammar::Length { bulk } => {
                    let Some(length) = self.read_length(input, &mut pos, bulk)? else {
                        continue;
                    };
                    if bulk {
                        self.bulk_header(length, &mut at)?;
                    } else if length == 0 {
                        // `*0`: Redis ignores it, and so does the bridge.
                        self.command = None;
                        self.grammar = Grammar::Array;
                    } else {
                        self.cmd().argc = length;
                        self.grammar = Grammar::Bulk;
                    }
                }
                Grammar::Data { left } => {
                    let take = left.min(input.len() - pos);
                    pos += take;
                    self.cmd().len += take;
                    self.grammar = match left - take {
                        0 => Grammar::End { cr: false },
                        left => Grammar::Data { left },
                    };
                }
                Grammar::End { cr } => {
                    let byte = input[pos];
                    pos += 1;
                    self.cmd().len += 1;
                    match (cr, byte) {
                        (false, b'\r') => self.grammar = Grammar::End { cr: true },
                        (true, b'\n') => self.argument_done(input, pos, &mut at, out),
                        _ => return Err(Violation::Malformed("missing CRLF after an argument")),
                    }
                }
            }
        }
        match &self.command {
            Some(Cmd {
                mode: Mode::Relaying,
                ..
            }) => out.pass(at.run.unwrap_or(0), input.len()),
            Some(Cmd {
                mode: Mode::Judging(_),
                ..
            }) => {
                let from = if self.held.is_empty() {
                    at.start
                        .expect("a command judged from an earlier input is held")
                } else {
                    at.synced
                };
                self.held.extend_from_slice(&input[from..]);
            }
            _ => {}
        }
        Ok(input.len())
    }

    fn cmd(&mut self) -> &mut Cmd {
        self.command
            .as_mut()
            .expect("lengths and arguments come inside a command")
    }

    /// Reads digits and CRLF; `Some` once the length is complete.
    fn read_length(
        &mut self,
        input: &[u8],
        pos: &mut usize,
        bulk: bool,
    ) -> Result<Option<usize>, Violation> {
        while *pos < input.len() {
            let byte = input[*pos];
            *pos += 1;
            self.cmd().len += 1;
            let number = &mut self.number;
            if number.cr {
                if byte != b'\n' {
                    return Err(Violation::Malformed("missing CRLF after a length"));
                }
                if !bulk && number.value > MAX_ARGC {
                    return Err(Violation::Malformed("too many arguments"));
                }
                // At most 19 digits: fits a 64-bit usize.
                return Ok(Some(number.value as usize));
            }
            match byte {
                b'0'..=b'9' => {
                    // Canonical lengths only: no leading zero, at most 19 digits.
                    if (number.digits > 0 && number.value == 0) || number.digits == 19 {
                        return Err(Violation::Malformed("bad length"));
                    }
                    number.value = number.value * 10 + u64::from(byte - b'0');
                    number.digits += 1;
                }
                b'\r' if number.digits > 0 => number.cr = true,
                // `*-1` and `$-1`: nulls are not commands or arguments.
                b'-' if number.digits == 0 => return Err(Violation::NotCommand),
                _ => return Err(Violation::Malformed("bad length")),
            }
        }
        Ok(None)
    }

    /// An argument's header is complete: refuse an over-long one at once.
    fn bulk_header(&mut self, length: usize, at: &mut Cursor) -> Result<(), Violation> {
        let limit = self.policy.max_bulk_len;
        if length > limit {
            return Err(Violation::ArgumentTooLong { limit });
        }
        let command = self.command.as_ref().expect("inside a command");
        let refusal = match command.mode {
            Mode::Judging(Stage::Name) if length > MAX_NAME_LEN => {
                Some(Denial::new(None, Why::Unknown))
            }
            Mode::Judging(Stage::Subcommand(index)) if length > MAX_NAME_LEN => {
                let label = &self.policy.commands().get(index).label;
                Some(Denial::new(Some(label), Why::UnknownSubcommand))
            }
            Mode::Judging(Stage::Checks {
                command: index,
                sub,
                ..
            }) if command.len + length + 2 > JUDGE_LIMIT => {
                let label = &self.target(index, sub).label;
                Some(Denial::new(Some(label), Why::TooLong))
            }
            Mode::Judging(_) => {
                self.spans.push((command.len as u32, length as u32));
                None
            }
            Mode::Relaying | Mode::Dropping(_) => None,
        };
        if let Some(denial) = refusal {
            self.deny(denial, at);
        }
        self.grammar = if length == 0 {
            Grammar::End { cr: false }
        } else {
            Grammar::Data { left: length }
        };
        Ok(())
    }

    fn target(&self, command: u32, sub: Option<u32>) -> &Command {
        let command = self.policy.commands().get(command);
        match (sub, &command.subcommands) {
            (Some(sub), Some(subs)) => subs.get(sub),
            _ => command,
        }
    }

    /// An argument is complete (its CRLF ends at `pos`).
    fn argument_done(&mut self, input: &[u8], pos: usize, at: &mut Cursor, out: &mut Output) {
        let command = self.command.as_mut().expect("inside a command");
        let index = command.arg;
        command.arg += 1;
        let (argc, last) = (command.argc, command.arg == command.argc);
        if let Mode::Judging(stage) = command.mode {
            // What is held so far, contiguous from the command's start.
            if !self.held.is_empty() {
                self.held.extend_from_slice(&input[at.synced..pos]);
                at.synced = pos;
            }
            let start = at.start.unwrap_or(0);
            let bytes = if self.held.is_empty() {
                &input[start..pos]
            } else {
                &self.held[..]
            };
            let verdict = self.judge(stage, index, argc, bytes);
            match verdict {
                Judgement::Wait(stage) => self.cmd().mode = Mode::Judging(stage),
                Judgement::Relay => {
                    if self.held.is_empty() {
                        at.run = Some(start);
                    } else {
                        let held = &self.held;
                        out.own(|owned| owned.extend_from_slice(held));
                        self.held.clear();
                        at.run = Some(pos);
                    }
                    self.cmd().mode = Mode::Relaying;
                }
                Judgement::Deny(denial) => self.deny(denial, at),
            }
        }
        if !last {
            self.grammar = Grammar::Bulk;
            return;
        }
        self.grammar = Grammar::Array;
        out.commands += 1;
        match self.command.take().map(|command| command.mode) {
            Some(Mode::Relaying) => {
                out.pass(at.run.take().unwrap_or(0), pos);
            }
            Some(Mode::Dropping(denial)) => {
                out.own(|owned| denial.write_stand_in(owned));
                out.denials.push(denial);
            }
            // Every stage decides by the last argument.
            Some(Mode::Judging(_)) | None => unreachable!("a command judged to its end"),
        }
    }

    fn deny(&mut self, denial: Denial, at: &mut Cursor) {
        self.held.clear();
        self.spans.clear();
        at.run = None;
        self.cmd().mode = Mode::Dropping(denial);
    }

    /// Judges argument `index` of a command in `stage`.
    fn judge(&self, stage: Stage, index: usize, argc: usize, bytes: &[u8]) -> Judgement {
        let arg = |i: usize| {
            let (start, len) = self.spans[i];
            &bytes[start as usize..(start + len) as usize]
        };
        match stage {
            Stage::Name => match self.policy.commands().find(arg(index)) {
                None => Judgement::Deny(Denial::new(None, Why::Unknown)),
                Some((command, info)) if info.subcommands.is_some() && argc > 1 => {
                    Judgement::Wait(Stage::Subcommand(command))
                }
                Some((command, info)) => self.resolve(info, command, None, index, argc, bytes),
            },
            Stage::Subcommand(container) => {
                let info = self.policy.commands().get(container);
                let subs = info.subcommands.as_ref().expect("a container");
                match subs.find(arg(index)) {
                    None => Judgement::Deny(Denial::new(Some(&info.label), Why::UnknownSubcommand)),
                    Some((sub, sub_info)) => {
                        self.resolve(sub_info, container, Some(sub), index, argc, bytes)
                    }
                }
            }
            Stage::Checks {
                command,
                sub,
                hold_to,
            } if index == hold_to => self.check(self.target(command, sub), argc, bytes),
            Stage::Checks { .. } => Judgement::Wait(stage),
        }
    }

    /// The (sub)command is known: decide, or wait for what its checks need.
    fn resolve(
        &self,
        info: &Command,
        command: u32,
        sub: Option<u32>,
        index: usize,
        argc: usize,
        bytes: &[u8],
    ) -> Judgement {
        if let Err(why) = info.access {
            return Judgement::Deny(Denial::new(Some(&info.label), why));
        }
        match info.checks.plan(argc, self.prefix.is_some()) {
            Plan::Relay => Judgement::Relay,
            Plan::Deny(why) => Judgement::Deny(Denial::new(Some(&info.label), why)),
            Plan::Hold(hold_to) if hold_to <= index => self.check(info, argc, bytes),
            Plan::Hold(hold_to) => Judgement::Wait(Stage::Checks {
                command,
                sub,
                hold_to,
            }),
        }
    }

    fn check(&self, info: &Command, argc: usize, bytes: &[u8]) -> Judgement {
        let args = Args {
            bytes,
            spans: &self.spans,
        };
        let context = Context {
            prefix: self.prefix.as_deref(),
            max_bulk_len: self.policy.max_bulk_len,
        };
        match info.checks.check(argc, &args, context) {
            Ok(()) => Judgement::Relay,
            Err(why) => Judgement::Deny(Denial::new(Some(&info.label), why)),
        }
    }
}

enum Judgement {
    Wait(Stage),
    Relay,
    Deny(Denial),
}

/// The first byte of a RESP2 or RESP3 value.
fn is_resp_type(byte: u8) -> bool {
    b"+-:$*_,#!=(%~>|".contains(&byte)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::rules::{Flags, Rules};
    use crate::policy::table::tests::redis_7_0;

    fn policy(flags: Flags, tokens: bool) -> Arc<Policy> {
        let rules = Rules::new(&flags, tokens).unwrap();
        Arc::new(Policy::new(&redis_7_0(), &rules, 1024).unwrap())
    }

    fn web() -> CommandFilter {
        CommandFilter::new(policy(Flags::default(), false), None)
    }

    fn command(args: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        resp::encode_command(&mut out, args);
        out
    }

    fn stand_in(text: &str) -> Vec<u8> {
        command(&[text.as_bytes()])
    }

    /// Feeds `input` in chunks of `chunk` bytes; returns the output and
    /// the denials.
    fn run(
        filter: &mut CommandFilter,
        input: &[u8],
        chunk: usize,
    ) -> Result<(Vec<u8>, Vec<String>), Violation> {
        let mut output = Vec::new();
        let mut denied = Vec::new();
        let mut out = Output::default();
        for mut rest in input.chunks(chunk) {
            while !rest.is_empty() {
                let taken = filter.feed(rest, &mut out)?;
                assert!(taken > 0);
                output.extend(out.to_vec(rest));
                denied.extend(out.denials().iter().map(|d| d.to_string()));
                out.clear();
                rest = &rest[taken..];
            }
        }
        Ok((output, denied))
    }

    /// The same result whether the input comes whole or byte by byte.
    fn both_ways(
        make: impl Fn() -> CommandFilter,
        input: &[u8],
    ) -> Result<(Vec<u8>, Vec<String>), Violation> {
        let whole = run(&mut make(), input, input.len().max(1));
        assert_eq!(whole, run(&mut make(), input, 1), "byte by byte");
        assert_eq!(whole, run(&mut make(), input, 7), "in 7-byte chunks");
        whole
    }

    #[test]
    fn allowed_commands_pass_as_one_range_of_the_input() {
        let input = [
            command(&[b"SET", b"k", b"v"]),
            command(&[b"get", b"k"]),
            command(&[b"CLIENT", b"setname", b"page"]),
            command(&[b"HELLO", b"3", b"SETNAME", b"page"]),
            command(&[b"SETRANGE", b"k", b"1024", b"x"]),
        ]
        .concat();
        let mut filter = web();
        let mut out = Output::default();
        assert_eq!(filter.feed(&input, &mut out), Ok(input.len()));
        assert_eq!(out.segments, [Segment::Input(0, input.len())]);
        assert!(out.denials().is_empty());
        assert_eq!(both_ways(web, &input).unwrap().0, input);
    }

    #[test]
    fn refused_commands_are_replaced_in_place() {
        let input = [
            command(&[b"SET", b"a", b"1"]),
            command(&[b"flushall"]),
            command(&[b"CONFIG\0", b"GET", b"maxmemory"]),
            command(&[b"client", b"kill", b"ID", b"7"]),
            command(&[b"CLIENT", b"KILL\0", b"ID", b"7"]),
            command(&[b"EVAL", b"return redis.call('FLUSHDB')", b"0"]),
            command(&[b"HELLO", b"3", b"AUTH", b"default", b"x"]),
            command(&[b"SETRANGE", b"k", b"536870911", b"x"]),
            command(&[&[b'A'; 65][..]]),
            command(&[b"GET", b"a"]),
        ]
        .concat();
        let (out, denied) = both_ways(web, &input).unwrap();
        let texts = [
            "FLUSHALL: denied by redis-ws-bridge",
            "unknown command: refused by redis-ws-bridge",
            "CLIENT KILL: denied by redis-ws-bridge",
            "CLIENT: unknown subcommand, refused by redis-ws-bridge",
            "EVAL: denied by redis-ws-bridge",
            "HELLO: argument not allowed, denied by redis-ws-bridge",
            "SETRANGE: offset past --max-bulk-len, denied by redis-ws-bridge",
            "unknown command: refused by redis-ws-bridge",
        ];
        let expected = [
            command(&[b"SET", b"a", b"1"]),
            texts.iter().flat_map(|text| stand_in(text)).collect(),
            command(&[b"GET", b"a"]),
        ]
        .concat();
        assert_eq!(
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(&expected)
        );
        assert_eq!(denied, texts);
    }

    #[test]
    fn tokens_keep_the_login_and_their_prefix() {
        let make = || CommandFilter::new(policy(Flags::default(), true), Some(b"app:"[..].into()));
        let input = [
            command(&[b"AUTH", b"bob", b"pw"]),
            command(&[b"reset"]),
            command(&[b"HELLO", b"2", b"auth\0", b"bob", b"pw"]),
            command(&[b"SET", b"app:k", b"v"]),
            command(&[b"SET", b"other", b"v"]),
            command(&[b"MSET", b"app:a", b"1", b"b", b"2"]),
            command(&[b"PSUBSCRIBE", b"app:*"]),
            command(&[b"PSUBSCRIBE", b"*"]),
            command(&[b"PUBLISH", b"news", b"hi"]),
        ]
        .concat();
        let (out, denied) = both_ways(make, &input).unwrap();
        assert_eq!(
            denied,
            [
                "AUTH: not allowed, redis-ws-bridge authenticates this connection",
                "RESET: not allowed, redis-ws-bridge authenticates this connection",
                "HELLO: not allowed, redis-ws-bridge authenticates this connection",
                "SET: key outside this token's prefix, denied by redis-ws-bridge",
                "MSET: key outside this token's prefix, denied by redis-ws-bridge",
                "PSUBSCRIBE: channel outside this token's prefix, denied by redis-ws-bridge",
                "PUBLISH: channel outside this token's prefix, denied by redis-ws-bridge",
            ]
        );
        assert!(
            !out.windows(2).any(|w| w == b"pw"),
            "no password reaches Redis"
        );
        let passed = [
            command(&[b"SET", b"app:k", b"v"]),
            command(&[b"PSUBSCRIBE", b"app:*"]),
        ];
        for command in passed {
            assert!(out.windows(command.len()).any(|w| w == command));
        }
    }

    #[test]
    fn a_long_argument_streams_through_as_ranges() {
        let big = vec![b'x'; 1000];
        let input = command(&[b"SET", b"k", &big]);
        let mut filter = web();
        let mut out = Output::default();
        let mut seen = Vec::new();
        for chunk in input.chunks(100) {
            assert_eq!(filter.feed(chunk, &mut out), Ok(chunk.len()));
            assert!(out.owned.len() <= b"*3\r\n$3\r\nSET\r\n".len());
            seen.extend(out.to_vec(chunk));
            out.clear();
        }
        assert_eq!(seen, input);
        assert!(filter.held.capacity() < 100);
    }

    #[test]
    fn a_judged_part_longer_than_the_limit_is_refused() {
        let make = || CommandFilter::new(policy(Flags::default(), true), Some(b"app:"[..].into()));
        let value = vec![b'v'; 1000];
        let mut args: Vec<&[u8]> = vec![b"MSET"];
        for _ in 0..(JUDGE_LIMIT / 1000 + 1) {
            args.extend([&b"app:k"[..], &value]);
        }
        let input = [command(&args), command(&[b"PING"])].concat();
        let (out, denied) = run(&mut make(), &input, 4096).unwrap();
        assert_eq!(
            denied,
            ["MSET: too long to judge, refused by redis-ws-bridge"]
        );
        assert!(out.ends_with(&command(&[b"PING"])));
    }

    #[test]
    fn each_feed_stops_at_a_bounded_output() {
        let input = command(&[b"KEYS", b"*"]).repeat(10_000);
        let mut filter = web();
        let mut out = Output::default();
        let mut rest = &input[..];
        let mut feeds = 0;
        while !rest.is_empty() {
            let taken = filter.feed(rest, &mut out).unwrap();
            assert!(out.owned.len() < OUTPUT_LIMIT + 100);
            out.clear();
            rest = &rest[taken..];
            feeds += 1;
        }
        assert!(feeds > 1);
    }

    #[test]
    fn refuses_what_a_client_never_sends() {
        let cases: [(&[u8], Violation); 9] = [
            (b"PING\r\n", Violation::Inline),
            (b"+OK\r\n", Violation::NotCommand),
            (b"|9223372036854775807\r\n_\r\n_\r\n", Violation::NotCommand),
            (b"*1\r\n:1\r\n", Violation::NotCommand),
            (b"*1\r\n*1\r\n$1\r\na\r\n", Violation::NotCommand),
            (b"*-1\r\n", Violation::NotCommand),
            (b"*1\r\n$-1\r\n", Violation::NotCommand),
            (
                b"*1\r\n$2000\r\n",
                Violation::ArgumentTooLong { limit: 1024 },
            ),
            (b"*2\r\n$3\r\nGET\r\n>1\r\n", Violation::NotCommand),
        ];
        for (input, expected) in cases {
            assert_eq!(
                run(&mut web(), input, 1).unwrap_err(),
                expected,
                "{input:?}"
            );
        }
        for malformed in [
            &b"*1\r\n$1\r\nab\r\n"[..],
            b"*01\r\n",
            b"*1\r\n$01\r\n",
            b"*1x\r\n",
            b"*1\r\r",
            b"*\r\n",
            b"*99999999999999999999\r\n",
            b"*3000000000\r\n",
            b"*1\r\nx",
        ] {
            let error = run(&mut web(), malformed, 1).unwrap_err();
            assert!(
                matches!(error, Violation::Malformed(_)),
                "{malformed:?}: {error:?}"
            );
            assert_eq!(error.close_code(), 1002);
        }
        // After a violation the filter stays failed.
        let mut filter = web();
        assert!(run(&mut filter, b"+OK\r\n", 10).is_err());
        assert!(run(&mut filter, &command(&[b"PING"]), 10).is_err());
    }

    #[test]
    fn empty_commands_are_ignored() {
        let input = [b"*0\r\n".to_vec(), command(&[b"PING"]), b"*0\r\n".to_vec()].concat();
        let (out, _) = both_ways(web, &input).unwrap();
        assert_eq!(out, command(&[b"PING"]));
        assert!(!web().in_command());
    }
}
