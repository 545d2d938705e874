//! The policy compiled against one server's table: for every name the
//! server has, whether it may run and what of its arguments must be judged.
//!
//! The filter looks every command up here, so a lookup allocates nothing:
//! the browser's name is upper-cased into a stack buffer and found in a
//! hash map of the table's names. A name outside the alphabet of command
//! names (letters, digits, `-`, `_`) or longer than any is never looked up
//! at all; that also settles Redis' own comparison, `strcasecmp`, which
//! stops at a NUL: a name with a NUL is simply not a name.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use super::checks::{ArgRule, Channels, Checks, Keys, Unit};
use super::denial::Why;
use super::rules::{Access, Profile, Rules, IDENTITY_COMMANDS};
use super::table::{BeginSearch, CommandInfo, FindKeys, KeySpec, Table};
use super::{is_name_byte, MAX_NAME_LEN};

/// The rules applied to one server's table.
#[derive(Debug)]
pub struct Policy {
    commands: Commands,
    pub(crate) max_bulk_len: usize,
}

/// A command or subcommand, compiled.
#[derive(Debug)]
pub(crate) struct Command {
    /// `GET` or `CLIENT KILL`: for logs and stand-ins.
    pub label: Arc<str>,
    /// Whether it may run at all.
    pub access: Result<(), Why>,
    pub checks: Checks,
    /// A container's subcommands.
    pub subcommands: Option<Box<Commands>>,
}

/// Commands by upper-case name.
#[derive(Debug, Default)]
pub(crate) struct Commands {
    index: HashMap<Box<[u8]>, u32, BuildHasherDefault<Fnv>>,
    list: Vec<Command>,
}

impl Commands {
    /// The command called `name` (browser bytes, any case), and its index.
    pub fn find(&self, name: &[u8]) -> Option<(u32, &Command)> {
        let mut upper = [0u8; MAX_NAME_LEN];
        let upper = upper.get_mut(..name.len())?;
        if name.is_empty() || !name.iter().copied().all(is_name_byte) {
            return None;
        }
        upper.copy_from_slice(name);
        upper.make_ascii_uppercase();
        let index = *self.index.get(&*upper)?;
        Some((index, &self.list[index as usize]))
    }

    pub fn get(&self, index: u32) -> &Command {
        &self.list[index as usize]
    }

    fn insert(&mut self, name: &str, command: Command) {
        let index = self.list.len() as u32;
        self.list.push(command);
        self.index.insert(name.as_bytes().into(), index);
    }
}

impl Policy {
    /// Applies `rules` to `table`; fails if a flag names something the
    /// server does not have, or the table has a name a stand-in could hit.
    pub fn new(table: &Table, rules: &Rules, max_bulk_len: usize) -> Result<Policy, String> {
        rules.check_names(table)?;
        let mut commands = Commands::default();
        for info in &table.commands {
            if let Some(command) = compile(info, None, rules)? {
                commands.insert(&info.name, command);
            }
        }
        Ok(Policy {
            commands,
            max_bulk_len,
        })
    }

    pub(crate) fn commands(&self) -> &Commands {
        &self.commands
    }

    /// Whether `name` (and `sub`, for a container) may run, before any
    /// argument check: `None` if the server has no such command. For the
    /// fuzz target and tests.
    pub fn access(&self, name: &[u8], sub: Option<&[u8]>) -> Option<Result<(), Why>> {
        let (_, command) = self.commands.find(name)?;
        match (sub, &command.subcommands) {
            (Some(sub), Some(subs)) => Some(subs.find(sub)?.1.access),
            _ => Some(command.access),
        }
    }
}

/// `None` for a name no browser can send (outside the name alphabet).
fn compile(
    info: &CommandInfo,
    container: Option<&str>,
    rules: &Rules,
) -> Result<Option<Command>, String> {
    let name = info.name.as_str();
    if name.contains([' ', ':']) {
        return Err(format!(
            "the server has a command named {name:?}: the bridge's refusals could reach it"
        ));
    }
    if name.is_empty() || name.len() > MAX_NAME_LEN || !name.bytes().all(is_name_byte) {
        tracing::debug!(name, "command left out: not a name a browser can send");
        return Ok(None);
    }
    let (path, label) = match container {
        None => (name.to_owned(), name.to_owned()),
        Some(container) => (format!("{container}|{name}"), format!("{container} {name}")),
    };
    let access =
        if rules.bridge_authenticates && container.is_none() && IDENTITY_COMMANDS.contains(&name) {
            Err(Why::Identity)
        } else {
            match rules.access(&path, &info.categories) {
                Access::Allow => Ok(()),
                Access::Deny => Err(Why::Denied),
            }
        };
    let subcommands = if info.subcommands.is_empty() {
        None
    } else {
        let mut subs = Commands::default();
        for sub in &info.subcommands {
            if let Some(command) = compile(sub, Some(name), rules)? {
                subs.insert(&sub.name, command);
            }
        }
        Some(Box::new(subs))
    };
    Ok(Some(Command {
        label: label.into(),
        access,
        checks: Checks {
            rule: arg_rule(&path, rules),
            keys: keys(info),
            channels: channels(&path, info),
        },
        subcommands,
    }))
}

fn arg_rule(path: &str, rules: &Rules) -> ArgRule {
    let web = rules.profile == Profile::Web;
    match path {
        "HELLO" if rules.bridge_authenticates => ArgRule::Hello(Why::Identity),
        "HELLO" if web => ArgRule::Hello(Why::Argument),
        "CLIENT|TRACKING" if web => ArgRule::WithoutOption {
            from: 3,
            option: b"REDIRECT",
        },
        "COPY" if web && !rules.allow_select => ArgRule::WithoutOption {
            from: 3,
            option: b"DB",
        },
        "SETRANGE" if web => ArgRule::Offset {
            index: 2,
            unit: Unit::Bytes,
        },
        "SETBIT" if web => ArgRule::Offset {
            index: 2,
            unit: Unit::Bits,
        },
        "BITFIELD" if web => ArgRule::Bitfield,
        _ => ArgRule::None,
    }
}

fn keys(info: &CommandInfo) -> Keys {
    let specs: Vec<_> = info
        .key_specs
        .iter()
        .filter(|spec| !spec.not_key)
        .cloned()
        .collect();
    let followable = |spec: &KeySpec| {
        !spec.incomplete && spec.begin != BeginSearch::Unknown && spec.find != FindKeys::Unknown
    };
    if specs.is_empty() {
        Keys::None
    } else if specs.iter().all(followable) {
        Keys::Specs(specs)
    } else {
        Keys::Refuse
    }
}

fn channels(path: &str, info: &CommandInfo) -> Channels {
    match path {
        "PUBLISH" | "SPUBLISH" => Channels::At(1),
        "SUBSCRIBE" | "SSUBSCRIBE" | "PSUBSCRIBE" => Channels::From {
            index: 1,
            required: false,
        },
        "PUBSUB|CHANNELS" | "PUBSUB|SHARDCHANNELS" => Channels::From {
            index: 2,
            required: true,
        },
        "PUBSUB|NUMSUB" | "PUBSUB|SHARDNUMSUB" => Channels::From {
            index: 2,
            required: false,
        },
        "UNSUBSCRIBE" | "PUNSUBSCRIBE" | "SUNSUBSCRIBE" | "PUBSUB" | "PUBSUB|NUMPAT"
        | "PUBSUB|HELP" => Channels::None,
        _ if info.in_category("pubsub") => Channels::Refuse,
        _ => Channels::None,
    }
}

/// FNV-1a: the keys are the server's short names, fixed when the table is
/// read, so hash flooding is not a concern and speed is.
#[derive(Default)]
pub(crate) struct Fnv(u64);

impl Hasher for Fnv {
    fn write(&mut self, bytes: &[u8]) {
        let mut hash = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &byte in bytes {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = hash;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::rules::Flags;
    use crate::policy::table::tests::redis_7_0;

    fn policy(flags: Flags, tokens: bool) -> Policy {
        let rules = Rules::new(&flags, tokens).unwrap();
        Policy::new(&redis_7_0(), &rules, 1024).unwrap()
    }

    #[test]
    fn names_match_case_insensitively_and_otherwise_exactly() {
        let web = policy(Flags::default(), false);
        assert_eq!(web.access(b"get", None), Some(Ok(())));
        assert_eq!(web.access(b"GeT", None), Some(Ok(())));
        assert_eq!(web.access(b"flushall", None), Some(Err(Why::Denied)));
        for unknown in [
            &b"GET\0"[..],
            b"GET ",
            b"GETT",
            b"",
            b"G\xc3\xa9T",
            b"CLIENT|KILL",
        ] {
            assert_eq!(web.access(unknown, None), None, "{unknown:?}");
        }
        let long = [b'A'; 100];
        assert_eq!(web.access(&long, None), None);
        assert_eq!(web.access(b"client", Some(b"setname")), Some(Ok(())));
        assert_eq!(web.access(b"client", Some(b"kill")), Some(Err(Why::Denied)));
        assert_eq!(web.access(b"client", Some(b"kill\0")), None);
    }

    #[test]
    fn tokens_keep_the_identity() {
        let tokens = policy(Flags::default(), true);
        assert_eq!(tokens.access(b"AUTH", None), Some(Err(Why::Identity)));
        assert_eq!(tokens.access(b"reset", None), Some(Err(Why::Identity)));
        let (_, hello) = tokens.commands().find(b"hello").unwrap();
        assert_eq!(hello.checks.rule, ArgRule::Hello(Why::Identity));
        let trusted = policy(
            Flags {
                profile: Profile::Trusted,
                ..Flags::default()
            },
            true,
        );
        assert_eq!(trusted.access(b"AUTH", None), Some(Err(Why::Identity)));
        let open = policy(Flags::default(), false);
        assert_eq!(open.access(b"AUTH", None), Some(Ok(())));
    }

    #[test]
    fn pub_sub_and_key_rules_come_from_the_table() {
        let web = policy(Flags::default(), false);
        let (_, psubscribe) = web.commands().find(b"PSUBSCRIBE").unwrap();
        assert_eq!(
            psubscribe.checks.channels,
            Channels::From {
                index: 1,
                required: false
            }
        );
        let (_, sort) = web.commands().find(b"SORT").unwrap();
        assert_eq!(sort.checks.keys, Keys::Refuse);
        let (_, get) = web.commands().find(b"GET").unwrap();
        assert!(matches!(get.checks.keys, Keys::Specs(_)));
        let (_, spublish) = web.commands().find(b"SPUBLISH").unwrap();
        assert_eq!(
            spublish.checks.keys,
            Keys::None,
            "its key spec is not a key"
        );
    }
}
