//! Argument checks: the few commands the bridge must judge beyond their
//! name, compared the way Redis compares them.
//!
//! Redis matches options with `strcasecmp`, which stops at a NUL byte, so
//! `AUTH\0x` is `AUTH` to `HELLO` and `REDIRECT\0` is `REDIRECT` to `CLIENT
//! TRACKING`; numbers go through its `string2ll`. The checks here use ports
//! of both, so that what the bridge lets pass is what Redis will see.
//!
//! A check names the last argument it needs ([`Checks::plan`]); the filter
//! holds the command up to there (within its judging limit), then calls
//! [`Checks::check`] once, and streams the rest.

use super::denial::Why;
use super::table::{BeginSearch, FindKeys, KeySpec};

/// The argument rule of one command, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ArgRule {
    None,
    /// `HELLO [protover [SETNAME name]]` and nothing else; refused with this reason.
    Hello(Why),
    /// No argument from `from` on may be `option` (as Redis compares options).
    WithoutOption {
        from: usize,
        option: &'static [u8],
    },
    /// The argument at `index` is an offset that must stay within `--max-bulk-len`.
    Offset {
        index: usize,
        unit: Unit,
    },
    /// Every `BITFIELD` offset must stay within `--max-bulk-len`.
    Bitfield,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    Bytes,
    Bits,
}

/// Where a pub/sub command's channels are, for a token's prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Channels {
    /// No channel (or only ones it unsubscribes from).
    None,
    /// The argument at this index.
    At(usize),
    /// Every argument from this index (channels, or patterns, which must
    /// begin with the prefix itself); `required`: at least one.
    From { index: usize, required: bool },
    /// A pub/sub command the bridge does not know: refused with a prefix.
    Refuse,
}

/// Where a command's keys are, for a token's prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Keys {
    None,
    /// The server's key specs (those that find keys).
    Specs(Vec<KeySpec>),
    /// Specs the bridge cannot follow (unknown or incomplete): refused
    /// with a prefix.
    Refuse,
}

/// Everything judged beyond the name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Checks {
    pub rule: ArgRule,
    pub keys: Keys,
    pub channels: Channels,
}

/// What to do once the name (and subcommand) are known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Plan {
    Relay,
    Deny(Why),
    /// Hold the command up to this argument, then [`Checks::check`].
    Hold(usize),
}

/// The arguments held so far: argument `i` is `bytes[start..start + len]`
/// of `spans[i]`.
pub(crate) struct Args<'a> {
    pub bytes: &'a [u8],
    pub spans: &'a [(u32, u32)],
}

impl Args<'_> {
    fn get(&self, index: usize) -> &[u8] {
        let (start, len) = self.spans[index];
        &self.bytes[start as usize..(start + len) as usize]
    }
}

/// The context of one connection.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Context<'a> {
    /// The token's key and channel prefix, if it has one.
    pub prefix: Option<&'a [u8]>,
    pub max_bulk_len: usize,
}

impl Checks {
    #[cfg(test)]
    pub const NONE: Checks = Checks {
        rule: ArgRule::None,
        keys: Keys::None,
        channels: Channels::None,
    };

    /// Decides at once, or names the last argument the checks need.
    pub fn plan(&self, argc: usize, prefix: bool) -> Plan {
        let mut last = None;
        let mut need = |index: usize| last = last.max(Some(index));
        match &self.rule {
            ArgRule::None => {}
            ArgRule::Hello(_) if argc <= 2 => {}
            ArgRule::Hello(_) if argc == 4 => need(2),
            ArgRule::Hello(why) => return Plan::Deny(*why),
            ArgRule::WithoutOption { from, .. } if argc > *from => need(argc - 1),
            ArgRule::Offset { index, .. } if argc > *index => need(*index),
            ArgRule::Bitfield if argc > 2 => need(argc - 1),
            ArgRule::WithoutOption { .. } | ArgRule::Offset { .. } | ArgRule::Bitfield => {}
        }
        if prefix {
            match &self.channels {
                Channels::None => {}
                Channels::Refuse => return Plan::Deny(Why::Channel),
                Channels::At(index) if argc > *index => need(*index),
                Channels::From { index, required } if argc <= *index => {
                    if *required {
                        return Plan::Deny(Why::Channel);
                    }
                }
                Channels::From { .. } => need(argc - 1),
                Channels::At(_) => {}
            }
            match &self.keys {
                Keys::None => {}
                Keys::Refuse => return Plan::Deny(Why::Key),
                Keys::Specs(specs) => need(last_key_needed(specs, argc)),
            }
        }
        match last {
            None => Plan::Relay,
            Some(index) => Plan::Hold(index.min(argc - 1)),
        }
    }

    /// Checks the held arguments (up to what [`plan`](Self::plan) asked for).
    pub fn check(&self, argc: usize, args: &Args, context: Context) -> Result<(), Why> {
        match &self.rule {
            ArgRule::None => {}
            ArgRule::Hello(why) => {
                if argc == 4 && !args.get(2).eq_ignore_ascii_case(b"SETNAME") {
                    return Err(*why);
                }
            }
            ArgRule::WithoutOption { from, option } => {
                if (*from..argc).any(|i| option_is(args.get(i), option)) {
                    return Err(Why::Argument);
                }
            }
            ArgRule::Offset { index, unit } => {
                if argc > *index {
                    check_offset(args.get(*index), *unit, context.max_bulk_len)?;
                }
            }
            ArgRule::Bitfield => check_bitfield(argc, args, context.max_bulk_len)?,
        }
        let Some(prefix) = context.prefix else {
            return Ok(());
        };
        let outside = |i: usize| !args.get(i).starts_with(prefix);
        match &self.channels {
            Channels::At(index) if argc > *index && outside(*index) => return Err(Why::Channel),
            Channels::From { index, .. } if (*index..argc).any(outside) => {
                return Err(Why::Channel)
            }
            _ => {}
        }
        if let Keys::Specs(specs) = &self.keys {
            let mut all_inside = true;
            key_positions(specs, argc, args, |i| all_inside &= !outside(i))?;
            if !all_inside {
                return Err(Why::Key);
            }
        }
        Ok(())
    }
}

/// Whether `arg` is `option` to Redis' `strcasecmp`: equal up to its
/// first NUL, ignoring ASCII case.
pub(crate) fn option_is(arg: &[u8], option: &[u8]) -> bool {
    c_string(arg).eq_ignore_ascii_case(option)
}

/// `bytes` up to the first NUL, as C sees a string.
pub(crate) fn c_string(bytes: &[u8]) -> &[u8] {
    bytes
        .iter()
        .position(|&b| b == 0)
        .map_or(bytes, |nul| &bytes[..nul])
}

/// Redis' `string2ll`: an optional `-`, no leading zeros, no other byte,
/// fits an i64.
pub(crate) fn parse_integer(bytes: &[u8]) -> Option<i64> {
    // LONG_STR_SIZE is 21: longer is never a number to Redis.
    if bytes.is_empty() || bytes.len() >= 21 {
        return None;
    }
    if bytes == b"0" {
        return Some(0);
    }
    let (negative, digits) = match bytes.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, bytes),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut value: u64 = 0;
    for &digit in digits {
        if !digit.is_ascii_digit() {
            return None;
        }
        value = value
            .checked_mul(10)?
            .checked_add(u64::from(digit - b'0'))?;
    }
    if negative {
        0i64.checked_sub_unsigned(value)
    } else {
        i64::try_from(value).ok()
    }
}

/// `SETRANGE` (bytes) and `SETBIT` (bits) offsets.
fn check_offset(arg: &[u8], unit: Unit, max_bulk_len: usize) -> Result<(), Why> {
    let offset = parse_integer(arg)
        .and_then(|offset| u64::try_from(offset).ok())
        .ok_or(Why::Offset)?;
    let byte = match unit {
        Unit::Bytes => offset,
        Unit::Bits => offset >> 3,
    };
    if byte > max_bulk_len as u64 {
        return Err(Why::Offset);
    }
    Ok(())
}

/// `BITFIELD key [GET type offset] [SET type offset value] [INCRBY type
/// offset increment] [OVERFLOW mode]...`, parsed as `bitfieldGeneric` does.
fn check_bitfield(argc: usize, args: &Args, max_bulk_len: usize) -> Result<(), Why> {
    let mut j = 2;
    while j < argc {
        let op = args.get(j);
        let remaining = argc - j - 1;
        let operands = if option_is(op, b"GET") && remaining >= 2 {
            2
        } else if (option_is(op, b"SET") || option_is(op, b"INCRBY")) && remaining >= 3 {
            3
        } else if option_is(op, b"OVERFLOW") && remaining >= 1 {
            j += 2;
            continue;
        } else {
            return Err(Why::Argument);
        };
        let bits = bitfield_type(args.get(j + 1)).ok_or(Why::Argument)?;
        let offset = bitfield_offset(args.get(j + 2), bits).ok_or(Why::Offset)?;
        let last_byte = (offset + bits - 1) >> 3;
        if last_byte > max_bulk_len as u64 {
            return Err(Why::Offset);
        }
        j += 1 + operands;
    }
    Ok(())
}

/// `i<bits>` (1 to 64) or `u<bits>` (1 to 63); Redis reads the bits as a C string.
fn bitfield_type(arg: &[u8]) -> Option<u64> {
    let (sign, bits) = arg.split_first()?;
    let max = match sign {
        b'i' => 64,
        b'u' => 63,
        _ => return None,
    };
    let bits = parse_integer(c_string(bits))?;
    (1..=max).contains(&bits).then_some(bits as u64)
}

/// A bit offset, or `#n` for `n` times the type's width.
fn bitfield_offset(arg: &[u8], bits: u64) -> Option<u64> {
    let (multiple, digits) = match arg.split_first() {
        Some((b'#', rest)) => (true, rest),
        _ => (false, arg),
    };
    let offset = u64::try_from(parse_integer(digits)?).ok()?;
    if multiple {
        offset.checked_mul(bits)
    } else {
        Some(offset)
    }
}

/// The last argument the key specs can point at, given `argc`.
fn last_key_needed(specs: &[KeySpec], argc: usize) -> usize {
    let argc = argc as i64;
    let mut last = 0;
    for spec in specs {
        let spec_last = match (&spec.begin, &spec.find) {
            (
                BeginSearch::Index(first),
                FindKeys::Range {
                    last_key,
                    key_step,
                    limit: 0,
                },
            ) if *key_step > 0 => {
                let last = if *last_key >= 0 {
                    first + last_key
                } else {
                    argc + last_key
                };
                // The last position the step lands on.
                first + (last - first).max(0) / key_step * key_step
            }
            // A keyword or a key count can put keys anywhere.
            _ => argc - 1,
        };
        last = last.max(spec_last.clamp(0, argc - 1));
    }
    last as usize
}

/// Calls `each` with every key position, as Redis' `getKeysUsingKeySpecs`
/// finds them; an error where Redis would find a spec invalid (it then
/// falls back to code the bridge does not have). A key count of zero is no
/// keys, as the commands themselves read it.
fn key_positions(
    specs: &[KeySpec],
    argc: usize,
    args: &Args,
    mut each: impl FnMut(usize),
) -> Result<(), Why> {
    let argc = argc as i64;
    for spec in specs {
        let mut first = match &spec.begin {
            BeginSearch::Index(index) => *index,
            BeginSearch::Keyword {
                keyword,
                start_from,
            } => {
                let start = if *start_from > 0 {
                    *start_from
                } else {
                    argc + start_from
                };
                let end = if *start_from > 0 { argc - 1 } else { 1 };
                let mut found = None;
                let mut i = start;
                // Redis' loop stops before `end`.
                while i != end {
                    if i >= argc || i < 1 {
                        break;
                    }
                    if option_is(args.get(i as usize), keyword.as_bytes()) {
                        found = Some(i + 1);
                        break;
                    }
                    i = if start <= end { i + 1 } else { i - 1 };
                }
                match found {
                    Some(first) => first,
                    // No keyword, no keys from this spec.
                    None => continue,
                }
            }
            BeginSearch::Unknown => return Err(Why::Key),
        };
        let (last, step) = match &spec.find {
            FindKeys::Range {
                last_key,
                key_step,
                limit,
            } => {
                let last = if *last_key >= 0 {
                    first + last_key
                } else if *limit == 0 {
                    argc + last_key
                } else {
                    first + ((argc - first) / limit + last_key)
                };
                (last, *key_step)
            }
            FindKeys::KeyNum {
                key_num_index,
                first_key,
                key_step,
            } => {
                let at = first + key_num_index;
                if at < 1 || at >= argc {
                    return Err(Why::Key);
                }
                let count = parse_integer(args.get(at as usize)).ok_or(Why::Key)?;
                if count == 0 {
                    continue;
                }
                if count < 0 {
                    return Err(Why::Key);
                }
                first += first_key;
                (first.saturating_add(count - 1), *key_step)
            }
            FindKeys::Unknown => return Err(Why::Key),
        };
        if last >= argc || last < first || first >= argc || first < 1 || step < 1 {
            return Err(Why::Key);
        }
        let mut i = first;
        while i <= last {
            each(i as usize);
            i += step;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::table::tests::redis_7_0;

    /// Holds `args` as the filter would.
    fn held(args: &[&[u8]]) -> (Vec<u8>, Vec<(u32, u32)>) {
        let mut bytes = Vec::new();
        let mut spans = Vec::new();
        for arg in args {
            spans.push((bytes.len() as u32, arg.len() as u32));
            bytes.extend_from_slice(arg);
        }
        (bytes, spans)
    }

    fn judge(checks: &Checks, args: &[&[u8]], prefix: Option<&[u8]>) -> Result<(), Why> {
        let (bytes, spans) = held(args);
        let args_view = Args {
            bytes: &bytes,
            spans: &spans,
        };
        let context = Context {
            prefix,
            max_bulk_len: 1024,
        };
        match checks.plan(args.len(), prefix.is_some()) {
            Plan::Relay => Ok(()),
            Plan::Deny(why) => Err(why),
            Plan::Hold(last) => {
                assert!(last < args.len());
                checks.check(args.len(), &args_view, context)
            }
        }
    }

    fn rule(rule: ArgRule) -> Checks {
        Checks {
            rule,
            ..Checks::NONE
        }
    }

    #[test]
    fn numbers_parse_as_redis_parses_them() {
        for (text, value) in [
            (&b"0"[..], Some(0)),
            (b"-1", Some(-1)),
            (b"9223372036854775807", Some(i64::MAX)),
            (b"-9223372036854775808", Some(i64::MIN)),
            (b"9223372036854775808", None),
            (b"01", None),
            (b"+1", None),
            (b"-", None),
            (b"-0", None),
            (b"1 ", None),
            (b"1\0", None),
            (b"", None),
        ] {
            assert_eq!(parse_integer(text), value, "{text:?}");
        }
    }

    #[test]
    fn options_compare_like_strcasecmp() {
        assert!(option_is(b"redirect", b"REDIRECT"));
        assert!(option_is(b"ReDiReCt\0anything", b"REDIRECT"));
        assert!(!option_is(b"REDIRECTX", b"REDIRECT"));
        assert!(!option_is(b"\0REDIRECT", b"REDIRECT"));
    }

    #[test]
    fn hello_takes_a_protocol_version_and_setname_only() {
        let hello = rule(ArgRule::Hello(Why::Identity));
        for ok in [
            &[&b"HELLO"[..]][..],
            &[b"HELLO", b"3"],
            &[b"hello", b"3", b"setname", b"auth"],
        ] {
            assert_eq!(judge(&hello, ok, None), Ok(()), "{ok:?}");
        }
        for bad in [
            &[&b"HELLO"[..], b"3", b"AUTH", b"u", b"p"][..],
            &[b"HELLO", b"3", b"AUTH\0", b"u", b"p"],
            &[b"HELLO", b"3", b"SETNAME\0", b"x"],
            &[b"HELLO", b"3", b"SETNAMEX", b"x"],
            &[b"HELLO", b"3", b"SETNAME"],
            &[b"HELLO", b"3", b"SETNAME", b"a", b"SETNAME", b"b"],
        ] {
            assert_eq!(judge(&hello, bad, None), Err(Why::Identity), "{bad:?}");
        }
    }

    #[test]
    fn tracking_without_redirect() {
        let tracking = rule(ArgRule::WithoutOption {
            from: 3,
            option: b"REDIRECT",
        });
        let ok: &[&[u8]] = &[b"CLIENT", b"TRACKING", b"ON", b"BCAST", b"PREFIX", b"a:"];
        assert_eq!(judge(&tracking, ok, None), Ok(()));
        for redirect in [&b"redirect"[..], b"REDIRECT\0x"] {
            let bad: &[&[u8]] = &[b"CLIENT", b"TRACKING", b"ON", redirect, b"7"];
            assert_eq!(judge(&tracking, bad, None), Err(Why::Argument));
        }
    }

    #[test]
    fn offsets_stay_within_max_bulk_len() {
        let setrange = rule(ArgRule::Offset {
            index: 2,
            unit: Unit::Bytes,
        });
        let setbit = rule(ArgRule::Offset {
            index: 2,
            unit: Unit::Bits,
        });
        assert_eq!(
            judge(&setrange, &[b"SETRANGE", b"k", b"1024", b"x"], None),
            Ok(())
        );
        for bad in [&b"1025"[..], b"536870911", b"-1", b"1e3", b"01"] {
            let args: &[&[u8]] = &[b"SETRANGE", b"k", bad, b"x"];
            assert_eq!(judge(&setrange, args, None), Err(Why::Offset), "{bad:?}");
        }
        assert_eq!(
            judge(&setbit, &[b"SETBIT", b"k", b"8199", b"1"], None),
            Ok(())
        );
        assert_eq!(
            judge(&setbit, &[b"SETBIT", b"k", b"8200", b"1"], None),
            Err(Why::Offset)
        );

        let bitfield = rule(ArgRule::Bitfield);
        let ok: &[&[u8]] = &[
            b"BITFIELD",
            b"k",
            b"SET",
            b"u8",
            b"#1024",
            b"1",
            b"overflow",
            b"sat",
            b"get",
            b"i64",
            b"8136",
            b"INCRBY",
            b"u8\0",
            b"0",
            b"1",
        ];
        assert_eq!(judge(&bitfield, ok, None), Ok(()));
        for (bad, why) in [
            (
                &[&b"BITFIELD"[..], b"k", b"SET", b"u8", b"#1025", b"1"][..],
                Why::Offset,
            ),
            (&[b"BITFIELD", b"k", b"GET", b"i64", b"8137"], Why::Offset),
            (
                &[
                    b"BITFIELD",
                    b"k",
                    b"SET",
                    b"u8",
                    b"#9223372036854775807",
                    b"1",
                ],
                Why::Offset,
            ),
            (
                &[b"BITFIELD", b"k", b"SET", b"u64", b"0", b"1"],
                Why::Argument,
            ),
            (
                &[b"BITFIELD", b"k", b"SET", b"U8", b"0", b"1"],
                Why::Argument,
            ),
            (&[b"BITFIELD", b"k", b"FLIP", b"u8", b"0"], Why::Argument),
            (&[b"BITFIELD", b"k", b"SET", b"u8", b"0"], Why::Argument),
        ] {
            assert_eq!(judge(&bitfield, bad, None), Err(why), "{bad:?}");
        }
    }

    fn keys_of(name: &str) -> Checks {
        let table = redis_7_0();
        let info = table.get(name).unwrap();
        Checks {
            keys: Keys::Specs(
                info.key_specs
                    .iter()
                    .filter(|s| !s.not_key)
                    .cloned()
                    .collect(),
            ),
            ..Checks::NONE
        }
    }

    #[test]
    fn keys_follow_the_key_specs() {
        let app = Some(&b"app:"[..]);
        let mset = keys_of("mset");
        assert_eq!(mset.plan(5, true), Plan::Hold(3));
        assert_eq!(
            judge(&mset, &[b"MSET", b"app:a", b"x", b"app:b", b"y"], app),
            Ok(())
        );
        assert_eq!(
            judge(&mset, &[b"MSET", b"app:a", b"x", b"other", b"y"], app),
            Err(Why::Key)
        );
        // A value outside the prefix is not a key.
        assert_eq!(judge(&mset, &[b"MSET", b"app:a", b"other"], app), Ok(()));

        let set = keys_of("set");
        assert_eq!(set.plan(3, true), Plan::Hold(1));
        assert_eq!(set.plan(3, false), Plan::Relay);

        let xread = keys_of("xread");
        let ok: &[&[u8]] = &[
            b"XREAD", b"COUNT", b"1", b"streams", b"app:a", b"app:b", b"0", b"0",
        ];
        assert_eq!(judge(&xread, ok, app), Ok(()));
        let bad: &[&[u8]] = &[b"XREAD", b"STREAMS", b"app:a", b"b", b"0", b"0"];
        assert_eq!(judge(&xread, bad, app), Err(Why::Key));

        let zunionstore = keys_of("zunionstore");
        let ok: &[&[u8]] = &[
            b"ZUNIONSTORE",
            b"app:d",
            b"2",
            b"app:a",
            b"app:b",
            b"WEIGHTS",
            b"1",
            b"2",
        ];
        assert_eq!(judge(&zunionstore, ok, app), Ok(()));
        let bad: &[&[u8]] = &[b"ZUNIONSTORE", b"app:d", b"2", b"app:a", b"b"];
        assert_eq!(judge(&zunionstore, bad, app), Err(Why::Key));
        let garbled: &[&[u8]] = &[b"ZUNIONSTORE", b"app:d", b"9", b"app:a"];
        assert_eq!(judge(&zunionstore, garbled, app), Err(Why::Key));

        let georadius = keys_of("georadius");
        let store: &[&[u8]] = &[
            b"GEORADIUS",
            b"app:g",
            b"0",
            b"0",
            b"1",
            b"km",
            b"STORE",
            b"x",
        ];
        assert_eq!(judge(&georadius, store, app), Err(Why::Key));
        let read: &[&[u8]] = &[b"GEORADIUS", b"app:g", b"0", b"0", b"1", b"km"];
        assert_eq!(judge(&georadius, read, app), Ok(()));
    }

    #[test]
    fn channels_and_patterns_stay_within_the_prefix() {
        let app = Some(&b"app:"[..]);
        let subscribe = Checks {
            channels: Channels::From {
                index: 1,
                required: false,
            },
            ..Checks::NONE
        };
        assert_eq!(
            judge(&subscribe, &[b"PSUBSCRIBE", b"app:*", b"app:news"], app),
            Ok(())
        );
        for bad in [&b"*"[..], b"app*", b"ap?:", b"[a]pp:", b"other"] {
            let args: &[&[u8]] = &[b"PSUBSCRIBE", b"app:x", bad];
            assert_eq!(judge(&subscribe, args, app), Err(Why::Channel), "{bad:?}");
        }
        assert_eq!(judge(&subscribe, &[b"PSUBSCRIBE", b"*"], None), Ok(()));

        let channels = Checks {
            channels: Channels::From {
                index: 2,
                required: true,
            },
            ..Checks::NONE
        };
        assert_eq!(
            judge(&channels, &[b"PUBSUB", b"CHANNELS"], app),
            Err(Why::Channel)
        );
        assert_eq!(
            judge(&channels, &[b"PUBSUB", b"CHANNELS", b"app:*"], app),
            Ok(())
        );

        let publish = Checks {
            channels: Channels::At(1),
            ..Checks::NONE
        };
        assert_eq!(
            judge(&publish, &[b"PUBLISH", b"app:a", b"anything"], app),
            Ok(())
        );
        assert_eq!(
            judge(&publish, &[b"PUBLISH", b"b", b"app:"], app),
            Err(Why::Channel)
        );
    }
}
