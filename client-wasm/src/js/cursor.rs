//! Cursors over SCAN, SSCAN, HSCAN and ZSCAN: the walk is the core's
//! (`crate::core::cursor`), the items are turned into JS values here, and
//! calls are serialised so two `fetchone()` in flight never wait for the
//! same page.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use js_sys::{Array, Map, Promise, Set};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

use super::convert::scan_items;
use super::target::Via;
use crate::core::cursor::{Cursor as Walk, ScanKind};
use crate::core::pipeline::Outcome;

struct CursorState {
    via: Via,
    /// The walk, or the argument error every call rejects with.
    walk: Result<RefCell<Walk>, JsValue>,
    buffer: RefCell<VecDeque<JsValue>>,
    last_call: RefCell<Option<Promise>>,
}

impl CursorState {
    /// Asks for the next page; `false` once the scan is complete.
    async fn fetch_page(self: &Rc<Self>) -> Result<bool, JsValue> {
        let walk = self.walk.as_ref().map_err(Clone::clone)?;
        let Some(page) = walk.borrow_mut().next_page() else {
            return Ok(false);
        };
        let state = Rc::clone(self);
        let mut settlers = None;
        let promise = Promise::new(&mut |resolve, reject| settlers = Some((resolve, reject)));
        let (resolve, reject) = settlers.expect("a Promise runs its executor at once");
        let failed = reject.clone();
        let sent = self.via.request_native(page, move |client, outcome| {
            let Ok(walk) = &state.walk else { return };
            let items = match outcome {
                Outcome::Reply(frame) => {
                    let found = walk.borrow_mut().on_page(frame);
                    let kind = walk.borrow().kind();
                    found
                        .map_err(JsValue::from)
                        .and_then(|found| scan_items(found, kind, &client.encoder))
                }
                Outcome::Failed(why) => {
                    walk.borrow_mut().on_failed();
                    Err(why.into())
                }
                _ => return,
            };
            let _ = match items {
                Ok(items) => resolve.call1(&JsValue::NULL, &items),
                Err(err) => reject.call1(&JsValue::NULL, &err),
            };
        });
        if let Err(why) = sent {
            walk.borrow_mut().on_failed();
            let _ = failed.call1(&JsValue::NULL, &why.into());
        }
        let items: Array = JsFuture::from(promise).await?.unchecked_into();
        self.buffer.borrow_mut().extend(items.iter());
        Ok(true)
    }

    async fn next(self: &Rc<Self>) -> Result<JsValue, JsValue> {
        loop {
            if let Some(item) = self.buffer.borrow_mut().pop_front() {
                return Ok(item);
            }
            if !self.fetch_page().await? {
                return Ok(JsValue::NULL);
            }
        }
    }

    fn kind(&self) -> Option<ScanKind> {
        self.walk.as_ref().ok().map(|walk| walk.borrow().kind())
    }
}

/// A scan in progress: `fetchone()`, `fetchall()` and `for await`.
#[wasm_bindgen]
pub struct Cursor {
    state: Rc<CursorState>,
}

impl Cursor {
    pub fn new(via: Via, kind: ScanKind, key: JsValue, pattern: JsValue) -> Cursor {
        let reader = via.reader();
        let name = kind.command().to_ascii_lowercase();
        let walk = (|| {
            let key = match kind {
                ScanKind::Keys => None,
                _ => Some(reader.native(&key, &|| format!("{name}: argument 'key'"))?),
            };
            let pattern = match pattern.is_undefined() || pattern.is_null() {
                true => None,
                false => Some(reader.native(&pattern, &|| format!("{name}: argument 'match'"))?),
            };
            Ok(RefCell::new(Walk::new(kind, key, pattern)))
        })();
        Cursor {
            state: Rc::new(CursorState {
                via,
                walk,
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
            Ok(match state.kind() {
                Some(ScanKind::Set) => {
                    let set = Set::new(&JsValue::UNDEFINED);
                    items.iter().for_each(|item| {
                        set.add(item);
                    });
                    set.into()
                }
                Some(ScanKind::Hash | ScanKind::SortedSet) => {
                    let map = Map::new();
                    for pair in items {
                        let pair: Array = pair.unchecked_into();
                        map.set(&pair.get(0), &pair.get(1));
                    }
                    map.into()
                }
                _ => items.into_iter().collect::<Array>().into(),
            })
        })
    }
}
