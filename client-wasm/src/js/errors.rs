//! Turning failures into the exported JS `Error` subclasses.

use wasm_bindgen::prelude::*;

use crate::core::ClientError;

#[wasm_bindgen(module = "/js/classes.js")]
extern "C" {
    #[wasm_bindgen(js_name = makeError)]
    fn make_error(kind: &str, message: &str, command: &str) -> JsValue;

    /// Every class of `classes.js`, by name, for the package entry to export.
    pub fn classes() -> JsValue;
}

/// The exported error classes, by the name users import them under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    RedisError,
    ErrorReply,
    NotConnectedError,
    ConnectionLostError,
    TimeoutError,
    ScriptKilledError,
    NoRunningScriptError,
    TransactionError,
    NoAvailableConnectionsInPoolError,
    CrossSlotError,
}

impl ErrorClass {
    fn name(self) -> &'static str {
        match self {
            ErrorClass::RedisError => "RedisError",
            ErrorClass::ErrorReply => "ErrorReply",
            ErrorClass::NotConnectedError => "NotConnectedError",
            ErrorClass::ConnectionLostError => "ConnectionLostError",
            ErrorClass::TimeoutError => "TimeoutError",
            ErrorClass::ScriptKilledError => "ScriptKilledError",
            ErrorClass::NoRunningScriptError => "NoRunningScriptError",
            ErrorClass::TransactionError => "TransactionError",
            ErrorClass::NoAvailableConnectionsInPoolError => "NoAvailableConnectionsInPoolError",
            ErrorClass::CrossSlotError => "CrossSlotError",
        }
    }
}

pub fn error(class: ErrorClass, message: &str) -> JsValue {
    make_error(class.name(), message, "")
}

/// The error for an error reply to `command` (Redis's name, `GET`): the
/// script errors the seed names get their own classes, everything else is
/// an `ErrorReply` with the server's text, its `code` (the first word) and
/// its `command`.
pub fn error_reply(message: &str, command: &str) -> JsValue {
    let class = if message.starts_with("NOTBUSY") {
        ErrorClass::NoRunningScriptError
    } else if message.contains("Script killed by user") {
        ErrorClass::ScriptKilledError
    } else {
        ErrorClass::ErrorReply
    };
    make_error(class.name(), message, command)
}

/// A rejected Promise carrying `error(class, message)`.
pub fn rejected(class: ErrorClass, message: &str) -> js_sys::Promise {
    js_sys::Promise::reject(&error(class, message))
}

/// The `message` of a JS error value, or nothing.
pub fn message_of(error: &JsValue) -> String {
    js_sys::Reflect::get(error, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .unwrap_or_default()
}

pub fn type_error(message: &str) -> JsValue {
    js_sys::TypeError::new(message).into()
}

impl From<ClientError> for JsValue {
    fn from(err: ClientError) -> JsValue {
        if let ClientError::Reply { command, message } = &err {
            return error_reply(message, command);
        }
        let class = match &err {
            ClientError::NotConnected(_) => ErrorClass::NotConnectedError,
            ClientError::ConnectionLost(_) | ClientError::Protocol(_) => {
                ErrorClass::ConnectionLostError
            }
            ClientError::Reply { .. } => ErrorClass::ErrorReply,
            ClientError::Timeout(_) => ErrorClass::TimeoutError,
            ClientError::NoAvailableConnections(_) => ErrorClass::NoAvailableConnectionsInPoolError,
            ClientError::Transaction(_) => ErrorClass::TransactionError,
            ClientError::CrossSlot(_) => ErrorClass::CrossSlotError,
            ClientError::Refused(_) | ClientError::Cluster(_) => ErrorClass::RedisError,
        };
        error(class, &err.to_string())
    }
}
