//! What Redis itself says about each of its commands, as data.
//!
//! The table in `table.rs` is generated (`scripts/gen-commands` reads
//! `COMMAND INFO` and `COMMAND DOCS` from a real redis-server into
//! `client-wasm/commands/redis-commands.json`; the generator turns that into
//! Rust, JS and TypeScript). Everything the core decides about a command —
//! is it blocking, does it enter pub/sub, which arguments are keys, may it
//! be cached or sent to a replica — is read from here, never from the JS
//! method name, so `call()` and the typed methods behave the same.
//!
//! INTERFACE CONTRACT (shared by the table generator and the core; keep the
//! names, extend with care):
//! - [`CommandInfo`], [`Flags`], [`AclCategories`], [`KeySpec`] as below;
//! - `lookup(args)` finds the entry for a command line: the container
//!   command (`CLIENT`, `XINFO`...) is resolved to its subcommand entry
//!   (`CLIENT|SETNAME`) when `args[1]` names one; names compare ASCII
//!   case-insensitively, exactly (no NUL tricks, no prefixes);
//! - `by_index(i)` returns entry `i` of the flat table (generated JS method
//!   descriptors carry that index, so a method call needs no lookup);
//! - `keys(info, args)` yields the argument indices that are keys, from the
//!   key specs (for cluster routing and client-side caching).

/// One command or subcommand of the server the table was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandInfo {
    /// Redis's full name in upper case: `GET`, `CLIENT|SETNAME`.
    pub name: &'static str,
    /// Redis's arity: `n` exactly, `-n` at least `n` (the name counts).
    pub arity: i16,
    pub flags: Flags,
    pub acl: AclCategories,
    pub key_specs: &'static [KeySpec],
    /// Whether this is a container whose entries are its subcommands.
    pub has_subcommands: bool,
    /// Redis's command tips (`nondeterministic_output`, `request_policy:…`,
    /// `response_policy:…`): how a cluster client fans a command out and
    /// merges the replies, and whether a reply may be cached.
    pub tips: Tips,
}

/// Redis's command flags (`COMMAND INFO`, field 3), one bit each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Flags(pub u32);

impl Flags {
    pub const WRITE: Flags = Flags(1 << 0);
    pub const READONLY: Flags = Flags(1 << 1);
    pub const DENYOOM: Flags = Flags(1 << 2);
    pub const MODULE: Flags = Flags(1 << 3);
    pub const ADMIN: Flags = Flags(1 << 4);
    pub const PUBSUB: Flags = Flags(1 << 5);
    pub const NOSCRIPT: Flags = Flags(1 << 6);
    pub const BLOCKING: Flags = Flags(1 << 7);
    pub const LOADING: Flags = Flags(1 << 8);
    pub const STALE: Flags = Flags(1 << 9);
    pub const SKIP_MONITOR: Flags = Flags(1 << 10);
    pub const SKIP_SLOWLOG: Flags = Flags(1 << 11);
    pub const ASKING: Flags = Flags(1 << 12);
    pub const FAST: Flags = Flags(1 << 13);
    pub const NO_AUTH: Flags = Flags(1 << 14);
    pub const MAY_REPLICATE: Flags = Flags(1 << 15);
    pub const NO_MANDATORY_KEYS: Flags = Flags(1 << 16);
    pub const NO_ASYNC_LOADING: Flags = Flags(1 << 17);
    pub const NO_MULTI: Flags = Flags(1 << 18);
    pub const MOVABLE_KEYS: Flags = Flags(1 << 19);
    pub const ALLOW_BUSY: Flags = Flags(1 << 20);

    pub const fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }
}

/// Redis's ACL categories (`@read`, `@write`, ...), one bit each; the
/// constants are generated with the table (`AclCategories::READ`...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AclCategories(pub u32);

impl AclCategories {
    pub const fn contains(self, other: AclCategories) -> bool {
        self.0 & other.0 == other.0
    }
}

/// Redis's command tips, one bit each; the constants are generated with the
/// table (`Tips::NONDETERMINISTIC_OUTPUT`, `Tips::REQUEST_POLICY_ALL_SHARDS`...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tips(pub u32);

impl Tips {
    pub const fn contains(self, other: Tips) -> bool {
        self.0 & other.0 == other.0
    }
}

/// Where a command's keys are, as Redis describes it (`COMMAND INFO`, key
/// specifications).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySpec {
    pub begin_search: BeginSearch,
    pub find_keys: FindKeys,
    /// Redis's key-spec flags (RO, RW, OW, RM, ACCESS, UPDATE, INSERT,
    /// DELETE, NOT_KEY, INCOMPLETE, VARIABLE_FLAGS), one bit each.
    pub flags: u16,
}

impl KeySpec {
    pub const RO: u16 = 1 << 0;
    pub const RW: u16 = 1 << 1;
    pub const OW: u16 = 1 << 2;
    pub const RM: u16 = 1 << 3;
    pub const ACCESS: u16 = 1 << 4;
    pub const UPDATE: u16 = 1 << 5;
    pub const INSERT: u16 = 1 << 6;
    pub const DELETE: u16 = 1 << 7;
    pub const NOT_KEY: u16 = 1 << 8;
    pub const INCOMPLETE: u16 = 1 << 9;
    pub const VARIABLE_FLAGS: u16 = 1 << 10;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BeginSearch {
    /// The first key is argument `i` (the name is argument 0).
    Index(u16),
    /// The first key follows this keyword, searched from argument `start_from`
    /// (negative: from the end).
    Keyword {
        keyword: &'static str,
        start_from: i16,
    },
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindKeys {
    /// Keys up to `last_key` (relative to the first; negative: from the
    /// end), every `step`; `limit` > 1 cuts the remaining arguments to a
    /// fraction.
    Range {
        last_key: i16,
        step: u16,
        limit: u16,
    },
    /// The argument at `keynum_idx` (relative to the first) counts the keys,
    /// which start at `first_key` (relative), every `step`.
    Keynum {
        keynum_idx: u16,
        first_key: u16,
        step: u16,
    },
    Unknown,
}
