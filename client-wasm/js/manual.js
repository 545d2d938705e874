// redis-wasm without loading: every export of the package, plus `initSync`
// and `init`, which the runtime entries (index.js, node.js) call on import.
// Import `redis-wasm/manual` where the package must not find the .wasm by
// itself (a platform that forbids fetching and reading files, or that hands
// over a compiled `WebAssembly.Module`): call one of them before anything
// else. Both are safe to call again; the wasm is initialised once.
import initWasm, * as wasm from './redis_wasm.js';

export { Connection, Pool, Cluster, ClusterNode, Transaction, Subscription, Script, Cursor } from './redis_wasm.js';

/**
 * `SharedConnection` (shared.js, with the SharedWorker it starts): loaded
 * when first used, so pages that do not use it do not download it.
 */
export const SharedConnection = {
  async create(options) {
    const shared = await import('./shared.js');
    return shared.SharedConnection.create(options);
  },
};

// The classes made inside the wasm exist only once it is initialised: these
// bindings are filled then (ES exports are live, so importers see them).
export let RedisError, ErrorReply, TransactionError, NotConnectedError, ConnectionLostError,
  NoAvailableConnectionsInPoolError, ScriptKilledError, NoRunningScriptError, TimeoutError, CrossSlotError,
  UTF8Encoder, BytesEncoder, ZScoreBoundary, ZAggregate,
  StatusReply, ListReply, SetReply, DictReply, ZRangeReply, ConfigPairReply, BlockingPopReply,
  PubSubReply, InfoReply, ClientListReply, EvalScriptReply;

let finished = false;
function finish() {
  if (finished) return;
  finished = true;
  wasm.__installMethods([wasm.Connection, wasm.Pool, wasm.Cluster, wasm.ClusterNode, wasm.Transaction]);
  ({
    RedisError, ErrorReply, TransactionError, NotConnectedError, ConnectionLostError,
    NoAvailableConnectionsInPoolError, ScriptKilledError, NoRunningScriptError, TimeoutError, CrossSlotError,
    UTF8Encoder, BytesEncoder, ZScoreBoundary, ZAggregate,
    StatusReply, ListReply, SetReply, DictReply, ZRangeReply, ConfigPairReply, BlockingPopReply,
    PubSubReply, InfoReply, ClientListReply, EvalScriptReply,
  } = wasm.__classes());
  // `for await` over published messages and over scan cursors. (Only JS can
  // name a method by a symbol, so the iterators are attached here.)
  wasm.Subscription.prototype[Symbol.asyncIterator] = async function* messages() {
    for (;;) yield await this.nextPublished();
  };
  wasm.Cursor.prototype[Symbol.asyncIterator] = async function* items() {
    for (let item = await this.fetchone(); item !== null; item = await this.fetchone()) yield item;
  };
}

/** Initialises from the .wasm's bytes (an ArrayBuffer or typed array) or a compiled `WebAssembly.Module`. */
export function initSync(source) {
  wasm.initSync({ module: source });
  finish();
}

/**
 * Initialises from a URL, `Response`, bytes or `WebAssembly.Module`; with
 * no argument, fetches the .wasm next to this module (`import.meta.url`,
 * which bundlers rewrite to their copy of it).
 */
export async function init(source) {
  await initWasm(source === undefined ? undefined : { module_or_path: source });
  finish();
}
