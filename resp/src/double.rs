//! Reading a double from its text (RESP3 `,` frames, float replies).
//!
//! The text is checked here against the grammar of Rust's `f64::from_str`;
//! turning the digits into the nearest `f64` is left to std on native
//! targets and to the host's `parseFloat` on `wasm32-unknown-unknown`,
//! where std's parser would bring a 10 KB table of powers of five (about
//! 12 KB of the gzipped client) for a kind of reply Redis seldom sends. Both
//! round correctly, so both targets read every text as the same value.

/// The value of `text`: `[+-]` then `inf`, `infinity` or `nan` (any case),
/// or digits with an optional fraction and exponent (`1`, `-2.5`, `.5`,
/// `5.`, `1e-300`); else `None`.
pub fn parse_double(text: &[u8]) -> Option<f64> {
    let (negative, unsigned) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, text),
    };
    let special =
        if unsigned.eq_ignore_ascii_case(b"inf") || unsigned.eq_ignore_ascii_case(b"infinity") {
            Some(f64::INFINITY)
        } else if unsigned.eq_ignore_ascii_case(b"nan") {
            Some(f64::NAN)
        } else {
            None
        };
    if let Some(value) = special {
        return Some(if negative { -value } else { value });
    }
    if !is_decimal(unsigned) {
        return None;
    }
    // ASCII, as just checked.
    convert(std::str::from_utf8(text).ok()?)
}

/// Digits, `.` and digits (at least one digit in all), then optionally
/// `e` or `E`, a sign and at least one digit.
fn is_decimal(text: &[u8]) -> bool {
    let digits = |from: usize| {
        text[from..]
            .iter()
            .position(|b| !b.is_ascii_digit())
            .unwrap_or(text.len() - from)
    };
    let whole = digits(0);
    let mut at = whole;
    let mut fraction = 0;
    if text.get(at) == Some(&b'.') {
        fraction = digits(at + 1);
        at += 1 + fraction;
    }
    if whole + fraction == 0 {
        return false;
    }
    if matches!(text.get(at), Some(b'e' | b'E')) {
        at += 1;
        if matches!(text.get(at), Some(b'+' | b'-')) {
            at += 1;
        }
        let exponent = digits(at);
        if exponent == 0 {
            return false;
        }
        at += exponent;
    }
    at == text.len()
}

#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
fn convert(text: &str) -> Option<f64> {
    text.parse().ok()
}

#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
fn convert(text: &str) -> Option<f64> {
    Some(js_sys::parse_float(text))
}

#[cfg(test)]
mod tests {
    use super::parse_double;

    #[test]
    fn reads_what_std_reads() {
        for text in [
            "0",
            "-0",
            "+1",
            "1.5",
            "-2.25",
            ".5",
            "5.",
            "1e300",
            "1E-300",
            "2.5e+3",
            "1e400",
            "4.9e-324",
            "0.30000000000000004",
            "123456789012345678901234567890",
            "inf",
            "-inf",
            "+Infinity",
            "INF",
        ] {
            let std: f64 = text.parse().unwrap();
            let ours = parse_double(text.as_bytes()).unwrap();
            assert_eq!(ours.to_bits(), std.to_bits(), "{text}");
        }
        assert!(parse_double(b"nan").unwrap().is_nan());
        assert!(parse_double(b"-NaN").unwrap().is_nan());
    }

    #[test]
    fn refuses_what_std_refuses() {
        for text in [
            "", "+", "-", ".", "e5", ".e5", "1e", "1e+", "1.5x", " 1", "1 ", "1..5", "1e5.5",
            "0x10", "1_000", "infinit", "nana", "--1", "+-1", "١",
        ] {
            assert!(text.parse::<f64>().is_err(), "std reads {text:?}");
            assert_eq!(parse_double(text.as_bytes()), None, "{text:?}");
        }
    }
}
