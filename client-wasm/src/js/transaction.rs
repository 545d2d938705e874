//! `Transaction`: commands queued between MULTI and EXEC.
//!
//! Each command method sends its command at once (Redis answers `QUEUED`)
//! and returns a Promise that settles only at `exec()`, with that command's
//! own result from EXEC's reply, or its own error. A watch conflict rejects
//! `exec()` and every queued Promise with `TransactionError`; so does
//! `discard()`. A dropped connection rejects them with `ConnectionLostError`.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Function, Promise};
use resp::Frame;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::connection::ConnInner;
use super::convert::{self, ArgReader};
use super::errors::{error, rejected, ErrorClass};
use super::socket::Socket;
use super::target::{Build, Issuer, Target};
use crate::core::ReplyKind;

#[wasm_bindgen(module = "/js/classes.js")]
extern "C" {
    /// Keeps a queuing error from being reported as unhandled: `exec()`
    /// reads it and rejects the command's own Promise with it.
    #[wasm_bindgen(js_name = handleLater)]
    fn handle_later(promise: &Promise);
}

/// A command queued in the transaction.
struct Queued {
    reply: ReplyKind,
    method: &'static str,
    resolve: Function,
    reject: Function,
    /// Settles with Redis's answer to queuing it: `QUEUED` or an error.
    queuing: Promise,
}

pub struct TxInner {
    conn: Rc<ConnInner>,
    socket: Rc<Socket>,
    queued: RefCell<Vec<Queued>>,
    finished: Cell<bool>,
}

impl Issuer for Rc<TxInner> {
    fn issue_with(&self, build: Build) -> Promise {
        if self.finished.get() {
            return rejected(
                ErrorClass::TransactionError,
                "the transaction is over: exec() or discard() was called",
            );
        }
        let reader = ArgReader {
            encoder: &self.socket.encoder,
            strict: self.socket.strict,
        };
        let (line, reply, method) = match build(&reader) {
            Ok(built) => built,
            Err(err) => return Promise::reject(&err),
        };
        let queuing = self.socket.send(line, ReplyKind::Status, method);
        handle_later(&queuing);
        let mut settlers = None;
        let promise = Promise::new(&mut |resolve, reject| settlers = Some((resolve, reject)));
        let (resolve, reject) = settlers.expect("a Promise runs its executor at once");
        self.queued.borrow_mut().push(Queued {
            reply,
            method,
            resolve,
            reject,
            queuing,
        });
        promise
    }
}

/// A transaction from `multi()`: every command method, plus `exec`,
/// `discard` and `unwatch`.
#[wasm_bindgen]
pub struct Transaction {
    inner: Rc<TxInner>,
}

impl Target for Transaction {
    fn issuer(&self) -> Rc<dyn Issuer> {
        Rc::new(Rc::clone(&self.inner))
    }
}

impl Transaction {
    pub fn new(conn: Rc<ConnInner>, socket: Rc<Socket>) -> Transaction {
        Transaction {
            inner: Rc::new(TxInner {
                conn,
                socket,
                queued: RefCell::new(Vec::new()),
                finished: Cell::new(false),
            }),
        }
    }

    /// Ends the transaction on this side: the connection takes commands again.
    fn finish(&self) -> Result<Vec<Queued>, JsValue> {
        if self.inner.finished.replace(true) {
            return Err(error(
                ErrorClass::TransactionError,
                "the transaction is over: exec() or discard() was called",
            ));
        }
        Ok(self.inner.queued.take())
    }
}

#[wasm_bindgen]
impl Transaction {
    /// Runs the queued commands. Their Promises settle with their results;
    /// a watch conflict rejects with `TransactionError`.
    pub async fn exec(&self) -> Result<(), JsValue> {
        let queued = self.finish()?;
        let reply = self
            .inner
            .socket
            .send_raw(vec![b"EXEC".to_vec()], "exec")
            .await;
        self.inner.conn.end_transaction();
        let mut queuing_errors = Vec::with_capacity(queued.len());
        for command in &queued {
            queuing_errors.push(JsFuture::from(command.queuing.clone()).await.err());
        }
        let failure = match reply {
            Ok(Frame::Array(results)) if results.len() == queued.len() => {
                let encoder = &self.inner.socket.encoder;
                for (command, result) in queued.iter().zip(results) {
                    let _ = match convert::reply(result, command.reply, encoder, command.method) {
                        Ok(value) => command.resolve.call1(&JsValue::NULL, &value),
                        Err(err) => command.reject.call1(&JsValue::NULL, &err),
                    };
                }
                return Ok(());
            }
            Ok(Frame::Null) => error(
                ErrorClass::TransactionError,
                "a watched key changed: the transaction was not executed",
            ),
            Ok(Frame::Error(message)) => error(
                ErrorClass::TransactionError,
                &format!(
                    "the transaction was aborted: {}",
                    String::from_utf8_lossy(&message)
                ),
            ),
            Ok(_) => error(
                ErrorClass::TransactionError,
                "EXEC gave a reply that does not match the queued commands",
            ),
            Err(why) => JsValue::from(why),
        };
        for (command, queuing_error) in queued.iter().zip(queuing_errors) {
            let _ = command
                .reject
                .call1(&JsValue::NULL, queuing_error.as_ref().unwrap_or(&failure));
        }
        Err(failure)
    }

    /// Abandons the transaction: the queued Promises reject with
    /// `TransactionError`.
    pub async fn discard(&self) -> Result<(), JsValue> {
        let queued = self.finish()?;
        let reply = self
            .inner
            .socket
            .send_raw(vec![b"DISCARD".to_vec()], "discard")
            .await;
        self.inner.conn.end_transaction();
        let discarded = error(
            ErrorClass::TransactionError,
            "the transaction was discarded",
        );
        for command in &queued {
            let _ = command.reject.call1(&JsValue::NULL, &discarded);
        }
        reply.map(|_| ()).map_err(JsValue::from)
    }

    /// Forget the watched keys (queued like the other commands).
    pub fn unwatch(&self) -> Promise {
        super::target::issue(&*self.issuer(), |_| {
            Ok((vec![b"UNWATCH".to_vec()], ReplyKind::Unit, "unwatch"))
        })
    }
}
