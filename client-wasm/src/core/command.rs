//! The shape a reply is to take on the JS side ([`ReplyKind`]: the generated
//! method descriptors name one per method), and the integer limit of JS
//! numbers.

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
    /// Every kind, in the order of their numbers across the wasm boundary.
    pub const ALL: [ReplyKind; 26] = [
        ReplyKind::Status,
        ReplyKind::StatusOrNull,
        ReplyKind::Unit,
        ReplyKind::Native,
        ReplyKind::NativeOrTimeout,
        ReplyKind::Text,
        ReplyKind::Integer,
        ReplyKind::IntegerOrNull,
        ReplyKind::Boolean,
        ReplyKind::Float,
        ReplyKind::FloatOrNull,
        ReplyKind::Plain,
        ReplyKind::List,
        ReplyKind::Set,
        ReplyKind::Dict,
        ReplyKind::ZRange,
        ReplyKind::AsList,
        ReplyKind::AsSet,
        ReplyKind::AsDict,
        ReplyKind::ZRangeAsDict,
        ReplyKind::BooleanList,
        ReplyKind::ConfigPair,
        ReplyKind::Info,
        ReplyKind::ClientList,
        ReplyKind::BlockingPop,
        ReplyKind::EvalScript,
    ];

    /// Whether a bulk string reply is the value as it is (the encoder's
    /// native type), with nothing read in its bytes: such a reply may be
    /// gathered by the host (see `Pipeline::take_large_bulk`).
    pub fn takes_bytes_as_they_are(self) -> bool {
        matches!(
            self,
            ReplyKind::Native | ReplyKind::NativeOrTimeout | ReplyKind::Plain
        )
    }

    /// Whether the reply is a container handed out before it is complete.
    pub fn streams(self) -> bool {
        matches!(
            self,
            ReplyKind::List | ReplyKind::Set | ReplyKind::Dict | ReplyKind::ZRange
        )
    }
}

/// The largest integer a JS `number` holds exactly.
pub const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// Whether an integer reply fits a JS `number` exactly.
pub fn is_safe_integer(value: i64) -> bool {
    (-MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER).contains(&value)
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
    fn every_reply_kind_has_one_number() {
        for (i, kind) in ReplyKind::ALL.iter().enumerate() {
            assert_eq!(ReplyKind::ALL.iter().position(|k| k == kind), Some(i));
            // Exhaustive: a new kind fails to compile here until ALL has it.
            match kind {
                ReplyKind::Status
                | ReplyKind::StatusOrNull
                | ReplyKind::Unit
                | ReplyKind::Native
                | ReplyKind::NativeOrTimeout
                | ReplyKind::Text
                | ReplyKind::Integer
                | ReplyKind::IntegerOrNull
                | ReplyKind::Boolean
                | ReplyKind::Float
                | ReplyKind::FloatOrNull
                | ReplyKind::Plain
                | ReplyKind::List
                | ReplyKind::Set
                | ReplyKind::Dict
                | ReplyKind::ZRange
                | ReplyKind::AsList
                | ReplyKind::AsSet
                | ReplyKind::AsDict
                | ReplyKind::ZRangeAsDict
                | ReplyKind::BooleanList
                | ReplyKind::ConfigPair
                | ReplyKind::Info
                | ReplyKind::ClientList
                | ReplyKind::BlockingPop
                | ReplyKind::EvalScript => {}
            }
        }
    }

    #[test]
    fn only_the_container_replies_stream() {
        assert!(ReplyKind::List.streams() && ReplyKind::ZRange.streams());
        assert!(!ReplyKind::AsList.streams() && !ReplyKind::Native.streams());
    }
}
