//! Which arguments of a command line are keys, read from Redis's key specs.
//!
//! Cluster routing (a key's slot) and client-side caching (the keys an
//! entry depends on) need the key positions of any command, also of one
//! sent through `call()`, so they come from the table, not from the method.
//! The walk is Redis's own `getKeysUsingKeySpecs` (db.c): a spec begins at
//! a fixed index or after a keyword (searched forwards, or backwards from
//! the end when `start_from` is negative), then takes a range (`last_key`
//! relative to the first key, negative from the end, `limit` cutting the
//! rest to a fraction: XREAD's `STREAMS k1 k2 id1 id2`) or a count
//! (`numkeys`). A spec that does not fit the line (a missing keyword, a
//! count that is not a number or runs past the end) yields nothing; the
//! server will refuse that line anyway.
//!
//! Where Redis marks a spec `unknown` or `incomplete` it finds the keys with
//! a hand-written function instead, and so do we: SORT (a `STORE` key can
//! be anywhere after the key) and MIGRATE (the `KEYS` form, whose key
//! argument is empty). SORT_RO's only unknown specs are its BY/GET
//! patterns, which name no key by themselves: it needs no rule.

use super::command_info::{BeginSearch, CommandInfo, FindKeys, KeySpec};

/// The indices of the keys in `args` (`args[0]` is the command name; for a
/// subcommand `args[1]` its name), in key-spec order. Sharded pub/sub
/// channels (`NOT_KEY` specs) are not keys: see [`routing_keys`].
pub fn keys<'a>(
    info: &CommandInfo,
    args: &'a [impl AsRef<[u8]>],
) -> impl Iterator<Item = usize> + 'a {
    Keys::new(info, args, false)
}

/// [`keys`], plus the arguments that Redis Cluster routes by although they
/// are not keys: the channels of SPUBLISH, SSUBSCRIBE and SUNSUBSCRIBE.
pub fn routing_keys<'a>(
    info: &CommandInfo,
    args: &'a [impl AsRef<[u8]>],
) -> impl Iterator<Item = usize> + 'a {
    Keys::new(info, args, true)
}

/// The commands whose keys a hand-written rule finds (see the module docs).
pub const OWN_RULES: &[&str] = &["MIGRATE", "SORT"];

struct Keys<'a, A> {
    args: &'a [A],
    /// The specs still to walk.
    specs: &'static [KeySpec],
    include_not_keys: bool,
    /// The positions of the current spec still to yield: `next..=last`.
    next: usize,
    last: usize,
    step: usize,
    /// A key found by a hand-written rule, yielded after the specs.
    then: Option<usize>,
}

impl<'a, A: AsRef<[u8]>> Keys<'a, A> {
    fn new(info: &CommandInfo, args: &'a [A], include_not_keys: bool) -> Self {
        let mut keys = Keys {
            args,
            specs: info.key_specs,
            include_not_keys,
            next: 1,
            last: 0,
            step: 1,
            then: None,
        };
        match info.name {
            "SORT" => keys.then = sort_store(args),
            "MIGRATE" => {
                keys.specs = &[];
                if let Some((first, last)) = migrate_keys(args) {
                    (keys.next, keys.last) = (first, last);
                }
            }
            _ => {}
        }
        keys
    }

    fn arg(&self, i: usize) -> &[u8] {
        self.args[i].as_ref()
    }

    /// The positions `(first, last, step)` one spec names in this line.
    fn positions(&self, spec: &KeySpec) -> Option<(usize, usize, usize)> {
        let argc = i64::try_from(self.args.len()).ok()?;
        let first = match spec.begin_search {
            BeginSearch::Index(index) => i64::from(index),
            BeginSearch::Keyword {
                keyword,
                start_from,
            } => self.find_keyword(keyword, i64::from(start_from), argc)? + 1,
            BeginSearch::Unknown => return None,
        };
        let (first, last, step) = match spec.find_keys {
            FindKeys::Range {
                last_key,
                step,
                limit,
            } => {
                let last_key = i64::from(last_key);
                let last = if last_key >= 0 {
                    first + last_key
                } else if limit <= 1 {
                    argc + last_key
                } else {
                    first + ((argc - first) / i64::from(limit) + last_key)
                };
                (first, last, step)
            }
            FindKeys::Keynum {
                keynum_idx,
                first_key,
                step,
            } => {
                let at = usize::try_from(first + i64::from(keynum_idx)).ok()?;
                let count = i64::try_from(parse_count(self.args.get(at)?.as_ref())?).ok()?;
                let first = first + i64::from(first_key);
                (first, first + count - 1, step)
            }
            FindKeys::Unknown => return None,
        };
        if first < 1 || first >= argc || last < first || last >= argc {
            return None;
        }
        Some((first as usize, last as usize, usize::from(step.max(1))))
    }

    /// Where `keyword` is, searched as Redis does: forwards from
    /// `start_from` up to the last but one argument, or backwards from
    /// `argc + start_from` down to argument 2.
    fn find_keyword(&self, keyword: &str, start_from: i64, argc: i64) -> Option<i64> {
        let matches = |i: i64| {
            self.arg(i as usize)
                .eq_ignore_ascii_case(keyword.as_bytes())
        };
        if start_from > 0 {
            (start_from..argc - 1).find(|&i| matches(i))
        } else {
            let start = (argc + start_from).min(argc - 1);
            (2..=start).rev().find(|&i| matches(i))
        }
    }
}

impl<A: AsRef<[u8]>> Iterator for Keys<'_, A> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        loop {
            if self.next <= self.last {
                let key = self.next;
                self.next += self.step;
                return Some(key);
            }
            let Some((spec, rest)) = self.specs.split_first() else {
                return self.then.take();
            };
            self.specs = rest;
            if spec.flags & KeySpec::NOT_KEY != 0 && !self.include_not_keys {
                continue;
            }
            if let Some((first, last, step)) = self.positions(spec) {
                (self.next, self.last, self.step) = (first, last, step);
            }
        }
    }
}

/// A key count as Redis's `string2ll` reads it, non-negative: `0`, or
/// digits without a sign or a leading zero.
fn parse_count(text: &[u8]) -> Option<usize> {
    match text {
        b"0" => Some(0),
        [b'1'..=b'9', ..] if text.iter().all(u8::is_ascii_digit) => {
            text.iter().try_fold(0usize, |count, digit| {
                count
                    .checked_mul(10)?
                    .checked_add(usize::from(digit - b'0'))
            })
        }
        _ => None,
    }
}

fn is(arg: &[u8], word: &str) -> bool {
    arg.eq_ignore_ascii_case(word.as_bytes())
}

/// `SORT key [BY p] [LIMIT o c] [GET p ...] [ASC|DESC] [ALPHA] [STORE dest]`:
/// the last `STORE`'s destination, skipping the arguments of LIMIT, GET and
/// BY (Redis's `sortGetKeys`).
fn sort_store(args: &[impl AsRef<[u8]>]) -> Option<usize> {
    let mut store = None;
    let mut i = 2;
    while i < args.len() {
        let arg = args[i].as_ref();
        if is(arg, "LIMIT") {
            i += 2;
        } else if is(arg, "STORE") && i + 1 < args.len() {
            store = Some(i + 1);
        } else if is(arg, "GET") || is(arg, "BY") {
            i += 1;
        }
        i += 1;
    }
    store
}

/// `MIGRATE host port key|"" db timeout [COPY] [REPLACE] [AUTH pw | AUTH2 user pw]
/// [KEYS key ...]`: the key, or the keys after `KEYS` when the key argument
/// is empty (Redis's `migrateGetKeys`), as `(first, last)`.
fn migrate_keys(args: &[impl AsRef<[u8]>]) -> Option<(usize, usize)> {
    let mut i = 6;
    while i < args.len() {
        let arg = args[i].as_ref();
        if is(arg, "KEYS") {
            // Redis refuses KEYS after a non-empty key: no keys then.
            return (args[3].as_ref().is_empty() && i + 1 < args.len())
                .then(|| (i + 1, args.len() - 1));
        }
        i += match () {
            _ if is(arg, "AUTH") => 2,
            _ if is(arg, "AUTH2") => 3,
            _ => 1,
        };
    }
    (args.len() > 3).then_some((3, 3))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::table::{lookup, COMMANDS};

    /// The key indices of a command line given as one string of words.
    fn keys_of(line: &str) -> Vec<usize> {
        let args: Vec<&str> = line.split(' ').collect();
        let info = lookup(&args).unwrap_or_else(|| panic!("no entry for {line}"));
        keys(info, &args).collect()
    }

    #[test]
    fn single_keys_and_ranges() {
        assert_eq!(keys_of("GET k"), [1]);
        assert_eq!(keys_of("get k"), [1]);
        assert_eq!(keys_of("SET k v EX 10"), [1]);
        assert_eq!(keys_of("MGET a b c"), [1, 2, 3]);
        assert_eq!(keys_of("MSET a 1 b 2 c 3"), [1, 3, 5]);
        assert_eq!(keys_of("DEL a b"), [1, 2]);
        assert_eq!(keys_of("LMOVE src dst LEFT RIGHT"), [1, 2]);
        assert_eq!(keys_of("BLMOVE src dst LEFT RIGHT 0"), [1, 2]);
        assert_eq!(keys_of("COPY a b DB 1 REPLACE"), [1, 2]);
        assert_eq!(keys_of("BLPOP a b c 0"), [1, 2, 3]);
        assert_eq!(keys_of("PING"), Vec::<usize>::new());
    }

    #[test]
    fn subcommands_count_their_name() {
        assert_eq!(keys_of("OBJECT ENCODING k"), [2]);
        assert_eq!(keys_of("object freq k"), [2]);
        assert_eq!(keys_of("XINFO STREAM s FULL"), [2]);
        assert_eq!(keys_of("MEMORY USAGE k SAMPLES 5"), [2]);
        assert_eq!(keys_of("CLIENT SETNAME me"), Vec::<usize>::new());
    }

    #[test]
    fn key_counts() {
        assert_eq!(keys_of("ZUNIONSTORE d 2 a b WEIGHTS 1 2"), [1, 3, 4]);
        assert_eq!(keys_of("ZINTERSTORE d 1 a AGGREGATE MAX"), [1, 3]);
        assert_eq!(keys_of("ZUNION 2 a b WITHSCORES"), [2, 3]);
        assert_eq!(keys_of("EVAL return 2 k1 k2 a1"), [3, 4]);
        assert_eq!(keys_of("EVALSHA abc 0 a1 a2"), Vec::<usize>::new());
        assert_eq!(keys_of("FCALL f 1 k a"), [3]);
        assert_eq!(keys_of("FCALL_RO f 2 k1 k2"), [3, 4]);
        assert_eq!(keys_of("LMPOP 2 a b LEFT COUNT 3"), [2, 3]);
        assert_eq!(keys_of("BZMPOP 0 1 z MIN"), [3]);
        assert_eq!(keys_of("SINTERCARD 2 a b LIMIT 1"), [2, 3]);
    }

    #[test]
    fn bad_key_counts_give_no_keys_for_that_spec() {
        for count in ["x", "-1", "01", "+1", "", "3", "99999999999999999999999"] {
            let line = format!("ZUNIONSTORE d {count} a b");
            // The destination (its own spec) is still found.
            assert_eq!(keys_of(&line), [1], "{line}");
        }
        assert_eq!(keys_of("EVAL s"), Vec::<usize>::new());
    }

    #[test]
    fn keywords_begin_the_keys() {
        assert_eq!(keys_of("XREAD COUNT 2 STREAMS a b 0 0"), [4, 5]);
        assert_eq!(keys_of("XREAD STREAMS a 0"), [2]);
        assert_eq!(keys_of("xread block 0 streams a b c $ $ $"), [4, 5, 6]);
        assert_eq!(
            keys_of("XREADGROUP GROUP g c COUNT 1 STREAMS s1 s2 > >"),
            [7, 8]
        );
        // The keyword is searched from argument 4: a group named STREAMS
        // is not the keyword.
        assert_eq!(keys_of("XREADGROUP GROUP STREAMS c STREAMS s >"), [5]);
        assert_eq!(keys_of("XREAD COUNT 2"), Vec::<usize>::new());
        assert_eq!(keys_of("GEORADIUS g 0 0 1 km STORE dst"), [1, 7]);
        assert_eq!(keys_of("GEORADIUS g 0 0 1 km STOREDIST dst"), [1, 7]);
        assert_eq!(keys_of("GEORADIUS g 0 0 1 km"), [1]);
    }

    #[test]
    fn sort_finds_its_store_key() {
        assert_eq!(keys_of("SORT k"), [1]);
        assert_eq!(keys_of("SORT k STORE dst"), [1, 3]);
        assert_eq!(
            keys_of("SORT k BY w_* LIMIT 0 10 GET o_* GET # ALPHA STORE dst"),
            [1, 13]
        );
        // Arguments of BY, GET and LIMIT are skipped, even when they spell STORE.
        assert_eq!(keys_of("SORT k BY STORE GET STORE LIMIT STORE STORE"), [1]);
        assert_eq!(keys_of("SORT k STORE a STORE b"), [1, 5]);
        assert_eq!(keys_of("SORT k STORE"), [1]);
        assert_eq!(keys_of("SORT_RO k BY w_* GET o_*"), [1]);
    }

    #[test]
    fn migrate_finds_one_key_or_the_keys_after_keys() {
        assert_eq!(keys_of("MIGRATE h 6379 k 0 5000"), [3]);
        assert_eq!(keys_of("MIGRATE h 6379 k 0 5000 COPY REPLACE"), [3]);
        assert_eq!(keys_of("MIGRATE h 6379  0 5000 KEYS a b"), [7, 8]);
        assert_eq!(
            keys_of("MIGRATE h 6379  0 5000 COPY AUTH KEYS KEYS a"),
            [10]
        );
        assert_eq!(
            keys_of("MIGRATE h 6379  0 5000 AUTH2 KEYS KEYS KEYS a b"),
            [10, 11]
        );
        assert_eq!(
            keys_of("MIGRATE h 6379 k 0 5000 KEYS a"),
            Vec::<usize>::new()
        );
    }

    #[test]
    fn sharded_channels_route_but_are_not_keys() {
        let args = ["SPUBLISH", "ch", "msg"];
        let info = lookup(&args).unwrap();
        assert_eq!(keys(info, &args).count(), 0);
        assert_eq!(routing_keys(info, &args).collect::<Vec<_>>(), [1]);
        let args = ["SSUBSCRIBE", "a", "b"];
        let info = lookup(&args).unwrap();
        assert_eq!(routing_keys(info, &args).collect::<Vec<_>>(), [1, 2]);
        let args = ["GET", "k"];
        assert_eq!(
            routing_keys(lookup(&args).unwrap(), &args).collect::<Vec<_>>(),
            [1]
        );
    }

    #[test]
    fn a_short_line_gives_no_keys_and_no_panic() {
        for info in &COMMANDS {
            let name: Vec<&str> = info.name.split('|').collect();
            for extra in 0..3 {
                let mut args = name.clone();
                args.extend(std::iter::repeat_n("1", extra));
                for key in keys(info, &args).chain(routing_keys(info, &args)) {
                    assert!(key >= name.len() && key < args.len(), "{args:?}: {key}");
                }
            }
        }
    }

    #[test]
    fn every_spec_the_walk_cannot_follow_has_a_rule() {
        let unfollowable = |spec: &KeySpec| {
            spec.flags & KeySpec::INCOMPLETE != 0
                || (matches!(spec.begin_search, BeginSearch::Unknown)
                    && spec.flags & KeySpec::RO == 0)
        };
        let mut needing: Vec<&str> = COMMANDS
            .iter()
            .filter(|info| info.key_specs.iter().any(unfollowable))
            .map(|info| info.name)
            .collect();
        needing.sort_unstable();
        assert_eq!(needing, OWN_RULES);
    }
}
