//! The seed methods that do not fit a table row: options objects, variadic
//! arguments, argument counts Redis wants before the arguments, words whose
//! place differs from the seed's argument order.

use js_sys::{Array, Promise, Reflect};
use wasm_bindgen::prelude::*;

use crate::core::cursor::ScanKind;
use crate::core::ReplyKind;
use crate::js::connection::Connection;
use crate::js::convert::ArgReader;
use crate::js::cursor::Cursor;
use crate::js::encoder::loose_bytes;
use crate::js::errors::type_error;
use crate::js::pool::Pool;
use crate::js::script::Script;
use crate::js::target::{Line, Target};
use crate::js::transaction::Transaction;

macro_rules! special_methods {
    ($target:ident) => {
        #[wasm_bindgen]
        impl $target {
            /// `SET key value`, with `{ expire, pexpire, onlyIfNotExists,
            /// onlyIfExists }` as the seed's `expire`, `pexpire`,
            /// `only_if_not_exists` and `only_if_exists`. Resolves to a
            /// `StatusReply`, or `null` when a condition kept the key from
            /// being set.
            pub fn set(&self, key: JsValue, value: JsValue, options: JsValue) -> Promise {
                self.via()
                    .issue(|reader| set(reader, &key, &value, &options))
            }

            /// Sends any Redis command: `call('HSET', 'h', 'f', 'v')`.
            /// Resolves to the plain decoding of the reply.
            #[wasm_bindgen(variadic)]
            pub fn call(&self, name: JsValue, args: Array) -> Promise {
                self.via().issue(|reader| call(reader, &name, &args))
            }

            /// Insert `value` before (`before` true) or after `pivot`;
            /// resolves to the new length (-1 when `pivot` is missing).
            pub fn linsert(
                &self,
                key: JsValue,
                pivot: JsValue,
                value: JsValue,
                before: JsValue,
            ) -> Promise {
                self.via()
                    .issue(|reader| linsert(reader, [&key, &pivot, &value], before.is_truthy()))
            }

            /// Store the intersection of sorted sets; scores are multiplied
            /// by `weights` and combined by `aggregate` (`ZAggregate.SUM`,
            /// `MIN`, `MAX`).
            pub fn zinterstore(
                &self,
                destination: JsValue,
                keys: JsValue,
                weights: JsValue,
                aggregate: JsValue,
            ) -> Promise {
                self.via().issue(|reader| {
                    store_sorted_sets(
                        reader,
                        "ZINTERSTORE",
                        [&destination, &keys, &weights, &aggregate],
                    )
                })
            }

            /// Store the union of sorted sets; arguments as `zinterstore`.
            pub fn zunionstore(
                &self,
                destination: JsValue,
                keys: JsValue,
                weights: JsValue,
                aggregate: JsValue,
            ) -> Promise {
                self.via().issue(|reader| {
                    store_sorted_sets(
                        reader,
                        "ZUNIONSTORE",
                        [&destination, &keys, &weights, &aggregate],
                    )
                })
            }

            /// Run a cached script by its SHA1 digest; resolves to an
            /// `EvalScriptReply`, rejects with `ScriptKilledError` when it is
            /// killed.
            pub fn evalsha(&self, sha: JsValue, keys: JsValue, args: JsValue) -> Promise {
                self.via().issue(|reader| {
                    let mut line = vec![
                        b"EVALSHA".to_vec(),
                        reader.text(&sha, &|| "evalsha: argument 'sha'".into())?,
                    ];
                    line.extend(script_arguments(reader, "evalsha", &keys, &args)?);
                    Ok((line, ReplyKind::EvalScript, "evalsha"))
                })
            }

            /// Stop the server, saving first when `save` is true.
            pub fn shutdown(&self, save: JsValue) -> Promise {
                let mode = if save.is_truthy() { "SAVE" } else { "NOSAVE" };
                self.via().issue(|_| {
                    Ok((
                        vec![b"SHUTDOWN".to_vec(), mode.into()],
                        ReplyKind::Status,
                        "shutdown",
                    ))
                })
            }
        }
    };
}

special_methods!(Connection);
special_methods!(Pool);
special_methods!(Transaction);

/// Scripts and scan cursors: objects that keep sending through the target
/// they came from (on a pool, each call goes to a free connection).
macro_rules! issuer_methods {
    ($target:ident) => {
        #[wasm_bindgen]
        impl $target {
            /// Load a Lua script; its `run(keys, args)` uses EVALSHA.
            #[wasm_bindgen(js_name = registerScript)]
            pub async fn register_script(&self, script: JsValue) -> Result<Script, JsValue> {
                Script::register(self.via(), script).await
            }

            /// Iterate the keys matching `match` (all keys by default).
            pub fn scan(&self, r#match: JsValue) -> Cursor {
                Cursor::new(self.via(), ScanKind::Keys, JsValue::UNDEFINED, r#match)
            }

            /// Iterate the members of a set.
            pub fn sscan(&self, key: JsValue, r#match: JsValue) -> Cursor {
                Cursor::new(self.via(), ScanKind::Set, key, r#match)
            }

            /// Iterate the fields of a hash: items are `[field, value]`.
            pub fn hscan(&self, key: JsValue, r#match: JsValue) -> Cursor {
                Cursor::new(self.via(), ScanKind::Hash, key, r#match)
            }

            /// Iterate a sorted set: items are `[member, score]`.
            pub fn zscan(&self, key: JsValue, r#match: JsValue) -> Cursor {
                Cursor::new(self.via(), ScanKind::SortedSet, key, r#match)
            }
        }
    };
}

issuer_methods!(Connection);
issuer_methods!(Pool);

fn set(
    reader: &ArgReader,
    key: &JsValue,
    value: &JsValue,
    options: &JsValue,
) -> Result<Line, JsValue> {
    let mut line = vec![b"SET".to_vec()];
    line.push(reader.native(key, &|| "set: argument 'key'".into())?);
    line.push(reader.native(value, &|| "set: argument 'value'".into())?);
    line.extend(set_options(reader, options)?);
    Ok((line, ReplyKind::StatusOrNull, "set"))
}

/// The words `SET` takes after the value, from its options object.
fn set_options(reader: &ArgReader, options: &JsValue) -> Result<Vec<Vec<u8>>, JsValue> {
    let mut words = Vec::new();
    if options.is_undefined() || options.is_null() {
        return Ok(words);
    }
    if !options.is_object() {
        return Err(type_error(
            "set: options must be an object such as { expire: 10 }",
        ));
    }
    for key in js_sys::Object::keys(options.unchecked_ref::<js_sys::Object>()).iter() {
        let key = key.as_string().unwrap_or_default();
        let value = Reflect::get(options, &key.as_str().into())?;
        if value.is_undefined() {
            continue;
        }
        let (word, flag) = match key.as_str() {
            "expire" => ("EX", false),
            "pexpire" => ("PX", false),
            "onlyIfNotExists" => ("NX", true),
            "onlyIfExists" => ("XX", true),
            other => {
                return Err(type_error(&format!(
                    "set: unknown option '{other}' (expected expire, pexpire, onlyIfNotExists, onlyIfExists)"
                )))
            }
        };
        if !flag {
            words.push(word.into());
            words.push(reader.int(&value, &|| format!("set: option '{key}'"))?);
        } else if value
            .as_bool()
            .ok_or_else(|| type_error(&format!("set: option '{key}' must be a boolean")))?
        {
            words.push(word.into());
        }
    }
    Ok(words)
}

/// `call(name, ...args)`: numbers and big integers are sent as their
/// decimal text, anything else through the encoder.
fn call(reader: &ArgReader, name: &JsValue, args: &Array) -> Result<Line, JsValue> {
    let mut line = vec![reader.text(name, &|| "call: the command name".into())?];
    for (index, arg) in args.iter().enumerate() {
        if arg.as_f64().is_some() || arg.is_bigint() {
            line.push(loose_bytes(&arg));
        } else {
            line.push(reader.native(&arg, &|| format!("call: argument {}", index + 1))?);
        }
    }
    Ok((line, ReplyKind::Plain, "call"))
}

/// `LINSERT key BEFORE|AFTER pivot value`: the seed takes the place last.
fn linsert(
    reader: &ArgReader,
    [key, pivot, value]: [&JsValue; 3],
    before: bool,
) -> Result<Line, JsValue> {
    let line = vec![
        b"LINSERT".to_vec(),
        reader.native(key, &|| "linsert: argument 'key'".into())?,
        if before {
            b"BEFORE".to_vec()
        } else {
            b"AFTER".to_vec()
        },
        reader.native(pivot, &|| "linsert: argument 'pivot'".into())?,
        reader.native(value, &|| "linsert: argument 'value'".into())?,
    ];
    Ok((line, ReplyKind::Integer, "linsert"))
}

/// `numkeys key... arg...` of a script call; `null` or `undefined` lists
/// are empty.
pub fn script_arguments(
    reader: &ArgReader,
    method: &str,
    keys: &JsValue,
    args: &JsValue,
) -> Result<Vec<Vec<u8>>, JsValue> {
    let mut keys_line = Vec::new();
    if !keys.is_undefined() && !keys.is_null() {
        reader.list(
            keys,
            &|| format!("{method}: argument 'keys'"),
            &mut keys_line,
            |k, d| reader.native(k, d),
        )?;
    }
    let mut line = vec![keys_line.len().to_string().into_bytes()];
    line.extend(keys_line);
    if !args.is_undefined() && !args.is_null() {
        reader.list(
            args,
            &|| format!("{method}: argument 'args'"),
            &mut line,
            |a, d| reader.native(a, d),
        )?;
    }
    Ok(line)
}

/// `ZINTERSTORE`/`ZUNIONSTORE destination numkeys key... [WEIGHTS w...]
/// AGGREGATE SUM|MIN|MAX`.
fn store_sorted_sets(
    reader: &ArgReader,
    command: &'static str,
    args: [&JsValue; 4],
) -> Result<Line, JsValue> {
    let [destination, keys, weights, aggregate] = args;
    let method = if command == "ZINTERSTORE" {
        "zinterstore"
    } else {
        "zunionstore"
    };
    let mut line = vec![
        command.into(),
        reader.native(destination, &|| format!("{method}: argument 'destination'"))?,
    ];
    let mut key_args = Vec::new();
    reader.list(
        keys,
        &|| format!("{method}: argument 'keys'"),
        &mut key_args,
        |k, d| reader.native(k, d),
    )?;
    line.push(key_args.len().to_string().into_bytes());
    line.extend(key_args);
    if !weights.is_undefined() && !weights.is_null() {
        line.push(b"WEIGHTS".to_vec());
        reader.list(
            weights,
            &|| format!("{method}: argument 'weights'"),
            &mut line,
            |w, d| reader.float(w, d),
        )?;
    }
    let aggregate = match aggregate.as_string() {
        Some(name) => name.to_uppercase(),
        None if aggregate.is_undefined() || aggregate.is_null() => "SUM".to_owned(),
        None => String::new(),
    };
    if !matches!(aggregate.as_str(), "SUM" | "MIN" | "MAX") {
        return Err(type_error(&format!(
            "{method}: argument 'aggregate' must be ZAggregate.SUM, MIN or MAX"
        )));
    }
    line.extend([b"AGGREGATE".to_vec(), aggregate.into_bytes()]);
    Ok((line, ReplyKind::Integer, method))
}
