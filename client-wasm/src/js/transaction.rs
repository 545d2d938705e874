//! `Transaction`: commands queued between MULTI and EXEC.
//!
//! The core runs it (`Pool::multi`): each command is sent at once (Redis
//! answers `QUEUED`) and its Promise settles at `exec()`, with that
//! command's own result from EXEC's reply, or its own error. A watch
//! conflict rejects `exec()` and every queued Promise with
//! `TransactionError`; so does `discard()`, and a dropped connection rejects
//! them with `ConnectionLostError`.

use std::rc::Rc;

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

use super::client::{reply_error, ClientInner};
use super::convert::ArgReader;
use super::errors::{rejected, ErrorClass};
use super::target::{adopted, sending_methods, Target, Via};
use crate::core::cmd::Cmd;
use crate::core::pipeline::Outcome;
use crate::core::session::TxId;
use crate::core::ReplyKind;

/// A transaction from `multi()`: every command method, plus `exec`,
/// `discard` and `unwatch`.
#[wasm_bindgen]
pub struct Transaction {
    client: Rc<ClientInner>,
    tx: TxId,
}

impl Target for Transaction {
    fn via(&self) -> Via {
        Via::Transaction(Rc::clone(&self.client), self.tx)
    }
}

impl Transaction {
    /// `multi(watch)` of every client class: one future for them all.
    pub fn begin(client: &Rc<ClientInner>, watch: JsValue) -> Promise {
        future_to_promise(Transaction::started(Rc::clone(client), watch))
    }

    /// WATCH `watch` (any iterable of keys, or nothing), then MULTI, on a
    /// connection the transaction holds until exec or discard.
    async fn started(client: Rc<ClientInner>, watch: JsValue) -> Result<JsValue, JsValue> {
        let watch = match watch.is_undefined() || watch.is_null() {
            true => None,
            false => {
                let reader = ArgReader {
                    encoder: &client.encoder,
                    strict: client.strict,
                };
                let mut line = vec![b"WATCH".to_vec()];
                reader.list(
                    &watch,
                    &|| "multi: argument 'watch'".into(),
                    &mut line,
                    |k, d| reader.native(k, d),
                )?;
                Some(Cmd::lookup(line, ReplyKind::Unit))
            }
        };
        let (tx, begin) = client.core.borrow_mut().multi(watch, 0)?;
        let begun = Promise::new(&mut |resolve, reject| {
            client.wait(begin, move |_, outcome| {
                let _ = match outcome {
                    Outcome::Reply(frame) => match reply_error(&frame, "MULTI") {
                        Some(error) => reject.call1(&JsValue::NULL, &error),
                        None => resolve.call0(&JsValue::NULL),
                    },
                    Outcome::Failed(why) => reject.call1(&JsValue::NULL, &why.into()),
                    _ => Ok(JsValue::UNDEFINED),
                };
            });
        });
        JsFuture::from(begun).await?;
        let transaction = Transaction {
            client: Rc::clone(&client),
            tx,
        };
        Ok(adopted(transaction.into(), &client))
    }
}

sending_methods!(Transaction);

#[wasm_bindgen]
impl Transaction {
    /// Runs the queued commands. Their Promises settle with their results;
    /// a watch conflict rejects with `TransactionError`.
    pub fn exec(&self) -> Promise {
        self.client.tx_end(self.tx, true)
    }

    /// Abandons the transaction: the queued Promises reject with
    /// `TransactionError`.
    pub fn discard(&self) -> Promise {
        self.client.tx_end(self.tx, false)
    }

    /// Forget the watched keys (queued like the other commands).
    pub fn unwatch(&self) -> Promise {
        self.via()
            .send(Cmd::lookup(["UNWATCH"], ReplyKind::Unit), None)
    }

    /// Refused, as the seed's peer refuses it.
    pub fn multi(&self) -> Promise {
        rejected(ErrorClass::RedisError, "Multi calls can not be nested.")
    }

    /// Refused, as the seed's peer refuses it.
    #[wasm_bindgen(js_name = startSubscribe)]
    pub fn start_subscribe(&self) -> Promise {
        rejected(
            ErrorClass::RedisError,
            "Cannot start pubsub listener when a protocol is in use.",
        )
    }
}
