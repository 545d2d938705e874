//! `Connection`: one Redis connection through a bridge, with the seed's
//! connection state (transaction, pub/sub, blocking call) and reconnects.
//!
//! A `Connection` owns its current socket. When the socket drops, every
//! command in flight on it rejects with `ConnectionLostError` (the pipeline
//! guarantees no later bytes reach them); with `autoReconnect` a new socket
//! is opened with exponential backoff (first retry within 100 ms, then
//! doubling up to `reconnectCap`, 2 s by default), `AUTH` and `SELECT` are
//! sent again and active subscriptions are renewed. Commands issued while no
//! socket is open reject at once with `NotConnectedError`: nothing waits in
//! a queue that might be sent much later, or twice.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use js_sys::{Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::convert::ArgReader;
use super::encoder::Encoder;
use super::errors::{error, rejected, type_error, ErrorClass};
use super::socket::{Socket, SocketOptions};
use super::subscription::{SubState, Subscription};
use super::target::{Build, Issuer, Target};
use super::transaction::Transaction;
use crate::core::uri::{parse_uri, token_protocol};
use crate::core::ReplyKind;

/// The options of `Connection.create` and `Pool.create`.
pub struct Options {
    pub socket: SocketOptions,
    password: Option<Vec<u8>>,
    db: Option<Vec<u8>>,
    auto_reconnect: bool,
    reconnect_cap_ms: f64,
}

/// The first reconnect delay; it doubles up to the cap.
const FIRST_RETRY_MS: f64 = 50.0;

impl Options {
    pub fn read(options: &JsValue, who: &str) -> Result<Options, JsValue> {
        if !options.is_object() {
            return Err(type_error(&format!(
                "{who}: options must be an object such as {{ url: 'ws://127.0.0.1:7379' }}"
            )));
        }
        let get = |name: &str| Reflect::get(options, &name.into());
        let url = get("url")?.as_string().ok_or_else(|| {
            type_error(&format!(
                "{who}: options.url must be a ws:// or wss:// URL string"
            ))
        })?;
        let encoder = Encoder::from_option(&get("encoder")?)?;
        let reader = ArgReader {
            encoder: &encoder,
            strict: true,
        };
        let password = get("password")?;
        let password = match password.is_undefined() || password.is_null() {
            true => None,
            false => Some(reader.native(&password, &|| format!("{who}: options.password"))?),
        };
        let db = get("db")?;
        let db = match db.is_undefined() || db.is_null() {
            true => None,
            false => {
                Some(reader.int(&db, &|| format!("{who}: options.db"))?).filter(|db| db != b"0")
            }
        };
        let token = get("token")?;
        let protocols = match token.as_string() {
            Some(token) => vec!["redis-wasm".to_owned(), token_protocol(&token)],
            None if token.is_undefined() || token.is_null() => Vec::new(),
            None => {
                return Err(type_error(&format!(
                    "{who}: options.token must be a string"
                )))
            }
        };
        let cap = get("reconnectCap")?.as_f64().unwrap_or(2000.0);
        Ok(Options {
            socket: SocketOptions {
                url,
                protocols,
                encoder,
                strict: get("enableTypechecking")?.as_bool().unwrap_or(true),
            },
            password,
            db,
            auto_reconnect: get("autoReconnect")?.as_bool().unwrap_or(true),
            reconnect_cap_ms: cap.max(FIRST_RETRY_MS),
        })
    }

    /// The options a `ws://` URI spells (`fromUri`), over `extra`.
    pub fn from_uri(uri: &str, extra: &JsValue, who: &str) -> Result<Options, JsValue> {
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
        Options::read(&options, who)
    }
}

/// The state behind a `Connection` (and each connection of a `Pool`).
pub struct ConnInner {
    options: Options,
    password: RefCell<Option<Vec<u8>>>,
    db: RefCell<Option<Vec<u8>>>,
    socket: RefCell<Option<Rc<Socket>>>,
    in_transaction: Cell<bool>,
    closed: Cell<bool>,
    subscription: RefCell<Option<Rc<SubState>>>,
}

impl ConnInner {
    pub async fn connect(options: Options) -> Result<Rc<ConnInner>, JsValue> {
        let inner = Rc::new(ConnInner {
            password: RefCell::new(options.password.clone()),
            db: RefCell::new(options.db.clone()),
            options,
            socket: RefCell::new(None),
            in_transaction: Cell::new(false),
            closed: Cell::new(false),
            subscription: RefCell::new(None),
        });
        let socket = inner.open_socket().await?;
        inner.install(socket);
        Ok(inner)
    }

    /// A new socket, logged in and on the right database.
    async fn open_socket(&self) -> Result<Rc<Socket>, JsValue> {
        let socket = Socket::open(&self.options.socket).await?;
        let mut setup = Vec::new();
        if let Some(password) = self.password.borrow().clone() {
            setup.push(socket.send(
                vec![b"AUTH".to_vec(), password],
                ReplyKind::Status,
                "create",
            ));
        }
        if let Some(db) = self.db.borrow().clone() {
            setup.push(socket.send(vec![b"SELECT".to_vec(), db], ReplyKind::Status, "create"));
        }
        for reply in setup {
            if let Err(err) = JsFuture::from(reply).await {
                socket.close();
                return Err(err);
            }
        }
        Ok(socket)
    }

    fn install(self: &Rc<Self>, socket: Rc<Socket>) {
        let weak = Rc::downgrade(self);
        socket.when_closed(Box::new(move || {
            if let Some(inner) = weak.upgrade() {
                inner.lost();
            }
        }));
        if let Some(subscription) = self.subscription.borrow().as_ref() {
            subscription.renew(&socket);
        }
        *self.socket.borrow_mut() = Some(socket);
    }

    /// The socket dropped: leave the transaction, and reconnect if asked to.
    fn lost(self: &Rc<Self>) {
        self.in_transaction.set(false);
        if self.options.auto_reconnect && !self.closed.get() {
            wasm_bindgen_futures::spawn_local(reconnect(
                Rc::downgrade(self),
                self.options.reconnect_cap_ms,
            ));
        }
    }

    pub fn socket(&self) -> Option<Rc<Socket>> {
        self.socket.borrow().clone()
    }

    /// The socket to send on, or why there is none.
    fn usable_socket(&self) -> Result<Rc<Socket>, JsValue> {
        match self.socket() {
            Some(socket) if socket.is_connected() => Ok(socket),
            _ if self.closed.get() => Err(error(
                ErrorClass::NotConnectedError,
                "the connection is closed",
            )),
            _ => Err(error(
                ErrorClass::NotConnectedError,
                "not connected (reconnecting)",
            )),
        }
    }

    /// Busy in the seed's sense: in a transaction, a blocking call or pub/sub.
    pub fn in_use(&self) -> bool {
        self.in_transaction.get()
            || self
                .socket()
                .is_some_and(|s| s.in_blocking_call() || s.in_pubsub())
    }

    pub fn is_connected(&self) -> bool {
        self.socket().is_some_and(|s| s.is_connected())
    }

    pub fn in_flight(&self) -> usize {
        self.socket().map_or(0, |s| s.in_flight())
    }

    pub fn close(&self) {
        self.closed.set(true);
        if let Some(socket) = self.socket() {
            socket.close();
        }
        if let Some(subscription) = self.subscription.borrow().as_ref() {
            subscription.close();
        }
    }

    /// `multi(watch)`: WATCH the keys, then MULTI; the connection refuses
    /// its own commands until `exec` or `discard`.
    pub async fn multi(self: Rc<Self>, watch: JsValue) -> Result<Transaction, JsValue> {
        self.check_free("multi")?;
        let socket = self.usable_socket()?;
        if !watch.is_undefined() && !watch.is_null() {
            let reader = ArgReader {
                encoder: &socket.encoder,
                strict: socket.strict,
            };
            let mut line = vec![b"WATCH".to_vec()];
            reader.list(
                &watch,
                &|| "multi: argument 'watch'".into(),
                &mut line,
                |k, d| reader.native(k, d),
            )?;
            JsFuture::from(socket.send(line, ReplyKind::Unit, "watch")).await?;
            self.check_free("multi")?;
        }
        self.in_transaction.set(true);
        if let Err(err) =
            JsFuture::from(socket.send(vec![b"MULTI".to_vec()], ReplyKind::Status, "multi")).await
        {
            self.in_transaction.set(false);
            return Err(err);
        }
        Ok(Transaction::new(Rc::clone(&self), socket))
    }

    pub fn end_transaction(&self) {
        self.in_transaction.set(false);
    }

    /// `startSubscribe()`: the connection's one `Subscription`.
    pub fn start_subscribe(self: &Rc<Self>) -> Result<Subscription, JsValue> {
        if let Some(state) = self.subscription.borrow().as_ref() {
            return Ok(Subscription::new(Rc::clone(state)));
        }
        if self.in_transaction.get() {
            return Err(error(
                ErrorClass::RedisError,
                "startSubscribe: the connection is in a transaction",
            ));
        }
        let socket = self.usable_socket()?;
        let state = SubState::new(Rc::downgrade(self), socket.encoder.clone());
        state.renew(&socket);
        *self.subscription.borrow_mut() = Some(Rc::clone(&state));
        Ok(Subscription::new(state))
    }

    fn check_free(&self, method: &str) -> Result<(), JsValue> {
        if self.in_transaction.get() {
            return Err(error(
                ErrorClass::RedisError,
                &format!("{method}: the connection is already in a transaction"),
            ));
        }
        if self.socket().is_some_and(|s| s.in_pubsub()) {
            return Err(error(
                ErrorClass::RedisError,
                &format!("{method}: the connection is subscribed"),
            ));
        }
        Ok(())
    }

    /// Remembers the value of `AUTH` (`is_auth`) or `SELECT` once `reply`
    /// tells it succeeded, to repeat it on reconnect.
    fn remember(self: &Rc<Self>, is_auth: bool, value: Vec<u8>, reply: &Promise) {
        let (weak, reply) = (Rc::downgrade(self), reply.clone());
        wasm_bindgen_futures::spawn_local(async move {
            let Some(inner) = JsFuture::from(reply).await.ok().and(weak.upgrade()) else {
                return;
            };
            let slot = if is_auth { &inner.password } else { &inner.db };
            *slot.borrow_mut() = Some(value);
        });
    }
}

impl Issuer for Rc<ConnInner> {
    fn issue_with(&self, build: Build) -> Promise {
        if self.in_transaction.get() {
            return rejected(
                ErrorClass::RedisError,
                "the connection is in a transaction: send commands through the Transaction from multi(), then exec() or discard()",
            );
        }
        let socket = match self.usable_socket() {
            Ok(socket) => socket,
            Err(err) => return Promise::reject(&err),
        };
        if socket.in_pubsub() {
            return rejected(
                ErrorClass::RedisError,
                "the connection is subscribed: only the Subscription's subscribe, unsubscribe and ping are allowed",
            );
        }
        let reader = ArgReader {
            encoder: &socket.encoder,
            strict: socket.strict,
        };
        match build(&reader) {
            Ok((line, reply, method)) => {
                let remembered = match method {
                    "auth" | "select" => line.last().cloned(),
                    _ => None,
                };
                let promise = socket.send(line, reply, method);
                if let Some(value) = remembered {
                    self.remember(method == "auth", value, &promise);
                }
                promise
            }
            Err(err) => Promise::reject(&err),
        }
    }
}

/// Opens a new socket for `inner` with exponential backoff, until it
/// succeeds, the connection is closed or nobody holds it any more.
async fn reconnect(inner: Weak<ConnInner>, cap_ms: f64) {
    let mut delay = FIRST_RETRY_MS;
    loop {
        sleep(delay).await;
        let Some(conn) = inner.upgrade() else { return };
        if conn.closed.get() {
            return;
        }
        if let Ok(socket) = conn.open_socket().await {
            if conn.closed.get() {
                socket.close();
            } else {
                conn.install(socket);
            }
            return;
        }
        delay = (delay * 2.0).min(cap_ms);
    }
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(callback: &js_sys::Function, ms: f64) -> JsValue;
}

/// Resolves after `ms` milliseconds.
pub async fn sleep(ms: f64) {
    let timer = Promise::new(&mut |resolve, _| {
        set_timeout(&resolve, ms);
    });
    let _ = JsFuture::from(timer).await;
}

/// One connection to Redis through a WebSocket bridge.
#[wasm_bindgen]
pub struct Connection {
    inner: Rc<ConnInner>,
}

impl Target for Connection {
    fn issuer(&self) -> Rc<dyn Issuer> {
        Rc::new(Rc::clone(&self.inner))
    }
}

#[wasm_bindgen]
impl Connection {
    /// Opens a connection: `{ url, password, db, encoder, autoReconnect,
    /// enableTypechecking, token, reconnectCap }`. `AUTH` and `SELECT` are
    /// sent when `password` and a non-zero `db` are given.
    pub async fn create(options: JsValue) -> Result<Connection, JsValue> {
        let options = Options::read(&options, "Connection.create")?;
        Ok(Connection {
            inner: ConnInner::connect(options).await?,
        })
    }

    /// Opens a connection from `ws[s]://[user:password@]host:port[/path][/DB][?password=...]`;
    /// `options` may add any other option of `create`.
    #[wasm_bindgen(js_name = fromUri)]
    pub async fn from_uri(uri: String, options: JsValue) -> Result<Connection, JsValue> {
        let options = Options::from_uri(&uri, &options, "Connection.fromUri")?;
        Ok(Connection {
            inner: ConnInner::connect(options).await?,
        })
    }

    /// Closes the connection; commands still in flight reject with
    /// `ConnectionLostError`, later ones with `NotConnectedError`.
    pub fn close(&self) {
        self.inner.close();
    }

    /// Start a transaction, watching `watch` (any iterable of keys) first.
    pub async fn multi(&self, watch: JsValue) -> Result<Transaction, JsValue> {
        Rc::clone(&self.inner).multi(watch).await
    }

    /// Enter pub/sub mode: the `Subscription` subscribes and receives.
    #[wasm_bindgen(js_name = startSubscribe)]
    pub fn start_subscribe(&self) -> Promise {
        settled(self.inner.start_subscribe().map(JsValue::from))
    }

    #[wasm_bindgen(getter, js_name = isConnected)]
    pub fn is_connected(&self) -> bool {
        self.inner.is_connected()
    }

    #[wasm_bindgen(getter, js_name = inTransaction)]
    pub fn in_transaction(&self) -> bool {
        self.inner.in_transaction.get()
    }

    #[wasm_bindgen(getter, js_name = inPubsub)]
    pub fn in_pubsub(&self) -> bool {
        self.inner.socket().is_some_and(|s| s.in_pubsub())
    }

    #[wasm_bindgen(getter, js_name = inBlockingCall)]
    pub fn in_blocking_call(&self) -> bool {
        self.inner.socket().is_some_and(|s| s.in_blocking_call())
    }

    /// In a transaction, a blocking call or pub/sub: a pool sends other
    /// commands elsewhere.
    #[wasm_bindgen(getter, js_name = inUse)]
    pub fn in_use(&self) -> bool {
        self.inner.in_use()
    }
}

/// A Promise already settled with `result`.
pub fn settled(result: Result<JsValue, JsValue>) -> Promise {
    match result {
        Ok(value) => Promise::resolve(&value),
        Err(err) => Promise::reject(&err),
    }
}
