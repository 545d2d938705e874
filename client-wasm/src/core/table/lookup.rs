//! Finding a command line's entry in the generated table.
//!
//! Names are compared as Redis compares them: ASCII case-insensitively and
//! exactly, so `get`, `GET` and `gEt` find `GET` while `GET\0` or `GETX` find
//! nothing. The name is upper-cased into a stack buffer and binary-searched
//! (nine comparisons for the 366 entries of Redis 7.0): no allocation per
//! command. A container (`CLIENT`) resolves to its subcommand's entry
//! (`CLIENT|SETNAME`) when the next argument names one; otherwise, an
//! unknown or missing subcommand, to the container's own entry, whose flags
//! and (empty) key specs are Redis's for the bare container.

use super::COMMANDS;
use crate::core::command_info::CommandInfo;

/// Longer than any Redis name (`CLUSTER|COUNT-FAILURE-REPORTS` is 29).
const MAX_NAME: usize = 64;

/// The entry for a command line (`args[0]` the command name), or `None` for
/// an empty line or a command the table does not know.
pub fn lookup(args: &[impl AsRef<[u8]>]) -> Option<&'static CommandInfo> {
    lookup_index(args).map(by_index)
}

/// The index of [`lookup`]'s entry.
pub fn lookup_index(args: &[impl AsRef<[u8]>]) -> Option<u16> {
    let name = args.first()?.as_ref();
    // `CLIENT|SETNAME` is a table key, not a command name Redis accepts.
    if name.contains(&b'|') {
        return None;
    }
    let container = index_of(name)?;
    if !COMMANDS[usize::from(container)].has_subcommands {
        return Some(container);
    }
    let subcommand = args.get(1).and_then(|sub| {
        let mut full = Buffer::new();
        full.push_upper(name)?;
        full.push_upper(b"|")?;
        full.push_upper(sub.as_ref())?;
        search(full.as_bytes())
    });
    Some(subcommand.unwrap_or(container))
}

/// Entry `i` of the table (a generated method's `cmd`). Panics when `i` is
/// out of range: indices come from the generator, never from users.
pub fn by_index(i: u16) -> &'static CommandInfo {
    &COMMANDS[usize::from(i)]
}

/// The index of the entry named `name` in full (`GET`, `client|setname`),
/// ASCII case-insensitively.
pub fn index_of(name: impl AsRef<[u8]>) -> Option<u16> {
    let mut upper = Buffer::new();
    upper.push_upper(name.as_ref())?;
    search(upper.as_bytes())
}

fn search(upper: &[u8]) -> Option<u16> {
    let found = COMMANDS
        .binary_search_by(|entry| entry.name.as_bytes().cmp(upper))
        .ok()?;
    u16::try_from(found).ok()
}

/// An upper-case name on the stack.
struct Buffer {
    bytes: [u8; MAX_NAME],
    len: usize,
}

impl Buffer {
    fn new() -> Self {
        Buffer {
            bytes: [0; MAX_NAME],
            len: 0,
        }
    }

    /// `None` when the name would not fit: no entry is that long.
    fn push_upper(&mut self, part: &[u8]) -> Option<()> {
        let end = self
            .len
            .checked_add(part.len())
            .filter(|&end| end <= MAX_NAME)?;
        for (slot, byte) in self.bytes[self.len..end].iter_mut().zip(part) {
            *slot = byte.to_ascii_uppercase();
        }
        self.len = end;
        Some(())
    }

    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::command_info::Flags;

    /// `name` in alternating case: `gEt`, `cLiEnT`.
    fn mixed_case(name: &str) -> String {
        name.chars()
            .enumerate()
            .map(|(i, c)| {
                if i % 2 == 0 {
                    c.to_ascii_lowercase()
                } else {
                    c.to_ascii_uppercase()
                }
            })
            .collect()
    }

    /// The command line that names an entry: `["CLIENT", "SETNAME"]`.
    fn line(name: &str) -> Vec<String> {
        name.split('|').map(str::to_owned).collect()
    }

    #[test]
    fn the_table_is_sorted_and_unique_so_the_binary_search_holds() {
        assert!(COMMANDS.windows(2).all(|w| w[0].name < w[1].name));
        assert!(COMMANDS.iter().all(|c| c.name.len() <= MAX_NAME));
        assert!(COMMANDS
            .iter()
            .all(|c| c.name == c.name.to_ascii_uppercase()));
    }

    #[test]
    fn every_entry_is_found_in_any_case() {
        for (i, entry) in COMMANDS.iter().enumerate() {
            let i = u16::try_from(i).unwrap();
            for spelled in [
                entry.name.to_owned(),
                entry.name.to_ascii_lowercase(),
                mixed_case(entry.name),
            ] {
                assert_eq!(lookup_index(&line(&spelled)), Some(i), "{spelled}");
                assert_eq!(
                    lookup_index(&[&spelled]),
                    entry.name.find('|').map_or(Some(i), |_| None)
                );
                assert_eq!(index_of(&spelled), Some(i), "{spelled}");
                assert_eq!(lookup(&line(&spelled)), Some(entry));
            }
        }
    }

    #[test]
    fn by_index_and_index_of_round_trip() {
        for (i, entry) in COMMANDS.iter().enumerate() {
            let i = u16::try_from(i).unwrap();
            assert_eq!(by_index(i), entry);
            assert_eq!(index_of(by_index(i).name), Some(i));
        }
    }

    #[test]
    fn near_misses_are_not_found() {
        for name in [
            "GET\0", "\0GET", "GETX", "GE", "G", "", " GET", "GET ", "GËT",
        ] {
            assert_eq!(lookup(&[name]), None, "{name:?}");
            assert_eq!(index_of(name), None, "{name:?}");
        }
        let empty: [&[u8]; 0] = [];
        assert_eq!(lookup(&empty), None);
        assert_eq!(index_of("x".repeat(MAX_NAME + 1)), None);
        // A full name is a table key, not a command line: `lookup` reads
        // `CLIENT|SETNAME` as one (unknown) command name.
        assert_eq!(lookup(&["CLIENT|SETNAME"]), None);
        assert_eq!(lookup(&[b"G\xffT".as_slice()]), None);
    }

    #[test]
    fn containers_resolve_to_their_subcommands() {
        let entry = lookup(&["client", "setname", "me"]).unwrap();
        assert_eq!(entry.name, "CLIENT|SETNAME");
        assert_eq!(
            lookup(&["Object", "encoding", "k"]).unwrap().name,
            "OBJECT|ENCODING"
        );
        assert_eq!(
            lookup(&["XINFO", "STREAM", "s"]).unwrap().name,
            "XINFO|STREAM"
        );
        assert_eq!(
            lookup(&["client", "no-evict", "on"]).unwrap().name,
            "CLIENT|NO-EVICT"
        );
        assert!(!lookup(&["CLIENT"]).unwrap().flags.contains(Flags::ADMIN));
    }

    #[test]
    fn an_unknown_or_missing_subcommand_gives_the_container() {
        for line in [
            &["CLIENT", "NOSUCH"][..],
            &["client"],
            &["CLIENT", "SETNAME\0"],
            &["CLIENT", ""],
            &["CLIENT", "SETNAMEX"],
        ] {
            let entry = lookup(line).unwrap();
            assert_eq!(entry.name, "CLIENT", "{line:?}");
            assert!(entry.has_subcommands);
        }
        let long = "X".repeat(MAX_NAME);
        assert_eq!(lookup(&["CLIENT", long.as_str()]).unwrap().name, "CLIENT");
    }

    #[test]
    fn a_plain_command_ignores_its_arguments() {
        assert_eq!(lookup(&["GET", "LIST"]).unwrap().name, "GET");
        assert_eq!(lookup(&["set", "k", "v"]).unwrap().name, "SET");
    }
}
