//! `Connection`: the class users create; every command method lands here.

use std::rc::Rc;

use js_sys::{Array, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::convert::ArgReader;
use super::encoder::Encoder;
use super::errors::type_error;
use super::socket::Socket;
use crate::core::command::{CommandSpec, ReplyKind};

/// One connection to Redis through a WebSocket bridge.
#[wasm_bindgen]
pub struct Connection {
    socket: Rc<Socket>,
}

/// The options of `Connection.create`.
struct Options {
    url: String,
    password: JsValue,
    db: JsValue,
    encoder: Encoder,
    strict: bool,
}

impl Options {
    fn read(options: &JsValue) -> Result<Options, JsValue> {
        if !options.is_object() {
            return Err(type_error("Connection.create: options must be an object such as { url: 'ws://127.0.0.1:7379' }"));
        }
        let get = |name: &str| Reflect::get(options, &name.into());
        let url = get("url")?.as_string().ok_or_else(|| {
            type_error("Connection.create: options.url must be a ws:// or wss:// URL string")
        })?;
        let strict = get("enableTypechecking")?;
        Ok(Options {
            url,
            password: get("password")?,
            db: get("db")?,
            encoder: Encoder::from_option(&get("encoder")?)?,
            strict: strict.as_bool().unwrap_or(true),
        })
    }
}

#[wasm_bindgen]
impl Connection {
    /// Opens a connection: the WebSocket, then `AUTH` and `SELECT` when
    /// `password` and a non-zero `db` are given.
    pub async fn create(options: JsValue) -> Result<Connection, JsValue> {
        let options = Options::read(&options)?;
        let reader = ArgReader {
            encoder: &options.encoder,
            strict: true,
        };
        let mut setup = Vec::new();
        if !options.password.is_undefined() && !options.password.is_null() {
            let password = reader.native(&options.password, &|| {
                "Connection.create: options.password".into()
            })?;
            setup.push(vec![b"AUTH".to_vec(), password]);
        }
        if !options.db.is_undefined() && !options.db.is_null() {
            let db = reader.int(&options.db, &|| "Connection.create: options.db".into())?;
            if db != b"0" {
                setup.push(vec![b"SELECT".to_vec(), db]);
            }
        }
        let socket = Socket::open(&options.url, options.encoder, options.strict).await?;
        let replies: Vec<Promise> = setup
            .into_iter()
            .map(|line| socket.send(line, ReplyKind::Status, "create"))
            .collect();
        for reply in replies {
            if let Err(err) = JsFuture::from(reply).await {
                socket.close();
                return Err(err);
            }
        }
        Ok(Connection { socket })
    }

    /// Closes the connection; commands still in flight reject with
    /// `ConnectionLostError`.
    pub fn close(&self) {
        self.socket.close();
    }

    #[wasm_bindgen(getter, js_name = isConnected)]
    pub fn is_connected(&self) -> bool {
        self.socket.is_connected()
    }

    /// Whether commands are waiting for their replies.
    #[wasm_bindgen(getter, js_name = inUse)]
    pub fn in_use(&self) -> bool {
        self.socket.in_flight() > 0
    }

    /// `SET key value`, with `{ expire, pexpire, onlyIfNotExists,
    /// onlyIfExists }` as the seed's `expire`, `pexpire`, `only_if_not_exists`
    /// and `only_if_exists`. Resolves to a `StatusReply`, or `null` when a
    /// condition kept the key from being set.
    pub fn set(&self, key: JsValue, value: JsValue, options: JsValue) -> Promise {
        self.issue(|reader| {
            let mut line = vec![b"SET".to_vec()];
            line.push(reader.native(&key, &|| "set: argument 'key'".into())?);
            line.push(reader.native(&value, &|| "set: argument 'value'".into())?);
            line.extend(set_options(reader, &options)?);
            Ok((line, ReplyKind::StatusOrNull, "set"))
        })
    }

    /// Sends any Redis command: `call('HSET', 'h', 'f', 'v')`. Resolves to
    /// the plain decoding of the reply.
    #[wasm_bindgen(variadic)]
    pub fn call(&self, name: JsValue, args: Array) -> Promise {
        self.issue(|reader| {
            let mut line = vec![reader.text(&name, &|| "call: the command name".into())?];
            for (index, arg) in args.iter().enumerate() {
                line.push(call_arg(reader, &arg, index)?);
            }
            Ok((line, ReplyKind::Plain, "call"))
        })
    }

    /// Insert `value` before or after `pivot`; resolves to the new length
    /// (-1 when `pivot` is not found).
    pub fn linsert(
        &self,
        key: JsValue,
        pivot: JsValue,
        value: JsValue,
        before: JsValue,
    ) -> Promise {
        self.issue(|reader| {
            let place = if before.is_truthy() {
                b"BEFORE".to_vec()
            } else {
                b"AFTER".to_vec()
            };
            let line = vec![
                b"LINSERT".to_vec(),
                reader.native(&key, &|| "linsert: argument 'key'".into())?,
                place,
                reader.native(&pivot, &|| "linsert: argument 'pivot'".into())?,
                reader.native(&value, &|| "linsert: argument 'value'".into())?,
            ];
            Ok((line, ReplyKind::Integer, "linsert"))
        })
    }

    /// Store the intersection of sorted sets, scores combined by
    /// `aggregate` (`ZAggregate.SUM`, `MIN`, `MAX`) after `weights`.
    pub fn zinterstore(
        &self,
        destination: JsValue,
        keys: JsValue,
        weights: JsValue,
        aggregate: JsValue,
    ) -> Promise {
        self.issue(|reader| {
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
        self.issue(|reader| {
            store_sorted_sets(
                reader,
                "ZUNIONSTORE",
                [&destination, &keys, &weights, &aggregate],
            )
        })
    }

    /// Run a cached script by its SHA1 digest; resolves to an
    /// `EvalScriptReply`, rejects with `ScriptKilledError` if it is killed.
    pub fn evalsha(&self, sha: JsValue, keys: JsValue, args: JsValue) -> Promise {
        self.issue(|reader| {
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
        let mode = if save.is_truthy() {
            b"SAVE".to_vec()
        } else {
            b"NOSAVE".to_vec()
        };
        self.issue(|_| {
            Ok((
                vec![b"SHUTDOWN".to_vec(), mode],
                ReplyKind::Status,
                "shutdown",
            ))
        })
    }
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
) -> Result<(Vec<Vec<u8>>, ReplyKind, &'static str), JsValue> {
    let [destination, keys, weights, aggregate] = args;
    let method = if command == "ZINTERSTORE" {
        "zinterstore"
    } else {
        "zunionstore"
    };
    let mut line = vec![
        command.as_bytes().to_vec(),
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
    let aggregate = if aggregate.is_undefined() || aggregate.is_null() {
        "SUM".to_owned()
    } else {
        aggregate
            .as_string()
            .map(|a| a.to_uppercase())
            .unwrap_or_default()
    };
    if !matches!(aggregate.as_str(), "SUM" | "MIN" | "MAX") {
        return Err(type_error(&format!(
            "{method}: argument 'aggregate' must be ZAggregate.SUM, MIN or MAX"
        )));
    }
    line.extend([b"AGGREGATE".to_vec(), aggregate.into_bytes()]);
    Ok((line, ReplyKind::Integer, method))
}

/// An argument of `call()`: numbers and big integers are sent as their
/// decimal text, anything else through the encoder.
fn call_arg(reader: &ArgReader, arg: &JsValue, index: usize) -> Result<Vec<u8>, JsValue> {
    let describe = || format!("call: argument {}", index + 1);
    if arg.as_f64().is_some() || arg.is_bigint() {
        return Ok(super::encoder::loose_bytes(arg));
    }
    reader.native(arg, &describe)
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
        match key.as_str() {
            "expire" | "pexpire" => {
                words.push(if key == "expire" { b"EX".to_vec() } else { b"PX".to_vec() });
                words.push(reader.int(&value, &|| format!("set: option '{key}'"))?);
            }
            "onlyIfNotExists" | "onlyIfExists" => {
                if value.as_bool().ok_or_else(|| type_error(&format!("set: option '{key}' must be a boolean")))? {
                    words.push(if key == "onlyIfNotExists" { b"NX".to_vec() } else { b"XX".to_vec() });
                }
            }
            other => {
                return Err(type_error(&format!(
                    "set: unknown option '{other}' (expected expire, pexpire, onlyIfNotExists, onlyIfExists)"
                )))
            }
        }
    }
    Ok(words)
}

impl Connection {
    /// Issues a command of the table.
    pub(crate) fn run(&self, spec: &'static CommandSpec, values: &[JsValue]) -> Promise {
        self.issue(|reader| Ok((reader.command(spec, values)?, spec.reply, spec.method)))
    }

    /// Builds a command line with the connection's argument reader and sends
    /// it; a bad argument rejects the Promise before anything is sent.
    fn issue(
        &self,
        build: impl FnOnce(&ArgReader) -> Result<(Vec<Vec<u8>>, ReplyKind, &'static str), JsValue>,
    ) -> Promise {
        let reader = ArgReader {
            encoder: &self.socket.encoder,
            strict: self.socket.strict,
        };
        match build(&reader) {
            Ok((line, reply, method)) => self.socket.send(line, reply, method),
            Err(err) => Promise::reject(&err),
        }
    }
}
