//! The command table: one row per seed method.
//!
//! A row names the JS method, the Redis words it sends, its arguments (with
//! the seed's defaults) and the shape of its reply. The `commands!` macro
//! turns the rows into `#[wasm_bindgen]` methods that all go through
//! [`Connection::run`], and into [`TABLE`], which tests read. Commands that
//! do not fit a row (`set` with its options, `call`) are written out in
//! `js::connection`.

use js_sys::Promise;
use wasm_bindgen::prelude::*;

use crate::core::command::{Arg, ArgKind, CommandSpec, ReplyKind};
use crate::js::connection::Connection;

/// One row as a `CommandSpec` value.
macro_rules! spec {
    ($method:ident $(as $js:ident)?, [$($word:literal),+], ($($arg:ident: $kind:ident $(= $default:literal)?),*), $reply:ident) => {
        CommandSpec {
            method: spec!(@name $method $($js)?),
            words: &[$($word),+],
            args: &[$(Arg { name: stringify!($arg), kind: ArgKind::$kind, default: spec!(@default $($default)?) }),*],
            reply: ReplyKind::$reply,
        }
    };
    (@name $method:ident) => { stringify!($method) };
    (@name $method:ident $js:ident) => { stringify!($js) };
    (@default) => { None };
    (@default $default:literal) => { Some($default) };
}

macro_rules! commands {
    ($(
        $(#[doc = $doc:literal])*
        $method:ident $(as $js:ident)? => [$($word:literal),+] ($($arg:ident: $kind:ident $(= $default:literal)?),*) -> $reply:ident;
    )*) => {
        /// Every method the table declares.
        pub const TABLE: &[CommandSpec] = &[
            $(spec!($method $(as $js)?, [$($word),+], ($($arg: $kind $(= $default)?),*), $reply)),*
        ];

        #[wasm_bindgen]
        impl Connection {
            $(
                $(#[doc = $doc])*
                $(#[wasm_bindgen(js_name = $js)])?
                pub fn $method(&self, $($arg: JsValue),*) -> Promise {
                    const SPEC: CommandSpec = spec!($method $(as $js)?, [$($word),+], ($($arg: $kind $(= $default)?),*), $reply);
                    self.run(&SPEC, &[$($arg),*])
                }
            )*
        }
    };
}

commands! {
    /// Ping the server: resolves to `StatusReply` `PONG`.
    ping => ["PING"] () -> Status;
    /// Echo the given string.
    echo => ["ECHO"] (string: Native) -> Native;
    /// Get the value of a key, or `null`.
    get => ["GET"] (key: Native) -> Native;
    /// Delete keys (any iterable of keys); resolves to how many existed.
    delete => ["DEL"] (keys: NativeList) -> Integer;
    /// Determine if a key exists.
    exists => ["EXISTS"] (key: Native) -> Boolean;
    /// Increment the integer value of a key by one.
    incr => ["INCR"] (key: Native) -> Integer;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_names_are_unique_and_every_row_sends_a_command() {
        let mut names: Vec<_> = TABLE.iter().map(|spec| spec.method).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), TABLE.len());
        assert!(TABLE.iter().all(|spec| !spec.words.is_empty()));
    }

    #[test]
    fn rows_keep_the_seed_argument_order() {
        let delete = TABLE.iter().find(|spec| spec.method == "delete").unwrap();
        assert_eq!(delete.words, ["DEL"]);
        assert_eq!(delete.args[0].kind, ArgKind::NativeList);
        assert_eq!(delete.reply, ReplyKind::Integer);
    }
}
