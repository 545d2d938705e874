//! Encoders: how the user's native values become Redis bytes and back.
//!
//! The two built-in encoders are recognised and run in Rust (no call back
//! into JS per value); any other object with `encodeFromNative` and
//! `decodeToNative` is called as the seed's custom encoders are.

use js_sys::{Function, JsString, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;

use super::errors::type_error;

#[derive(Clone)]
pub enum Encoder {
    Utf8,
    Bytes,
    Custom {
        encode: Function,
        decode: Function,
        this: JsValue,
    },
}

impl Encoder {
    /// Reads the `encoder` option: `undefined` is the UTF-8 default.
    pub fn from_option(value: &JsValue) -> Result<Encoder, JsValue> {
        if value.is_undefined() || value.is_null() {
            return Ok(Encoder::Utf8);
        }
        let native = Reflect::get(value, &"nativeKind".into())?;
        match native.as_string().as_deref() {
            Some("utf8") => return Ok(Encoder::Utf8),
            Some("bytes") => return Ok(Encoder::Bytes),
            _ => {}
        }
        let method = |name: &str| -> Result<Function, JsValue> {
            Reflect::get(value, &name.into())?
                .dyn_into::<Function>()
                .map_err(|_| type_error(&format!("encoder: {name} must be a function")))
        };
        Ok(Encoder::Custom {
            encode: method("encodeFromNative")?,
            decode: method("decodeToNative")?,
            this: value.clone(),
        })
    }

    /// The bytes of one native value. With `strict`, a value of the wrong
    /// type is a `TypeError` whose text `describe()` names; without, it is
    /// converted as JS would (`String(value)`).
    pub fn encode(
        &self,
        value: &JsValue,
        strict: bool,
        describe: impl Fn() -> String,
    ) -> Result<Vec<u8>, JsValue> {
        let wrong = |expected: &str| {
            type_error(&format!(
                "{} must be {expected}, got {}",
                describe(),
                type_name(value)
            ))
        };
        match self {
            Encoder::Utf8 => match value.as_string() {
                Some(text) => Ok(text.into_bytes()),
                None if strict => Err(wrong("a string (UTF8Encoder)")),
                None => Ok(loose_bytes(value)),
            },
            Encoder::Bytes => match value.dyn_ref::<Uint8Array>() {
                Some(bytes) => Ok(bytes.to_vec()),
                None if strict => Err(wrong("a Uint8Array (BytesEncoder)")),
                None => Ok(loose_bytes(value)),
            },
            Encoder::Custom { encode, this, .. } => {
                let encoded = encode.call1(this, value)?;
                encoded
                    .dyn_ref::<Uint8Array>()
                    .map(Uint8Array::to_vec)
                    .ok_or_else(|| wrong("a value the custom encoder turns into a Uint8Array"))
            }
        }
    }

    /// The native value of reply bytes gathered in a JS array (see
    /// `core::gather`): the array itself for bytes, so nothing is copied.
    pub fn decode_array(&self, bytes: Uint8Array) -> Result<JsValue, JsValue> {
        match self {
            Encoder::Utf8 => Ok(utf8_text(&bytes)),
            Encoder::Bytes => Ok(bytes.into()),
            Encoder::Custom { decode, this, .. } => decode.call1(this, &bytes),
        }
    }

    /// The native value of reply bytes. Invalid UTF-8 under the UTF-8
    /// encoder decodes as `TextDecoder` does, with replacement characters.
    pub fn decode(&self, bytes: &[u8]) -> Result<JsValue, JsValue> {
        match self {
            Encoder::Utf8 => Ok(JsString::from(String::from_utf8_lossy(bytes).as_ref()).into()),
            Encoder::Bytes => Ok(Uint8Array::from(bytes).into()),
            Encoder::Custom { decode, this, .. } => decode.call1(this, &Uint8Array::from(bytes)),
        }
    }
}

/// Bytes of a value under relaxed type checks: raw bytes stay raw, anything
/// else goes through `String(value)`.
pub fn loose_bytes(value: &JsValue) -> Vec<u8> {
    if let Some(bytes) = value.dyn_ref::<Uint8Array>() {
        return bytes.to_vec();
    }
    js_string(value).into_bytes()
}

#[wasm_bindgen]
extern "C" {
    /// The global `String()`: JS's own conversion of any value to text.
    #[wasm_bindgen(js_name = String)]
    pub fn js_string(value: &JsValue) -> String;
}

#[wasm_bindgen(module = "/js/install.js")]
extern "C" {
    /// UTF-8 bytes as text, as `String::from_utf8_lossy` reads them (a
    /// leading BOM kept).
    #[wasm_bindgen(js_name = utf8Text)]
    fn utf8_text(bytes: &Uint8Array) -> JsValue;
}

#[wasm_bindgen(module = "/js/args.js")]
extern "C" {
    /// The JS type of a value, for error messages (`Uint8Array`, `Array`
    /// and `null` told apart from other objects): the command builders' own.
    #[wasm_bindgen(js_name = typeName)]
    pub fn type_name(value: &JsValue) -> String;
}
