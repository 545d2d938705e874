// redis-wasm: the package entry.
//
// Importing this module loads and initialises the WebAssembly (top-level
// await; the .wasm file is found next to this module through
// import.meta.url), so users never call an init function themselves.
import init, * as wasm from './redis_wasm.js';

await init();

export { Connection, StatusReply } from './redis_wasm.js';

export const {
  RedisError, ErrorReply, TransactionError, NotConnectedError, ConnectionLostError,
  NoAvailableConnectionsInPoolError, ScriptKilledError, NoRunningScriptError, TimeoutError,
  UTF8Encoder, BytesEncoder,
} = wasm.__classes();
