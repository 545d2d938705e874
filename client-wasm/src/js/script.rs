//! `Script`: a Lua script loaded once and run by its SHA1 digest.

use std::rc::Rc;

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

use super::errors::message_of;
use super::target::{issue, Issuer};
use crate::commands::script_arguments;
use crate::core::ReplyKind;

/// A registered script, from `registerScript(code)`.
#[wasm_bindgen]
pub struct Script {
    issuer: Rc<dyn Issuer>,
    sha: String,
    code: JsValue,
}

impl Script {
    /// `SCRIPT LOAD code`, through `issuer`.
    pub async fn register(issuer: Rc<dyn Issuer>, code: JsValue) -> Result<Script, JsValue> {
        let loaded = issue(&*issuer, |reader| {
            let code = reader.native(&code, &|| "registerScript: argument 'script'".into())?;
            Ok((
                vec![b"SCRIPT".to_vec(), b"LOAD".to_vec(), code],
                ReplyKind::Text,
                "registerScript",
            ))
        });
        let sha = JsFuture::from(loaded)
            .await?
            .as_string()
            .unwrap_or_default();
        Ok(Script { issuer, sha, code })
    }

    fn eval(&self, command: &'static str, keys: &JsValue, args: &JsValue) -> Promise {
        let body = if command == "EVALSHA" {
            JsValue::from(self.sha.as_str())
        } else {
            self.code.clone()
        };
        issue(&*self.issuer, |reader| {
            let body = reader.native(&body, &|| "run: the script".into())?;
            let mut line = vec![command.as_bytes().to_vec(), body];
            line.extend(script_arguments(reader, "run", keys, args)?);
            Ok((line, ReplyKind::EvalScript, "run"))
        })
    }
}

#[wasm_bindgen]
impl Script {
    /// Runs the script with `keys` and `args` (iterables); resolves to an
    /// `EvalScriptReply`. When the server no longer has the script
    /// (NOSCRIPT, e.g. after SCRIPT FLUSH or a restart) it is sent whole
    /// once with EVAL.
    pub fn run(&self, keys: JsValue, args: JsValue) -> Promise {
        let by_sha = self.eval("EVALSHA", &keys, &args);
        let whole = Script {
            issuer: Rc::clone(&self.issuer),
            sha: self.sha.clone(),
            code: self.code.clone(),
        };
        future_to_promise(async move {
            match JsFuture::from(by_sha).await {
                Err(err) if message_of(&err).starts_with("NOSCRIPT") => {
                    JsFuture::from(whole.eval("EVAL", &keys, &args)).await
                }
                other => other,
            }
        })
    }

    /// The script's SHA1 digest.
    #[wasm_bindgen(getter)]
    pub fn sha(&self) -> String {
        self.sha.clone()
    }

    /// The script's source.
    #[wasm_bindgen(getter)]
    pub fn code(&self) -> JsValue {
        self.code.clone()
    }
}
