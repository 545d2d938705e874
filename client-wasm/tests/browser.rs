//! The client in a real browser, through the real bridge, against a real
//! redis-server. The test command starts both and passes the bridge's URL
//! at build time as `REDIS_WASM_TEST_BRIDGE`.
#![cfg(target_arch = "wasm32")]

use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use redis_wasm::exported_classes;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const BRIDGE: &str = match option_env!("REDIS_WASM_TEST_BRIDGE") {
    Some(url) => url,
    None => "set REDIS_WASM_TEST_BRIDGE to the bridge's ws:// URL when building the tests",
};

#[wasm_bindgen(
    inline_js = "export function isInstance(value, name, classes) { return value instanceof classes[name]; }
export function set(o, k, v) { o[k] = v; return o; }"
)]
extern "C" {
    #[wasm_bindgen(js_name = isInstance)]
    fn is_instance(value: &JsValue, name: &str, classes: &JsValue) -> bool;
    fn set(object: &JsValue, key: &str, value: &JsValue) -> JsValue;
}

/// A `Connection` as JS sees it: its command methods are installed in JS
/// from the command table, so they are called by name.
struct Connection(JsValue);

impl Connection {
    async fn create(options: JsValue) -> Result<Connection, JsValue> {
        redis_wasm::Connection::create(options)
            .await
            .map(Connection)
    }

    fn method(&self, name: &str, args: &[&JsValue]) -> JsValue {
        let method: Function = Reflect::get(&self.0, &name.into())
            .unwrap()
            .unchecked_into();
        let args: Array = args.iter().copied().collect();
        method.apply(&self.0, &args).unwrap()
    }

    fn send(&self, name: &str, args: &[&JsValue]) -> Promise {
        self.method(name, args).unchecked_into()
    }

    fn set(&self, key: JsValue, value: JsValue, options: JsValue) -> Promise {
        self.send("set", &[&key, &value, &options])
    }

    fn get(&self, key: JsValue) -> Promise {
        self.send("get", &[&key])
    }

    /// `call(name, ...args)`.
    fn call(&self, name: JsValue, args: Array) -> Promise {
        let method: Function = Reflect::get(&self.0, &"call".into())
            .unwrap()
            .unchecked_into();
        args.unshift(&name);
        method.apply(&self.0, &args).unwrap().unchecked_into()
    }

    fn ping(&self) -> Promise {
        self.send("ping", &[])
    }

    fn echo(&self, value: JsValue) -> Promise {
        self.send("echo", &[&value])
    }

    fn incr(&self, key: JsValue) -> Promise {
        self.send("incr", &[&key])
    }

    fn exists(&self, key: JsValue) -> Promise {
        self.send("exists", &[&key])
    }

    fn delete(&self, keys: JsValue) -> Promise {
        self.send("delete", &[&keys])
    }

    fn rpush(&self, key: JsValue, values: JsValue) -> Promise {
        self.send("rpush", &[&key, &values])
    }

    fn lrange_aslist(&self, key: JsValue, start: JsValue, stop: JsValue) -> Promise {
        self.send("lrangeAsList", &[&key, &start, &stop])
    }

    fn hmset(&self, key: JsValue, values: JsValue) -> Promise {
        self.send("hmset", &[&key, &values])
    }

    fn hgetall_asdict(&self, key: JsValue) -> Promise {
        self.send("hgetallAsDict", &[&key])
    }

    fn close(&self) {
        self.method("close", &[]);
    }

    fn is_connected(&self) -> bool {
        Reflect::get(&self.0, &"isConnected".into())
            .unwrap()
            .is_truthy()
    }
}

fn object(pairs: &[(&str, JsValue)]) -> JsValue {
    let object: JsValue = Object::new().into();
    for (key, value) in pairs {
        set(&object, key, value);
    }
    object
}

fn options(pairs: &[(&str, JsValue)]) -> JsValue {
    let options = object(pairs);
    set(&options, "url", &BRIDGE.into());
    options
}

fn class(name: &str) -> JsValue {
    Reflect::get(&exported_classes(), &name.into()).unwrap()
}

fn bytes_encoder() -> JsValue {
    Reflect::construct(
        &class("BytesEncoder").unchecked_into::<js_sys::Function>(),
        &Array::new(),
    )
    .unwrap()
}

/// SETs `value` under `key` on a `BytesEncoder` connection and GETs it back.
async fn set_and_get(conn: &Connection, key: &Uint8Array, value: &[u8]) -> Vec<u8> {
    let value = Uint8Array::from(value).into();
    ok(conn.set(key.clone().into(), value, JsValue::UNDEFINED)).await;
    let back: Uint8Array = ok(conn.get(key.clone().into())).await.unchecked_into();
    back.to_vec()
}

async fn connect(pairs: &[(&str, JsValue)]) -> Connection {
    Connection::create(options(pairs))
        .await
        .expect("connect through the bridge")
}

async fn ok(promise: Promise) -> JsValue {
    JsFuture::from(promise).await.expect("command succeeds")
}

async fn err(promise: Promise) -> JsValue {
    JsFuture::from(promise).await.expect_err("command fails")
}

/// A key no other test uses, so tests can run in any order on one server.
fn key(name: &str) -> JsValue {
    format!("browser-test:{name}:{}", js_sys::Math::random()).into()
}

fn status(reply: &JsValue) -> String {
    Reflect::get(reply, &"status".into())
        .unwrap()
        .as_string()
        .unwrap()
}

#[wasm_bindgen_test]
async fn set_then_get_round_trips_unicode_and_empty_values() {
    let conn = connect(&[]).await;
    for value in ["value", "", "ünïcödé ✓ 🚀 日本語"] {
        let k = key("roundtrip");
        assert_eq!(
            status(&ok(conn.set(k.clone(), value.into(), JsValue::UNDEFINED)).await),
            "OK"
        );
        assert_eq!(ok(conn.get(k)).await.as_string().unwrap(), value);
    }
    assert!(ok(conn.get(key("missing"))).await.is_null());
}

#[wasm_bindgen_test]
async fn set_options_map_to_ex_px_nx_xx() {
    let conn = connect(&[]).await;
    let k = key("options");
    let nx = object(&[("onlyIfNotExists", true.into()), ("expire", 100.into())]);
    assert_eq!(
        status(&ok(conn.set(k.clone(), "a".into(), nx.clone())).await),
        "OK"
    );
    assert!(
        ok(conn.set(k.clone(), "b".into(), nx)).await.is_null(),
        "NX on an existing key sets nothing"
    );
    let ttl = ok(conn.call("TTL".into(), Array::of1(&k)))
        .await
        .as_f64()
        .unwrap();
    assert!(
        (1.0..=100.0).contains(&ttl),
        "EX 100 gives a TTL in (0, 100], got {ttl}"
    );

    let xx = object(&[("onlyIfExists", true.into()), ("pexpire", 50_000.into())]);
    assert!(ok(conn.set(key("absent"), "c".into(), xx.clone()))
        .await
        .is_null());
    assert_eq!(status(&ok(conn.set(k.clone(), "d".into(), xx)).await), "OK");
    let pttl = ok(conn.call("PTTL".into(), Array::of1(&k)))
        .await
        .as_f64()
        .unwrap();
    assert!((1.0..=50_000.0).contains(&pttl));
    assert_eq!(ok(conn.get(k)).await.as_string().unwrap(), "d");

    let typo = object(&[("expires", 10.into())]);
    let rejected = err(conn.set(key("typo"), "v".into(), typo)).await;
    assert!(rejected.is_instance_of::<js_sys::TypeError>());
}

#[wasm_bindgen_test]
async fn ping_echo_incr_exists_delete() {
    let conn = connect(&[]).await;
    assert_eq!(status(&ok(conn.ping()).await), "PONG");
    assert_eq!(
        ok(conn.echo("héllo".into())).await.as_string().unwrap(),
        "héllo"
    );
    let counter = key("counter");
    assert_eq!(ok(conn.incr(counter.clone())).await.as_f64(), Some(1.0));
    assert_eq!(ok(conn.incr(counter.clone())).await.as_f64(), Some(2.0));
    assert_eq!(ok(conn.exists(counter.clone())).await.as_bool(), Some(true));
    let other = key("other");
    ok(conn.set(other.clone(), "x".into(), JsValue::UNDEFINED)).await;
    let keys = Array::of3(&counter, &other, &key("never-set"));
    assert_eq!(ok(conn.delete(keys.into())).await.as_f64(), Some(2.0));
    assert_eq!(ok(conn.exists(counter)).await.as_bool(), Some(false));
    let set_of_keys = js_sys::Set::new(&Array::of1(&other));
    assert_eq!(
        ok(conn.delete(set_of_keys.into())).await.as_f64(),
        Some(0.0),
        "any iterable works"
    );
}

#[wasm_bindgen_test]
async fn integers_beyond_2_pow_53_are_bigints() {
    let conn = connect(&[]).await;
    let k = key("big");
    ok(conn.set(k.clone(), "9007199254740993".into(), JsValue::UNDEFINED)).await;
    let big = ok(conn.incr(k)).await;
    assert!(big.is_bigint());
    assert_eq!(
        String::from(
            big.unchecked_into::<js_sys::BigInt>()
                .to_string(10)
                .unwrap()
        ),
        "9007199254740994"
    );
}

#[wasm_bindgen_test]
async fn ten_thousand_pipelined_commands_are_matched_in_order() {
    let conn = connect(&[]).await;
    let counter = key("pipelined");
    let replies: Vec<Promise> = (0..10_000).map(|_| conn.incr(counter.clone())).collect();
    let all = ok(Promise::all(&replies.into_iter().collect::<Array>())).await;
    let all: Array = all.unchecked_into();
    for (index, value) in all.iter().enumerate() {
        assert_eq!(value.as_f64(), Some(index as f64 + 1.0));
    }
}

#[wasm_bindgen_test]
async fn error_replies_reject_with_error_reply_and_the_connection_stays_usable() {
    let conn = connect(&[]).await;
    let k = key("wrongtype");
    ok(conn.call("LPUSH".into(), Array::of2(&k, &"x".into()))).await;
    let before = conn.incr(key("before"));
    let failed = conn.incr(k.clone());
    let after = conn.echo("after".into());
    assert_eq!(ok(before).await.as_f64(), Some(1.0));
    let failure = err(failed).await;
    assert!(is_instance(&failure, "ErrorReply", &exported_classes()));
    assert!(is_instance(&failure, "RedisError", &exported_classes()));
    let message = Reflect::get(&failure, &"message".into())
        .unwrap()
        .as_string()
        .unwrap();
    assert!(message.starts_with("WRONGTYPE"), "{message}");
    assert_eq!(ok(after).await.as_string().unwrap(), "after");
}

#[wasm_bindgen_test]
async fn call_decodes_plain_values() {
    let conn = connect(&[]).await;
    let h = key("hash");
    let hset = Array::of5(&h, &"f1".into(), &"v1".into(), &"f2".into(), &"v2".into());
    assert_eq!(ok(conn.call("HSET".into(), hset)).await.as_f64(), Some(2.0));
    let all: Array = ok(conn.call("HGETALL".into(), Array::of1(&h)))
        .await
        .unchecked_into();
    let items: Vec<String> = all.iter().map(|v| v.as_string().unwrap()).collect();
    assert_eq!(items, ["f1", "v1", "f2", "v2"]);
    assert_eq!(
        ok(conn.call("SET".into(), Array::of2(&key("n"), &42.into())))
            .await
            .as_string()
            .unwrap(),
        "OK"
    );
    let mget: Array = ok(conn.call("MGET".into(), Array::of2(&h, &key("none"))))
        .await
        .unchecked_into();
    assert!(mget.get(1).is_null());
    let failure = err(conn.call("NOSUCHCOMMAND".into(), Array::new())).await;
    assert!(is_instance(&failure, "ErrorReply", &exported_classes()));
}

#[wasm_bindgen_test]
async fn bytes_encoder_round_trips_all_256_byte_values() {
    let conn = connect(&[("encoder", bytes_encoder())]).await;
    let all: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
    let k = Uint8Array::from(&b"browser-test:bytes\xff\x00"[..]);
    assert_eq!(set_and_get(&conn, &k, &all).await, all);
    let typed = err(conn.get("a string".into())).await;
    assert!(
        typed.is_instance_of::<js_sys::TypeError>(),
        "strings are not bytes under BytesEncoder"
    );
    ok(conn.delete(Array::of1(&k).into())).await;
}

/// Replies of many strings are decoded many strings at a time; what comes
/// out must be what decoding one by one gives: empty, multi-byte and astral
/// strings, invalid UTF-8 (U+FFFD), over more than one decoding run.
#[wasm_bindgen_test]
async fn lists_and_hashes_of_strings_decode_exactly() {
    let conn = connect(&[]).await;
    let items: Vec<String> = (0..3000)
        .map(|i| match i % 5 {
            0 => String::new(),
            1 => format!("ascii {i}"),
            2 => format!("ünïcödé {i} 日本語"),
            3 => format!("🚀{i}🚀"),
            _ => "x".repeat(i % 200),
        })
        .collect();
    let js_items: Array = items
        .iter()
        .map(|item| JsValue::from(item.as_str()))
        .collect();
    let list = key("texts-list");
    ok(conn.rpush(list.clone(), js_items.clone().into())).await;
    let raw = connect(&[("encoder", bytes_encoder())]).await;
    let list_bytes = Uint8Array::from(list.as_string().unwrap().as_bytes());
    let invalid = Uint8Array::from(&[b'a', 0xff, b'b'][..]);
    ok(raw.rpush(list_bytes.into(), Array::of1(&invalid).into())).await;

    let got: Array = ok(conn.lrange_aslist(list.clone(), JsValue::UNDEFINED, JsValue::UNDEFINED))
        .await
        .unchecked_into();
    let expected: Vec<String> = items.iter().cloned().chain(["a\u{fffd}b".into()]).collect();
    let got: Vec<String> = got.iter().map(|item| item.as_string().unwrap()).collect();
    assert!(got == expected, "LRANGE decoded differently");

    let hash = key("texts-hash");
    let pairs = js_sys::Map::new();
    for (i, item) in js_items.iter().enumerate() {
        pairs.set(&format!("field {i}").into(), &item);
    }
    ok(conn.hmset(hash.clone(), pairs.into())).await;
    let got: js_sys::Map = ok(conn.hgetall_asdict(hash.clone())).await.unchecked_into();
    assert_eq!(got.size() as usize, items.len());
    for (i, item) in items.iter().enumerate() {
        assert_eq!(
            got.get(&format!("field {i}").into()).as_string().as_ref(),
            Some(item)
        );
    }
    ok(conn.delete(Array::of2(&list, &hash).into())).await;
}

/// The test bridge refuses WebSocket messages over 1 MiB (`scripts/test.sh`):
/// a 3 MB value only gets through because the client splits its writes
/// into several messages, and comes back whole, byte for byte.
#[wasm_bindgen_test]
async fn values_larger_than_a_websocket_message_round_trip() {
    let conn = connect(&[("encoder", bytes_encoder())]).await;
    let value: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let k = Uint8Array::from(&b"browser-test:large"[..]);
    let back = set_and_get(&conn, &k, &value).await;
    assert!(back == value, "the value came back changed");
    ok(conn.delete(Array::of1(&k).into())).await;
}

#[wasm_bindgen_test]
async fn a_wrong_argument_type_rejects_before_sending_unless_checks_are_off() {
    let conn = connect(&[]).await;
    let rejected = err(conn.get(42.into())).await;
    assert!(rejected.is_instance_of::<js_sys::TypeError>());
    let message = Reflect::get(&rejected, &"message".into())
        .unwrap()
        .as_string()
        .unwrap();
    assert!(
        message.contains("get") && message.contains("key"),
        "{message}"
    );
    let listless = err(conn.delete("one-key".into())).await;
    assert!(listless.is_instance_of::<js_sys::TypeError>());
    assert_eq!(
        status(&ok(conn.ping()).await),
        "PONG",
        "nothing was sent by the rejected calls"
    );

    let relaxed = connect(&[("enableTypechecking", false.into())]).await;
    let k = format!("browser-test:relaxed:{}", js_sys::Math::random());
    ok(relaxed.set(k.clone().into(), 12.5.into(), JsValue::UNDEFINED)).await;
    assert_eq!(
        ok(relaxed.get(k.clone().into())).await.as_string().unwrap(),
        "12.5"
    );
    assert_eq!(ok(relaxed.delete(k.into())).await.as_f64(), Some(1.0));
}

#[wasm_bindgen_test]
async fn db_option_selects_the_database() {
    let in_db2 = connect(&[("db", 2.into())]).await;
    let in_db0 = connect(&[]).await;
    let k = key("db");
    ok(in_db2.set(k.clone(), "two".into(), JsValue::UNDEFINED)).await;
    assert!(ok(in_db0.get(k.clone())).await.is_null());
    assert_eq!(ok(in_db2.get(k)).await.as_string().unwrap(), "two");
}

#[wasm_bindgen_test]
async fn a_wrong_password_rejects_create_with_the_server_error() {
    let failure = Connection::create(options(&[("password", "not-the-password".into())]))
        .await
        .err()
        .expect("AUTH fails");
    assert!(is_instance(&failure, "ErrorReply", &exported_classes()));
}

#[wasm_bindgen_test]
async fn nothing_listening_rejects_with_not_connected_error() {
    // A first connection is retried until connectTimeout (10 s by default).
    let object = options(&[("connectTimeout", 1000.into())]);
    set(&object, "url", &"ws://127.0.0.1:9/".into());
    let failure = Connection::create(object)
        .await
        .err()
        .expect("no server on port 9");
    assert!(is_instance(
        &failure,
        "NotConnectedError",
        &exported_classes()
    ));
}

#[wasm_bindgen_test]
async fn close_rejects_in_flight_commands_with_connection_lost_and_later_ones_with_not_connected() {
    let conn = connect(&[]).await;
    let blocked = conn.call("BLPOP".into(), Array::of2(&key("never"), &5.into()));
    let pending = conn.ping();
    conn.close();
    assert!(is_instance(
        &err(blocked).await,
        "ConnectionLostError",
        &exported_classes()
    ));
    assert!(is_instance(
        &err(pending).await,
        "ConnectionLostError",
        &exported_classes()
    ));
    let later = err(conn.ping()).await;
    assert!(is_instance(
        &later,
        "NotConnectedError",
        &exported_classes()
    ));
    assert!(!is_instance(
        &later,
        "ConnectionLostError",
        &exported_classes()
    ));
    assert!(!conn.is_connected());
}
