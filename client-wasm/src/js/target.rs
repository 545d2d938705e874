//! What command methods are sent through. `Connection`, `Pool` and
//! `Transaction` all expose the whole command table; each decides in its
//! [`Issuer`] where a command goes (a socket, a free pooled connection, a
//! transaction's queue) and whether it may go at all.

use std::rc::Rc;

use js_sys::Promise;
use wasm_bindgen::JsValue;

use super::convert::ArgReader;
use crate::core::command::CommandSpec;
use crate::core::ReplyKind;

/// A built command: its line, the shape of its reply and the method name.
pub type Line = (Vec<Vec<u8>>, ReplyKind, &'static str);

/// A builder of one command line, given the target's argument reader.
pub type Build<'a> = &'a mut dyn FnMut(&ArgReader) -> Result<Line, JsValue>;

pub trait Issuer {
    /// Builds the command with this target's reader and sends it; a bad
    /// argument, or a target that cannot take commands now, rejects the
    /// Promise before anything is sent.
    fn issue_with(&self, build: Build) -> Promise;
}

/// The JS classes whose methods send commands.
pub trait Target {
    fn issuer(&self) -> Rc<dyn Issuer>;
}

/// Sends the command `build` makes through `target`.
pub fn issue(
    target: &dyn Issuer,
    build: impl FnOnce(&ArgReader) -> Result<Line, JsValue>,
) -> Promise {
    let mut build = Some(build);
    target.issue_with(&mut |reader| match build.take() {
        Some(build) => build(reader),
        None => Err(JsValue::from_str("a command is built once")),
    })
}

/// Sends one row of the command table.
pub fn run(target: &impl Target, spec: &'static CommandSpec, values: &[JsValue]) -> Promise {
    issue(&*target.issuer(), |reader| {
        Ok((reader.command(spec, values)?, spec.reply, spec.method))
    })
}
