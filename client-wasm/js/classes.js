// The classes users hold in their hands: errors (checked with `instanceof`),
// encoders, argument helpers and reply containers. They are plain JS
// because only JS can subclass `Error` or define `Symbol.asyncIterator`;
// the wasm core creates them through `makeError` and `makeReply`.

export class RedisError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * An error reply from the server (`WRONGTYPE ...`, `ERR ...`): `code` is its
 * first word (`WRONGTYPE`, `NOSCRIPT`, `MOVED`), `command` the command's name.
 */
export class ErrorReply extends RedisError {
  constructor(message, command = '') {
    super(message);
    this.code = message.split(' ', 1)[0];
    this.command = command;
  }
}
/** `exec()` failed: a watched key changed, or the transaction was aborted. */
export class TransactionError extends RedisError {}
export class NotConnectedError extends RedisError {}
/** The socket closed while the command was in flight. */
export class ConnectionLostError extends NotConnectedError {}
export class NoAvailableConnectionsInPoolError extends RedisError {}
/** The script was killed by `SCRIPT KILL`. */
export class ScriptKilledError extends RedisError {}
/** `SCRIPT KILL` found no script running. */
export class NoRunningScriptError extends RedisError {}
/** A blocking call timed out. */
export class TimeoutError extends RedisError {}
/** A cluster command whose keys are in more than one hash slot: nothing was sent. */
export class CrossSlotError extends RedisError {}

const errors = {
  RedisError, ErrorReply, TransactionError, NotConnectedError, ConnectionLostError,
  NoAvailableConnectionsInPoolError, ScriptKilledError, NoRunningScriptError, TimeoutError, CrossSlotError,
};

export function makeError(kind, message, command) {
  const ErrorClass = errors[kind];
  return ErrorClass ? new ErrorClass(message, command) : new TypeError(message);
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

/** A score boundary for `zrangebyscore` and friends: inclusive unless `excludeBoundary`. */
export class ZScoreBoundary {
  constructor(value, excludeBoundary = false) {
    this.value = value;
    this.excludeBoundary = excludeBoundary;
  }
  static MIN_VALUE = new ZScoreBoundary('-inf');
  static MAX_VALUE = new ZScoreBoundary('+inf');
}

/** How `zinterstore` and `zunionstore` combine scores. */
export const ZAggregate = Object.freeze({ SUM: 'SUM', MIN: 'MIN', MAX: 'MAX' });

/** A status reply (`+OK`, `+PONG`). */
export class StatusReply {
  constructor(status) { this.status = status; }
  toString() { return this.status; }
}

/**
 * A multi-bulk reply that fills while it streams in: the wasm core pushes
 * each item as soon as it is parsed. Iterate it with `for await`, or wait
 * for the whole collection.
 */
class MultiBulkReply {
  #items = [];
  #done = false;
  #error = null;
  #wake = [];

  constructor(length) { this.length = length; }

  _push(item) { this.#items.push(item); this.#notify(); }
  _end() { this.#done = true; this.#notify(); }
  _fail(error) { this.#error = error; this.#notify(); }

  #notify() {
    const wake = this.#wake;
    this.#wake = [];
    for (const resolve of wake) resolve();
  }

  async *[Symbol.asyncIterator]() {
    for (let next = 0; ; ) {
      if (next < this.#items.length) yield this.#items[next++];
      else if (this.#error) throw this.#error;
      else if (this.#done) return;
      else await new Promise((resolve) => this.#wake.push(resolve));
    }
  }

  /** Resolves to all items once the reply is complete. */
  async _all() {
    while (!this.#done && !this.#error) await new Promise((resolve) => this.#wake.push(resolve));
    if (this.#error) throw this.#error;
    return this.#items;
  }
}

export class ListReply extends MultiBulkReply {
  async aslist() { return [...await this._all()]; }
}

export class SetReply extends MultiBulkReply {
  async asset() { return new Set(await this._all()); }
}

/** Items are `[key, value]` pairs. */
export class DictReply extends MultiBulkReply {
  async asdict() { return new Map(await this._all()); }
}

/** Items are `[member, score]` pairs, in rank order. */
export class ZRangeReply extends MultiBulkReply {
  async asdict() { return new Map(await this._all()); }
  async aslist() { return (await this._all()).map(([member]) => member); }
}

export class ConfigPairReply {
  constructor(parameter, value) { this.parameter = parameter; this.value = value; }
}

export class BlockingPopReply {
  constructor(listName, value) { this.listName = listName; this.value = value; }
}

export class PubSubReply {
  constructor(channel, value, pattern = null) { this.channel = channel; this.value = value; this.pattern = pattern; }
}

/** `INFO`: the raw text, and its sections parsed on demand. */
export class InfoReply {
  constructor(raw) { this.raw = raw; }
  /** `Map` section name → `Map` field → value (both as the server spells them). */
  sections() {
    const sections = new Map();
    let current = new Map();
    sections.set('', current);
    for (const line of this.raw.split(/\r?\n/)) {
      if (line.startsWith('# ')) {
        current = new Map();
        sections.set(line.slice(2).trim(), current);
      } else if (line.includes(':')) {
        const at = line.indexOf(':');
        current.set(line.slice(0, at), line.slice(at + 1));
      }
    }
    if (sections.get('').size === 0) sections.delete('');
    return sections;
  }
}

/** `CLIENT LIST`: the raw text, and one `Map` of fields per client. */
export class ClientListReply {
  constructor(raw) { this.raw = raw; }
  clients() {
    return this.raw.split(/\r?\n/).filter((line) => line.trim()).map((line) => new Map(
      line.trim().split(' ').map((pair) => {
        const at = pair.indexOf('=');
        return at < 0 ? [pair, ''] : [pair.slice(0, at), pair.slice(at + 1)];
      }),
    ));
  }
}

/** The reply of a Lua script; `returnValue()` resolves to it decoded (tables become arrays). */
export class EvalScriptReply {
  #value;
  constructor(value) { this.#value = value; }
  returnValue() { return Promise.resolve(this.#value); }
}

const replies = {
  StatusReply, ListReply, SetReply, DictReply, ZRangeReply, ConfigPairReply, BlockingPopReply,
  PubSubReply, InfoReply, ClientListReply, EvalScriptReply,
};

export function makeReply(kind, a, b, c) {
  return new replies[kind](a, b, c);
}

/** Marks a Promise's rejection as handled: it is read later, by `exec()`. */
export function handleLater(promise) {
  promise.catch(() => {});
}

export function classes() {
  return { ...errors, ...replies, UTF8Encoder, BytesEncoder, ZScoreBoundary, ZAggregate };
}

/** Appends to `into` the strings of `text` that end at each of `ends` (UTF-16 offsets). */
export function cutText(into, text, ends) {
  let start = 0;
  for (const end of ends) {
    into.push(text.slice(start, end));
    start = end;
  }
}

/** A `Map` of the consecutive key, value items of `flat`. */
export function pairMap(flat) {
  const map = new Map();
  for (let i = 0; i + 1 < flat.length; i += 2) map.set(flat[i], flat[i + 1]);
  return map;
}
