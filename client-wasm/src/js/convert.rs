//! JS values in, JS values out: the few arguments read in Rust (options,
//! channel and key lists, script bodies) to bytes, and reply frames to the
//! values and containers of the API. Command methods build their lines in
//! JS (`js/args.js`).

use js_sys::{Array, BigInt, Map, Set};
use resp::Frame;
use wasm_bindgen::prelude::*;

use super::encoder::{js_string, loose_bytes, type_name, Encoder};
use super::errors::{error, error_reply, type_error, ErrorClass};
use super::interned;
use super::replies::{reply_object, Stream};
use super::texts::{text_map, texts};
use crate::core::command::{is_safe_integer, ReplyKind, MAX_SAFE_INTEGER};
use crate::core::cursor::ScanKind;

/// Names an argument in error messages; called only when one is raised.
pub type Describe<'a> = &'a dyn Fn() -> String;

/// How arguments are read: the connection's encoder and whether types are
/// checked before anything is sent.
pub struct ArgReader<'a> {
    pub encoder: &'a Encoder,
    pub strict: bool,
}

impl ArgReader<'_> {
    pub fn native(&self, value: &JsValue, describe: Describe) -> Result<Vec<u8>, JsValue> {
        self.encoder.encode(value, self.strict, describe)
    }

    /// Any iterable, each item read by `read`. A lone string is iterable
    /// too, but never meant as a list of characters: strict mode refuses
    /// it, relaxed mode reads it as a one-element list.
    pub fn list(
        &self,
        value: &JsValue,
        describe: Describe,
        line: &mut Vec<Vec<u8>>,
        read: impl Fn(&JsValue, Describe) -> Result<Vec<u8>, JsValue>,
    ) -> Result<(), JsValue> {
        let items = if value.is_object() {
            js_sys::try_iter(value)?
        } else {
            None
        };
        let Some(items) = items else {
            if self.strict {
                return Err(type_error(&format!(
                    "{} must be an iterable (such as an Array), got {}",
                    describe(),
                    type_name(value)
                )));
            }
            line.push(read(value, describe)?);
            return Ok(());
        };
        for (index, item) in items.enumerate() {
            line.push(read(&item?, &|| format!("{}[{index}]", describe()))?);
        }
        Ok(())
    }

    pub fn int(&self, value: &JsValue, describe: Describe) -> Result<Vec<u8>, JsValue> {
        if let Some(number) = value.as_f64() {
            if number.fract() == 0.0 && number.abs() <= MAX_SAFE_INTEGER as f64 {
                return Ok((number as i64).to_string().into_bytes());
            }
        } else if value.is_bigint() {
            return Ok(loose_bytes(value));
        }
        self.relaxed(value, || {
            format!(
                "{} must be an integer, got {}",
                describe(),
                describe_value(value)
            )
        })
    }

    pub fn text(&self, value: &JsValue, describe: Describe) -> Result<Vec<u8>, JsValue> {
        match value.as_string() {
            Some(text) => Ok(text.into_bytes()),
            None => self.relaxed(value, || {
                format!("{} must be a string, got {}", describe(), type_name(value))
            }),
        }
    }

    /// Strict mode refuses a value of the wrong type with `message`;
    /// relaxed mode sends it as JS would print it.
    fn relaxed(
        &self,
        value: &JsValue,
        message: impl FnOnce() -> String,
    ) -> Result<Vec<u8>, JsValue> {
        if self.strict {
            Err(type_error(&message()))
        } else {
            Ok(loose_bytes(value))
        }
    }
}

/// A value's type, and the number itself when that is what is wrong with it.
fn describe_value(value: &JsValue) -> String {
    match value.as_f64() {
        Some(number) => format!("the number {}", number_text(number)),
        None => type_name(value),
    }
}

/// `number` as Rust's `{}` prints it, without std's float printer (17 KB of
/// wasm): see `decimal`.
pub fn number_text(number: f64) -> String {
    decimal(number, &js_string(&JsValue::from_f64(number)))
}

/// `number` as Rust's `{}` prints it (`inf`, `-0`, never an exponent), from
/// `js_text`, what JS's `String()` made of it: both print the shortest digits
/// that read back as the number. JS writes an exponent only beyond 1e21 and below 1e-6, so the
/// point falls after the digits or before them.
fn decimal(number: f64, js_text: &str) -> String {
    if number.is_infinite() {
        return if number > 0.0 { "inf" } else { "-inf" }.into();
    }
    let mut out = String::new();
    if number.is_sign_negative() && !number.is_nan() {
        out.push('-');
    }
    let unsigned = js_text.trim_start_matches('-');
    let Some((mantissa, exponent)) = unsigned.split_once('e') else {
        out.push_str(unsigned);
        return out;
    };
    let exponent: i32 = exponent.parse().unwrap_or_default();
    let digits = mantissa.chars().filter(|&c| c != '.');
    if exponent < 0 {
        out.push_str("0.");
        out.extend((1..-exponent).map(|_| '0'));
        out.extend(digits);
    } else {
        let before = out.len();
        out.extend(digits);
        let written = (out.len() - before) as i32;
        out.extend((written..=exponent).map(|_| '0'));
    }
    out
}

/// An integer reply: a `number` where exact, a `BigInt` beyond.
pub fn integer(value: i64) -> JsValue {
    if is_safe_integer(value) {
        JsValue::from_f64(value as f64)
    } else {
        BigInt::from(value).into()
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A float reply (a bulk string in RESP2, a double in RESP3), or `null`.
pub fn float(frame: Frame) -> Result<JsValue, JsValue> {
    match frame {
        Frame::Double(value) => Ok(JsValue::from_f64(value)),
        Frame::Integer(value) => Ok(JsValue::from_f64(value as f64)),
        Frame::Null => Ok(JsValue::NULL),
        Frame::Bulk(bytes) | Frame::Simple(bytes) => match resp::parse_double(&bytes) {
            Some(value) => Ok(JsValue::from_f64(value)),
            None => Err(error(
                ErrorClass::RedisError,
                &format!("not a float reply: {:?}", text(&bytes)),
            )),
        },
        other => Err(unexpected("a float", &other)),
    }
}

fn unexpected(method: &str, frame: &Frame) -> JsValue {
    error(
        ErrorClass::RedisError,
        &format!("{method}: unexpected reply {}", frame_name(frame)),
    )
}

/// The JS value of a reply of `kind` to `method` (Redis's name for the
/// command, which error replies carry as `.command`). An error reply
/// rejects, as does a frame the command cannot have been answered with.
pub fn reply(
    frame: Frame,
    kind: ReplyKind,
    encoder: &Encoder,
    method: &str,
) -> Result<JsValue, JsValue> {
    use ReplyKind as K;
    let items = |frame: Frame| match frame {
        Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => Ok(items),
        Frame::Map(pairs) => Ok(pairs.into_iter().flat_map(|(k, v)| [k, v]).collect()),
        Frame::Null => Ok(Vec::new()),
        other => Err(unexpected(method, &other)),
    };
    match (kind, frame) {
        (_, Frame::Error(message) | Frame::BulkError(message)) => {
            Err(error_reply(&text(&message), method))
        }
        (K::Status, Frame::Array(pong)) if matches!(pong.first(), Some(Frame::Bulk(word)) if word.as_ref() == b"pong") => {
            Ok(reply_object(
                "StatusReply",
                &interned::status(b"PONG"),
                &JsValue::UNDEFINED,
            ))
        }
        (K::Status | K::StatusOrNull, Frame::Simple(status)) => Ok(reply_object(
            "StatusReply",
            &interned::status(&status),
            &JsValue::UNDEFINED,
        )),
        (K::Unit, Frame::Simple(_)) => Ok(JsValue::UNDEFINED),
        (K::StatusOrNull | K::Native | K::IntegerOrNull, Frame::Null) => Ok(JsValue::NULL),
        // The peer's wording, which users match on.
        (K::BlockingPop, Frame::Null) => {
            Err(error(ErrorClass::TimeoutError, "Timeout in blocking pop"))
        }
        (K::NativeOrTimeout, Frame::Null) => {
            Err(error(ErrorClass::TimeoutError, "Timeout in brpoplpush"))
        }
        (K::Native | K::NativeOrTimeout, Frame::Bulk(bytes) | Frame::Simple(bytes)) => {
            encoder.decode(&bytes)
        }
        (K::Text, Frame::Bulk(bytes) | Frame::Simple(bytes)) => Ok(text(&bytes).into()),
        (K::Integer | K::IntegerOrNull, Frame::Integer(value)) => Ok(integer(value)),
        (K::Boolean, Frame::Integer(value)) => Ok(JsValue::from_bool(value != 0)),
        (K::Float | K::FloatOrNull, frame) => float(frame),
        (K::Plain, frame) => plain(frame, encoder),
        (K::List | K::Set, frame) => Stream::whole(kind, items(frame)?, encoder),
        (K::Dict | K::ZRange, frame) => Stream::whole(kind, flat_pairs(items(frame)?), encoder),
        (K::AsList, frame) => list(items(frame)?, encoder),
        (K::AsSet, frame) => set(items(frame)?, encoder),
        (K::AsDict | K::ZRangeAsDict, frame) => {
            let items = flat_pairs(items(frame)?);
            let scores = kind == K::ZRangeAsDict;
            if !scores {
                if let Some(map) = text_map(&items, encoder) {
                    return Ok(map.into());
                }
            }
            let map = Map::new();
            for (key, value) in pairs(items) {
                map.set(&plain(key, encoder)?, &pair_value(value, scores, encoder)?);
            }
            Ok(map.into())
        }
        (K::BooleanList, frame) => collect(items(frame)?, encoder, Array::new(), |array, item| {
            array.push(&JsValue::from_bool(item.as_f64().is_some_and(|n| n != 0.0)));
        }),
        (K::ConfigPair, frame) => {
            let mut pair = items(frame)?.into_iter();
            let parameter = pair
                .next()
                .map(|p| plain(p, &Encoder::Utf8))
                .transpose()?
                .unwrap_or(JsValue::NULL);
            let value = pair
                .next()
                .map(|v| plain(v, &Encoder::Utf8))
                .transpose()?
                .unwrap_or(JsValue::NULL);
            Ok(reply_object("ConfigPairReply", &parameter, &value))
        }
        (K::Info | K::ClientList, Frame::Bulk(raw) | Frame::Verbatim { text: raw, .. }) => {
            let class = if kind == K::Info {
                "InfoReply"
            } else {
                "ClientListReply"
            };
            Ok(reply_object(class, &text(&raw).into(), &JsValue::UNDEFINED))
        }
        (K::BlockingPop, Frame::Array(pair)) if pair.len() == 2 => {
            let mut pair = pair.into_iter();
            let list = plain(pair.next().unwrap_or(Frame::Null), encoder)?;
            let value = plain(pair.next().unwrap_or(Frame::Null), encoder)?;
            Ok(reply_object("BlockingPopReply", &list, &value))
        }
        (K::EvalScript, frame) => Ok(reply_object(
            "EvalScriptReply",
            &plain(frame, encoder)?,
            &JsValue::UNDEFINED,
        )),
        (_, other) => Err(unexpected(method, &other)),
    }
}

/// The items of a scan page: plain values, or `[field, value]` /
/// `[member, score]` pairs.
pub fn scan_items(found: Vec<Frame>, kind: ScanKind, encoder: &Encoder) -> Result<Array, JsValue> {
    let out = Array::new();
    if !kind.pairs() {
        for item in found {
            out.push(&plain(item, encoder)?);
        }
        return Ok(out);
    }
    for (key, value) in pairs(found) {
        let value = pair_value(value, kind == ScanKind::SortedSet, encoder)?;
        out.push(&Array::of2(&plain(key, encoder)?, &value));
    }
    Ok(out)
}

/// The consecutive key, value pairs of a flat reply (HGETALL, WITHSCORES).
fn pairs(items: Vec<Frame>) -> impl Iterator<Item = (Frame, Frame)> {
    let mut items = items.into_iter();
    std::iter::from_fn(move || Some((items.next()?, items.next()?)))
}

/// Pairs as RESP2 sends them, flat: RESP3 answers them as two-element
/// arrays (`ZRANGE ... WITHSCORES`, `ZPOPMIN` with a count).
pub fn flat_pairs(items: Vec<Frame>) -> Vec<Frame> {
    if items.is_empty() || !items.iter().all(is_pair) {
        return items;
    }
    items
        .into_iter()
        .flat_map(|item| match item {
            Frame::Array(pair) => pair,
            other => vec![other],
        })
        .collect()
}

pub fn is_pair(frame: &Frame) -> bool {
    matches!(frame, Frame::Array(pair) if pair.len() == 2)
}

/// The value half of a pair: a score as a `number`, else decoded plainly.
pub fn pair_value(frame: Frame, scores: bool, encoder: &Encoder) -> Result<JsValue, JsValue> {
    if scores {
        float(frame)
    } else {
        plain(frame, encoder)
    }
}

/// The items as a JS Array: strings decoded together when they all are
/// strings, else each with `plain`.
fn list(items: Vec<Frame>, encoder: &Encoder) -> Result<JsValue, JsValue> {
    if let Some(texts) = texts(&items, encoder) {
        return Ok(texts.into());
    }
    collect(items, encoder, Array::new(), |array, item| {
        array.push(&item);
    })
}

/// The items as a JS Set, decoded as [`list`] decodes them.
fn set(items: Vec<Frame>, encoder: &Encoder) -> Result<JsValue, JsValue> {
    if let Some(texts) = texts(&items, encoder) {
        return Ok(Set::new(&texts).into());
    }
    collect(
        items,
        encoder,
        Set::new(&JsValue::UNDEFINED),
        |set, item| {
            set.add(&item);
        },
    )
}

/// Decodes each item with `plain` into a JS collection.
fn collect<C: Into<JsValue>>(
    items: Vec<Frame>,
    encoder: &Encoder,
    into: C,
    add: impl Fn(&C, JsValue),
) -> Result<JsValue, JsValue> {
    for item in items {
        add(&into, plain(item, encoder)?);
    }
    Ok(into.into())
}

/// The generic decoding of `call()`: strings, numbers, arrays, maps and
/// sets as JS has them; an error nested in an array becomes an `ErrorReply`
/// value rather than a rejection.
pub fn plain(frame: Frame, encoder: &Encoder) -> Result<JsValue, JsValue> {
    Ok(match frame {
        Frame::Simple(status) => interned::status(&status),
        Frame::Error(message) | Frame::BulkError(message) => error_reply(&text(&message), ""),
        Frame::Integer(value) => integer(value),
        Frame::Bulk(bytes) => encoder.decode(&bytes)?,
        Frame::Null => JsValue::NULL,
        Frame::Double(value) => JsValue::from_f64(value),
        Frame::Boolean(value) => JsValue::from_bool(value),
        Frame::BigNumber(digits) => BigInt::new(&JsValue::from(text(&digits)))?.into(),
        Frame::Verbatim { text: body, .. } => JsValue::from(text(&body)),
        Frame::Array(items) | Frame::Push(items) => list(items, encoder)?,
        Frame::Set(items) => set(items, encoder)?,
        Frame::Map(pairs) => {
            let map = Map::new();
            for (key, value) in pairs {
                map.set(&plain(key, encoder)?, &plain(value, encoder)?);
            }
            map.into()
        }
        Frame::Attributed { frame, .. } => plain(*frame, encoder)?,
    })
}

/// A frame's RESP type, for error messages (never its content: values do
/// not belong in error texts that may be logged).
fn frame_name(frame: &Frame) -> &'static str {
    match frame {
        Frame::Simple(_) => "simple string",
        Frame::Error(_) => "error",
        Frame::Integer(_) => "integer",
        Frame::Bulk(_) => "bulk string",
        Frame::Null => "nil",
        Frame::Array(_) => "array",
        Frame::Double(_) => "double",
        Frame::Boolean(_) => "boolean",
        Frame::BigNumber(_) => "big number",
        Frame::BulkError(_) => "bulk error",
        Frame::Verbatim { .. } => "verbatim string",
        Frame::Map(_) => "map",
        Frame::Set(_) => "set",
        Frame::Push(_) => "push",
        Frame::Attributed { .. } => "attributed frame",
    }
}

#[cfg(test)]
mod tests {
    use super::decimal;

    /// Each number with the text node's `String()` gives it, against what
    /// Rust's `{}` prints.
    #[test]
    fn prints_numbers_as_rust_does() {
        let cases: [(f64, &str); 17] = [
            (1.5, "1.5"),
            (-2.25, "-2.25"),
            (0.0, "0"),
            (-0.0, "0"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
            (9007199254740992.0, "9007199254740992"),
            (1e21, "1e+21"),
            (-1.2345e25, "-1.2345e+25"),
            (f64::MAX, "1.7976931348623157e+308"),
            (0.000001, "0.000001"),
            (1e-7, "1e-7"),
            (-1.5e-7, "-1.5e-7"),
            (1.2345678901234568e-300, "1.2345678901234568e-300"),
            (0.1 + 0.2, "0.30000000000000004"),
            (f64::MIN_POSITIVE * f64::EPSILON, "5e-324"),
        ];
        for (number, js_text) in cases {
            assert_eq!(decimal(number, js_text), format!("{number}"), "{js_text}");
        }
    }
}
