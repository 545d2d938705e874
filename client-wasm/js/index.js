// redis-wasm: the package entry.
//
// Importing this module loads and initialises the WebAssembly (top-level
// await; the .wasm file is found next to this module through
// import.meta.url), so users never call an init function themselves.
import init, * as wasm from './redis_wasm.js';

await init();

export { Connection } from './redis_wasm.js';

export const {
  RedisError, ErrorReply, TransactionError, NotConnectedError, ConnectionLostError,
  NoAvailableConnectionsInPoolError, ScriptKilledError, NoRunningScriptError, TimeoutError,
  UTF8Encoder, BytesEncoder, ZScoreBoundary, ZAggregate,
  StatusReply, ListReply, SetReply, DictReply, ZRangeReply, ConfigPairReply, BlockingPopReply,
  PubSubReply, InfoReply, ClientListReply, EvalScriptReply,
} = wasm.__classes();
