// The command methods, installed on the prototypes from the command table.
//
// The wasm exports one `__send(cmd, kind, line)` per class instead of a
// method per command (that is the size win): each method of METHODS builds
// its command line here, in JS, and hands it over with its table index and
// reply kind. The core decides everything else from the command itself, so
// a method and `call()` behave the same. The package entry installs them
// on import; the wasm calls `adopt` with each Connection, Pool and
// Transaction it creates (which installs them too where there is no entry,
// as in the wasm-bindgen tests).
import { METHODS } from './commands.js';

const OPTIONS = Symbol('redis-wasm options');
const SIGNAL = Symbol('redis-wasm signal');
const installed = new WeakSet();

/** Installs the methods on the classes at once (the package entry does, on import). */
export function installAll(classes, replyKinds) {
  for (const cls of classes) {
    if (!installed.has(cls.prototype)) {
      installed.add(cls.prototype);
      install(cls.prototype, replyKinds);
    }
  }
}

/** Gives `instance` its `{ encoder, strict }` and its class the methods; returns it. */
export function adopt(instance, options, replyKinds) {
  instance[OPTIONS] = options;
  const proto = Object.getPrototypeOf(instance);
  if (!installed.has(proto)) {
    installed.add(proto);
    install(proto, replyKinds);
  }
  return instance;
}

function install(proto, replyKinds) {
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
      return this.__send(cmd, line.reply === undefined ? kind : kindOf(line.reply), line, this[SIGNAL]);
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
