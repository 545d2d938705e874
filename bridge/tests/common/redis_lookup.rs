//! The oracle of the filter's fuzzing: Redis' own rule for finding a
//! command, and what the policy says of the command found.
//!
//! Redis looks a name up in a dict hashed case-insensitively over all its
//! bytes and compared with `strcasecmp`, which stops at a NUL. Whether a
//! given name with a NUL lands in the right bucket is chance, so the model
//! takes the worst case: a name may resolve to every command it is
//! `strcasecmp`-equal to. Whatever the filter lets through must, under that
//! rule, be a command the server has and the policy allows; and a
//! stand-in must resolve to nothing.

use std::collections::HashMap;

use redis_ws_bridge::policy::rules::{Access, Profile, Rules, IDENTITY_COMMANDS};
use redis_ws_bridge::policy::table::{CommandInfo, Table};
use resp::Frame;

/// `bytes` as C sees a string: up to the first NUL.
pub fn c_string(bytes: &[u8]) -> &[u8] {
    bytes
        .iter()
        .position(|&b| b == 0)
        .map_or(bytes, |nul| &bytes[..nul])
}

/// `strcasecmp(a, b) == 0`.
pub fn strcasecmp_eq(a: &[u8], b: &[u8]) -> bool {
    c_string(a).eq_ignore_ascii_case(c_string(b))
}

/// Redis' `string2ll`, for offsets (the oracle's own copy).
fn integer(bytes: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(bytes).ok()?;
    let canonical = text == "0" || {
        let digits = text.strip_prefix('-').unwrap_or(text);
        digits.starts_with(|c: char| ('1'..='9').contains(&c))
            && digits.bytes().all(|b| b.is_ascii_digit())
    };
    if canonical {
        text.parse().ok()
    } else {
        None
    }
}

/// The table's names, upper-case: `strcasecmp` equality is equality of
/// the upper-cased C strings, so one look-up finds every candidate.
pub struct Index<'a> {
    commands: HashMap<Vec<u8>, (&'a CommandInfo, Names<'a>)>,
}

/// Commands (or a container's subcommands) by upper-case name.
type Names<'a> = HashMap<Vec<u8>, &'a CommandInfo>;

impl<'a> Index<'a> {
    pub fn new(table: &'a Table) -> Self {
        let upper = |name: &str| name.to_ascii_uppercase().into_bytes();
        let commands = table
            .commands
            .iter()
            .map(|info| {
                let subs = info.subcommands.iter().map(|sub| (upper(&sub.name), sub));
                (upper(&info.name), (info, subs.collect()))
            })
            .collect();
        Index { commands }
    }
}

/// What the filter of one connection was configured with.
pub struct Setup<'a> {
    pub index: &'a Index<'a>,
    pub rules: &'a Rules,
    pub max_bulk_len: usize,
    pub prefix: Option<&'a [u8]>,
}

impl Setup<'_> {
    /// Checks what the filter sent Redis: well-formed commands (ending
    /// mid-command only if `in_command`), each one Redis would resolve
    /// only to commands the policy allows, with allowed arguments. Returns
    /// how many commands it holds.
    pub fn check(&self, out: &[u8], in_command: bool) -> Result<usize, String> {
        let mut decoder = resp::Decoder::new();
        decoder.feed(out);
        let mut commands = 0;
        loop {
            let frame = match decoder.decode() {
                Ok(Some(frame)) => frame,
                Ok(None) => break,
                Err(error) => return Err(format!("the output is not RESP: {error}")),
            };
            let Frame::Array(items) = frame else {
                return Err(format!("not a command: {frame:?}"));
            };
            let args = items
                .into_iter()
                .map(|item| match item {
                    Frame::Bulk(arg) => Ok(arg.to_vec()),
                    other => Err(format!("not a bulk string: {other:?}")),
                })
                .collect::<Result<Vec<_>, _>>()?;
            self.check_command(&args)?;
            commands += 1;
        }
        if !in_command && decoder.buffered() > 0 {
            return Err("the output ends mid-command".into());
        }
        Ok(commands)
    }

    fn check_command(&self, args: &[Vec<u8>]) -> Result<(), String> {
        let name = args.first().ok_or("an empty command reached Redis")?;
        let shown = String::from_utf8_lossy(name);
        let found = self
            .index
            .commands
            .get(&c_string(name).to_ascii_uppercase());
        if name.windows(15).any(|w| w == b"redis-ws-bridge") {
            // A stand-in: one word that resolves to nothing.
            return match (args.len(), found.is_none(), name.contains(&0)) {
                (1, true, false) => Ok(()),
                _ => Err(format!("a stand-in that could run: {shown:?}")),
            };
        }
        let Some((info, subs)) = found else {
            return Err(format!("{shown:?} relayed: not a command of the server"));
        };
        if !name.eq_ignore_ascii_case(info.name.as_bytes()) {
            return Err(format!("{shown:?} relayed: not exactly {}", info.name));
        }
        let authenticates = self.rules.bridge_authenticates;
        if authenticates && IDENTITY_COMMANDS.contains(&info.name.as_str()) {
            return Err(format!("{shown:?} relayed in token mode"));
        }
        let (path, target) = match args.get(1) {
            Some(sub) if !info.subcommands.is_empty() => {
                let Some(target) = subs.get(&c_string(sub).to_ascii_uppercase()) else {
                    return Err(format!("{shown:?} relayed with an unknown subcommand"));
                };
                if !sub.eq_ignore_ascii_case(target.name.as_bytes()) {
                    return Err(format!("{shown:?} relayed with a mangled subcommand"));
                }
                (format!("{}|{}", info.name, target.name), *target)
            }
            _ => (info.name.clone(), *info),
        };
        if self.rules.access(&path, &target.categories) != Access::Allow {
            return Err(format!("{path} relayed, which the policy denies"));
        }
        self.check_arguments(&path, args)
    }

    /// The argument rules, as Redis reads the arguments.
    fn check_arguments(&self, path: &str, args: &[Vec<u8>]) -> Result<(), String> {
        let web = self.rules.profile == Profile::Web;
        let fail = |why: &str| Err(format!("{path} relayed with {why}"));
        match path {
            "HELLO" if web || self.rules.bridge_authenticates => {
                // helloCommand: options after the protocol version.
                let mut j = 2;
                while j < args.len() {
                    let more = args.len() - 1 - j;
                    if strcasecmp_eq(&args[j], b"AUTH") && more >= 2 {
                        return fail("AUTH");
                    }
                    if !(strcasecmp_eq(&args[j], b"SETNAME") && more >= 1) {
                        // A syntax error to Redis: nothing runs.
                        break;
                    }
                    j += 2;
                }
            }
            "CLIENT|TRACKING"
                if web
                    && args
                        .iter()
                        .skip(3)
                        .any(|arg| strcasecmp_eq(arg, b"REDIRECT")) =>
            {
                return fail("REDIRECT");
            }
            "SETRANGE" | "SETBIT" if web && args.len() > 2 => {
                let offset = integer(&args[2]).ok_or("an offset Redis refuses")?;
                let byte = if path == "SETBIT" {
                    offset >> 3
                } else {
                    offset
                };
                if byte < 0 || byte as u64 > self.max_bulk_len as u64 {
                    return fail("an offset past --max-bulk-len");
                }
            }
            "PUBLISH" | "SUBSCRIBE" | "PSUBSCRIBE" => {
                if let Some(prefix) = self.prefix {
                    let channels = if path == "PUBLISH" {
                        &args[1..2.min(args.len())]
                    } else {
                        &args[1..]
                    };
                    if channels.iter().any(|channel| !channel.starts_with(prefix)) {
                        return fail("a channel outside the prefix");
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}
