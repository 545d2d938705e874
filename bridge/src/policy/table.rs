//! The command table of the Redis the bridge serves, as `COMMAND INFO`
//! reports it: every command's name, arity, flags, ACL categories, key
//! specs and subcommands.
//!
//! The bridge judges browser commands against this table rather than a list
//! of its own, because only the server knows which names it resolves: a
//! newer Redis, a module or `rename-command` changes them, and a name the
//! bridge does not know must never reach Redis unjudged.

use std::fmt;

use resp::Frame;

/// Every command of one server.
#[derive(Debug, Clone)]
pub struct Table {
    pub commands: Vec<CommandInfo>,
}

/// One command (or subcommand) as `COMMAND INFO` describes it.
#[derive(Debug, Clone)]
pub struct CommandInfo {
    /// The name, upper-cased; a subcommand's without its container's
    /// (`KILL` under `CLIENT`).
    pub name: String,
    /// Argument count including the name; negative means "at least".
    pub arity: i64,
    /// Command flags, lower-case (`write`, `pubsub`, `movablekeys`...).
    pub flags: Vec<String>,
    /// ACL categories, lower-case, without the `@`.
    pub categories: Vec<String>,
    pub key_specs: Vec<KeySpec>,
    /// Empty unless this is a container such as `CLIENT` or `CONFIG`.
    pub subcommands: Vec<CommandInfo>,
}

/// Where a command's keys are, as Redis 7 describes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySpec {
    pub begin: BeginSearch,
    pub find: FindKeys,
    /// The arguments found are not keys (`SPUBLISH`'s shard channel).
    pub not_key: bool,
    /// The spec may miss keys that the command finds by other means.
    pub incomplete: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BeginSearch {
    /// The first key is at this argument index.
    Index(i64),
    /// The first key follows this keyword, searched from `start_from`
    /// (backwards from the end when negative).
    Keyword { keyword: String, start_from: i64 },
    /// A spec the bridge cannot follow.
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FindKeys {
    /// Keys up to `last_key` (relative to the first; negative counts from
    /// the end), every `key_step`; `limit` divides what is left.
    Range {
        last_key: i64,
        key_step: i64,
        limit: i64,
    },
    /// The number of keys is the argument at `key_num_index` (relative to
    /// the first); keys begin `first_key` after it.
    KeyNum {
        key_num_index: i64,
        first_key: i64,
        key_step: i64,
    },
    Unknown,
}

/// Why a `COMMAND INFO` reply could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableError(String);

impl fmt::Display for TableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unexpected COMMAND INFO reply: {}", self.0)
    }
}

impl std::error::Error for TableError {}

fn fail<T>(what: impl Into<String>) -> Result<T, TableError> {
    Err(TableError(what.into()))
}

impl Table {
    /// Reads the reply to `COMMAND INFO` (RESP2 or RESP3).
    pub fn from_reply(reply: &Frame) -> Result<Table, TableError> {
        let Frame::Array(entries) = reply else {
            return fail(format!("expected an array, got {}", kind(reply)));
        };
        let commands = entries
            .iter()
            // Redis answers nil for a name it does not know; none was asked for.
            .filter(|entry| !matches!(entry, Frame::Null))
            .map(|entry| CommandInfo::from_frame(entry, None))
            .collect::<Result<Vec<_>, _>>()?;
        if commands.is_empty() {
            return fail("no commands");
        }
        Ok(Table { commands })
    }

    /// Every ACL category some command of the table is in.
    pub fn categories(&self) -> impl Iterator<Item = &str> {
        fn walk<'a>(command: &'a CommandInfo, out: &mut Vec<&'a str>) {
            out.extend(command.categories.iter().map(String::as_str));
            for sub in &command.subcommands {
                walk(sub, out);
            }
        }
        let mut all = Vec::new();
        for command in &self.commands {
            walk(command, &mut all);
        }
        all.sort_unstable();
        all.dedup();
        all.into_iter()
    }

    /// The command called `name` (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&CommandInfo> {
        self.commands
            .iter()
            .find(|command| command.name.eq_ignore_ascii_case(name))
    }
}

impl CommandInfo {
    /// The subcommand called `name` (case-insensitive).
    pub fn subcommand(&self, name: &str) -> Option<&CommandInfo> {
        self.subcommands
            .iter()
            .find(|sub| sub.name.eq_ignore_ascii_case(name))
    }

    pub fn has_flag(&self, flag: &str) -> bool {
        self.flags.iter().any(|f| f == flag)
    }

    pub fn in_category(&self, category: &str) -> bool {
        self.categories.iter().any(|c| c == category)
    }

    /// One entry: `[name, arity, flags, first, last, step, categories,
    /// tips, key specs, subcommands]` (Redis 7).
    fn from_frame(frame: &Frame, container: Option<&str>) -> Result<CommandInfo, TableError> {
        let fields = match frame {
            Frame::Array(fields) if fields.len() >= 10 => fields,
            _ => return fail(format!("a command entry is {}", kind(frame))),
        };
        let full_name = text(&fields[0])?.to_ascii_uppercase();
        let name = match container {
            None => full_name,
            Some(container) => match full_name.split_once('|') {
                Some((parent, sub)) if parent == container => sub.to_owned(),
                _ => return fail(format!("subcommand {full_name} of {container}")),
            },
        };
        let Frame::Integer(arity) = fields[1] else {
            return fail(format!("arity of {name}"));
        };
        let flags = texts(&fields[2])?
            .into_iter()
            .map(|flag| flag.to_ascii_lowercase())
            .collect();
        let categories = texts(&fields[6])?
            .into_iter()
            .map(|category| category.trim_start_matches('@').to_ascii_lowercase())
            .collect();
        let key_specs = items(&fields[8])?
            .iter()
            .map(KeySpec::from_frame)
            .collect::<Result<_, _>>()?;
        let subcommands = items(&fields[9])?
            .iter()
            .map(|sub| CommandInfo::from_frame(sub, Some(&name)))
            .collect::<Result<_, _>>()?;
        Ok(CommandInfo {
            name,
            arity,
            flags,
            categories,
            key_specs,
            subcommands,
        })
    }
}

impl KeySpec {
    fn from_frame(frame: &Frame) -> Result<KeySpec, TableError> {
        let spec = pairs(frame)?;
        let flags: Vec<String> = match lookup(&spec, "flags") {
            Some(flags) => texts(flags)?,
            None => Vec::new(),
        };
        let has = |flag: &str| flags.iter().any(|f| f.eq_ignore_ascii_case(flag));
        Ok(KeySpec {
            begin: begin_search(lookup(&spec, "begin_search"))?,
            find: find_keys(lookup(&spec, "find_keys"))?,
            not_key: has("not_key"),
            incomplete: has("incomplete"),
        })
    }
}

/// The fields of a map, by name.
type Fields<'a> = Vec<(String, &'a Frame)>;

/// `{type, spec}` of a key spec part, or `None` for an unknown type.
fn typed(part: Option<&Frame>) -> Result<Option<(String, Fields<'_>)>, TableError> {
    let Some(part) = part else {
        return Ok(None);
    };
    let part = pairs(part)?;
    let kind = match lookup(&part, "type") {
        Some(kind) => text(kind)?,
        None => return Ok(None),
    };
    let spec = match lookup(&part, "spec") {
        Some(spec) => pairs(spec)?,
        None => Vec::new(),
    };
    Ok(Some((kind, spec)))
}

fn begin_search(part: Option<&Frame>) -> Result<BeginSearch, TableError> {
    Ok(match typed(part)? {
        Some((kind, spec)) if kind == "index" => BeginSearch::Index(integer(&spec, "index")?),
        Some((kind, spec)) if kind == "keyword" => BeginSearch::Keyword {
            keyword: text(lookup(&spec, "keyword").ok_or(TableError("keyword".into()))?)?,
            start_from: integer(&spec, "startfrom")?,
        },
        _ => BeginSearch::Unknown,
    })
}

fn find_keys(part: Option<&Frame>) -> Result<FindKeys, TableError> {
    Ok(match typed(part)? {
        Some((kind, spec)) if kind == "range" => FindKeys::Range {
            last_key: integer(&spec, "lastkey")?,
            key_step: integer(&spec, "keystep")?,
            limit: integer(&spec, "limit")?,
        },
        Some((kind, spec)) if kind == "keynum" => FindKeys::KeyNum {
            key_num_index: integer(&spec, "keynumidx")?,
            first_key: integer(&spec, "firstkey")?,
            key_step: integer(&spec, "keystep")?,
        },
        _ => FindKeys::Unknown,
    })
}

fn kind(frame: &Frame) -> &'static str {
    match frame {
        Frame::Array(_) => "an array",
        Frame::Map(_) => "a map",
        Frame::Error(_) | Frame::BulkError(_) => "an error",
        Frame::Null => "nil",
        _ => "a scalar",
    }
}

fn text(frame: &Frame) -> Result<String, TableError> {
    match frame {
        Frame::Simple(text) | Frame::Bulk(text) => String::from_utf8(text.to_vec())
            .map_err(|_| TableError("a name that is not UTF-8".into())),
        Frame::Verbatim { text, .. } => Ok(String::from_utf8_lossy(text).into_owned()),
        other => fail(format!("expected a string, got {}", kind(other))),
    }
}

fn items(frame: &Frame) -> Result<&[Frame], TableError> {
    match frame {
        Frame::Array(items) | Frame::Set(items) => Ok(items),
        other => fail(format!("expected an array, got {}", kind(other))),
    }
}

fn texts(frame: &Frame) -> Result<Vec<String>, TableError> {
    items(frame)?.iter().map(text).collect()
}

/// A RESP3 map, or a RESP2 array of alternating keys and values.
fn pairs(frame: &Frame) -> Result<Fields<'_>, TableError> {
    match frame {
        Frame::Map(pairs) => pairs
            .iter()
            .map(|(key, value)| Ok((text(key)?, value)))
            .collect(),
        Frame::Array(items) if items.len() % 2 == 0 => items
            .chunks(2)
            .map(|pair| Ok((text(&pair[0])?, &pair[1])))
            .collect(),
        other => fail(format!("expected a map, got {}", kind(other))),
    }
}

fn lookup<'a>(pairs: &[(String, &'a Frame)], key: &str) -> Option<&'a Frame> {
    pairs
        .iter()
        .find(|(name, _)| name == key)
        .map(|(_, value)| *value)
}

fn integer(pairs: &[(String, &Frame)], key: &str) -> Result<i64, TableError> {
    match lookup(pairs, key) {
        Some(Frame::Integer(value)) => Ok(*value),
        _ => fail(format!("key spec field {key}")),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// `COMMAND INFO` as redis-server 7.0.15 answers it.
    pub(crate) fn redis_7_0() -> Table {
        let bytes = include_bytes!("../../testdata/command-info-redis-7.0.15.resp");
        let mut decoder = resp::Decoder::new();
        decoder.feed(bytes);
        let reply = decoder.decode().unwrap().unwrap();
        Table::from_reply(&reply).unwrap()
    }

    #[test]
    fn reads_the_whole_table() {
        let table = redis_7_0();
        assert_eq!(table.commands.len(), 240);
        let set = table.get("set").unwrap();
        assert_eq!(set.arity, -3);
        assert_eq!(set.categories, ["write", "string", "slow"]);
        assert_eq!(
            set.key_specs[0].begin,
            BeginSearch::Index(1),
            "{:?}",
            set.key_specs
        );
        let client = table.get("CLIENT").unwrap();
        assert!(client.subcommand("kill").unwrap().in_category("dangerous"));
        let xread = table.get("xread").unwrap();
        assert_eq!(
            xread.key_specs[0].begin,
            BeginSearch::Keyword {
                keyword: "STREAMS".into(),
                start_from: 1
            }
        );
        assert_eq!(
            xread.key_specs[0].find,
            FindKeys::Range {
                last_key: -1,
                key_step: 1,
                limit: 2
            }
        );
        assert!(table.get("spublish").unwrap().key_specs[0].not_key);
        assert!(table.categories().any(|c| c == "scripting"));
    }

    #[test]
    fn refuses_what_is_not_a_table() {
        assert!(Table::from_reply(&Frame::Error("NOPERM".into())).is_err());
        assert!(Table::from_reply(&Frame::Array(vec![])).is_err());
        assert!(Table::from_reply(&Frame::Array(vec![Frame::Integer(1)])).is_err());
    }
}
