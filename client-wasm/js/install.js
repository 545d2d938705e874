// The command methods, installed on the prototypes from the command table.
//
// The wasm exports one `__send(cmd, kind, line)` per class instead of a
// method per command (that is the size win): each method of METHODS builds
// its command line here, in JS, and hands it over with its table index and
// reply kind. A line that fits is written straight into the wasm's line
// buffer (`wire`) and sent with `__sendWire(cmd, kind, args)`: one call
// into wasm per command, not two or three per argument. The core decides everything else from the command itself, so
// a method and `call()` behave the same. The package entry installs them
// on import; the wasm calls `adopt` with each Connection, Pool and
// Transaction it creates (which installs them too where there is no entry,
// as in the wasm-bindgen tests).
import { METHODS } from './commands.js';

const OPTIONS = Symbol('redis-wasm options');
const SIGNAL = Symbol('redis-wasm signal');
const installed = new WeakSet();
// Typed arrays use the host's byte order, and the wasm reads the ends of
// the arguments as little-endian.
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const utf8 = new TextEncoder();

/** Installs the methods on the classes at once (the package entry does, on import). */
export function installAll(classes, replyKinds, wire) {
  for (const cls of classes) {
    if (!installed.has(cls.prototype)) {
      installed.add(cls.prototype);
      install(cls.prototype, replyKinds, wire);
    }
  }
}

/** Gives `instance` its `{ encoder, strict }` and its class the methods; returns it. */
export function adopt(instance, options, replyKinds, wire) {
  instance[OPTIONS] = options;
  const proto = Object.getPrototypeOf(instance);
  if (!installed.has(proto)) {
    installed.add(proto);
    install(proto, replyKinds, wire);
  }
  return instance;
}

/**
 * Writes `line` into the wasm's line buffer `{ memory, at, args, bytes }`:
 * the end of each argument as a u32, then the arguments' bytes (UTF-8 for a
 * string, as wasm-bindgen would pass it). Returns the argument count, or -1
 * when the line does not fit or holds something else (it then goes as an
 * Array, whose path reports what is wrong with it).
 */
function toWire(wire, line) {
  const count = line.length;
  if (count > wire.args) return -1;
  let bytes = wire.view;
  if (bytes === undefined || bytes.byteLength === 0) {
    // First use, or the memory grew (which detaches the old view).
    bytes = wire.view = new Uint8Array(wire.memory.buffer);
    wire.ends = new Uint32Array(wire.memory.buffer, wire.at, wire.args);
  }
  const { ends } = wire;
  const base = wire.at + 4 * wire.args;
  const limit = base + wire.bytes;
  let at = base;
  for (let i = 0; i < count; i++) {
    const item = line[i];
    if (typeof item === 'string') {
      const length = item.length;
      if (at + length > limit) return -1;
      let k = 0;
      for (; k < length; k++) {
        const code = item.charCodeAt(k);
        if (code > 0x7f) break;
        bytes[at + k] = code;
      }
      at += k;
      if (k < length) {
        const { read, written } = utf8.encodeInto(k ? item.slice(k) : item, bytes.subarray(at, limit));
        if (read < length - k) return -1;
        at += written;
      }
    } else if (item instanceof Uint8Array) {
      if (at + item.length > limit) return -1;
      bytes.set(item, at);
      at += item.length;
    } else {
      return -1;
    }
    ends[i] = at - base;
  }
  return count;
}

function install(proto, replyKinds, wire) {
  const wired = LITTLE_ENDIAN && wire !== undefined && typeof proto.__sendWire === 'function';
  const kindOf = (name) => {
    const kind = replyKinds.indexOf(name);
    if (kind < 0) throw new Error(`redis-wasm: unknown reply kind ${name}`);
    return kind;
  };
  for (const method of METHODS) {
    // Methods the wasm defines itself (multi, scan, exec...) stay its own.
    if (method.api || Object.prototype.hasOwnProperty.call(proto, method.name)) continue;
    const { cmd, build } = method;
    const kind = kindOf(method.reply);
    proto[method.name] = function command(...args) {
      const { encoder, strict } = this[OPTIONS];
      let line;
      try {
        line = build(encoder, strict, args);
      } catch (err) {
        return Promise.reject(err);
      }
      const reply = line.reply === undefined ? kind : kindOf(line.reply);
      if (wired) {
        const args = toWire(wire, line);
        if (args >= 0) return this.__sendWire(cmd, reply, args, this[SIGNAL]);
      }
      return this.__send(cmd, reply, line, this[SIGNAL]);
    };
  }
  if ('events' in proto) eventTarget(proto);
}

// Connection and Pool are EventTargets: `connect`, `ready`, `reconnecting`
// (detail { attempt, delay }), `error` (detail { error }), `close` (detail
// { code, reason }) and `end`; `detail.connection` is the pool index.
function eventTarget(proto) {
  Object.setPrototypeOf(proto, EventTarget.prototype);
  for (const name of ['addEventListener', 'removeEventListener', 'dispatchEvent']) {
    proto[name] = function delegate(...args) { return this.events[name](...args); };
  }
  proto.withSignal = withSignal;
}

/**
 * `conn.withSignal(signal).get(k)`: every command method (and `call`) used
 * through the view rejects with `signal.reason` when the signal aborts (it
 * is not sent if it was still queued; its reply is dropped if it was sent).
 */
function withSignal(signal) {
  const target = this;
  return new Proxy(target, {
    get(_, name) {
      const value = target[name];
      if (typeof value !== 'function' || name === 'withSignal') return value;
      return (...args) => {
        target[SIGNAL] = signal;
        try {
          return value.apply(target, args);
        } finally {
          target[SIGNAL] = undefined;
        }
      };
    },
  });
}

// The Promises of requests: made here and kept by request id in the
// client's `settlers` Map until the wasm settles them (see js/client.rs).

export function deferred(settlers, id) {
  return new Promise((resolve, reject) => settlers.set(id, { resolve, reject }));
}

export function resolveRequest(settlers, id, value) {
  const settler = settlers.get(id);
  if (settler === undefined) return;
  settlers.delete(id);
  settler.resolve(value);
}

export function rejectRequest(settlers, id, error) {
  const settler = settlers.get(id);
  if (settler === undefined) return;
  settlers.delete(id);
  settler.reject(error);
}

// Text of gathered reply bytes (js/encoder.rs): invalid UTF-8 replaced, as
// in the wasm, and a leading BOM kept as the wasm keeps it.
const text = new TextDecoder('utf-8', { ignoreBOM: true });

export function utf8Text(bytes) {
  return text.decode(bytes);
}
