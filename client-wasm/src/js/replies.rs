//! Reply containers: creating the JS reply classes and filling the
//! streaming ones item by item.

use js_sys::Array;
use resp::Frame;
use wasm_bindgen::prelude::*;

use super::convert::{is_pair, pair_value, plain};
use super::encoder::Encoder;
use super::interned::interned;
use crate::core::ReplyKind;

#[wasm_bindgen(module = "/js/classes.js")]
extern "C" {
    /// A `ListReply`, `SetReply`, `DictReply` or `ZRangeReply`.
    pub type MultiBulkReply;
    #[wasm_bindgen(method, js_name = _push)]
    fn push(this: &MultiBulkReply, item: &JsValue);
    #[wasm_bindgen(method, js_name = _end)]
    fn end(this: &MultiBulkReply);
    #[wasm_bindgen(method, js_name = _fail)]
    fn fail(this: &MultiBulkReply, error: &JsValue);

    #[wasm_bindgen(js_name = makeReply)]
    fn make_reply(kind: &JsValue, a: &JsValue, b: &JsValue, c: &JsValue) -> JsValue;
}

/// `new <kind>(a, b)` of one of the reply classes.
pub fn reply_object(kind: &'static str, a: &JsValue, b: &JsValue) -> JsValue {
    make_reply(&interned(kind), a, b, &JsValue::UNDEFINED)
}

/// A streaming container being filled, and the key of a pair whose value
/// has not arrived yet.
pub struct Stream {
    container: MultiBulkReply,
    kind: ReplyKind,
    key: Option<JsValue>,
    /// The announced child count, and whether pushing has begun.
    len: usize,
    started: bool,
}

impl Stream {
    /// The empty container for a reply of `kind` with `len` children
    /// (`len` pairs when `counts_pairs`: a RESP3 map).
    pub fn new(kind: ReplyKind, len: usize, counts_pairs: bool) -> Stream {
        let class = match kind {
            ReplyKind::Set => "SetReply",
            ReplyKind::Dict => "DictReply",
            ReplyKind::ZRange => "ZRangeReply",
            _ => "ListReply",
        };
        let length = match kind {
            ReplyKind::Dict | ReplyKind::ZRange if !counts_pairs => len / 2,
            _ => len,
        };
        let container = reply_object(class, &JsValue::from(length as f64), &JsValue::UNDEFINED);
        Stream {
            container: container.unchecked_into(),
            kind,
            key: None,
            len,
            started: false,
        }
    }

    pub fn container(&self) -> &JsValue {
        &self.container
    }

    /// Adds one child; pairs are pushed once their second half arrives.
    pub fn push(&mut self, frame: Frame, encoder: &Encoder) -> Result<(), JsValue> {
        let paired = matches!(self.kind, ReplyKind::Dict | ReplyKind::ZRange);
        let first = !std::mem::replace(&mut self.started, true);
        if !paired {
            self.container.push(&plain(frame, encoder)?);
            return Ok(());
        }
        if self.key.is_none() && is_pair(&frame) {
            // RESP3 sends each pair as an array: the count was of pairs.
            if first {
                let _ = js_sys::Reflect::set(
                    &self.container,
                    &"length".into(),
                    &(self.len as f64).into(),
                );
            }
            let Frame::Array(pair) = frame else {
                return Ok(());
            };
            let mut pair = pair.into_iter();
            let key = plain(pair.next().unwrap_or(Frame::Null), encoder)?;
            let value = pair_value(
                pair.next().unwrap_or(Frame::Null),
                self.kind == ReplyKind::ZRange,
                encoder,
            )?;
            self.container.push(&Array::of2(&key, &value));
            return Ok(());
        }
        match self.key.take() {
            None => self.key = Some(plain(frame, encoder)?),
            Some(key) => {
                let value = pair_value(frame, self.kind == ReplyKind::ZRange, encoder)?;
                self.container.push(&Array::of2(&key, &value));
            }
        }
        Ok(())
    }

    pub fn end(self) {
        self.container.end();
    }

    pub fn fail(self, error: &JsValue) {
        self.container.fail(error);
    }

    /// A container for a reply that arrived whole.
    pub fn whole(
        kind: ReplyKind,
        items: Vec<Frame>,
        encoder: &Encoder,
    ) -> Result<JsValue, JsValue> {
        let mut stream = Stream::new(kind, items.len(), false);
        for item in items {
            stream.push(item, encoder)?;
        }
        let container = stream.container().clone();
        stream.end();
        Ok(container)
    }
}
