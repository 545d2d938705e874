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
    /// A plain string, whatever the encoder (config names, SHA digests...).
    Text,
}

/// One declared argument of a command method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arg {
    pub name: &'static str,
    pub kind: ArgKind,
    /// What an omitted (`undefined`) optional argument sends; `None` marks a
    /// required argument.
    pub default: Option<&'static str>,
}

/// What a reply becomes on the JS side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyKind {
    /// `StatusReply` for a simple string (`+OK`, `+PONG`).
    Status,
    /// `StatusReply`, or `null` when the server answers nil (`SET ... NX`).
    StatusOrNull,
    /// The encoder's native type, or `null`.
    Native,
    /// `number`, or `BigInt` beyond ±2^53−1.
    Integer,
    /// An integer reply read as a boolean.
    Boolean,
    /// The generic decoding of `call()`: whatever the frame holds.
    Plain,
}

/// A command method: the row of the command table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandSpec {
    /// The JS method name.
    pub method: &'static str,
    /// The Redis command words sent before the arguments (`CLIENT SETNAME`).
    pub words: &'static [&'static str],
    pub args: &'static [Arg],
    pub reply: ReplyKind,
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
}
