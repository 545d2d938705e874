//! What command methods are sent through, and how their lines come in.
//!
//! The command methods are JS (`js/install.js` installs one per entry of
//! the generated `METHODS` on the prototypes): each builds its line and
//! calls the class's one `__send(cmd, kind, line, signal)`. A command goes
//! to the client, whose core decides where it goes and whether it may go
//! at all, or to a transaction's queue.

use std::rc::Rc;

use js_sys::{Array, Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use web_sys::AbortSignal;

use super::client::{now, ClientInner};
use super::convert::ArgReader;
use super::errors::type_error;
use crate::core::cmd::{Cmd, Role};
use crate::core::session::TxId;
use crate::core::{table, ReplyKind};

#[wasm_bindgen(module = "/js/install.js")]
extern "C" {
    /// Gives a new instance its builder options, and its class the methods.
    fn adopt(instance: &JsValue, options: &JsValue, reply_kinds: &JsValue) -> JsValue;
    #[wasm_bindgen(js_name = installAll)]
    fn install_all(classes: &JsValue, reply_kinds: &JsValue);
}

/// Installs the command methods on `classes` (the package entry's call).
#[wasm_bindgen(js_name = __installMethods)]
pub fn install_methods(classes: JsValue) {
    REPLY_KINDS.with(|kinds| install_all(&classes, kinds));
}

/// Gives an instance of a class of JS (a `SharedConnection`'s tab side) the
/// command methods, which build lines with `options` (`{ encoder, strict }`).
#[wasm_bindgen(js_name = __adopt)]
pub fn adopt_instance(instance: JsValue, options: JsValue) -> JsValue {
    REPLY_KINDS.with(|kinds| adopt(&instance, &options, kinds))
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
    REPLY_KINDS.with(|kinds| adopt(&instance, &client.builders, kinds))
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
            Via::Node(_, node) => client.core.borrow_mut().request_to(node, cmd, now()),
            _ => client.core.borrow_mut().request(cmd, now()),
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
        let signal: Option<AbortSignal> = signal.dyn_into().ok();
        if let Some(signal) = signal.as_ref().filter(|s| s.aborted()) {
            // Aborted already: nothing is sent.
            return Promise::reject(&signal.reason());
        }
        match command(cmd, kind, line) {
            Ok(cmd) => self.send(cmd, signal),
            Err(err) => Promise::reject(&err),
        }
    }
}

fn command(cmd: i32, kind: u8, line: &Array) -> Result<Cmd, JsValue> {
    let reply = *ReplyKind::ALL
        .get(usize::from(kind))
        .ok_or_else(|| type_error("__send: unknown reply kind"))?;
    let info = u16::try_from(cmd).ok().map(table::by_index);
    let mut built = Cmd::new(std::iter::empty::<&[u8]>(), info, reply);
    for item in line.iter() {
        match item.as_string() {
            Some(text) => built.push(text.as_bytes()),
            None => match item.dyn_ref::<Uint8Array>() {
                Some(bytes) => built.push(&bytes.to_vec()),
                None => return Err(type_error("__send: a line holds strings and Uint8Arrays")),
            },
        }
    }
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
        }
    };
    ($target:ident, issuing) => {
        sending_methods!($target);

        #[wasm_bindgen::prelude::wasm_bindgen]
        impl $target {
            /// Load a Lua script; its `run(keys, args)` uses EVALSHA.
            #[wasm_bindgen(js_name = registerScript)]
            pub async fn register_script(
                &self,
                script: wasm_bindgen::JsValue,
            ) -> Result<$crate::js::script::Script, wasm_bindgen::JsValue> {
                $crate::js::script::Script::register($crate::js::target::Target::via(self), script)
                    .await
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
