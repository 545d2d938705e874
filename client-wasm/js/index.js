// redis-wasm: the package entry.
//
// Importing this module loads and initialises the WebAssembly (top-level
// await; the .wasm file is found next to this module through
// import.meta.url), so users never call an init function themselves.
import init, * as wasm from './redis_wasm.js';

await init();
wasm.__installMethods([wasm.Connection, wasm.Pool, wasm.Transaction]);

export { Connection, Pool, Transaction, Subscription, Script, Cursor } from './redis_wasm.js';
export { SharedConnection } from './shared.js';

export const {
  RedisError, ErrorReply, TransactionError, NotConnectedError, ConnectionLostError,
  NoAvailableConnectionsInPoolError, ScriptKilledError, NoRunningScriptError, TimeoutError,
  UTF8Encoder, BytesEncoder, ZScoreBoundary, ZAggregate,
  StatusReply, ListReply, SetReply, DictReply, ZRangeReply, ConfigPairReply, BlockingPopReply,
  PubSubReply, InfoReply, ClientListReply, EvalScriptReply,
} = wasm.__classes();

// `for await` over published messages and over scan cursors. (Only JS can
// name a method by a symbol, so the iterators are attached here.)
wasm.Subscription.prototype[Symbol.asyncIterator] = async function* messages() {
  for (;;) yield await this.nextPublished();
};
wasm.Cursor.prototype[Symbol.asyncIterator] = async function* items() {
  for (let item = await this.fetchone(); item !== null; item = await this.fetchone()) yield item;
};
