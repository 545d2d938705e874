//! JS strings made once and reused.
//!
//! Handing a Rust `&str` to JS decodes it with `TextDecoder` every time,
//! which costs more than the rest of a short command's reply. The class
//! names of replies and the common status words (`OK`, `QUEUED`) are
//! created once per thread instead.

use std::cell::RefCell;

use wasm_bindgen::JsValue;

thread_local! {
    /// A few dozen entries at most: a scan beats hashing them.
    static STRINGS: RefCell<Vec<(&'static str, JsValue)>> = const { RefCell::new(Vec::new()) };
}

/// The JS string `text`, created on first use.
pub fn interned(text: &'static str) -> JsValue {
    STRINGS.with(|strings| {
        let mut strings = strings.borrow_mut();
        if let Some((_, value)) = strings.iter().find(|(known, _)| *known == text) {
            return value.clone();
        }
        let value = JsValue::from_str(text);
        strings.push((text, value.clone()));
        value
    })
}

/// The JS string of a status reply: interned for the usual words.
pub fn status(bytes: &[u8]) -> JsValue {
    match bytes {
        b"OK" => interned("OK"),
        b"QUEUED" => interned("QUEUED"),
        b"PONG" => interned("PONG"),
        _ => JsValue::from(String::from_utf8_lossy(bytes).as_ref()),
    }
}
