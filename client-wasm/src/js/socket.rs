//! One browser WebSocket and the pipeline that runs over it.
//!
//! An open socket keeps itself alive, as a browser WebSocket does: a
//! connection the user no longer references still settles every Promise it
//! gave out. The event handlers hold only a weak reference; the socket holds
//! a strong one to itself from the moment it opens until it closes, and then
//! lets go, so a closed connection is freed with its handlers (which are
//! owned here, never leaked with `forget`, and detached on drop). Writes are batched: commands issued
//! in one JS task are encoded into the pipeline and flushed together by one
//! microtask, as one WebSocket message.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use js_sys::{ArrayBuffer, Function, Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};

use super::convert;
use super::encoder::Encoder;
use super::errors::{error, ErrorClass};
use super::replies::Stream;
use crate::core::pipeline::{self, Delivery, Outcome};
use crate::core::{ClientError, Pipeline, ReplyKind};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = queueMicrotask)]
    fn queue_microtask(callback: &Function);
}

/// A command waiting for its reply: how to settle its Promise, what the
/// reply is to become, and the container of a reply being streamed.
#[derive(Clone)]
pub struct Request(Rc<RequestState>);

pub struct RequestState {
    resolve: Function,
    reject: Function,
    reply: ReplyKind,
    method: &'static str,
    stream: RefCell<Option<Stream>>,
}

impl pipeline::Request for Request {
    fn streams(&self) -> bool {
        self.0.reply.streams()
    }
}

impl RequestState {
    fn resolve(&self, value: &JsValue) {
        let _ = self.resolve.call1(&JsValue::NULL, value);
    }

    fn reject(&self, error: &JsValue) {
        let _ = self.reject.call1(&JsValue::NULL, error);
    }

    /// Fails the request: its Promise if it is still pending, else the
    /// container it already resolved to.
    fn fail(&self, error: &JsValue) {
        match self.stream.borrow_mut().take() {
            Some(stream) => stream.fail(error),
            None => self.reject(error),
        }
    }
}

/// The Promise settlers of a pending wait (the socket opening).
type Waiter = (Function, Function);

pub struct Socket {
    ws: WebSocket,
    url: String,
    pub encoder: Encoder,
    pub strict: bool,
    pipeline: RefCell<Pipeline<Request>>,
    flush_queued: Cell<bool>,
    opening: RefCell<Option<Waiter>>,
    handlers: RefCell<Option<Handlers>>,
    keep_alive: RefCell<Option<Rc<Socket>>>,
}

struct Handlers {
    open: Closure<dyn FnMut()>,
    message: Closure<dyn FnMut(MessageEvent)>,
    close: Closure<dyn FnMut(CloseEvent)>,
    flush: Closure<dyn FnMut()>,
}

impl Socket {
    /// Opens the WebSocket and resolves once it is open; a refused or failed
    /// handshake rejects with `NotConnectedError`.
    pub async fn open(url: &str, encoder: Encoder, strict: bool) -> Result<Rc<Socket>, JsValue> {
        let ws = WebSocket::new(url).map_err(|cause| {
            let why = cause
                .dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
                .unwrap_or_default();
            error(
                ErrorClass::NotConnectedError,
                &format!("cannot open a WebSocket to {url}: {why}"),
            )
        })?;
        ws.set_binary_type(BinaryType::Arraybuffer);
        let socket = Rc::new(Socket {
            ws,
            url: url.to_owned(),
            encoder,
            strict,
            pipeline: RefCell::new(Pipeline::new()),
            flush_queued: Cell::new(false),
            opening: RefCell::new(None),
            handlers: RefCell::new(None),
            keep_alive: RefCell::new(None),
        });
        socket.attach();
        let opened = Promise::new(&mut |resolve, reject| {
            *socket.opening.borrow_mut() = Some((resolve, reject));
        });
        JsFuture::from(opened).await?;
        if !socket.pipeline.borrow().is_closed() {
            *socket.keep_alive.borrow_mut() = Some(Rc::clone(&socket));
        }
        Ok(socket)
    }

    fn attach(self: &Rc<Self>) {
        let weak = Rc::downgrade(self);
        let with = move |f: fn(&Socket)| {
            let weak: Weak<Socket> = weak.clone();
            move || {
                if let Some(socket) = weak.upgrade() {
                    f(&socket)
                }
            }
        };
        let weak = Rc::downgrade(self);
        let on_message = move |event: MessageEvent| {
            if let Some(socket) = weak.upgrade() {
                socket.on_message(event)
            }
        };
        let weak = Rc::downgrade(self);
        let on_close = move |event: CloseEvent| {
            if let Some(socket) = weak.upgrade() {
                socket.on_close(&event)
            }
        };
        let handlers = Handlers {
            open: Closure::new(with(Socket::on_open)),
            message: Closure::new(on_message),
            close: Closure::new(on_close),
            flush: Closure::new(with(Socket::flush)),
        };
        self.ws
            .set_onopen(Some(handlers.open.as_ref().unchecked_ref()));
        self.ws
            .set_onmessage(Some(handlers.message.as_ref().unchecked_ref()));
        self.ws
            .set_onclose(Some(handlers.close.as_ref().unchecked_ref()));
        *self.handlers.borrow_mut() = Some(handlers);
    }

    fn on_open(&self) {
        if let Some((resolve, _)) = self.opening.borrow_mut().take() {
            let _ = resolve.call0(&JsValue::NULL);
        }
        self.flush();
    }

    fn on_message(&self, event: MessageEvent) {
        let Some(buffer) = event
            .data()
            .dyn_ref::<ArrayBuffer>()
            .map(|data| Uint8Array::new(data))
        else {
            self.fail(ClientError::Protocol(
                "the bridge sent a text frame; only binary frames carry RESP".into(),
            ));
            return;
        };
        let delivered = {
            let mut pipeline = self.pipeline.borrow_mut();
            let input = pipeline.input();
            let start = input.len();
            input.resize(start + buffer.length() as usize, 0);
            buffer.copy_to(&mut input[start..]);
            pipeline.replies()
        };
        if self.pipeline.borrow().is_closed() {
            let _ = self.ws.close_with_code_and_reason(1002, "protocol error");
        }
        self.settle(delivered);
    }

    fn on_close(&self, event: &CloseEvent) {
        let reason = event.reason();
        let why = if reason.is_empty() {
            format!("WebSocket to {} closed (code {})", self.url, event.code())
        } else {
            format!(
                "WebSocket to {} closed (code {}: {reason})",
                self.url,
                event.code()
            )
        };
        if let Some((_, reject)) = self.opening.borrow_mut().take() {
            let _ = reject.call1(&JsValue::NULL, &error(ErrorClass::NotConnectedError, &why));
        }
        self.fail(ClientError::ConnectionLost(why));
    }

    /// Closes the pipeline with `why`, rejecting every request in flight,
    /// and stops keeping the socket alive. The last reference may be that
    /// one, and this may run inside one of the socket's own handlers: it is
    /// let go in a later task, never while a handler runs.
    fn fail(&self, why: ClientError) {
        let failed = self.pipeline.borrow_mut().close(why);
        self.settle(failed);
        if let Some(socket) = self.keep_alive.borrow_mut().take() {
            wasm_bindgen_futures::spawn_local(async move { drop(socket) });
        }
    }

    /// Settles the Promises of matched replies and fills streamed
    /// containers. The pipeline is not borrowed here: a custom encoder's JS
    /// may issue commands while decoding.
    fn settle(&self, delivered: Vec<Delivery<Request>>) {
        for (Request(request), outcome) in delivered {
            match outcome {
                Outcome::Reply(frame) => {
                    match convert::reply(frame, request.reply, &self.encoder, request.method) {
                        Ok(value) => request.resolve(&value),
                        Err(err) => request.reject(&err),
                    }
                }
                Outcome::Failed(why) => request.fail(&why.into()),
                Outcome::Start { len, .. } => {
                    let stream = Stream::new(request.reply, len);
                    request.resolve(stream.container());
                    *request.stream.borrow_mut() = Some(stream);
                }
                Outcome::Item(frame) => {
                    let pushed = match request.stream.borrow_mut().as_mut() {
                        Some(stream) => stream.push(frame, &self.encoder),
                        None => Ok(()),
                    };
                    if let Err(err) = pushed {
                        request.fail(&err);
                    }
                }
                Outcome::End => {
                    if let Some(stream) = request.stream.borrow_mut().take() {
                        stream.end();
                    }
                }
            }
        }
    }

    /// Queues one command line; its Promise settles with the reply.
    pub fn send(&self, line: Vec<Vec<u8>>, reply: ReplyKind, method: &'static str) -> Promise {
        let mut request = None;
        let promise = Promise::new(&mut |resolve, reject| {
            request = Some(RequestState {
                resolve,
                reject,
                reply,
                method,
                stream: RefCell::new(None),
            });
        });
        let request = Request(Rc::new(
            request.expect("a Promise runs its executor at once"),
        ));
        let pushed = self.pipeline.borrow_mut().push(line.iter(), request);
        match pushed {
            Ok(()) => self.queue_flush(),
            Err((Request(request), why)) => request.reject(&why.into()),
        }
        promise
    }

    fn queue_flush(&self) {
        if self.flush_queued.replace(true) {
            return;
        }
        if let Some(handlers) = self.handlers.borrow().as_ref() {
            queue_microtask(handlers.flush.as_ref().unchecked_ref());
        }
    }

    /// Sends everything queued as one WebSocket message, once the socket is
    /// open (until then, `on_open` flushes).
    fn flush(&self) {
        self.flush_queued.set(false);
        if self.ws.ready_state() != WebSocket::OPEN {
            return;
        }
        let mut sent = Ok(());
        self.pipeline
            .borrow_mut()
            .flush(|bytes| sent = self.ws.send_with_u8_array(bytes));
        if sent.is_err() {
            self.fail(ClientError::ConnectionLost(format!(
                "sending to {} failed",
                self.url
            )));
        }
    }

    /// Closes the socket by the user's wish: requests in flight reject now.
    pub fn close(&self) {
        let _ = self
            .ws
            .close_with_code_and_reason(1000, "closed by the client");
        self.fail(ClientError::ConnectionLost(
            "the connection was closed by the client".into(),
        ));
    }

    pub fn is_connected(&self) -> bool {
        self.ws.ready_state() == WebSocket::OPEN && !self.pipeline.borrow().is_closed()
    }

    pub fn in_flight(&self) -> usize {
        self.pipeline.borrow().in_flight()
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        let failed = self.pipeline.get_mut().close(ClientError::ConnectionLost(
            "the connection was dropped".into(),
        ));
        self.settle(failed);
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        let _ = self.ws.close();
    }
}
