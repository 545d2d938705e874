//! `Script`: a Lua script loaded once and run by its SHA1 digest; the core
//! sends it whole with EVAL, once, when the server lost it (NOSCRIPT).

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::convert::ArgReader;
use super::target::Via;
use crate::core::script;

/// A registered script, from `registerScript(code)`.
#[wasm_bindgen]
pub struct Script {
    via: Via,
    sha: String,
    code: JsValue,
}

impl Script {
    /// `SCRIPT LOAD code`, through `via`: resolves to the `Script`.
    pub fn register(via: Via, code: JsValue) -> Promise {
        wasm_bindgen_futures::future_to_promise(Script::loaded(via, code))
    }

    async fn loaded(via: Via, code: JsValue) -> Result<JsValue, JsValue> {
        let body = via
            .reader()
            .native(&code, &|| "registerScript: argument 'script'".into())?;
        let loaded = via.send(script::load(&body), None);
        let sha = JsFuture::from(loaded)
            .await?
            .as_string()
            .unwrap_or_default();
        Ok(Script { via, sha, code }.into())
    }
}

/// The items of an optional iterable argument (`null`/`undefined`: none).
fn items(reader: &ArgReader, value: &JsValue, name: &str) -> Result<Vec<Vec<u8>>, JsValue> {
    let mut out = Vec::new();
    if !value.is_undefined() && !value.is_null() {
        reader.list(
            value,
            &|| format!("run: argument '{name}'"),
            &mut out,
            |v, d| reader.native(v, d),
        )?;
    }
    Ok(out)
}

#[wasm_bindgen]
impl Script {
    /// Runs the script with `keys` and `args` (iterables); resolves to an
    /// `EvalScriptReply`. When the server no longer has the script
    /// (NOSCRIPT, e.g. after SCRIPT FLUSH or a restart) it is sent whole
    /// once with EVAL.
    pub fn run(&self, keys: JsValue, args: JsValue) -> Promise {
        let client = self.via.client();
        let reader = self.via.reader();
        let built = (|| {
            let code = reader.native(&self.code, &|| "run: the script".into())?;
            let (keys, args) = (
                items(&reader, &keys, "keys")?,
                items(&reader, &args, "args")?,
            );
            let keys: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
            let args: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
            Ok::<_, JsValue>(script::run(self.sha.as_bytes(), &code, &keys, &args))
        })();
        match built {
            Ok((evalsha, eval)) => client.request_script(evalsha, eval),
            Err(err) => Promise::reject(&err),
        }
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
