//! The options of `Connection.create` and `Pool.create`, read and checked
//! before anything is opened.

use js_sys::{Function, Reflect};
use wasm_bindgen::prelude::*;

use super::client::ClientOptions;
use super::convert::ArgReader;
use super::encoder::Encoder;
use super::errors::type_error;
use crate::core::backoff::FIRST_DELAY_MS;
use crate::core::pool::{Config, QueueLimits, DEFAULT_OFFLINE_QUEUE};
use crate::core::session::{Remembered, Settings};
use crate::core::uri::{parse_uri, token_protocol};

/// The default `connectTimeout`, ms.
const CONNECT_TIMEOUT_MS: f64 = 10_000.0;

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
    let protocol = match get("protocol")?.as_f64() {
        None | Some(2.0) => None,
        Some(3.0) => Some(b"3".to_vec()),
        Some(_) => {
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
            },
            command_timeout_ms: milliseconds("commandTimeout", None)?,
            offline_queue,
        },
    })
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
