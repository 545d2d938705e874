// The classes users hold in their hands and check with `instanceof`: the
// error hierarchy and the built-in encoders. They are plain JS because only
// JS can subclass `Error`; the wasm core creates them through `makeError`.

export class RedisError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** An error reply from the server (`WRONGTYPE ...`, `ERR ...`). */
export class ErrorReply extends RedisError {}
export class TransactionError extends RedisError {}
export class NotConnectedError extends RedisError {}
/** The socket closed while the command was in flight. */
export class ConnectionLostError extends NotConnectedError {}
export class NoAvailableConnectionsInPoolError extends RedisError {}
export class ScriptKilledError extends RedisError {}
export class NoRunningScriptError extends RedisError {}
/** A blocking call timed out. */
export class TimeoutError extends RedisError {}

const errors = {
  RedisError, ErrorReply, TransactionError, NotConnectedError, ConnectionLostError,
  NoAvailableConnectionsInPoolError, ScriptKilledError, NoRunningScriptError, TimeoutError,
};

export function makeError(kind, message) {
  const ErrorClass = errors[kind];
  return ErrorClass ? new ErrorClass(message) : new TypeError(message);
}

const utf8Decoder = new TextDecoder();
const utf8Encoder = new TextEncoder();

/** Native type `string` (the default). The wasm core handles it natively. */
export class UTF8Encoder {
  get nativeKind() { return 'utf8'; }
  encodeFromNative(value) { return utf8Encoder.encode(value); }
  decodeToNative(bytes) { return utf8Decoder.decode(bytes); }
}

/** Native type `Uint8Array`: binary data byte for byte. */
export class BytesEncoder {
  get nativeKind() { return 'bytes'; }
  encodeFromNative(value) { return value; }
  decodeToNative(bytes) { return bytes; }
}

export function classes() {
  return { ...errors, UTF8Encoder, BytesEncoder };
}
