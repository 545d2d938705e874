//! One browser WebSocket and the pipeline that runs over it.
//!
//! An open socket keeps itself alive, as a browser WebSocket does: a
//! connection the user no longer references still settles every Promise it
//! gave out. The event handlers hold only a weak reference; the socket holds
//! a strong one to itself from the moment it opens until it closes, and then
//! lets go, so a closed connection is freed with its handlers (which are
//! owned here, never leaked with `forget`, and detached on drop). Writes are
//! batched: commands issued in one JS task are encoded into the pipeline and
//! flushed together by one microtask, as one WebSocket message (several
//! for a write over [`MAX_MESSAGE`]).

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use js_sys::{Array, ArrayBuffer, Function, Promise, Uint8Array};
use resp::Frame;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};

use super::convert;
use super::encoder::Encoder;
use super::errors::{error, ErrorClass};
use super::old_pipeline::{self as pipeline, Delivery, Outcome, Pipeline};
use super::replies::Stream;
use crate::core::{ClientError, ReplyKind};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = queueMicrotask)]
    fn queue_microtask(callback: &Function);
}

/// The largest WebSocket message sent. A bigger write (a large value, a
/// long pipeline) goes as several messages, which the bridge joins again
/// (it parses commands across messages): so no message is refused for its
/// size, and neither side has to hold one whole command in one buffer.
const MAX_MESSAGE: usize = 256 * 1024;

/// Where a reply goes: a Promise, or (for the few callers that read raw
/// frames, such as `exec`) a slot that a Promise wakes the reader of.
enum Sink {
    Promise {
        resolve: Function,
        reject: Function,
    },
    Frame {
        slot: Rc<RefCell<Option<Result<Frame, ClientError>>>>,
        wake: Function,
    },
}

/// A command waiting for its reply: where the reply goes, what it is to
/// become, and the container of a reply being streamed.
#[derive(Clone)]
pub struct Request(Rc<RequestState>);

struct RequestState {
    sink: Sink,
    reply: ReplyKind,
    method: &'static str,
    blocking: bool,
    stream: RefCell<Option<Stream>>,
}

impl pipeline::Request for Request {
    fn streams(&self) -> bool {
        self.0.reply.streams() && matches!(self.0.sink, Sink::Promise { .. })
    }
}

impl RequestState {
    fn new(sink: Sink, reply: ReplyKind, method: &'static str) -> RequestState {
        let blocking = matches!(reply, ReplyKind::BlockingPop | ReplyKind::NativeOrTimeout);
        RequestState {
            sink,
            reply,
            method,
            blocking,
            stream: RefCell::new(None),
        }
    }

    fn resolve(&self, value: &JsValue) {
        if let Sink::Promise { resolve, .. } = &self.sink {
            let _ = resolve.call1(&JsValue::NULL, value);
        }
    }

    fn reject(&self, error: &JsValue) {
        if let Sink::Promise { reject, .. } = &self.sink {
            let _ = reject.call1(&JsValue::NULL, error);
        }
    }

    /// Fails the request: its Promise if it is still pending, else the
    /// container it already resolved to.
    fn fail(&self, why: ClientError) {
        if let Sink::Frame { slot, wake } = &self.sink {
            *slot.borrow_mut() = Some(Err(why));
            let _ = wake.call0(&JsValue::NULL);
            return;
        }
        let error = JsValue::from(why);
        match self.stream.borrow_mut().take() {
            Some(stream) => stream.fail(&error),
            None => self.reject(&error),
        }
    }
}

/// A request whose reply settles the returned Promise.
fn promised_request(reply: ReplyKind, method: &'static str) -> (Promise, Request) {
    let mut sink = None;
    let promise =
        Promise::new(&mut |resolve, reject| sink = Some(Sink::Promise { resolve, reject }));
    let sink = sink.expect("a Promise runs its executor at once");
    (
        promise,
        Request(Rc::new(RequestState::new(sink, reply, method))),
    )
}

/// The Promise settlers of a pending wait (the socket opening).
type Waiter = (Function, Function);

/// What is called with each published message in pub/sub mode.
pub type PublishedHandler = Rc<dyn Fn(Frame)>;

/// How to open a socket.
#[derive(Clone)]
pub struct SocketOptions {
    pub url: String,
    /// The `Sec-WebSocket-Protocol` values to offer (the bridge token).
    pub protocols: Vec<String>,
    pub encoder: Encoder,
    pub strict: bool,
}

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
    blocking: Cell<usize>,
    published: RefCell<Option<PublishedHandler>>,
    on_closed: RefCell<Option<Box<dyn FnOnce()>>>,
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
    pub async fn open(options: &SocketOptions) -> Result<Rc<Socket>, JsValue> {
        let url = &options.url;
        let ws = if options.protocols.is_empty() {
            WebSocket::new(url)
        } else {
            let protocols: Array = options
                .protocols
                .iter()
                .map(|p| JsValue::from(p.as_str()))
                .collect();
            WebSocket::new_with_str_sequence(url, &protocols)
        }
        .map_err(|cause| {
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
            encoder: options.encoder.clone(),
            strict: options.strict,
            pipeline: RefCell::new(Pipeline::new()),
            flush_queued: Cell::new(false),
            opening: RefCell::new(None),
            handlers: RefCell::new(None),
            keep_alive: RefCell::new(None),
            blocking: Cell::new(0),
            published: RefCell::new(None),
            on_closed: RefCell::new(None),
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
        fn weakly<E: 'static>(socket: &Rc<Socket>, f: fn(&Socket, E)) -> impl FnMut(E) + 'static {
            let weak: Weak<Socket> = Rc::downgrade(socket);
            move |event| {
                if let Some(socket) = weak.upgrade() {
                    f(&socket, event)
                }
            }
        }
        let mut open = weakly(self, |socket, ()| socket.on_open());
        let mut flush = weakly(self, |socket, ()| socket.flush());
        let handlers = Handlers {
            open: Closure::new(move || open(())),
            message: Closure::new(weakly(self, Socket::on_message)),
            close: Closure::new(weakly(self, |socket, event: CloseEvent| {
                socket.on_close(&event)
            })),
            flush: Closure::new(move || flush(())),
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
        let broken = self.pipeline.borrow().is_closed();
        self.settle(delivered);
        if broken {
            let _ = self.ws.close_with_code_and_reason(1002, "protocol error");
            self.release();
        }
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

    /// Closes the pipeline with `why`, rejecting every request in flight.
    fn fail(&self, why: ClientError) {
        let failed = self.pipeline.borrow_mut().close(why);
        self.settle(failed);
        self.release();
    }

    /// The socket is done: tell whoever watches it, and stop keeping it
    /// alive. The last reference may be that one, and this may run inside
    /// one of the socket's own handlers: it is let go in a later task,
    /// never while a handler runs.
    fn release(&self) {
        if let Some(on_closed) = self.on_closed.borrow_mut().take() {
            on_closed();
        }
        if let Some(socket) = self.keep_alive.borrow_mut().take() {
            wasm_bindgen_futures::spawn_local(async move { drop(socket) });
        }
    }

    /// Settles the Promises of matched replies, fills streamed containers
    /// and hands published messages on. The pipeline is not borrowed here:
    /// a custom encoder's JS may issue commands while decoding.
    fn settle(&self, delivered: Vec<Delivery<Request>>) {
        for delivery in delivered {
            let (Request(request), outcome) = match delivery {
                Delivery::Request(request, outcome) => (request, outcome),
                Delivery::Published(frame) => {
                    let handler = self.published.borrow().clone();
                    if let Some(handler) = handler {
                        handler(frame);
                    }
                    continue;
                }
            };
            if request.blocking && !matches!(outcome, Outcome::Start { .. } | Outcome::Item(_)) {
                self.blocking.set(self.blocking.get().saturating_sub(1));
            }
            if let Sink::Frame { slot, wake } = &request.sink {
                let result = match outcome {
                    Outcome::Failed(why) => Err(why),
                    Outcome::Reply(frame) => Ok(frame),
                    _ => Err(ClientError::Protocol(
                        "a streamed reply to a raw request".into(),
                    )),
                };
                *slot.borrow_mut() = Some(result);
                let _ = wake.call0(&JsValue::NULL);
                continue;
            }
            match outcome {
                Outcome::Reply(frame) => {
                    match convert::reply(frame, request.reply, &self.encoder, request.method) {
                        Ok(value) => request.resolve(&value),
                        Err(err) => request.reject(&err),
                    }
                }
                Outcome::Failed(why) => request.fail(why),
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
                        if let Some(stream) = request.stream.borrow_mut().take() {
                            stream.fail(&err);
                        }
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
        let (promise, request) = promised_request(reply, method);
        self.push(line, vec![request]);
        promise
    }

    /// Queues one command line that Redis answers `replies` times (one
    /// SUBSCRIBE for several channels), with a Promise for each answer.
    pub fn send_answered(
        &self,
        line: Vec<Vec<u8>>,
        reply: ReplyKind,
        method: &'static str,
        replies: usize,
    ) -> Vec<Promise> {
        let (promises, requests) = (0..replies)
            .map(|_| promised_request(reply, method))
            .unzip();
        self.push(line, requests);
        promises
    }

    /// Queues one command line and resolves to its raw reply frame.
    pub async fn send_raw(
        &self,
        line: Vec<Vec<u8>>,
        method: &'static str,
    ) -> Result<Frame, ClientError> {
        let slot = Rc::new(RefCell::new(None));
        let mut wake = None;
        let woken = Promise::new(&mut |resolve, _| wake = Some(resolve));
        let sink = Sink::Frame {
            slot: Rc::clone(&slot),
            wake: wake.expect("a Promise runs its executor at once"),
        };
        self.push(
            line,
            vec![Request(Rc::new(RequestState::new(
                sink,
                ReplyKind::Plain,
                method,
            )))],
        );
        let _ = JsFuture::from(woken).await;
        let result = slot.borrow_mut().take();
        result.unwrap_or_else(|| Err(ClientError::ConnectionLost("no reply".into())))
    }

    fn push(&self, line: Vec<Vec<u8>>, requests: Vec<Request>) {
        let blocking = requests.iter().filter(|Request(r)| r.blocking).count();
        let pushed = self.pipeline.borrow_mut().push_many(line.iter(), requests);
        match pushed {
            Ok(()) => {
                self.blocking.set(self.blocking.get() + blocking);
                self.queue_flush();
            }
            Err((requests, why)) => {
                for Request(request) in requests {
                    request.fail(why.clone());
                }
            }
        }
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
        self.pipeline.borrow_mut().flush(|bytes| {
            sent = bytes
                .chunks(MAX_MESSAGE)
                .try_for_each(|message| self.ws.send_with_u8_array(message));
        });
        if sent.is_err() {
            self.fail(ClientError::ConnectionLost(format!(
                "sending to {} failed",
                self.url
            )));
        }
    }

    /// Closes the socket by the user's wish: requests in flight reject now.
    pub fn close(&self) {
        self.on_closed.borrow_mut().take();
        let _ = self
            .ws
            .close_with_code_and_reason(1000, "closed by the client");
        self.fail(ClientError::ConnectionLost(
            "the connection was closed by the client".into(),
        ));
    }

    /// Calls `on_closed` once when the socket closes by any cause other
    /// than [`Socket::close`].
    pub fn when_closed(&self, on_closed: Box<dyn FnOnce()>) {
        if self.pipeline.borrow().is_closed() {
            return;
        }
        *self.on_closed.borrow_mut() = Some(on_closed);
    }

    /// Enters pub/sub mode; published messages go to `handler`.
    pub fn enter_pubsub(&self, handler: PublishedHandler) {
        self.pipeline.borrow_mut().enter_pubsub();
        *self.published.borrow_mut() = Some(handler);
    }

    pub fn in_pubsub(&self) -> bool {
        self.pipeline.borrow().in_pubsub()
    }

    pub fn in_blocking_call(&self) -> bool {
        self.blocking.get() > 0
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
