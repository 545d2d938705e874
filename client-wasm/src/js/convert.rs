//! JS values in, JS values out: command arguments to bytes by their declared
//! kind, reply frames to the values and containers of the API.

use js_sys::{Array, BigInt, Map, Set};
use resp::Frame;
use wasm_bindgen::prelude::*;

use super::encoder::{loose_bytes, type_name, Encoder};
use super::errors::{error, type_error, ErrorClass};
use super::replies::StatusReply;
use crate::core::command::{is_safe_integer, Arg, ArgKind, CommandSpec, ReplyKind};

/// How arguments are read: the connection's encoder and whether types are
/// checked before anything is sent.
pub struct ArgReader<'a> {
    pub encoder: &'a Encoder,
    pub strict: bool,
}

impl ArgReader<'_> {
    /// The full command line of one table row: its words, then each
    /// declared argument.
    pub fn command(&self, spec: &CommandSpec, values: &[JsValue]) -> Result<Vec<Vec<u8>>, JsValue> {
        let mut line: Vec<Vec<u8>> = spec.words.iter().map(|word| word.as_bytes().to_vec()).collect();
        for (arg, value) in spec.args.iter().zip(values) {
            self.arg(spec.method, arg, value, &mut line)?;
        }
        Ok(line)
    }

    fn arg(&self, method: &str, arg: &Arg, value: &JsValue, line: &mut Vec<Vec<u8>>) -> Result<(), JsValue> {
        let describe = || format!("{method}: argument '{}'", arg.name);
        if value.is_undefined() {
            return match arg.default {
                Some(default) => {
                    line.push(default.as_bytes().to_vec());
                    Ok(())
                }
                None => Err(type_error(&format!("{} is required", describe()))),
            };
        }
        match arg.kind {
            ArgKind::Native => line.push(self.native(value, &describe)?),
            ArgKind::NativeList => self.native_list(value, &describe, line)?,
            ArgKind::Int => line.push(self.int(value, &describe)?),
            ArgKind::Text => line.push(self.text(value, &describe)?),
        }
        Ok(())
    }

    pub fn native(&self, value: &JsValue, describe: &dyn Fn() -> String) -> Result<Vec<u8>, JsValue> {
        self.encoder.encode(value, self.strict, describe)
    }

    /// Any iterable of native values. A lone string is iterable too, but
    /// never meant as a list of characters: strict mode refuses it, relaxed
    /// mode reads it as a one-element list.
    fn native_list(&self, value: &JsValue, describe: &dyn Fn() -> String, line: &mut Vec<Vec<u8>>) -> Result<(), JsValue> {
        let not_a_list = || type_error(&format!("{} must be an iterable of keys or values, got {}", describe(), type_name(value)));
        if value.is_string() {
            if self.strict {
                return Err(not_a_list());
            }
            line.push(loose_bytes(value));
            return Ok(());
        }
        let Some(items) = js_sys::try_iter(value)? else {
            if self.strict {
                return Err(not_a_list());
            }
            line.push(loose_bytes(value));
            return Ok(());
        };
        for (index, item) in items.enumerate() {
            let item = item?;
            line.push(self.native(&item, &|| format!("{}[{index}]", describe()))?);
        }
        Ok(())
    }

    pub fn int(&self, value: &JsValue, describe: &dyn Fn() -> String) -> Result<Vec<u8>, JsValue> {
        if let Some(number) = value.as_f64() {
            if number.fract() == 0.0 && number.abs() <= crate::core::command::MAX_SAFE_INTEGER as f64 {
                return Ok((number as i64).to_string().into_bytes());
            }
        } else if value.is_bigint() {
            return Ok(loose_bytes(value));
        }
        if self.strict {
            return Err(type_error(&format!("{} must be an integer, got {}", describe(), describe_value(value))));
        }
        Ok(loose_bytes(value))
    }

    pub fn text(&self, value: &JsValue, describe: &dyn Fn() -> String) -> Result<Vec<u8>, JsValue> {
        match value.as_string() {
            Some(text) => Ok(text.into_bytes()),
            None if self.strict => Err(type_error(&format!("{} must be a string, got {}", describe(), type_name(value)))),
            None => Ok(loose_bytes(value)),
        }
    }
}

/// A value's type, and the number itself when that is what is wrong with it.
fn describe_value(value: &JsValue) -> String {
    match value.as_f64() {
        Some(number) => format!("the number {number}"),
        None => type_name(value),
    }
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

/// The JS value of a reply to a method declared to return `kind`. An error
/// reply rejects, as does a frame the method cannot have been sent.
pub fn reply(frame: Frame, kind: ReplyKind, encoder: &Encoder, method: &str) -> Result<JsValue, JsValue> {
    match (kind, frame) {
        (_, Frame::Error(message) | Frame::BulkError(message)) => Err(error(ErrorClass::ErrorReply, &text(&message))),
        (ReplyKind::Status | ReplyKind::StatusOrNull, Frame::Simple(status)) => Ok(StatusReply::new(text(&status)).into()),
        (ReplyKind::StatusOrNull | ReplyKind::Native, Frame::Null) => Ok(JsValue::NULL),
        (ReplyKind::Native, Frame::Bulk(bytes) | Frame::Simple(bytes)) => encoder.decode(&bytes),
        (ReplyKind::Integer, Frame::Integer(value)) => Ok(integer(value)),
        (ReplyKind::Boolean, Frame::Integer(value)) => Ok(JsValue::from_bool(value != 0)),
        (ReplyKind::Plain, frame) => plain(frame, encoder),
        (_, other) => Err(error(
            ErrorClass::RedisError,
            &format!("{method}: unexpected reply {}", frame_name(&other)),
        )),
    }
}

/// The generic decoding of `call()`: strings, numbers, arrays, maps and
/// sets as JS has them; an error nested in an array becomes an `ErrorReply`
/// value rather than a rejection.
pub fn plain(frame: Frame, encoder: &Encoder) -> Result<JsValue, JsValue> {
    Ok(match frame {
        Frame::Simple(status) => JsValue::from(text(&status)),
        Frame::Error(message) | Frame::BulkError(message) => error(ErrorClass::ErrorReply, &text(&message)),
        Frame::Integer(value) => integer(value),
        Frame::Bulk(bytes) => encoder.decode(&bytes)?,
        Frame::Null => JsValue::NULL,
        Frame::Double(value) => JsValue::from_f64(value),
        Frame::Boolean(value) => JsValue::from_bool(value),
        Frame::BigNumber(digits) => BigInt::new(&JsValue::from(text(&digits)))?.into(),
        Frame::Verbatim { text: body, .. } => JsValue::from(text(&body)),
        Frame::Array(items) | Frame::Push(items) => {
            let array = Array::new_with_length(items.len() as u32);
            for (index, item) in items.into_iter().enumerate() {
                array.set(index as u32, plain(item, encoder)?);
            }
            array.into()
        }
        Frame::Set(items) => {
            let set = Set::new(&JsValue::UNDEFINED);
            for item in items {
                set.add(&plain(item, encoder)?);
            }
            set.into()
        }
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
