//! A command as a value.
//!
//! A [`Cmd`] keeps its whole line (one buffer and the end of each
//! argument: two allocations whatever the argument count), what Redis says
//! about it ([`CommandInfo`], when the table knows it) and the shape its
//! reply is to take. Because it keeps its arguments, it can be sent again
//! (the EVAL fallback of a script, a replay after a reconnect), routed by
//! its keys or cached; because it knows its name and flags, every mode the
//! connection enters is decided here, from the command and never from the
//! JS method that built it, so `call()` and the methods behave the same.

use std::cell::Cell;

use super::command::ReplyKind;
use super::command_info::{AclCategories, CommandInfo, Flags};
use super::{keys, table};

#[derive(Debug, Clone)]
pub struct Cmd {
    bytes: Vec<u8>,
    ends: Vec<u32>,
    info: Option<&'static CommandInfo>,
    reply: ReplyKind,
    /// The role, once asked for: a command is asked several times on its
    /// way out (refusal, the pool's choice, the session's mode).
    role: Cell<Option<Role>>,
}

impl PartialEq for Cmd {
    fn eq(&self, other: &Cmd) -> bool {
        (&self.bytes, &self.ends, self.info, self.reply)
            == (&other.bytes, &other.ends, other.info, other.reply)
    }
}

/// What a command does to the connection it is sent on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Nothing beyond its reply.
    Plain,
    /// It may hold the connection until it returns (BLPOP, XREAD, WAIT...).
    Blocking,
    /// State the handshake must repeat after a reconnect, once it succeeded.
    Select,
    Auth,
    Hello,
    SetName,
    /// Enters (or changes) pub/sub: SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE.
    Subscribe(Channels),
    /// UNSUBSCRIBE, PUNSUBSCRIBE, SUNSUBSCRIBE.
    Unsubscribe(Channels),
    /// MULTI, EXEC, DISCARD: transactions go through `multi()`.
    Transaction,
    /// Refused: it would desynchronise reply matching or remembered state.
    Refused(&'static str),
}

/// The three kinds of pub/sub subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channels {
    Channels,
    Patterns,
    Shard,
}

impl Channels {
    pub const ALL: [Channels; 3] = [Channels::Channels, Channels::Patterns, Channels::Shard];

    /// The command that subscribes to this kind.
    pub fn subscribe_word(self) -> &'static str {
        match self {
            Channels::Channels => "SUBSCRIBE",
            Channels::Patterns => "PSUBSCRIBE",
            Channels::Shard => "SSUBSCRIBE",
        }
    }

    /// The kind a (un)subscribe confirmation (`subscribe`, `punsubscribe`...)
    /// belongs to, and whether it subscribes.
    pub fn of_confirmation(word: &[u8]) -> Option<(Channels, bool)> {
        Some(match word {
            b"subscribe" => (Channels::Channels, true),
            b"psubscribe" => (Channels::Patterns, true),
            b"ssubscribe" => (Channels::Shard, true),
            b"unsubscribe" => (Channels::Channels, false),
            b"punsubscribe" => (Channels::Patterns, false),
            b"sunsubscribe" => (Channels::Shard, false),
            _ => return None,
        })
    }
}

impl Cmd {
    /// A command from its line; `info` is the table's entry for it.
    pub fn new<I>(args: I, info: Option<&'static CommandInfo>, reply: ReplyKind) -> Cmd
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        let mut cmd = Cmd {
            bytes: Vec::new(),
            ends: Vec::new(),
            info,
            reply,
            role: Cell::new(None),
        };
        for arg in args {
            cmd.push(arg.as_ref());
        }
        cmd
    }

    /// A command from its line, with the table's entry for its name.
    pub fn lookup<I>(args: I, reply: ReplyKind) -> Cmd
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        let mut cmd = Cmd::new(args, None, reply);
        cmd.info = table::lookup(&cmd.args().take(2).collect::<Vec<_>>());
        cmd.role.set(None);
        cmd
    }

    /// Appends one argument.
    pub fn push(&mut self, arg: &[u8]) {
        self.bytes.extend_from_slice(arg);
        self.ends.push(self.bytes.len() as u32);
        self.role.set(None);
    }

    /// Makes room for `args` more arguments of `bytes` bytes in all, so
    /// that a line whose size is known is built without growing.
    pub fn reserve(&mut self, args: usize, bytes: usize) {
        self.ends.reserve(args);
        self.bytes.reserve(bytes);
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Argument `i` (the name is argument 0).
    pub fn arg(&self, i: usize) -> Option<&[u8]> {
        let end = *self.ends.get(i)? as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        Some(&self.bytes[start..end])
    }

    pub fn args(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        (0..self.len()).map(|i| self.arg(i).unwrap_or_default())
    }

    /// The bytes of the line's arguments: what a size limit counts.
    pub fn byte_len(&self) -> usize {
        self.bytes.len()
    }

    pub fn info(&self) -> Option<&'static CommandInfo> {
        self.info
    }

    pub fn reply(&self) -> ReplyKind {
        self.reply
    }

    /// Redis's name for it: the table's (`CLIENT|SETNAME`), else the first
    /// word in upper case.
    pub fn name(&self) -> String {
        match self.info {
            Some(info) => info.name.to_owned(),
            None => String::from_utf8_lossy(self.arg(0).unwrap_or_default()).to_ascii_uppercase(),
        }
    }

    /// The arguments that are keys, from the table's key specs (none for
    /// a command the table does not know).
    pub fn keys(&self) -> Vec<&[u8]> {
        let args: Vec<&[u8]> = self.args().collect();
        match self.info {
            Some(info) => keys::keys(info, &args).map(|i| args[i]).collect(),
            None => Vec::new(),
        }
    }

    /// Writes the command as RESP.
    pub fn encode(&self, out: &mut Vec<u8>) {
        // The headers: `*n`, then `$len` and two CRLFs per argument.
        out.reserve(self.bytes.len() + 16 * self.len() + 16);
        resp::encode_command(out, self.args());
    }

    /// What the command does to its connection.
    pub fn role(&self) -> Role {
        if let Some(role) = self.role.get() {
            return role;
        }
        let role = self.role_of_line();
        self.role.set(Some(role));
        role
    }

    fn role_of_line(&self) -> Role {
        // Every command with a role of its own is in one of these categories
        // (a test checks the whole table): most commands are decided here,
        // without reading their words.
        const MAY_HAVE_A_ROLE: u32 = AclCategories::CONNECTION.0
            | AclCategories::PUBSUB.0
            | AclCategories::TRANSACTION.0
            | AclCategories::DANGEROUS.0;
        if self
            .info
            .is_some_and(|info| info.acl.0 & MAY_HAVE_A_ROLE == 0)
        {
            return self.flagged();
        }
        let word = |i| Word::of(self.arg(i));
        let second = || word(1);
        match word(0).as_slice() {
            b"SELECT" => Role::Select,
            b"AUTH" => Role::Auth,
            b"HELLO" => Role::Hello,
            b"CLIENT" => match second().as_slice() {
                b"SETNAME" => Role::SetName,
                b"REPLY" if self.arg(2).is_none_or(|w| !w.eq_ignore_ascii_case(b"ON")) => {
                    Role::Refused(
                        "CLIENT REPLY OFF and SKIP are refused: they would leave commands without the reply they wait for",
                    )
                }
                _ => self.flagged(),
            },
            b"MONITOR" => Role::Refused(
                "MONITOR is refused: its stream of commands would be taken for replies",
            ),
            b"RESET" => Role::Refused(
                "RESET is refused: it would undo the database, user and subscriptions the client restores after a reconnect",
            ),
            b"QUIT" => Role::Refused("QUIT is refused: use close()"),
            b"SUBSCRIBE" => Role::Subscribe(Channels::Channels),
            b"PSUBSCRIBE" => Role::Subscribe(Channels::Patterns),
            b"SSUBSCRIBE" => Role::Subscribe(Channels::Shard),
            b"UNSUBSCRIBE" => Role::Unsubscribe(Channels::Channels),
            b"PUNSUBSCRIBE" => Role::Unsubscribe(Channels::Patterns),
            b"SUNSUBSCRIBE" => Role::Unsubscribe(Channels::Shard),
            b"MULTI" | b"EXEC" | b"DISCARD" => Role::Transaction,
            _ => self.flagged(),
        }
    }

    /// The role the table's flags give (a command it does not know is plain).
    fn flagged(&self) -> Role {
        match self.info {
            Some(info) if info.flags.contains(Flags::BLOCKING) => Role::Blocking,
            _ => Role::Plain,
        }
    }

    /// How many replies Redis sends: one per channel for a (un)subscribe
    /// (`current` counts the channels subscribed now, which an unsubscribe
    /// without names confirms one by one, or once when there are none);
    /// one for anything else.
    pub fn replies(&self, current: usize) -> usize {
        match self.role() {
            Role::Subscribe(_) => self.len().saturating_sub(1).max(1),
            Role::Unsubscribe(_) if self.len() == 1 => current.max(1),
            Role::Unsubscribe(_) => self.len() - 1,
            _ => 1,
        }
    }
}

/// A word of a line in upper case, on the stack: every command asks for
/// its role several times on its way out, so this must not allocate. A
/// word longer than any the roles name is left empty (it names none).
struct Word {
    bytes: [u8; 12],
    len: usize,
}

impl Word {
    fn of(word: Option<&[u8]>) -> Word {
        let mut upper = Word {
            bytes: [0; 12],
            len: 0,
        };
        if let Some(word) = word.filter(|w| w.len() <= upper.bytes.len()) {
            upper.bytes[..word.len()].copy_from_slice(word);
            upper.bytes[..word.len()].make_ascii_uppercase();
            upper.len = word.len();
        }
        upper
    }

    fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(args: &[&str]) -> Cmd {
        Cmd::new(args, None, ReplyKind::Plain)
    }

    #[test]
    fn a_command_keeps_its_arguments_in_one_buffer() {
        let c = cmd(&["SET", "k", "", "value"]);
        assert_eq!(c.len(), 4);
        assert_eq!(c.arg(2), Some(&b""[..]));
        assert_eq!(
            c.args().collect::<Vec<_>>(),
            [&b"SET"[..], b"k", b"", b"value"]
        );
        assert_eq!(c.arg(4), None);
        let mut out = Vec::new();
        c.encode(&mut out);
        assert_eq!(
            out,
            b"*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n$5\r\nvalue\r\n"
        );
        assert_eq!(c.name(), "SET");
    }

    #[test]
    fn a_reserved_command_is_built_like_any_other() {
        let mut c = cmd(&["SET"]);
        c.reserve(2, 4);
        c.push(b"k");
        c.push(b"abc");
        assert_eq!(c, cmd(&["SET", "k", "abc"]));
    }

    #[test]
    fn roles_come_from_names_in_any_case_and_from_flags() {
        assert_eq!(cmd(&["select", "2"]).role(), Role::Select);
        assert_eq!(cmd(&["Client", "setname", "x"]).role(), Role::SetName);
        assert_eq!(cmd(&["CLIENT", "REPLY", "on"]).role(), Role::Plain);
        assert!(matches!(
            cmd(&["client", "reply", "off"]).role(),
            Role::Refused(_)
        ));
        assert!(matches!(
            cmd(&["CLIENT", "REPLY", "SKIP"]).role(),
            Role::Refused(_)
        ));
        assert!(matches!(cmd(&["monitor"]).role(), Role::Refused(_)));
        assert!(matches!(cmd(&["RESET"]).role(), Role::Refused(_)));
        assert_eq!(
            cmd(&["ssubscribe", "a"]).role(),
            Role::Subscribe(Channels::Shard)
        );
        assert_eq!(cmd(&["exec"]).role(), Role::Transaction);
        assert_eq!(
            cmd(&["PUnsubscribe"]).role(),
            Role::Unsubscribe(Channels::Patterns),
            "the longest name a role has"
        );
        assert_eq!(cmd(&["punsubscribes"]).role(), Role::Plain);
        assert_eq!(cmd(&[""]).role(), Role::Plain);
        assert_eq!(
            cmd(&["BLPOP", "l", "0"]).role(),
            Role::Plain,
            "without its table entry"
        );
        let blpop = Cmd::lookup(["blpop", "l", "0"], ReplyKind::Plain);
        assert_eq!(blpop.role(), Role::Blocking);
        assert_eq!(blpop.name(), "BLPOP");
        for blocking in [
            &["XREAD", "STREAMS", "s", "0"][..],
            &["brpoplpush", "a", "b", "0"],
            &["BZPOPMIN", "z", "0"],
        ] {
            assert_eq!(
                Cmd::lookup(blocking, ReplyKind::Plain).role(),
                Role::Blocking,
                "{blocking:?}"
            );
        }
        let get = Cmd::lookup(["GET", "k"], ReplyKind::Native);
        assert_eq!(get.role(), Role::Plain);
        assert_eq!(
            Cmd::lookup(["client", "setname", "n"], ReplyKind::Plain).name(),
            "CLIENT|SETNAME"
        );
        assert_eq!(Cmd::lookup(["NOSUCH", "x"], ReplyKind::Plain).info(), None);
    }

    #[test]
    fn the_categories_that_skip_reading_words_hide_no_role() {
        for info in table::COMMANDS.iter() {
            let words: Vec<&str> = info.name.split('|').collect();
            let line = Cmd::new(&words, None, ReplyKind::Plain);
            let by_words = line.role_of_line();
            let expected = match by_words {
                Role::Plain if info.flags.contains(Flags::BLOCKING) => Role::Blocking,
                other => other,
            };
            let known = Cmd::new(&words, Some(info), ReplyKind::Plain);
            assert_eq!(known.role(), expected, "{}", info.name);
        }
    }

    #[test]
    fn keys_come_from_the_key_specs() {
        let keys = |args: &[&str]| {
            let cmd = Cmd::lookup(args, ReplyKind::Plain);
            cmd.keys()
                .into_iter()
                .map(|k| k.to_vec())
                .collect::<Vec<_>>()
        };
        assert_eq!(keys(&["GET", "k"]), [b"k".to_vec()]);
        assert_eq!(
            keys(&["MSET", "a", "1", "b", "2"]),
            [b"a".to_vec(), b"b".to_vec()]
        );
        assert_eq!(keys(&["EVALSHA", "sha", "1", "k", "arg"]), [b"k".to_vec()]);
        assert!(keys(&["PING"]).is_empty());
    }

    #[test]
    fn subscriptions_are_answered_once_per_channel() {
        assert_eq!(cmd(&["SUBSCRIBE", "a", "b", "a"]).replies(0), 3);
        assert_eq!(cmd(&["UNSUBSCRIBE", "a"]).replies(5), 1);
        assert_eq!(cmd(&["UNSUBSCRIBE"]).replies(5), 5);
        assert_eq!(cmd(&["PUNSUBSCRIBE"]).replies(0), 1);
        assert_eq!(cmd(&["GET", "k"]).replies(9), 1);
    }
}
