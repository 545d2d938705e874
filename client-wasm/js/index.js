// redis-wasm: the package entry.
//
// Importing this module loads and initialises the WebAssembly (top-level
// await; the .wasm file is found next to this module through
// import.meta.url), so users never call an init function themselves.
import init, * as wasm from './redis_wasm.js';

await init();

export { Connection, Pool, Transaction, Subscription, Script, Cursor } from './redis_wasm.js';

export const {
  RedisError, ErrorReply, TransactionError, NotConnectedError, ConnectionLostError,
  NoAvailableConnectionsInPoolError, ScriptKilledError, NoRunningScriptError, TimeoutError,
  UTF8Encoder, BytesEncoder, ZScoreBoundary, ZAggregate,
  StatusReply, ListReply, SetReply, DictReply, ZRangeReply, ConfigPairReply, BlockingPopReply,
  PubSubReply, InfoReply, ClientListReply, EvalScriptReply,
} = wasm.__classes();

// Connection and Pool are EventTargets: `connect`, `ready`, `reconnecting`
// (detail { attempt, delay }), `error` (detail { error }), `close` (detail
// { code, reason }) and `end`; `detail.connection` is the pool index.
for (const Class of [wasm.Connection, wasm.Pool]) {
  Object.setPrototypeOf(Class.prototype, EventTarget.prototype);
  for (const method of ['addEventListener', 'removeEventListener', 'dispatchEvent']) {
    Class.prototype[method] = function delegate(...args) { return this.events[method](...args); };
  }
  // `conn.withSignal(signal).get(k)`: every command sent through the view
  // rejects with `signal.reason` when the signal aborts (not sent if it
  // was still queued; its reply dropped if it was sent).
  Class.prototype.withSignal = function withSignal(signal) {
    const target = this;
    return new Proxy(target, {
      get(_, name) {
        const value = target[name];
        if (typeof value !== 'function' || name === 'withSignal') return value;
        return (...args) => {
          wasm.__setSignal(signal);
          try { return value.apply(target, args); } finally { wasm.__setSignal(null); }
        };
      },
    });
  };
}

// `for await` over published messages and over scan cursors. (Only JS can
// name a method by a symbol, so the iterators are attached here.)
wasm.Subscription.prototype[Symbol.asyncIterator] = async function* messages() {
  for (;;) yield await this.nextPublished();
};
wasm.Cursor.prototype[Symbol.asyncIterator] = async function* items() {
  for (let item = await this.fetchone(); item !== null; item = await this.fetchone()) yield item;
};
