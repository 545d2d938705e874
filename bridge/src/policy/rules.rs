//! The rules: which commands a profile and the flags allow, before any
//! argument is looked at.
//!
//! Three levels, the most specific winning: a rule for `NAME|SUB`, then a
//! rule for `NAME` (all its subcommands), then the ACL categories of the
//! (sub)command as the server's table gives them. At the category level a
//! command in any denied category is denied, whatever other categories
//! allow it; one in no allowed category is denied too. At the other two
//! levels a flag replaces the profile's rule for the same name, and
//! `--deny-command X` beats `--allow-command X`.
//!
//! These are the levels and the order of Redis' own ACL rules, which is
//! what lets `acl-setup` print an `ACL SETUSER` line with exactly the same
//! effect (see `acl`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use super::table::Table;

/// A starting point for the rules, chosen with `--profile`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Profile {
    /// For pages on the web: the data commands, and nothing that
    /// administers, scans or reaches beyond the page's own connection.
    #[default]
    Web,
    /// For a bridge serving only its operator: everything the Redis user
    /// may do, except [`TRUSTED_DENIED`].
    Trusted,
}

impl FromStr for Profile {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, String> {
        match value.to_ascii_lowercase().as_str() {
            "web" => Ok(Profile::Web),
            "trusted" => Ok(Profile::Trusted),
            _ => Err(format!("{value:?}: the profile is web or trusted")),
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Profile::Web => "web",
            Profile::Trusted => "trusted",
        })
    }
}

/// Categories the web profile allows: what a web application's data needs.
pub const WEB_ALLOWED_CATEGORIES: &[&str] = &[
    "read",
    "write",
    "string",
    "hash",
    "list",
    "set",
    "sortedset",
    "stream",
    "geo",
    "hyperloglog",
    "bitmap",
    "pubsub",
    "transaction",
];

/// Categories the web profile denies, whatever else a command is in.
pub const WEB_DENIED_CATEGORIES: &[&str] = &["admin", "dangerous", "scripting"];

/// Commands the web profile allows by name: the harmless `@connection`
/// commands, and what the client's own features need (client-side caching,
/// Redis Cluster redirections). `AUTH` and `RESET` are refused in token
/// mode; `HELLO` passes with a protocol version and `SETNAME` only, and
/// `CLIENT TRACKING` without `REDIRECT` (see `checks`).
pub const WEB_ALLOWED_COMMANDS: &[&str] = &[
    "PING",
    "ECHO",
    "HELLO",
    "QUIT",
    "RESET",
    "AUTH",
    "COMMAND",
    "ASKING",
    "READONLY",
    "READWRITE",
    "CLIENT|SETNAME",
    "CLIENT|GETNAME",
    "CLIENT|ID",
    "CLIENT|TRACKING",
    "CLIENT|CACHING",
];

/// Commands the web profile denies by name, so that allowing their
/// category does not allow them: whole-keyspace scans and sorts,
/// payloads built by the client, other databases (`SWAPDB`, and `SELECT`
/// and `MOVE` unless `--allow-select`), other clients, and the server's
/// internals.
pub const WEB_DENIED_COMMANDS: &[&str] = &[
    "KEYS",
    "SORT",
    "SORT_RO",
    "RESTORE",
    "RESTORE-ASKING",
    "MIGRATE",
    "SWAPDB",
    "SELECT",
    "MOVE",
    "CLIENT",
    "MEMORY",
    "SLOWLOG",
    "LATENCY",
    "INFO",
    "MONITOR",
];

/// Commands the trusted profile denies: administration, persistence,
/// replication and whole-keyspace deletion (the bridge's list before the
/// allow-list).
pub const TRUSTED_DENIED: &[&str] = &[
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

/// Commands that change who the connection is logged in as: refused when
/// the bridge logs in itself (`--tokens`), whatever the flags say.
pub const IDENTITY_COMMANDS: &[&str] = &["AUTH", "RESET"];

/// The policy flags, as given.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    pub profile: Profile,
    pub allow_categories: Vec<String>,
    pub deny_categories: Vec<String>,
    pub allow_commands: Vec<String>,
    pub deny_commands: Vec<String>,
    pub allow_scripting: bool,
    pub allow_select: bool,
}

/// Allow or deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Allow,
    Deny,
}

/// The rules in force: the profile with the flags applied.
#[derive(Debug, Clone)]
pub struct Rules {
    pub profile: Profile,
    /// Categories that allow a command; `None` allows every command.
    allowed_categories: Option<BTreeSet<String>>,
    denied_categories: BTreeSet<String>,
    /// `NAME` and `NAME|SUB` (upper-case) → their rule.
    commands: BTreeMap<String, Access>,
    /// What the flags named, to be checked against the server's table.
    named_commands: Vec<String>,
    named_categories: Vec<String>,
    /// The bridge logs in itself (`--tokens`).
    pub bridge_authenticates: bool,
    pub allow_select: bool,
}

impl Rules {
    pub fn new(flags: &Flags, bridge_authenticates: bool) -> Result<Rules, String> {
        let allow_categories = normalize_all(&flags.allow_categories, category)?;
        let deny_categories = normalize_all(&flags.deny_categories, category)?;
        let allow_commands = normalize_all(&flags.allow_commands, command)?;
        let deny_commands = normalize_all(&flags.deny_commands, command)?;
        if bridge_authenticates {
            if let Some(name) = allow_commands
                .iter()
                .find(|name| IDENTITY_COMMANDS.contains(&name.as_str()))
            {
                return Err(format!(
                    "--allow-command {name}: with --tokens the bridge logs in to Redis itself, \
                     and AUTH and RESET stay refused"
                ));
            }
        }

        let (mut allowed, mut denied, profile_allows, profile_denies): (_, BTreeSet<String>, _, _) =
            match flags.profile {
                Profile::Web => (
                    Some(strings(WEB_ALLOWED_CATEGORIES)),
                    strings(WEB_DENIED_CATEGORIES),
                    WEB_ALLOWED_COMMANDS,
                    WEB_DENIED_COMMANDS,
                ),
                Profile::Trusted => (None, BTreeSet::new(), &[][..], TRUSTED_DENIED),
            };
        let mut commands = BTreeMap::new();
        let mut set = |names: &[&str], access| {
            for name in names {
                commands.insert(name.to_string(), access);
            }
        };
        set(profile_allows, Access::Allow);
        set(profile_denies, Access::Deny);
        if flags.allow_select {
            set(&["SELECT", "MOVE"], Access::Allow);
        }

        let mut allow_categories = allow_categories;
        if flags.allow_scripting {
            allow_categories.push("scripting".into());
        }
        for category in &allow_categories {
            denied.remove(category);
            if let Some(allowed) = &mut allowed {
                allowed.insert(category.clone());
            }
        }
        denied.extend(deny_categories.iter().cloned());
        // At one level, a flag replaces the profile's rule and deny wins.
        for name in &allow_commands {
            commands.insert(name.clone(), Access::Allow);
        }
        for name in &deny_commands {
            commands.insert(name.clone(), Access::Deny);
        }

        Ok(Rules {
            profile: flags.profile,
            allowed_categories: allowed,
            denied_categories: denied,
            commands,
            named_commands: [allow_commands, deny_commands].concat(),
            named_categories: [allow_categories, deny_categories].concat(),
            bridge_authenticates,
            allow_select: flags.allow_select,
        })
    }

    /// Checks that every name the flags gave is one of `table`'s.
    pub fn check_names(&self, table: &Table) -> Result<(), String> {
        for name in &self.named_commands {
            let (command, sub) = match name.split_once('|') {
                Some((command, sub)) => (command, Some(sub)),
                None => (name.as_str(), None),
            };
            let known = table
                .get(command)
                .is_some_and(|info| sub.is_none_or(|sub| info.subcommand(sub).is_some()));
            if !known {
                return Err(format!(
                    "{name}: not a command of this Redis server (see COMMAND LIST)"
                ));
            }
        }
        for category in &self.named_categories {
            if !table.categories().any(|known| known == category) {
                return Err(format!(
                    "@{category}: not an ACL category of this Redis server (see ACL CAT)"
                ));
            }
        }
        Ok(())
    }

    /// Whether a command may run, before its arguments are looked at.
    /// `path` is `NAME` or `NAME|SUB`, upper-case; `categories` its own.
    pub fn access(&self, path: &str, categories: &[String]) -> Access {
        if let Some(access) = self.commands.get(path) {
            return *access;
        }
        if let Some((container, _)) = path.split_once('|') {
            if let Some(access) = self.commands.get(container) {
                return *access;
            }
        }
        if categories
            .iter()
            .any(|c| self.denied_categories.contains(c))
        {
            return Access::Deny;
        }
        match &self.allowed_categories {
            None => Access::Allow,
            Some(allowed) if categories.iter().any(|c| allowed.contains(c)) => Access::Allow,
            Some(_) => Access::Deny,
        }
    }

    /// Allowed categories (`None`: all), denied categories, and the
    /// command rules, in the order `acl` prints them.
    pub fn levels(
        &self,
    ) -> (
        Option<&BTreeSet<String>>,
        &BTreeSet<String>,
        &BTreeMap<String, Access>,
    ) {
        (
            self.allowed_categories.as_ref(),
            &self.denied_categories,
            &self.commands,
        )
    }
}

fn strings(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|name| name.to_string()).collect()
}

fn normalize_all(
    values: &[String],
    normalize: fn(&str) -> Result<String, String>,
) -> Result<Vec<String>, String> {
    values.iter().map(|value| normalize(value)).collect()
}

/// `@read` or `read` → `read`.
fn category(value: &str) -> Result<String, String> {
    let name = value.trim().trim_start_matches('@');
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(format!("{value:?}: expected an ACL category such as @read"));
    }
    Ok(name.to_ascii_lowercase())
}

/// `name`, `NAME|SUB` or `NAME SUB` → `NAME` or `NAME|SUB`, upper-case.
fn command(value: &str) -> Result<String, String> {
    let parts: Vec<&str> = value
        .split(['|', ' '])
        .filter(|part| !part.is_empty())
        .collect();
    let valid =
        |part: &&str| part.len() <= super::MAX_NAME_LEN && part.bytes().all(super::is_name_byte);
    match parts[..] {
        [_] | [_, _] if parts.iter().all(valid) => Ok(parts.join("|").to_ascii_uppercase()),
        _ => Err(format!(
            "{value:?}: expected a command name, or NAME|SUBCOMMAND"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::table::tests::redis_7_0;

    fn rules(flags: Flags) -> Rules {
        Rules::new(&flags, false).unwrap()
    }

    fn access(rules: &Rules, table: &Table, path: &str) -> Access {
        let (name, sub) = match path.split_once('|') {
            Some((name, sub)) => (name, Some(sub)),
            None => (path, None),
        };
        let info = table.get(name).unwrap();
        let info = sub.map_or(info, |sub| info.subcommand(sub).unwrap());
        rules.access(path, &info.categories)
    }

    #[test]
    fn the_web_profile() {
        let table = redis_7_0();
        let web = rules(Flags::default());
        for allowed in [
            "GET",
            "SET",
            "DEL",
            "HSET",
            "XADD",
            "SUBSCRIBE",
            "MULTI",
            "PING",
            "SCAN",
            "CLIENT|SETNAME",
            "CLIENT|TRACKING",
            "COMMAND|DOCS",
            "OBJECT|ENCODING",
        ] {
            assert_eq!(access(&web, &table, allowed), Access::Allow, "{allowed}");
        }
        for denied in [
            "FLUSHALL",
            "KEYS",
            "EVAL",
            "FCALL",
            "FUNCTION|LOAD",
            "SCRIPT|LOAD",
            "SORT",
            "SORT_RO",
            "SELECT",
            "CLIENT|KILL",
            "CLIENT|LIST",
            "CLIENT|PAUSE",
            "CLIENT",
            "MEMORY|USAGE",
            "INFO",
            "CONFIG|GET",
            "SWAPDB",
            "MOVE",
            "RESTORE",
            "WAIT",
        ] {
            assert_eq!(access(&web, &table, denied), Access::Deny, "{denied}");
        }
    }

    #[test]
    fn the_most_specific_rule_wins_and_deny_beats_allow() {
        let table = redis_7_0();
        let custom = rules(Flags {
            allow_categories: vec!["@dangerous".into()],
            deny_categories: vec!["hash".into()],
            allow_commands: vec!["client list".into(), "hget".into(), "info".into()],
            deny_commands: vec!["GET".into(), "info".into()],
            ..Flags::default()
        });
        // Category level: no longer denied, but a command must still be in
        // an allowed category, and a denied one beats an allowed one.
        assert_eq!(access(&custom, &table, "FLUSHALL"), Access::Allow);
        assert_eq!(access(&custom, &table, "HSET"), Access::Deny);
        // Command level beats categories; the profile's KEYS stays denied.
        assert_eq!(access(&custom, &table, "HGET"), Access::Allow);
        assert_eq!(access(&custom, &table, "GET"), Access::Deny);
        assert_eq!(access(&custom, &table, "KEYS"), Access::Deny);
        assert_eq!(access(&custom, &table, "INFO"), Access::Deny);
        // Subcommand level beats the command level.
        assert_eq!(access(&custom, &table, "CLIENT|LIST"), Access::Allow);
        assert_eq!(access(&custom, &table, "CLIENT|KILL"), Access::Deny);

        let scripts = rules(Flags {
            allow_scripting: true,
            allow_select: true,
            ..Flags::default()
        });
        for allowed in ["EVAL", "FCALL_RO", "FUNCTION|LOAD", "SELECT", "MOVE"] {
            assert_eq!(
                access(&scripts, &table, allowed),
                Access::Allow,
                "{allowed}"
            );
        }
    }

    #[test]
    fn the_trusted_profile_denies_what_the_old_list_did() {
        let table = redis_7_0();
        let trusted = rules(Flags {
            profile: Profile::Trusted,
            allow_commands: vec!["CONFIG".into()],
            ..Flags::default()
        });
        for allowed in [
            "KEYS",
            "EVAL",
            "CLIENT|KILL",
            "SELECT",
            "CONFIG|SET",
            "INFO",
        ] {
            assert_eq!(
                access(&trusted, &table, allowed),
                Access::Allow,
                "{allowed}"
            );
        }
        for denied in ["FLUSHALL", "ACL|SETUSER", "SHUTDOWN", "MONITOR"] {
            assert_eq!(access(&trusted, &table, denied), Access::Deny, "{denied}");
        }
    }

    #[test]
    fn flags_must_name_what_the_server_has() {
        let table = redis_7_0();
        for (flags, bad) in [
            (
                Flags {
                    allow_commands: vec!["GETT".into()],
                    ..Flags::default()
                },
                "GETT",
            ),
            (
                Flags {
                    deny_commands: vec!["CLIENT|KILLALL".into()],
                    ..Flags::default()
                },
                "CLIENT|KILLALL",
            ),
            (
                Flags {
                    deny_categories: vec!["@nosuch".into()],
                    ..Flags::default()
                },
                "@nosuch",
            ),
        ] {
            let error = rules(flags).check_names(&table).unwrap_err();
            assert!(error.contains(bad), "{error}");
        }
        for bad in ["", "A B C", "CON\0FIG", "a|b|c", "@"] {
            let flags = Flags {
                deny_commands: vec![bad.into()],
                ..Flags::default()
            };
            assert!(Rules::new(&flags, false).is_err(), "{bad:?}");
        }
        let auth = Flags {
            allow_commands: vec!["auth".into()],
            ..Flags::default()
        };
        assert!(Rules::new(&auth, true).unwrap_err().contains("AUTH"));
    }
}
