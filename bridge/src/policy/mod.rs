//! Command policy: which browser commands reach Redis, judged against the
//! command table of the very server the bridge serves.
//!
//! A deny list cannot be made safe: Redis finds a command by a hash over
//! all of its name's bytes but compares with `strcasecmp`, which stops at a
//! NUL, so `CONFIG\0<junk>` now and then *is* `CONFIG`; names the list does
//! not know (new commands, modules, renames) pass. So the bridge turns it
//! around: it reads `COMMAND INFO` from Redis ([`table`], [`gate`]) and
//! relays a command only if its name, compared ASCII case-insensitively and
//! otherwise byte for byte, is one the server has and the rules allow
//! ([`rules`], compiled per table in [`commands`]); for a container such as
//! `CLIENT`, its subcommand too. A name with any byte outside the alphabet
//! of command names, or longer than any, is not a name. A few commands are
//! judged on their arguments as well ([`checks`]).
//!
//! [`filter`] parses the browser's stream, refuses what a client would
//! never send, and streams allowed commands through as ranges of the input.
//!
//! # Refused commands keep their place in the pipeline
//!
//! A browser pipelines and matches replies to commands strictly in order,
//! so a refused command must get exactly one error reply, in its place.
//! The bridge sends Redis, instead of the command, a stand-in whose name
//! cannot exist ([`denial`]), and Redis answers it like any unknown
//! command. Answering from the bridge would mean splicing errors into the
//! reply stream, which needs to know where each reply ends and to whom it
//! belongs — not one reply per command after `SUBSCRIBE`, `CLIENT REPLY`,
//! `MONITOR` or `HELLO 3`, and inside `MULTI` a refused command must make
//! `EXEC` fail, which Redis does for any command it rejects. Letting Redis
//! answer is right in every one of these states, and keeps the reply side a
//! plain byte copy.
//!
//! # Defence in depth
//!
//! The permission boundary is the Redis ACL user a token maps to: `acl`
//! prints the `ACL SETUSER` line that gives it exactly the commands,
//! keys and channels the bridge allows. The bridge's own judgement comes
//! first, and covers what ACLs cannot express (arguments, `HELLO AUTH`).

pub mod acl;
mod checks;
mod commands;
mod denial;
mod filter;
pub mod gate;
pub mod rules;
pub mod table;

pub use commands::Policy;
pub use denial::{Denial, Why};
pub use filter::{CommandFilter, Output, Violation, JUDGE_LIMIT};
pub use gate::Gate;
pub use rules::{Flags, Profile, Rules};
pub use table::Table;

/// Longer names are not names: the longest of Redis 7.0 has 20 bytes.
pub const MAX_NAME_LEN: usize = 64;

/// The alphabet of command and subcommand names (Redis' own use only
/// lower-case letters, digits, `-` and `_`; `|` joins a container to its
/// subcommand in the table and never comes from a client).
pub fn is_name_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_'
}
