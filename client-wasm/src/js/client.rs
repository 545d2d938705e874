//! The host of the core: transports, timers, events, and the Promises.
//!
//! A [`ClientInner`] drives one [`Core`]: a pool (a `Connection` is a pool
//! of one) or a cluster router over a pool per node:
//! it feeds the core the transports' events and the clock, and carries out
//! what the core answers — dial, close, settle a request, dispatch an
//! event. The core sees ids, bytes and frames only. A request's Promise is
//! made and settled in JS (`js/install.js`), in a map from request id to
//! its resolvers: that is the only place JS functions are held, and it
//! spares each command the wasm-to-JS round trips of making a Promise here.
//!
//! Writes are batched: commands issued in one JS task are queued in the core
//! and transmitted by one microtask, as one WebSocket message. One timer at
//! most is armed, for the core's next deadline; a closed client has no timer
//! and no socket left, so nothing keeps a Node process alive after `close()`.
//! While it is not closed, the client keeps itself alive (as a WebSocket
//! does): a connection the user no longer references still settles every
//! Promise it gave out.

use crate::core::ids::IdMap;
use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use js_sys::{Function, Object, Promise, Reflect, Uint8Array};
use resp::Frame;
use wasm_bindgen::prelude::*;
use web_sys::{AbortSignal, CustomEvent, CustomEventInit, EventTarget};

use super::convert;
use super::encoder::Encoder;
use super::errors::{error, ErrorClass};
use super::replies::Stream;
use super::subscription::SubState;
use super::transport::{Events, Transport};
use crate::core::cmd::Cmd;
use crate::core::gather::{bulk_header, Gathering, BULK_HEADER_MAX, MIN_GATHERED};
use crate::core::pipeline::Outcome;
use crate::core::pool::Config;
use crate::core::session::{Event, Output, RequestId, TxId};
use crate::core::Core;
use crate::core::{ClientError, ReplyKind};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = queueMicrotask)]
    fn queue_microtask(callback: &Function);
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(callback: &Function, ms: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(handle: &JsValue);
}

#[wasm_bindgen(module = "/js/install.js")]
extern "C" {
    /// A Promise for request `id`, its resolvers kept in `settlers`.
    fn deferred(settlers: &JsValue, id: f64) -> Promise;
    /// Resolves request `id`'s Promise.
    #[wasm_bindgen(js_name = resolveRequest)]
    fn resolve_request(settlers: &JsValue, id: f64, value: &JsValue);
    /// Rejects request `id`'s Promise.
    #[wasm_bindgen(js_name = rejectRequest)]
    fn reject_request(settlers: &JsValue, id: f64, error: &JsValue);
}

/// What settles when a request completes.
pub enum Sink {
    /// A Promise (in `settlers`) that gets the reply as the JS value of its kind.
    Value {
        reply: ReplyKind,
        command: Cow<'static, str>,
        stream: Option<Stream>,
        abort: Option<Abort>,
    },
    /// Rust that reads the outcome itself (cursor pages, `multi()`).
    Native(Then),
}

/// What a [`Sink::Native`] runs with the outcome.
pub type Then = Box<dyn FnOnce(&Rc<ClientInner>, Outcome)>;

/// An `abort` listener on a request's signal, removed when it settles.
pub struct Abort {
    signal: AbortSignal,
    listener: Closure<dyn FnMut()>,
}

impl Drop for Abort {
    fn drop(&mut self) {
        let _ = self
            .signal
            .remove_event_listener_with_callback("abort", self.listener.as_ref().unchecked_ref());
    }
}

/// How the client connects: the options of `create`, read.
pub struct ClientOptions {
    pub url: String,
    /// The `Sec-WebSocket-Protocol` values to offer (the bridge token).
    pub protocols: Vec<String>,
    pub encoder: Encoder,
    pub strict: bool,
    /// `WebSocket`, or the constructor of the `WebSocket` option.
    pub websocket: Function,
    pub config: Config,
    /// `{ encoder, strict }` for the JS command builders.
    pub builders: JsValue,
}

pub struct ClientInner {
    pub core: RefCell<Box<dyn Core>>,
    pub encoder: Encoder,
    pub strict: bool,
    /// `{ encoder, strict }` for the JS command builders.
    pub builders: JsValue,
    url: String,
    protocols: Vec<String>,
    websocket: Function,
    transports: RefCell<Vec<Option<Transport>>>,
    pending: RefCell<IdMap<RequestId, Sink>>,
    /// The resolvers of the pending Promises, by request id (a JS `Map`).
    settlers: JsValue,
    pub events: EventTarget,
    subscriptions: RefCell<Vec<Option<Rc<SubState>>>>,
    /// The large bulk replies being gathered, by session (`core::gather`).
    gathering: RefCell<IdMap<usize, Gather>>,
    /// A gathered value, from when its session completed it to when its
    /// request settles (in the same `drive`).
    gathered: RefCell<Option<Uint8Array>>,
    opening: RefCell<Option<(Function, Function)>>,
    ready_once: RefCell<Vec<bool>>,
    timer: RefCell<Option<(f64, JsValue)>>,
    on_timer: Closure<dyn FnMut()>,
    on_flush: Closure<dyn FnMut()>,
    flush_queued: Cell<bool>,
    /// The time read once in this JS task (cleared by the flush), for the
    /// requests it issues: reading the clock per command showed in profiles.
    task_now: Cell<Option<f64>>,
    keep_alive: RefCell<Option<Rc<ClientInner>>>,
    ended: Cell<bool>,
}

pub fn now() -> f64 {
    js_sys::Date::now()
}

/// A seed for a core's reconnect jitter.
pub fn seed() -> u64 {
    (js_sys::Math::random() * 2f64.powi(53)) as u64
}

impl ClientInner {
    /// Starts `core` and resolves once sessions `0..ready` were each ready
    /// once; rejects when one ends first (see `Session` for when that is).
    pub async fn connect_core(
        options: ClientOptions,
        core: Box<dyn Core>,
        ready: usize,
    ) -> Result<Rc<ClientInner>, JsValue> {
        let size = core.size();
        let inner = Rc::new_cyclic(|weak: &Weak<ClientInner>| {
            let (timer, flush) = (weak.clone(), weak.clone());
            ClientInner {
                core: RefCell::new(core),
                encoder: options.encoder,
                strict: options.strict,
                builders: options.builders,
                url: options.url,
                protocols: options.protocols,
                websocket: options.websocket,
                transports: RefCell::new((0..size).map(|_| None).collect()),
                pending: RefCell::new(IdMap::default()),
                settlers: js_sys::Map::new().into(),
                events: EventTarget::new().expect("EventTarget exists"),
                subscriptions: RefCell::new(vec![None; size]),
                gathering: RefCell::new(IdMap::default()),
                gathered: RefCell::new(None),
                opening: RefCell::new(None),
                ready_once: RefCell::new(vec![false; ready]),
                timer: RefCell::new(None),
                on_timer: Closure::new(move || {
                    if let Some(inner) = timer.upgrade() {
                        inner.timer.borrow_mut().take();
                        inner.core.borrow_mut().on_tick(now());
                        inner.drive();
                    }
                }),
                on_flush: Closure::new(move || {
                    if let Some(inner) = flush.upgrade() {
                        inner.flush_queued.set(false);
                        inner.task_now.set(None);
                        inner.drive();
                    }
                }),
                flush_queued: Cell::new(false),
                task_now: Cell::new(None),
                keep_alive: RefCell::new(None),
                ended: Cell::new(false),
            }
        });
        let opened = Promise::new(&mut |resolve, reject| {
            *inner.opening.borrow_mut() = Some((resolve, reject));
        });
        *inner.keep_alive.borrow_mut() = Some(Rc::clone(&inner));
        inner.core.borrow_mut().start(now());
        inner.drive();
        wasm_bindgen_futures::JsFuture::from(opened).await?;
        Ok(inner)
    }

    /// Carries out everything the core said, then sends what is queued and
    /// arms the timer for the next deadline.
    fn drive(self: &Rc<Self>) {
        loop {
            let outputs = self.core.borrow_mut().take_outputs();
            if outputs.is_empty() {
                break;
            }
            for output in outputs {
                self.carry_out(output);
            }
        }
        self.transmit();
        self.schedule();
    }

    fn carry_out(self: &Rc<Self>, output: Output) {
        match output {
            Output::Dial {
                session,
                generation,
            } => self.dial(session, generation),
            Output::Close {
                session,
                generation,
                code,
                reason,
            } => {
                let mut transports = self.transports.borrow_mut();
                if let Some(slot) = transports.get_mut(session) {
                    if slot.as_ref().is_some_and(|t| t.generation == generation) {
                        if let Some(transport) = slot.take() {
                            transport.close(code, &reason);
                            retire(transport);
                        }
                    }
                }
            }
            Output::Event(event) => self.event(event),
            Output::Completion(id, outcome) => self.complete(id, outcome),
            Output::Push { session, frame } => self.subscription(session).published(frame),
        }
    }

    fn dial(self: &Rc<Self>, session: usize, generation: u32) {
        let url = match self.core.borrow().path(session) {
            Some(path) => below(&self.url, &path),
            None => self.url.clone(),
        };
        let opened = Transport::open(
            &self.websocket,
            &url,
            &self.protocols,
            Rc::downgrade(self),
            session,
            generation,
        );
        match opened {
            Ok(transport) => {
                let mut transports = self.transports.borrow_mut();
                if transports.len() <= session {
                    transports.resize_with(session + 1, || None);
                }
                transports[session] = Some(transport);
            }
            Err(why) => self
                .core
                .borrow_mut()
                .on_closed(session, generation, 1006, &why, now()),
        }
    }

    fn transmit(self: &Rc<Self>) {
        let mut failed = Vec::new();
        {
            let transports = self.transports.borrow();
            self.core.borrow_mut().transmit(&mut |session, bytes| {
                if let Some(Some(transport)) = transports.get(session) {
                    if transport.send(bytes).is_err() {
                        failed.push((session, transport.generation));
                    }
                }
            });
        }
        if failed.is_empty() {
            return;
        }
        for (session, generation) in failed {
            self.core
                .borrow_mut()
                .on_closed(session, generation, 1006, "sending failed", now());
        }
        self.drive();
    }

    /// Arms one timer for the core's next deadline (none when idle).
    fn schedule(&self) {
        let deadline = self.core.borrow_mut().next_deadline();
        let mut timer = self.timer.borrow_mut();
        if timer.as_ref().map(|(at, _)| *at) == deadline {
            return;
        }
        if let Some((_, handle)) = timer.take() {
            clear_timeout(&handle);
        }
        if let Some(at) = deadline {
            let handle = set_timeout(
                self.on_timer.as_ref().unchecked_ref(),
                (at - now()).max(0.0),
            );
            *timer = Some((at, handle));
        }
    }

    /// The time for a request: read once per JS task.
    pub fn clock(&self) -> f64 {
        if let Some(now) = self.task_now.get() {
            return now;
        }
        let now = now();
        self.task_now.set(Some(now));
        self.queue_flush();
        now
    }

    fn queue_flush(&self) {
        if !self.flush_queued.replace(true) {
            queue_microtask(self.on_flush.as_ref().unchecked_ref());
        }
    }

    fn event(self: &Rc<Self>, event: Event) {
        let detail = Object::new();
        let set = |key: &str, value: &JsValue| {
            let _ = Reflect::set(&detail, &key.into(), value);
        };
        let (name, session) = match &event {
            Event::Connect { session } => ("connect", *session),
            Event::Ready { session } => ("ready", *session),
            Event::Reconnecting {
                session,
                attempt,
                delay,
            } => {
                set("attempt", &(*attempt).into());
                set("delay", &(*delay).into());
                ("reconnecting", *session)
            }
            Event::Error { session, error } => {
                set("error", &JsValue::from(error.clone()));
                ("error", *session)
            }
            Event::Close {
                session,
                code,
                reason,
            } => {
                set("code", &(*code).into());
                set("reason", &reason.as_str().into());
                ("close", *session)
            }
            Event::Invalidate { session, keys } => {
                let keys = match keys {
                    None => JsValue::NULL,
                    Some(keys) => keys
                        .iter()
                        .map(|key| self.encoder.decode(key).unwrap_or(JsValue::NULL))
                        .collect::<js_sys::Array>()
                        .into(),
                };
                set("keys", &keys);
                ("invalidate", *session)
            }
            Event::End { session, .. } => ("end", *session),
        };
        set("connection", &(session as u32).into());
        match event {
            Event::Ready { session } if session < self.ready_once.borrow().len() => {
                let mut once = self.ready_once.borrow_mut();
                once[session] = true;
                if once.iter().all(|&ready| ready) {
                    if let Some((resolve, _)) = self.opening.borrow_mut().take() {
                        let _ = resolve.call0(&JsValue::NULL);
                    }
                }
            }
            Event::End { cause, .. } => {
                if let Some((_, reject)) = self.opening.borrow_mut().take() {
                    let why = cause.unwrap_or_else(|| {
                        ClientError::NotConnected("closed before it was ready".into())
                    });
                    let _ = reject.call1(&JsValue::NULL, &JsValue::from(why));
                    self.close();
                }
                if !self.core.borrow().is_ended() {
                    self.dispatch(name, &detail);
                    return;
                }
                self.dispatch(name, &detail);
                self.ended();
                return;
            }
            _ => {}
        }
        self.dispatch(name, &detail);
    }

    fn dispatch(&self, name: &str, detail: &Object) {
        let init = CustomEventInit::new();
        init.set_detail(detail);
        if let Ok(event) = CustomEvent::new_with_event_init_dict(name, &init) {
            let _ = self.events.dispatch_event(&event);
        }
    }

    /// A RESP3 attribute map sent ahead of a reply: an `attributes` event
    /// `{ command, attributes: Map }`, and the reply resolves as without it.
    fn attributes(&self, command: &str, attributes: Vec<(Frame, Frame)>) {
        let map = convert::plain(Frame::Map(attributes), &self.encoder).unwrap_or(JsValue::NULL);
        let detail = Object::new();
        let _ = Reflect::set(&detail, &"command".into(), &command.into());
        let _ = Reflect::set(&detail, &"attributes".into(), &map);
        self.dispatch("attributes", &detail);
    }

    /// Every session is over: let go of the timer and of the client itself.
    fn ended(&self) {
        if self.ended.replace(true) {
            return;
        }
        if let Some((_, handle)) = self.timer.borrow_mut().take() {
            clear_timeout(&handle);
        }
        for subscription in self.subscriptions.borrow().iter().flatten() {
            subscription.close();
        }
        if let Some(me) = self.keep_alive.borrow_mut().take() {
            // This may run inside a handler of ours: let go in a later task.
            wasm_bindgen_futures::spawn_local(async move { drop(me) });
        }
    }

    pub fn close(self: &Rc<Self>) {
        self.core.borrow_mut().close();
        self.drive();
    }

    /// See `cacheStats()`.
    pub fn cache_stats(&self) -> JsValue {
        let Some(stats) = self.core.borrow().cache_stats() else {
            return JsValue::NULL;
        };
        let object = Object::new();
        for (name, value) in [
            ("hits", stats.hits as f64),
            ("misses", stats.misses as f64),
            ("invalidations", stats.invalidations as f64),
            ("evictions", stats.evictions as f64),
            ("bytes", stats.bytes as f64),
            ("entries", stats.entries as f64),
        ] {
            let _ = Reflect::set(&object, &name.into(), &value.into());
        }
        object.into()
    }

    /// The subscription state of `session`, created on first use (a
    /// `call('SUBSCRIBE')` on a Connection delivers to it too).
    pub fn subscription(self: &Rc<Self>, session: usize) -> Rc<SubState> {
        let mut subscriptions = self.subscriptions.borrow_mut();
        if subscriptions.len() <= session {
            subscriptions.resize(session + 1, None);
        }
        Rc::clone(subscriptions[session].get_or_insert_with(|| {
            Rc::new(SubState::new(
                Rc::downgrade(self),
                session,
                self.encoder.clone(),
            ))
        }))
    }

    // Requests.

    /// Sends `cmd` where the core decides; the Promise settles with the
    /// reply as the JS value of the command's reply kind.
    /// An aborted `signal` rejects it (see [`ClientInner::abort_on`]).
    pub fn request(self: &Rc<Self>, cmd: Cmd, signal: Option<AbortSignal>) -> Promise {
        let command = command_name(&cmd);
        let reply = cmd.reply();
        let sent = self.core.borrow_mut().request(cmd, self.clock());
        self.promise(sent, reply, command, signal)
    }

    /// `cmd` on cluster node `node`, whatever its keys.
    pub fn request_to(
        self: &Rc<Self>,
        node: &str,
        cmd: Cmd,
        signal: Option<AbortSignal>,
    ) -> Promise {
        let command = command_name(&cmd);
        let reply = cmd.reply();
        let sent = self.core.borrow_mut().request_to(node, cmd, self.clock());
        self.promise(sent, reply, command, signal)
    }

    /// A transaction's command, settled at EXEC.
    pub fn tx_request(self: &Rc<Self>, tx: TxId, cmd: Cmd) -> Promise {
        let command = command_name(&cmd);
        let reply = cmd.reply();
        let sent = self.core.borrow_mut().tx_request(tx, cmd);
        self.promise(sent, reply, command, None)
    }

    /// EXEC or DISCARD: resolves to `undefined`.
    pub fn tx_end(self: &Rc<Self>, tx: TxId, exec: bool) -> Promise {
        let sent = self.core.borrow_mut().tx_end(tx, exec);
        let command = if exec { "EXEC" } else { "DISCARD" };
        self.promise(sent, ReplyKind::Unit, command.into(), None)
    }

    /// A script's EVALSHA, with its EVAL for NOSCRIPT.
    pub fn request_script(self: &Rc<Self>, evalsha: Cmd, eval: Cmd) -> Promise {
        let sent = self
            .core
            .borrow_mut()
            .request_script(evalsha, eval, self.clock());
        self.promise(sent, ReplyKind::EvalScript, "EVALSHA".into(), None)
    }

    /// A command on a subscription's session: resolves to `undefined`.
    pub fn request_on(self: &Rc<Self>, session: usize, cmd: Cmd) -> Promise {
        let command = command_name(&cmd);
        let reply = cmd.reply();
        let sent = self.core.borrow_mut().request_on(session, cmd);
        self.promise(sent, reply, command, None)
    }

    fn promise(
        self: &Rc<Self>,
        sent: Result<RequestId, ClientError>,
        reply: ReplyKind,
        command: Cow<'static, str>,
        signal: Option<AbortSignal>,
    ) -> Promise {
        match sent {
            Ok(id) => {
                let promise = deferred(&self.settlers, id as f64);
                let abort = signal.map(|signal| self.abort_on(id, signal));
                self.pending.borrow_mut().insert(
                    id,
                    Sink::Value {
                        reply,
                        command,
                        stream: None,
                        abort,
                    },
                );
                self.queue_flush();
                if self.core.borrow().burst_due() {
                    self.transmit();
                }
                promise
            }
            Err(why) => Promise::reject(&JsValue::from(why)),
        }
    }

    /// Rejects request `id` with the signal's reason when it aborts (and
    /// tells the core, which does not send it or drops its reply).
    fn abort_on(self: &Rc<Self>, id: RequestId, signal: AbortSignal) -> Abort {
        let weak = Rc::downgrade(self);
        let reason_of = signal.clone();
        let listener = Closure::<dyn FnMut()>::new(move || {
            let Some(inner) = weak.upgrade() else { return };
            let removed = inner.pending.borrow_mut().remove(&id);
            if let Some(sink) = removed {
                inner.core.borrow_mut().abort(id);
                reject_request(&inner.settlers, id as f64, &reason_of.reason());
                inner.drive();
                // The sink owns this listener: let it go after it returns.
                retire(sink);
            }
        });
        let _ = signal.add_event_listener_with_callback("abort", listener.as_ref().unchecked_ref());
        Abort { signal, listener }
    }

    /// Hands request `id`'s outcome to `then`.
    pub fn wait(
        self: &Rc<Self>,
        id: RequestId,
        then: impl FnOnce(&Rc<ClientInner>, Outcome) + 'static,
    ) {
        self.pending
            .borrow_mut()
            .insert(id, Sink::Native(Box::new(then)));
        self.queue_flush();
    }

    /// Settles a request with an outcome of the core.
    fn complete(self: &Rc<Self>, id: RequestId, outcome: Outcome) {
        let last = outcome.is_last();
        let sink = match last {
            true => self.pending.borrow_mut().remove(&id),
            false => None,
        };
        if let Some(Sink::Native(then)) = sink {
            return then(self, outcome);
        }
        if last {
            if let Some(Sink::Value {
                reply,
                command,
                stream,
                ..
            }) = sink
            {
                self.settle(id, reply, &command, stream, outcome);
            }
            return;
        }
        // A streamed reply in progress: the sink stays.
        let mut pending = self.pending.borrow_mut();
        let Some(Sink::Value { reply, stream, .. }) = pending.get_mut(&id) else {
            return;
        };
        match outcome {
            Outcome::Start { len, kind } => {
                let started = Stream::new(*reply, len, kind == resp::AggregateKind::Map);
                resolve_request(&self.settlers, id as f64, started.container());
                *stream = Some(started);
            }
            Outcome::Item(frame) => {
                let failed = match stream.as_mut() {
                    Some(s) => s.push(frame, &self.encoder).err(),
                    None => None,
                };
                if let Some(error) = failed {
                    if let Some(s) = stream.take() {
                        s.fail(&error);
                    }
                }
            }
            _ => {}
        }
    }

    fn settle(
        &self,
        id: RequestId,
        reply: ReplyKind,
        command: &str,
        stream: Option<Stream>,
        outcome: Outcome,
    ) {
        let outcome = match outcome {
            Outcome::Reply(Frame::Attributed { attributes, frame }) => {
                self.attributes(command, attributes);
                Outcome::Reply(*frame)
            }
            other => other,
        };
        match (outcome, stream) {
            (Outcome::Gathered, _) => {
                let value = self.gathered.borrow_mut().take();
                match value.map(|bytes| self.encoder.decode_array(bytes)) {
                    Some(Ok(value)) => resolve_request(&self.settlers, id as f64, &value),
                    Some(Err(err)) => reject_request(&self.settlers, id as f64, &err),
                    None => {}
                }
            }
            (Outcome::End, Some(stream)) => stream.end(),
            (Outcome::Failed(why), Some(stream)) => stream.fail(&JsValue::from(why)),
            (Outcome::Failed(why), None) => {
                reject_request(&self.settlers, id as f64, &JsValue::from(why));
            }
            (Outcome::Reply(frame), _) => {
                match convert::reply(frame, reply, &self.encoder, command) {
                    Ok(value) => resolve_request(&self.settlers, id as f64, &value),
                    Err(err) => reject_request(&self.settlers, id as f64, &err),
                }
            }
            _ => {}
        }
    }
}

/// `url` with `path` appended to its path (before any query).
fn below(url: &str, path: &str) -> String {
    let (base, query) = match url.find(['?', '#']) {
        Some(at) => url.split_at(at),
        None => (url, ""),
    };
    format!("{}{path}{query}", base.trim_end_matches('/'))
}

/// Drops a transport in a later task: this may run inside one of its own
/// handlers, which must not be freed while they run.
fn retire<T: 'static>(transport: T) {
    wasm_bindgen_futures::spawn_local(async move { drop(transport) });
}

/// Redis's name for a command, for `ErrorReply.command`.
fn command_name(cmd: &Cmd) -> Cow<'static, str> {
    match cmd.info() {
        Some(info) => Cow::Borrowed(info.name),
        None => Cow::Owned(cmd.name()),
    }
}

impl Events for ClientInner {
    fn opened(this: &Rc<Self>, session: usize, generation: u32) {
        this.core.borrow_mut().on_open(session, generation, now());
        this.drive();
    }

    fn received(this: &Rc<Self>, session: usize, generation: u32, data: &Uint8Array) {
        let total = data.length() as usize;
        // A value being gathered takes the front of the message.
        let mut at = this.gather(session, generation, data);
        if at == total {
            return;
        }
        if at == 0 {
            at = this.gather_in_place(session, generation, data);
        }
        // The rest goes to the decoder.
        if at < total {
            let rest = data.subarray(at as u32, total as u32);
            let taken = this.decode(session, generation, |input| {
                let start = input.len();
                input.resize(start + rest.length() as usize, 0);
                rest.copy_to(&mut input[start..]);
            });
            // A large bulk reply begun and not whole: gather it from now on.
            if let Some((len, buffered)) = taken {
                let value = Uint8Array::new_with_length(len as u32);
                let mut progress = Gathering::new(len);
                progress.take(&buffered, |offset, part| {
                    value
                        .subarray(offset as u32, (offset + part.len()) as u32)
                        .copy_from(part)
                });
                this.start_gathering(session, generation, progress, value);
            }
        }
        this.drive();
    }

    fn closed(this: &Rc<Self>, session: usize, generation: u32, code: u16, reason: &str) {
        this.gathering.borrow_mut().remove(&session);
        {
            let mut transports = this.transports.borrow_mut();
            if let Some(slot) = transports.get_mut(session) {
                if slot.as_ref().is_some_and(|t| t.generation == generation) {
                    retire(slot.take());
                }
            }
        }
        this.core
            .borrow_mut()
            .on_closed(session, generation, code, reason, now());
        this.drive();
    }
}

/// A large bulk reply being gathered on one socket.
struct Gather {
    generation: u32,
    progress: Gathering,
    value: Uint8Array,
}

impl ClientInner {
    /// A message that begins with a large bulk reply's header: the decoder
    /// gets the header alone, and if the reply is one to gather and all of
    /// its value is in this message, the value is a view of the message
    /// (nothing copied; the bridge sends a bulk reply of up to 2 MiB whole),
    /// else gathered as usual. Returns how many bytes it took (0: none, the
    /// message goes to the decoder).
    fn gather_in_place(
        self: &Rc<Self>,
        session: usize,
        generation: u32,
        data: &Uint8Array,
    ) -> usize {
        let total = data.length() as usize;
        let mut head = [0u8; BULK_HEADER_MAX];
        let peeked = total.min(head.len());
        data.subarray(0, peeked as u32).copy_to(&mut head[..peeked]);
        let Some((header, len)) = bulk_header(&head[..peeked]) else {
            return 0;
        };
        if len < MIN_GATHERED {
            return 0;
        }
        let empty = self
            .core
            .borrow_mut()
            .input(session, generation)
            .is_some_and(|input| input.is_empty());
        if !empty {
            return 0;
        }
        let taken = self.decode(session, generation, |input| {
            input.extend_from_slice(&head[..header])
        });
        // Not one to gather: the decoder has the header, the rest follows.
        let Some((len, _)) = taken else { return header };
        let mut progress = Gathering::new(len);
        // Where the bytes the gathering takes next begin: after the value
        // when it is all here (then only its CRLF is left to take).
        let (value, next) = match header + len <= total {
            true => {
                progress.fill(len);
                let view = Uint8Array::new_with_byte_offset_and_length(
                    &data.buffer(),
                    data.byte_offset() + header as u32,
                    len as u32,
                );
                (view, header + len)
            }
            false => (Uint8Array::new_with_length(len as u32), header),
        };
        self.start_gathering(session, generation, progress, value);
        let rest = data.subarray(next as u32, total as u32);
        next + self.gather(session, generation, &rest)
    }

    /// Appends what `fill` gives to `session`'s decoder input and decodes;
    /// returns a large bulk reply begun and not whole, for the host to
    /// gather (`Core::take_large_bulk`).
    fn decode(
        &self,
        session: usize,
        generation: u32,
        fill: impl FnOnce(&mut bytes::BytesMut),
    ) -> Option<(usize, bytes::BytesMut)> {
        let mut core = self.core.borrow_mut();
        fill(core.input(session, generation)?);
        core.on_received(session, now());
        core.take_large_bulk(session, generation, MIN_GATHERED)
    }

    fn start_gathering(
        &self,
        session: usize,
        generation: u32,
        progress: Gathering,
        value: Uint8Array,
    ) {
        let gather = Gather {
            generation,
            progress,
            value,
        };
        self.gathering.borrow_mut().insert(session, gather);
    }

    /// Gives the front of `data` to the value session `session` is
    /// gathering, if any: returns how many bytes it took. Once the value and
    /// its CRLF are whole, its request completes with it.
    fn gather(self: &Rc<Self>, session: usize, generation: u32, data: &Uint8Array) -> usize {
        let total = data.length() as usize;
        let finished = {
            let mut gathering = self.gathering.borrow_mut();
            let Some(g) = gathering.get_mut(&session) else {
                return 0;
            };
            if g.generation != generation {
                // A new socket: the old one's value is gone with it.
                gathering.remove(&session);
                return 0;
            }
            let share = g.progress.share(total);
            if share > 0 {
                let offset = g.progress.filled() as u32;
                g.value.set(&data.subarray(0, share as u32), offset);
                g.progress.fill(share);
            }
            let mut at = share;
            while at < total && g.progress.end_byte(data.get_index(at as u32)) {
                at += 1;
            }
            if !g.progress.is_done() {
                return at;
            }
            gathering.remove(&session).map(|g| (g, at))
        };
        let Some((g, at)) = finished else { return 0 };
        *self.gathered.borrow_mut() = Some(g.value);
        self.core
            .borrow_mut()
            .gathered(session, generation, g.progress.ended(), now());
        self.drive();
        // Unclaimed if its request was aborted meanwhile.
        self.gathered.borrow_mut().take();
        at
    }
}

/// The error of `frame` when it is an error reply to `command`.
pub fn reply_error(frame: &Frame, command: &str) -> Option<JsValue> {
    match frame {
        Frame::Error(message) | Frame::BulkError(message) => Some(super::errors::error_reply(
            &String::from_utf8_lossy(message),
            command,
        )),
        _ => None,
    }
}

/// A closed client's error, for callers that find no client.
pub fn not_connected() -> JsValue {
    error(ErrorClass::NotConnectedError, "the connection is closed")
}
