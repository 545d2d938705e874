//! Turning failures into the exported JS `Error` subclasses.

use wasm_bindgen::prelude::*;

use crate::core::ClientError;

#[wasm_bindgen(module = "/js/classes.js")]
extern "C" {
    #[wasm_bindgen(js_name = makeError)]
    fn make_error(kind: &str, message: &str) -> JsValue;

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
}

impl ErrorClass {
    fn name(self) -> &'static str {
        match self {
            ErrorClass::RedisError => "RedisError",
            ErrorClass::ErrorReply => "ErrorReply",
            ErrorClass::NotConnectedError => "NotConnectedError",
            ErrorClass::ConnectionLostError => "ConnectionLostError",
        }
    }
}

pub fn error(class: ErrorClass, message: &str) -> JsValue {
    make_error(class.name(), message)
}

pub fn type_error(message: &str) -> JsValue {
    js_sys::TypeError::new(message).into()
}

impl From<ClientError> for JsValue {
    fn from(err: ClientError) -> JsValue {
        let class = match &err {
            ClientError::NotConnected(_) => ErrorClass::NotConnectedError,
            ClientError::ConnectionLost(_) => ErrorClass::ConnectionLostError,
            ClientError::Protocol(_) => ErrorClass::ConnectionLostError,
        };
        error(class, &err.to_string())
    }
}
