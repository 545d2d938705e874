//! Cursors over SCAN, SSCAN, HSCAN and ZSCAN.
//!
//! A cursor walks the whole SCAN protocol: it asks for the next page until
//! the server's cursor is back at 0, skipping empty pages, and hands out
//! each element once. Calls are serialised, so two `fetchone()` in flight
//! never ask for the same page twice.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use js_sys::{Array, Map, Promise, Set};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

use super::target::{issue, Issuer};
use crate::core::ReplyKind;

/// What is scanned, which decides the command and the shape of items.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ScanFlavor {
    Keys,
    Set,
    Hash,
    SortedSet,
}

impl ScanFlavor {
    fn command(self) -> &'static str {
        match self {
            ScanFlavor::Keys => "SCAN",
            ScanFlavor::Set => "SSCAN",
            ScanFlavor::Hash => "HSCAN",
            ScanFlavor::SortedSet => "ZSCAN",
        }
    }

    fn reply(self) -> ReplyKind {
        match self {
            ScanFlavor::Keys | ScanFlavor::Set => ReplyKind::ScanPage,
            ScanFlavor::Hash => ReplyKind::ScanPairs,
            ScanFlavor::SortedSet => ReplyKind::ScanScores,
        }
    }
}

struct CursorState {
    issuer: Rc<dyn Issuer>,
    flavor: ScanFlavor,
    key: JsValue,
    pattern: JsValue,
    cursor: RefCell<Option<String>>,
    buffer: RefCell<VecDeque<JsValue>>,
    last_call: RefCell<Option<Promise>>,
}

impl CursorState {
    /// Asks for the next page; `false` once the scan is complete.
    async fn fetch_page(&self) -> Result<bool, JsValue> {
        let Some(cursor) = self.cursor.borrow().clone() else {
            return Ok(false);
        };
        let (flavor, key, pattern) = (self.flavor, &self.key, &self.pattern);
        let page = issue(&*self.issuer, |reader| {
            let mut line = vec![flavor.command().as_bytes().to_vec()];
            if flavor != ScanFlavor::Keys {
                line.push(reader.native(key, &|| {
                    format!("{}: argument 'key'", flavor.command().to_lowercase())
                })?);
            }
            line.push(cursor.into_bytes());
            if !pattern.is_undefined() && !pattern.is_null() {
                line.push(b"MATCH".to_vec());
                line.push(reader.native(pattern, &|| "scan: argument 'match'".into())?);
            }
            Ok((line, flavor.reply(), "scan"))
        });
        let page: Array = JsFuture::from(page).await?.unchecked_into();
        let next = page.get(0).as_string().unwrap_or_default();
        *self.cursor.borrow_mut() = Some(next).filter(|next| next != "0");
        self.buffer
            .borrow_mut()
            .extend(Array::from(&page.get(1)).iter());
        Ok(true)
    }

    async fn next(&self) -> Result<JsValue, JsValue> {
        loop {
            if let Some(item) = self.buffer.borrow_mut().pop_front() {
                return Ok(item);
            }
            if !self.fetch_page().await? {
                return Ok(JsValue::NULL);
            }
        }
    }
}

/// A scan in progress: `fetchone()`, `fetchall()` and `for await`.
#[wasm_bindgen]
pub struct Cursor {
    state: Rc<CursorState>,
}

impl Cursor {
    pub fn new(
        issuer: Rc<dyn Issuer>,
        flavor: ScanFlavor,
        key: JsValue,
        pattern: JsValue,
    ) -> Cursor {
        Cursor {
            state: Rc::new(CursorState {
                issuer,
                flavor,
                key,
                pattern,
                cursor: RefCell::new(Some("0".into())),
                buffer: RefCell::new(VecDeque::new()),
                last_call: RefCell::new(None),
            }),
        }
    }

    /// Runs `call` after every earlier call on this cursor has finished.
    fn serialised<F>(&self, call: impl FnOnce(Rc<CursorState>) -> F + 'static) -> Promise
    where
        F: std::future::Future<Output = Result<JsValue, JsValue>> + 'static,
    {
        let earlier = self.state.last_call.borrow_mut().take();
        let state = Rc::clone(&self.state);
        let promise = future_to_promise(async move {
            if let Some(earlier) = earlier {
                let _ = JsFuture::from(earlier).await;
            }
            call(state).await
        });
        *self.state.last_call.borrow_mut() = Some(promise.clone());
        promise
    }
}

#[wasm_bindgen]
impl Cursor {
    /// The next item (`[field, value]` / `[member, score]` for hashes and
    /// sorted sets), or `null` after the last.
    pub fn fetchone(&self) -> Promise {
        self.serialised(|state| async move { state.next().await })
    }

    /// Every remaining item: an `Array` of keys, a `Set` of members, or a
    /// `Map` for hashes and sorted sets.
    pub fn fetchall(&self) -> Promise {
        self.serialised(|state| async move {
            let mut items = Vec::new();
            loop {
                let item = state.next().await?;
                if item.is_null() {
                    break;
                }
                items.push(item);
            }
            Ok(match state.flavor {
                ScanFlavor::Keys => items.into_iter().collect::<Array>().into(),
                ScanFlavor::Set => {
                    let set = Set::new(&JsValue::UNDEFINED);
                    items.iter().for_each(|item| {
                        set.add(item);
                    });
                    set.into()
                }
                ScanFlavor::Hash | ScanFlavor::SortedSet => {
                    let map = Map::new();
                    for pair in items {
                        let pair: Array = pair.unchecked_into();
                        map.set(&pair.get(0), &pair.get(1));
                    }
                    map.into()
                }
            })
        })
    }
}
