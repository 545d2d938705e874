//! One WebSocket, whichever implementation: the global `WebSocket` of the
//! browser, a worker, Deno or Node ≥ 22, or a constructor handed in as the
//! `WebSocket` option (the `ws` package on Node 20). Only the standard
//! surface is used (`binaryType`, `on*` handlers, `send`, `close`).
//!
//! The handlers are owned here and detached when the transport is dropped,
//! never leaked with `forget`; they tell the client which socket spoke by
//! its session and generation, so a late event of an old socket is ignored.
//! The error handler is one shared no-op that stays attached: the close
//! event that follows an error says all there is, but the `ws` package (an
//! EventEmitter) throws an `error` that has no listener, which would crash
//! a Node process on a refused connection or a socket closed while opening.

use std::rc::{Rc, Weak};

use js_sys::{Array, ArrayBuffer, Function, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};

/// The largest WebSocket message sent. A bigger write (a large value, a
/// long pipeline) goes as several messages, which the bridge joins again
/// (it parses commands across messages): so neither side has to hold one
/// whole command in one buffer. Each message costs the browser and the
/// bridge a round of work, so a value of a MiB goes in one (five messages
/// of 256 KiB made a 1 MB SET a fifth slower); the bridge warns when its
/// `--max-message-size` is below this.
const MAX_MESSAGE: usize = 2 << 20;

thread_local! {
    /// The `onerror` of every socket (see the module docs): one for all.
    static IGNORE_ERROR: Closure<dyn FnMut()> = Closure::new(|| {});
}

/// What a transport reports, by its session and generation.
pub trait Events: 'static {
    fn opened(this: &Rc<Self>, session: usize, generation: u32);
    fn received(this: &Rc<Self>, session: usize, generation: u32, data: &Uint8Array);
    fn closed(this: &Rc<Self>, session: usize, generation: u32, code: u16, reason: &str);
}

pub struct Transport {
    ws: WebSocket,
    pub generation: u32,
    _open: Closure<dyn FnMut()>,
    _message: Closure<dyn FnMut(MessageEvent)>,
    _close: Closure<dyn FnMut(CloseEvent)>,
}

impl Transport {
    /// Opens `url` with `constructor` (`WebSocket` or a compatible class).
    /// A constructor that throws (a malformed URL) is reported as a close.
    pub fn open<E: Events>(
        constructor: &Function,
        url: &str,
        protocols: &[String],
        events: Weak<E>,
        session: usize,
        generation: u32,
    ) -> Result<Transport, String> {
        let args = Array::of1(&url.into());
        if !protocols.is_empty() {
            args.push(
                &protocols
                    .iter()
                    .map(|p| JsValue::from(p.as_str()))
                    .collect::<Array>(),
            );
        }
        let ws: WebSocket = Reflect::construct(constructor, &args)
            .map_err(|cause| {
                let why = Reflect::get(&cause, &"message".into())
                    .ok()
                    .and_then(|m| m.as_string())
                    .unwrap_or_default();
                format!("cannot open a WebSocket to {url}: {why}")
            })?
            .unchecked_into();
        ws.set_binary_type(BinaryType::Arraybuffer);
        let on = |f: fn(&Rc<E>, usize, u32)| {
            let events = events.clone();
            Closure::<dyn FnMut()>::new(move || {
                if let Some(events) = events.upgrade() {
                    f(&events, session, generation)
                }
            })
        };
        let open = on(E::opened);
        let weak = events.clone();
        let message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let Some(events) = weak.upgrade() else { return };
            match event.data().dyn_ref::<ArrayBuffer>() {
                Some(data) => E::received(&events, session, generation, &Uint8Array::new(data)),
                None => E::closed(
                    &events,
                    session,
                    generation,
                    1003,
                    "the bridge sent a text frame; only binary frames carry RESP",
                ),
            }
        });
        let weak = events;
        let close = Closure::<dyn FnMut(CloseEvent)>::new(move |event: CloseEvent| {
            if let Some(events) = weak.upgrade() {
                E::closed(&events, session, generation, event.code(), &event.reason());
            }
        });
        ws.set_onopen(Some(open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(close.as_ref().unchecked_ref()));
        IGNORE_ERROR.with(|ignore| ws.set_onerror(Some(ignore.as_ref().unchecked_ref())));
        Ok(Transport {
            ws,
            generation,
            _open: open,
            _message: message,
            _close: close,
        })
    }

    /// Sends `bytes`, in messages of at most [`MAX_MESSAGE`].
    pub fn send(&self, bytes: &[u8]) -> Result<(), JsValue> {
        bytes
            .chunks(MAX_MESSAGE)
            .try_for_each(|message| self.ws.send_with_u8_array(message))
    }

    /// Closes the socket; codes a WebSocket may not send become 1000.
    pub fn close(&self, code: u16, reason: &str) {
        let code = if code == 1000 || (3000..5000).contains(&code) {
            code
        } else {
            1000
        };
        let _ = self.ws.close_with_code_and_reason(code, reason);
    }
}

impl Drop for Transport {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        if self.ws.ready_state() <= WebSocket::OPEN {
            let _ = self.ws.close();
        }
    }
}
