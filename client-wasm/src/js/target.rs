//! What command methods are sent through, and how their lines come in.
//!
//! The command methods are JS (`js/install.js` installs one per entry of
//! the generated `METHODS` on the prototypes): each builds its line and
//! calls the class's one `__send(cmd, kind, line, signal)`. A command goes
//! to the client, whose core decides where it goes and whether it may go
//! at all, or to a transaction's queue.
//!
//! A line that fits is not handed over as an Array but written by the
//! method straight into [`WIRE`], a buffer in wasm memory, and sent with
//! `__sendWire(cmd, kind, args, signal)`: crossing into wasm once per
//! command instead of two or three times per argument was the larger part
//! of the client's cost per command.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use web_sys::AbortSignal;

use super::client::ClientInner;
use super::convert::ArgReader;
use super::errors::type_error;
use crate::core::cmd::{Cmd, Role};
use crate::core::session::TxId;
use crate::core::{table, ReplyKind};

#[wasm_bindgen(module = "/js/install.js")]
extern "C" {
    /// Gives a new instance its builder options, and its class the methods.
    fn adopt(
        instance: &JsValue,
        options: &JsValue,
        reply_kinds: &JsValue,
        wire: &JsValue,
    ) -> JsValue;
    #[wasm_bindgen(js_name = installAll)]
    fn install_all(classes: &JsValue, reply_kinds: &JsValue, wire: &JsValue);
}

/// How many arguments, and how many bytes of them, a line in [`WIRE`] holds
/// at most (a longer one goes as an Array).
const WIRE_ARGS: usize = 256;
const WIRE_BYTES: usize = 16 * 1024;

thread_local! {
    /// The line a command method wrote: the end of each argument (`u32`,
    /// little-endian, from the first byte of the arguments), then their bytes.
    static WIRE: RefCell<Vec<u8>> = RefCell::new(vec![0; WIRE_ARGS * 4 + WIRE_BYTES]);
}

/// Where the methods write lines: `{ memory, at, args, bytes }`.
fn wire() -> JsValue {
    let at = WIRE.with(|wire| wire.borrow_mut().as_mut_ptr() as usize);
    let object = js_sys::Object::new();
    for (key, value) in [
        ("memory", wasm_bindgen::memory()),
        ("at", JsValue::from(at as u32)),
        ("args", JsValue::from(WIRE_ARGS as u32)),
        ("bytes", JsValue::from(WIRE_BYTES as u32)),
    ] {
        let _ = js_sys::Reflect::set(&object, &key.into(), &value);
    }
    object.into()
}

/// Installs the command methods on `classes` (the package entry's call).
#[wasm_bindgen(js_name = __installMethods)]
pub fn install_methods(classes: JsValue) {
    REPLY_KINDS.with(|kinds| install_all(&classes, kinds, &wire()));
}

/// Gives an instance of a class of JS (a `SharedConnection`'s tab side) the
/// command methods, which build lines with `options` (`{ encoder, strict }`).
#[wasm_bindgen(js_name = __adopt)]
pub fn adopt_instance(instance: JsValue, options: JsValue) -> JsValue {
    REPLY_KINDS.with(|kinds| adopt(&instance, &options, kinds, &JsValue::UNDEFINED))
}

/// Where a `SharedConnection`'s worker sends a built line: `null` on the
/// socket every tab shares, `"lease"` on a connection of its own (it may
/// block it), or why it cannot be sent for one tab (it would change the
/// shared connection's state under the other tabs).
#[wasm_bindgen(js_name = __sharedRole)]
pub fn shared_role(cmd: i32, kind: u8, line: &Array) -> Result<JsValue, JsValue> {
    let cmd = command(cmd, kind, line)?;
    let name = cmd.name();
    let why = match cmd.role() {
        Role::Blocking => return Ok("lease".into()),
        Role::Select | Role::Auth | Role::Hello | Role::SetName => format!(
            "{name} on a SharedConnection would change the connection every tab shares: give db, password and clientName in the options"
        ),
        Role::Subscribe(_) | Role::Unsubscribe(_) => {
            format!("{name} on a SharedConnection: use startSubscribe()")
        }
        _ if matches!(name.as_str(), "WATCH" | "UNWATCH") => {
            format!("{name} on a SharedConnection: use multi(watch)")
        }
        _ => return Ok(JsValue::NULL),
    };
    Ok(why.into())
}

#[wasm_bindgen(module = "/js/commands.js")]
extern "C" {
    /// The generated method descriptors (imported here so that the module
    /// and its own import, `args.js`, ship beside `install.js`).
    #[wasm_bindgen(thread_local_v2, js_name = METHODS)]
    static METHODS: JsValue;
}

thread_local! {
    /// The names of the reply kinds, by their numbers.
    static REPLY_KINDS: JsValue = ReplyKind::ALL
        .iter()
        .map(|kind| JsValue::from(format!("{kind:?}")))
        .collect::<Array>()
        .into();
}

/// `instance` (a new Connection, Pool or Transaction) ready for use.
pub fn adopted(instance: JsValue, client: &ClientInner) -> JsValue {
    METHODS.with(|_| ());
    REPLY_KINDS.with(|kinds| adopt(&instance, &client.builders, kinds, &wire()))
}

/// Where a command method sends.
#[derive(Clone)]
pub enum Via {
    Client(Rc<ClientInner>),
    Transaction(Rc<ClientInner>, TxId),
    /// One node of a cluster (`cluster.node(id)`), by its id.
    Node(Rc<ClientInner>, Rc<str>),
}

impl Via {
    pub fn client(&self) -> &Rc<ClientInner> {
        match self {
            Via::Client(client) | Via::Transaction(client, _) | Via::Node(client, _) => client,
        }
    }

    /// Sends `cmd` and hands its outcome to `then` (a cursor's pages).
    pub fn request_native(
        &self,
        cmd: Cmd,
        then: impl FnOnce(&Rc<ClientInner>, crate::core::pipeline::Outcome) + 'static,
    ) -> Result<(), crate::core::ClientError> {
        let client = self.client();
        let id = match self {
            Via::Node(_, node) => client
                .core
                .borrow_mut()
                .request_to(node, cmd, client.clock()),
            _ => client.core.borrow_mut().request(cmd, client.clock()),
        }?;
        client.wait(id, then);
        Ok(())
    }

    /// A reader of JS arguments with this target's encoder and checks.
    pub fn reader(&self) -> ArgReader<'_> {
        let client = self.client();
        ArgReader {
            encoder: &client.encoder,
            strict: client.strict,
        }
    }

    pub fn send(&self, cmd: Cmd, signal: Option<AbortSignal>) -> Promise {
        match self {
            Via::Client(client) => client.request(cmd, signal),
            Via::Transaction(client, tx) => client.tx_request(*tx, cmd),
            Via::Node(client, node) => client.request_to(node, cmd, signal),
        }
    }

    /// A built line from JS: `cmd` is the table index (negative: look the
    /// name up, as `call()` does), `kind` the reply kind's number.
    pub fn send_line(&self, cmd: i32, kind: u8, line: &Array, signal: JsValue) -> Promise {
        self.send_built(command(cmd, kind, line), signal)
    }

    /// The line of `args` arguments a method wrote into [`WIRE`].
    pub fn send_wired(&self, cmd: i32, kind: u8, args: usize, signal: JsValue) -> Promise {
        self.send_built(wired(cmd, kind, args), signal)
    }

    fn send_built(&self, built: Result<Cmd, JsValue>, signal: JsValue) -> Promise {
        // Most calls have no signal: no `instanceof` for them.
        let signal: Option<AbortSignal> = match signal.is_undefined() {
            true => None,
            false => signal.dyn_into().ok(),
        };
        if let Some(signal) = signal.as_ref().filter(|s| s.aborted()) {
            // Aborted already: nothing is sent.
            return Promise::reject(&signal.reason());
        }
        match built {
            Ok(cmd) => self.send(cmd, signal),
            Err(err) => Promise::reject(&err),
        }
    }
}

fn command(cmd: i32, kind: u8, line: &Array) -> Result<Cmd, JsValue> {
    with_arguments(cmd, kind, |built| {
        for item in line.iter() {
            match item.as_string() {
                Some(text) => built.push(text.as_bytes()),
                None => match item.dyn_ref::<Uint8Array>() {
                    // Not filled in place: at opt-level z, zeroing the room
                    // first is a byte loop, slower than to_vec's copy.
                    Some(bytes) => built.push(&bytes.to_vec()),
                    None => return Err(type_error("__send: a line holds strings and Uint8Arrays")),
                },
            }
        }
        Ok(())
    })
}

fn wired(cmd: i32, kind: u8, args: usize) -> Result<Cmd, JsValue> {
    with_arguments(cmd, kind, |built| {
        WIRE.with(|wire| {
            let wire = wire.borrow();
            let (ends, bytes) = wire.split_at(WIRE_ARGS * 4);
            let count = args.min(WIRE_ARGS);
            // The last end is the line's length: room for all of it at once.
            let total = count.checked_sub(1).map_or(0, |last| end_at(ends, last));
            built.reserve(count, total.min(bytes.len()));
            let mut start = 0;
            for i in 0..count {
                let end = end_at(ends, i);
                let arg = bytes
                    .get(start..end)
                    .ok_or_else(|| type_error("__sendWire: a line out of bounds"))?;
                built.push(arg);
                start = end;
            }
            Ok(())
        })
    })
}

/// The end of argument `i` of a wired line, as JS wrote it (little-endian).
fn end_at(ends: &[u8], i: usize) -> usize {
    let end = &ends[4 * i..4 * i + 4];
    u32::from_le_bytes([end[0], end[1], end[2], end[3]]) as usize
}

/// A command of table entry `cmd` (negative: looked up by its name) and
/// reply kind `kind`, with the arguments `push` gives it.
fn with_arguments(
    cmd: i32,
    kind: u8,
    push: impl FnOnce(&mut Cmd) -> Result<(), JsValue>,
) -> Result<Cmd, JsValue> {
    let reply = *ReplyKind::ALL
        .get(usize::from(kind))
        .ok_or_else(|| type_error("__send: unknown reply kind"))?;
    let info = u16::try_from(cmd).ok().map(table::by_index);
    let mut built = Cmd::new(std::iter::empty::<&[u8]>(), info, reply);
    push(&mut built)?;
    if info.is_none() {
        built = Cmd::lookup(built.args(), reply);
    }
    Ok(built)
}

/// The JS classes whose methods send commands.
pub trait Target {
    fn via(&self) -> Via;
}

/// The methods of `Connection` and `Pool` that make objects which keep
/// sending through them (on a pool, each call goes to a free connection):
/// scripts and scan cursors, and `__send`.
macro_rules! sending_methods {
    ($target:ident) => {
        #[wasm_bindgen::prelude::wasm_bindgen]
        impl $target {
            /// Sends a line built by a command method (see `js/install.js`).
            #[wasm_bindgen(js_name = __send)]
            pub fn send_line(
                &self,
                cmd: i32,
                kind: u8,
                line: js_sys::Array,
                signal: wasm_bindgen::JsValue,
            ) -> js_sys::Promise {
                $crate::js::target::Target::via(self).send_line(cmd, kind, &line, signal)
            }

            /// Sends the line a command method wrote into wasm memory.
            #[wasm_bindgen(js_name = __sendWire)]
            pub fn send_wired(
                &self,
                cmd: i32,
                kind: u8,
                args: usize,
                signal: wasm_bindgen::JsValue,
            ) -> js_sys::Promise {
                $crate::js::target::Target::via(self).send_wired(cmd, kind, args, signal)
            }
        }
    };
    ($target:ident, issuing) => {
        sending_methods!($target);

        #[wasm_bindgen::prelude::wasm_bindgen]
        impl $target {
            /// Load a Lua script; its `run(keys, args)` uses EVALSHA.
            /// Resolves to a `Script`.
            #[wasm_bindgen(js_name = registerScript)]
            pub fn register_script(&self, script: wasm_bindgen::JsValue) -> js_sys::Promise {
                $crate::js::script::Script::register($crate::js::target::Target::via(self), script)
            }

            /// The client-side cache's counters `{ hits, misses,
            /// invalidations, evictions, bytes, entries }`, or `null`
            /// without `clientSideCache`.
            #[wasm_bindgen(js_name = cacheStats)]
            pub fn cache_stats(&self) -> wasm_bindgen::JsValue {
                $crate::js::target::Target::via(self).client().cache_stats()
            }

            /// Drops every cached reply.
            #[wasm_bindgen(js_name = clearCache)]
            pub fn clear_cache(&self) {
                $crate::js::target::Target::via(self)
                    .client()
                    .core
                    .borrow_mut()
                    .clear_cache();
            }

            /// Iterate the keys matching `match` (all keys by default).
            pub fn scan(&self, r#match: wasm_bindgen::JsValue) -> $crate::js::cursor::Cursor {
                self.cursor(
                    $crate::core::cursor::ScanKind::Keys,
                    wasm_bindgen::JsValue::UNDEFINED,
                    r#match,
                )
            }

            /// Iterate the members of a set.
            pub fn sscan(
                &self,
                key: wasm_bindgen::JsValue,
                r#match: wasm_bindgen::JsValue,
            ) -> $crate::js::cursor::Cursor {
                self.cursor($crate::core::cursor::ScanKind::Set, key, r#match)
            }

            /// Iterate the fields of a hash: items are `[field, value]`.
            pub fn hscan(
                &self,
                key: wasm_bindgen::JsValue,
                r#match: wasm_bindgen::JsValue,
            ) -> $crate::js::cursor::Cursor {
                self.cursor($crate::core::cursor::ScanKind::Hash, key, r#match)
            }

            /// Iterate a sorted set: items are `[member, score]`.
            pub fn zscan(
                &self,
                key: wasm_bindgen::JsValue,
                r#match: wasm_bindgen::JsValue,
            ) -> $crate::js::cursor::Cursor {
                self.cursor($crate::core::cursor::ScanKind::SortedSet, key, r#match)
            }
        }

        impl $target {
            fn cursor(
                &self,
                kind: $crate::core::cursor::ScanKind,
                key: wasm_bindgen::JsValue,
                pattern: wasm_bindgen::JsValue,
            ) -> $crate::js::cursor::Cursor {
                $crate::js::cursor::Cursor::new(
                    $crate::js::target::Target::via(self),
                    kind,
                    key,
                    pattern,
                )
            }
        }
    };
}

pub(crate) use sending_methods;
