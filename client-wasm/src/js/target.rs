//! What command methods are sent through. `Connection`, `Pool` and
//! `Transaction` all expose the whole command table; a command goes to the
//! client, which lets the core decide where it goes and whether it may go
//! at all, or to a transaction's queue.

use std::rc::Rc;

use js_sys::Promise;
use wasm_bindgen::JsValue;

use super::client::ClientInner;
use super::convert::ArgReader;
use crate::core::cmd::Cmd;
use crate::core::command::CommandSpec;
use crate::core::session::TxId;
use crate::core::ReplyKind;

/// A built command: its line, the shape of its reply and the method name.
pub type Line = (Vec<Vec<u8>>, ReplyKind, &'static str);

/// Where a command method sends.
#[derive(Clone)]
pub enum Via {
    Client(Rc<ClientInner>),
    Transaction(Rc<ClientInner>, TxId),
}

impl Via {
    pub fn client(&self) -> &Rc<ClientInner> {
        match self {
            Via::Client(client) | Via::Transaction(client, _) => client,
        }
    }

    /// Builds a command with this target's argument reader and sends it; a
    /// bad argument, or a target that cannot take it now, rejects the
    /// Promise before anything is sent.
    pub fn issue(&self, build: impl FnOnce(&ArgReader) -> Result<Line, JsValue>) -> Promise {
        let client = self.client();
        let reader = ArgReader {
            encoder: &client.encoder,
            strict: client.strict,
        };
        match build(&reader) {
            Ok((line, reply, _)) => self.send(Cmd::lookup(line, reply)),
            Err(err) => Promise::reject(&err),
        }
    }

    pub fn send(&self, cmd: Cmd) -> Promise {
        match self {
            Via::Client(client) => client.request(cmd),
            Via::Transaction(client, tx) => client.tx_request(*tx, cmd),
        }
    }
}

/// The JS classes whose methods send commands.
pub trait Target {
    fn via(&self) -> Via;
}

/// Sends one row of the command table.
pub fn run(target: &impl Target, spec: &'static CommandSpec, values: &[JsValue]) -> Promise {
    target
        .via()
        .issue(|reader| Ok((reader.command(spec, values)?, spec.reply, spec.method)))
}
