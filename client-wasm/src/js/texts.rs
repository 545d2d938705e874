//! Many reply strings decoded at once.
//!
//! Handing JS one string costs a `TextDecoder` call, which for the short
//! strings of a big `LRANGE` or `HGETALL` reply costs more than all the
//! rest of the work together. So runs of strings are joined, decoded by one
//! call and cut apart in JS. A run holds at most [`RUN_BYTES`]: the strings
//! cut from it may share its memory in V8, so a string kept alive keeps at
//! most that much with it.

use js_sys::{Array, Map};
use resp::Frame;
use wasm_bindgen::prelude::*;

use super::encoder::Encoder;

const RUN_BYTES: usize = 64 * 1024;

#[wasm_bindgen(module = "/js/classes.js")]
extern "C" {
    #[wasm_bindgen(js_name = cutText)]
    fn cut_text(into: &Array, text: &str, ends: &[u32]);
    #[wasm_bindgen(js_name = pairMap)]
    fn pair_map(flat: &Array) -> Map;
}

/// The items as a JS Array of strings, when the encoder makes strings and
/// every item is a string (bulk or simple); else `None`. Invalid UTF-8
/// decodes with replacement characters, as one string at a time would.
pub fn texts(items: &[Frame], encoder: &Encoder) -> Option<Array> {
    if !matches!(encoder, Encoder::Utf8) {
        return None;
    }
    let bytes = items
        .iter()
        .map(|item| match item {
            Frame::Bulk(bytes) | Frame::Simple(bytes) => Some(bytes.as_ref()),
            _ => None,
        })
        .collect::<Option<Vec<&[u8]>>>()?;
    let out = Array::new();
    let mut run = String::new();
    let mut ends = Vec::new();
    let mut units = 0;
    for bytes in bytes {
        // Each string is made valid on its own, so two invalid halves can
        // never join into one character.
        let text = String::from_utf8_lossy(bytes);
        if !run.is_empty() && run.len() + text.len() > RUN_BYTES {
            cut_text(&out, &run, &ends);
            run.clear();
            ends.clear();
            units = 0;
        }
        run.push_str(&text);
        units += utf16_len(&text);
        ends.push(units);
    }
    if !ends.is_empty() {
        cut_text(&out, &run, &ends);
    }
    Some(out)
}

/// A `Map` of consecutive key, value strings (an `HGETALL` reply), when
/// [`texts`] can decode them.
pub fn text_map(items: &[Frame], encoder: &Encoder) -> Option<Map> {
    texts(items, encoder).map(|flat| pair_map(&flat))
}

/// The length of `text` in JS (UTF-16 code units): what `slice` counts.
fn utf16_len(text: &str) -> u32 {
    let units = if text.is_ascii() {
        text.len()
    } else {
        text.chars().map(char::len_utf16).sum()
    };
    units as u32
}

#[cfg(test)]
mod tests {
    use super::utf16_len;

    #[test]
    fn counts_utf16_units() {
        assert_eq!(utf16_len("abc"), 3);
        assert_eq!(utf16_len("é€"), 2);
        assert_eq!(utf16_len("😀a"), 3);
    }
}
