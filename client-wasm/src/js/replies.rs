//! Reply containers handed to JS.

use wasm_bindgen::prelude::*;

/// A status reply (`+OK`, `+PONG`): `.status` holds its text.
#[wasm_bindgen]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusReply {
    status: String,
}

#[wasm_bindgen]
impl StatusReply {
    #[wasm_bindgen(constructor)]
    pub fn new(status: String) -> StatusReply {
        StatusReply { status }
    }

    #[wasm_bindgen(getter)]
    pub fn status(&self) -> String {
        self.status.clone()
    }

    #[wasm_bindgen(js_name = toString)]
    pub fn to_js_string(&self) -> String {
        self.status.clone()
    }
}
