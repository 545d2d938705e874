//! What a command method is, as data: its Redis words, its arguments and the
//! shape of its reply. The command table (`crate::commands`) is a list of
//! these, so argument checks, encoding and the seed-coverage test all read
//! one declaration per method.

/// How one JS argument becomes Redis argument bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    /// A key or value in the encoder's native type.
    Native,
    /// Any iterable of native values, sent as consecutive arguments.
    NativeList,
    /// An integer (`number` without a fraction, or `BigInt`).
    Int,
    /// A floating-point `number` (`Infinity` is sent as `inf`).
    Float,
    /// A boolean, sent as `1` or `0`.
    Bit,
    /// A plain string, whatever the encoder (config names, SHA digests...).
    Text,
    /// Any iterable of plain strings.
    TextList,
    /// A `ZScoreBoundary`, or a number for an inclusive boundary.
    ScoreBound,
    /// A `Map` or plain object of field → native value, sent `field value`.
    NativePairs,
    /// A `Map` or plain object of member → score, sent `score member`.
    ScorePairs,
}

/// What an omitted (`undefined`) optional argument does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfOmitted {
    /// Send this default instead.
    Send(&'static str),
    /// Send nothing for it (`null` does the same).
    Skip,
}

/// One declared argument of a command method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arg {
    pub name: &'static str,
    pub kind: ArgKind,
    /// `None` marks a required argument.
    pub default: Option<IfOmitted>,
}

/// What a reply becomes on the JS side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyKind {
    /// `StatusReply` for a simple string (`+OK`, `+PONG`).
    Status,
    /// `StatusReply`, or `null` when the server answers nil (`SET ... NX`).
    StatusOrNull,
    /// Nothing (`undefined`) once the server said OK.
    Unit,
    /// The encoder's native type, or `null`.
    Native,
    /// The encoder's native type; nil means a blocking call timed out.
    NativeOrTimeout,
    /// A plain string.
    Text,
    /// `number`, or `BigInt` beyond ±2^53−1.
    Integer,
    /// An integer, or `null`.
    IntegerOrNull,
    /// An integer reply read as a boolean.
    Boolean,
    /// A float sent as a bulk string, as a `number`.
    Float,
    /// A float, or `null` when the server answers nil (`ZSCORE` of a missing member).
    FloatOrNull,
    /// The generic decoding of `call()`: whatever the frame holds.
    Plain,
    /// `ListReply`, filled while it streams in.
    List,
    /// `SetReply`, filled while it streams in.
    Set,
    /// `DictReply` of flat key, value pairs, filled while it streams in.
    Dict,
    /// `ZRangeReply` of member, score pairs, filled while it streams in.
    ZRange,
    /// An `Array`, once complete.
    AsList,
    /// A `Set`, once complete.
    AsSet,
    /// A `Map` of flat key, value pairs, once complete.
    AsDict,
    /// A `Map` member → score, once complete.
    ZRangeAsDict,
    /// An `Array` of booleans from integers (`SCRIPT EXISTS`).
    BooleanList,
    /// `ConfigPairReply` from `CONFIG GET`.
    ConfigPair,
    /// `InfoReply` from the bulk text of `INFO`.
    Info,
    /// `ClientListReply` from the bulk text of `CLIENT LIST`.
    ClientList,
    /// `BlockingPopReply`; nil means the pop timed out.
    BlockingPop,
    /// `EvalScriptReply` around whatever the script returned.
    EvalScript,
}

impl ReplyKind {
    /// Whether the reply is a container handed out before it is complete.
    pub fn streams(self) -> bool {
        matches!(
            self,
            ReplyKind::List | ReplyKind::Set | ReplyKind::Dict | ReplyKind::ZRange
        )
    }
}

/// A command method: the row of the command table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandSpec {
    /// The JS method name.
    pub method: &'static str,
    /// The Redis command words sent before the arguments (`CLIENT SETNAME`).
    pub words: &'static [&'static str],
    pub args: &'static [Arg],
    /// Words sent after the arguments (`WITHSCORES`).
    pub tail: &'static [&'static str],
    pub reply: ReplyKind,
}

/// The largest integer a JS `number` holds exactly.
pub const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// Whether an integer reply fits a JS `number` exactly.
pub fn is_safe_integer(value: i64) -> bool {
    (-MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER).contains(&value)
}

/// Redis's spelling of a float argument: shortest round-trip digits, and
/// `inf`/`-inf` for the infinities. `None` for NaN, which Redis refuses.
pub fn float_arg(value: f64) -> Option<String> {
    if value.is_nan() {
        None
    } else if value.is_infinite() {
        Some(if value > 0.0 { "+inf" } else { "-inf" }.to_owned())
    } else {
        Some(value.to_string())
    }
}

/// A `ZScoreBoundary` as Redis spells it: `(` marks an exclusive boundary.
pub fn score_bound(value: &str, exclusive: bool) -> String {
    if exclusive {
        format!("({value}")
    } else {
        value.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_integers_end_at_two_to_the_53_minus_one() {
        assert!(is_safe_integer(9_007_199_254_740_991));
        assert!(is_safe_integer(-9_007_199_254_740_991));
        assert!(!is_safe_integer(9_007_199_254_740_992));
        assert!(!is_safe_integer(i64::MIN));
    }

    #[test]
    fn floats_are_spelled_as_redis_reads_them() {
        assert_eq!(float_arg(1.5).as_deref(), Some("1.5"));
        assert_eq!(float_arg(-3.0).as_deref(), Some("-3"));
        assert_eq!(float_arg(0.1 + 0.2).as_deref(), Some("0.30000000000000004"));
        assert_eq!(float_arg(f64::INFINITY).as_deref(), Some("+inf"));
        assert_eq!(float_arg(f64::NEG_INFINITY).as_deref(), Some("-inf"));
        assert_eq!(float_arg(f64::NAN), None);
    }

    #[test]
    fn exclusive_score_bounds_take_a_parenthesis() {
        assert_eq!(score_bound("5", false), "5");
        assert_eq!(score_bound("5", true), "(5");
        assert_eq!(score_bound("-inf", false), "-inf");
    }

    #[test]
    fn only_the_container_replies_stream() {
        assert!(ReplyKind::List.streams() && ReplyKind::ZRange.streams());
        assert!(!ReplyKind::AsList.streams() && !ReplyKind::Native.streams());
    }
}
