//! The options of `Connection.create` and `Pool.create`, read and checked
//! before anything is opened.

use js_sys::{Function, Reflect};
use wasm_bindgen::prelude::*;

use super::client::ClientOptions;
use super::convert::ArgReader;
use super::encoder::Encoder;
use super::errors::type_error;
use crate::core::backoff::FIRST_DELAY_MS;
use crate::core::cache::{CacheConfig, TrackingMode};
use crate::core::pool::{Config, QueueLimits, DEFAULT_OFFLINE_QUEUE};
use crate::core::session::{Remembered, Settings};
use crate::core::uri::{parse_uri, token_protocol};

/// The default `connectTimeout`, ms.
const CONNECT_TIMEOUT_MS: f64 = 10_000.0;

/// `options.poolsize`: a positive integer, 1 when absent.
pub fn poolsize(options: &JsValue, who: &str) -> Result<usize, JsValue> {
    let size = Reflect::get(options, &"poolsize".into())?;
    match size.as_f64() {
        None if size.is_undefined() => Ok(1),
        Some(size) if size >= 1.0 && size.fract() == 0.0 => Ok(size as usize),
        _ => Err(type_error(&format!(
            "{who}: options.poolsize must be a positive integer"
        ))),
    }
}

pub fn read(options: &JsValue, who: &str) -> Result<ClientOptions, JsValue> {
    if !options.is_object() {
        return Err(type_error(&format!(
            "{who}: options must be an object such as {{ url: 'ws://127.0.0.1:7379' }}"
        )));
    }
    let get = |name: &str| Reflect::get(options, &name.into());
    let absent = |value: &JsValue| value.is_undefined() || value.is_null();
    let url = get("url")?.as_string().ok_or_else(|| {
        type_error(&format!(
            "{who}: options.url must be a ws:// or wss:// URL string"
        ))
    })?;
    let encoder_option = get("encoder")?;
    let encoder = Encoder::from_option(&encoder_option)?;
    let reader = ArgReader {
        encoder: &encoder,
        strict: true,
    };
    let password = get("password")?;
    let password = match absent(&password) {
        true => None,
        false => Some(reader.native(&password, &|| format!("{who}: options.password"))?),
    };
    let db = get("db")?;
    let db = match absent(&db) {
        true => None,
        false => Some(reader.int(&db, &|| format!("{who}: options.db"))?).filter(|db| db != b"0"),
    };
    let name = get("clientName")?;
    let name = match absent(&name) {
        true => None,
        false => Some(reader.text(&name, &|| format!("{who}: options.clientName"))?),
    };
    let cache = cache_options(&get("clientSideCache")?, &reader, who)?;
    let protocol = match (get("protocol")?.as_f64(), &cache) {
        (Some(2.0), Some(_)) => {
            return Err(type_error(&format!(
            "{who}: options.clientSideCache needs protocol 3: invalidations arrive as RESP3 pushes"
        )))
        }
        (None, Some(_)) | (Some(3.0), _) => Some(b"3".to_vec()),
        (None | Some(2.0), None) => None,
        (Some(_), _) => {
            return Err(type_error(&format!(
                "{who}: options.protocol must be 2 or 3"
            )))
        }
    };
    let token = get("token")?;
    let protocols = match token.as_string() {
        Some(token) => vec!["redis-wasm".to_owned(), token_protocol(&token)],
        None if absent(&token) => Vec::new(),
        None => {
            return Err(type_error(&format!(
                "{who}: options.token must be a string"
            )))
        }
    };
    let websocket = get("WebSocket")?;
    let websocket = match absent(&websocket) {
        true => Reflect::get(&js_sys::global(), &"WebSocket".into())?,
        false => websocket,
    };
    let websocket = websocket.dyn_into::<Function>().map_err(|_| {
        type_error(&format!(
            "{who}: no WebSocket here: pass a WebSocket class as options.WebSocket (such as the ws package's)"
        ))
    })?;
    let milliseconds = |name: &str, default: Option<f64>| -> Result<Option<f64>, JsValue> {
        let value = get(name)?;
        match value.as_f64() {
            None if absent(&value) => Ok(default),
            Some(ms) if ms > 0.0 => Ok(Some(ms).filter(|ms| ms.is_finite())),
            _ => Err(type_error(&format!(
                "{who}: options.{name} must be a positive number of milliseconds"
            ))),
        }
    };
    let max_retries = get("maxRetries")?;
    let max_retries = match max_retries.as_f64() {
        None if absent(&max_retries) => None,
        Some(n) if n == f64::INFINITY => None,
        Some(n) if n >= 0.0 && n.fract() == 0.0 => Some(n as u32),
        _ => {
            return Err(type_error(&format!(
                "{who}: options.maxRetries must be a whole number or Infinity"
            )))
        }
    };
    let queue = get("offlineQueue")?;
    let offline_queue = match (queue.as_bool(), queue.is_object()) {
        (Some(false), _) => None,
        _ if absent(&queue) => None,
        (Some(true), _) => Some(DEFAULT_OFFLINE_QUEUE),
        (_, true) => {
            let limit = |name: &str, default: usize| -> Result<usize, JsValue> {
                let value = Reflect::get(&queue, &name.into())?;
                match value.as_f64() {
                    None if absent(&value) => Ok(default),
                    Some(n) if n >= 1.0 && n.fract() == 0.0 => Ok(n as usize),
                    _ => Err(type_error(&format!(
                        "{who}: options.offlineQueue.{name} must be a positive whole number"
                    ))),
                }
            };
            Some(QueueLimits {
                commands: limit("commands", DEFAULT_OFFLINE_QUEUE.commands)?,
                bytes: limit("bytes", DEFAULT_OFFLINE_QUEUE.bytes)?,
            })
        }
        _ => {
            return Err(type_error(&format!(
                "{who}: options.offlineQueue must be a boolean or {{ commands, bytes }}"
            )))
        }
    };
    let cap = get("reconnectCap")?.as_f64().unwrap_or(2000.0);
    let strict = get("enableTypechecking")?.as_bool().unwrap_or(true);
    let builders = js_sys::Object::new();
    Reflect::set(&builders, &"encoder".into(), &encoder_option)?;
    Reflect::set(&builders, &"strict".into(), &strict.into())?;
    Ok(ClientOptions {
        url,
        protocols,
        encoder,
        strict,
        builders: builders.into(),
        websocket,
        config: Config {
            settings: Settings {
                auto_reconnect: get("autoReconnect")?.as_bool().unwrap_or(true),
                reconnect_cap_ms: cap.max(FIRST_DELAY_MS),
                max_retries,
                connect_timeout_ms: milliseconds("connectTimeout", Some(CONNECT_TIMEOUT_MS))?,
            },
            remembered: Remembered {
                protocol,
                user: None,
                password,
                db,
                name,
                ..Remembered::default()
            },
            command_timeout_ms: milliseconds("commandTimeout", None)?,
            offline_queue,
            cache,
        },
    })
}

/// `clientSideCache: true | { maxEntries, maxBytes, ttl, mode, prefixes,
/// noloop, commands }`.
fn cache_options(
    value: &JsValue,
    reader: &ArgReader,
    who: &str,
) -> Result<Option<CacheConfig>, JsValue> {
    let what = |name: &str| format!("{who}: options.clientSideCache.{name}");
    let defaults = CacheConfig {
        max_entries: CacheConfig::DEFAULT_MAX_ENTRIES,
        max_bytes: CacheConfig::DEFAULT_MAX_BYTES,
        ttl_ms: None,
        mode: TrackingMode::Default,
        prefixes: Vec::new(),
        noloop: false,
        commands: None,
    };
    match value.as_bool() {
        Some(true) => return Ok(Some(defaults)),
        Some(false) => return Ok(None),
        None if value.is_undefined() || value.is_null() => return Ok(None),
        None if !value.is_object() => {
            return Err(type_error(&format!(
                "{who}: options.clientSideCache must be true or an object"
            )))
        }
        None => {}
    }
    let get = |name: &str| Reflect::get(value, &name.into());
    let count = |name: &str, default: usize| -> Result<usize, JsValue> {
        let v = get(name)?;
        match v.as_f64() {
            None if v.is_undefined() => Ok(default),
            Some(n) if n >= 1.0 && n.fract() == 0.0 => Ok(n as usize),
            _ => Err(type_error(&format!(
                "{} must be a positive whole number",
                what(name)
            ))),
        }
    };
    let ttl = get("ttl")?;
    let ttl_ms = match ttl.as_f64() {
        None if ttl.is_undefined() => None,
        Some(0.0) => None,
        Some(ms) if ms > 0.0 && ms.is_finite() => Some(ms),
        _ => {
            return Err(type_error(&format!(
                "{} must be a number of milliseconds (0: no limit)",
                what("ttl")
            )))
        }
    };
    let mode = match get("mode")?.as_string().as_deref() {
        None | Some("default") => TrackingMode::Default,
        Some("optin") => TrackingMode::OptIn,
        Some("broadcast") => TrackingMode::Broadcast,
        Some(_) => {
            return Err(type_error(&format!(
                "{} must be 'default', 'optin' or 'broadcast'",
                what("mode")
            )))
        }
    };
    let listed = |name: &str| -> Result<Option<Vec<JsValue>>, JsValue> {
        let v = get(name)?;
        match v.is_undefined() {
            true => Ok(None),
            false if js_sys::Array::is_array(&v) => Ok(Some(js_sys::Array::from(&v).to_vec())),
            false => Err(type_error(&format!("{} must be an array", what(name)))),
        }
    };
    let prefixes = listed("prefixes")?
        .unwrap_or_default()
        .iter()
        .map(|p| reader.native(p, &|| what("prefixes")))
        .collect::<Result<Vec<_>, _>>()?;
    if !prefixes.is_empty() && mode != TrackingMode::Broadcast {
        return Err(type_error(&format!(
            "{} are for mode 'broadcast'",
            what("prefixes")
        )));
    }
    let commands = listed("commands")?
        .map(|names| {
            names
                .iter()
                .map(|n| {
                    n.as_string()
                        .map(|n| n.to_ascii_uppercase().replace(' ', "|"))
                })
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| type_error(&format!("{} must be command names", what("commands"))))
        })
        .transpose()?;
    Ok(Some(CacheConfig {
        max_entries: count("maxEntries", defaults.max_entries)?,
        max_bytes: count("maxBytes", defaults.max_bytes)?,
        ttl_ms,
        mode,
        prefixes,
        noloop: get("noloop")?.as_bool().unwrap_or(false),
        commands,
    }))
}

/// The options a `ws://` URI spells (`fromUri`), over `extra`.
pub fn from_uri(uri: &str, extra: &JsValue, who: &str) -> Result<ClientOptions, JsValue> {
    let parsed = parse_uri(uri).map_err(|why| type_error(&format!("{who}: {why}")))?;
    let options = js_sys::Object::new();
    if extra.is_object() {
        js_sys::Object::assign(&options, extra.unchecked_ref());
    }
    Reflect::set(&options, &"url".into(), &parsed.url.into())?;
    if let Some(password) = parsed.password {
        Reflect::set(&options, &"password".into(), &password.into())?;
    }
    if let Some(db) = parsed.db {
        Reflect::set(&options, &"db".into(), &db.into())?;
    }
    read(&options, who)
}
