// The assertion kit the API tests run with, in whatever host runs them (a
// page, a worker, Node, Deno, Bun): plain JavaScript, no host API. A failed
// check throws an Error whose message says what differed.

/** A JSON-able picture of a value, so that Maps, Sets, bytes, BigInts and reply classes compare by content. */
export function plain(value) {
  if (value instanceof Map) return { map: [...value].map(([k, v]) => [plain(k), plain(v)]) };
  if (value instanceof Set) return { set: [...value].map(plain).sort() };
  if (value instanceof Uint8Array) return { bytes: [...value] };
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === 'bigint') return { bigint: String(value) };
  if (value === undefined) return { undefined: true };
  if (value && typeof value === 'object') return { [value.constructor.name]: Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)])) };
  return value;
}

/**
 * The kit for the package `m` and a bridge: `connect(options)` opens a
 * connection with the host's options (`url`, and `token` or `WebSocket`
 * where the host needs them) under the test's own, and remembers it so
 * that `closeAll()` leaves nothing open (a Node process must exit by itself).
 */
export function makeKit(m, hostOptions) {
  const opened = [];
  const connect = async (options = {}) => {
    const conn = await m.Connection.create({ ...hostOptions, ...kit.defaults, ...options });
    opened.push(conn);
    return conn;
  };
  const closeAll = () => {
    for (const conn of opened.splice(0)) conn.close();
  };
  const eq = (actual, expected, what) => {
    const a = JSON.stringify(plain(actual));
    const e = JSON.stringify(plain(expected));
    if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
  };
  const ok = (condition, what) => {
    if (!condition) throw new Error(`${what}: not true`);
  };
  const rejects = async (promise, ErrorClass, what) => {
    try {
      await promise;
    } catch (err) {
      if (!(err instanceof ErrorClass)) throw new Error(`${what}: expected ${ErrorClass.name}, got ${err?.name}: ${err?.message}`);
      return err;
    }
    throw new Error(`${what}: expected a ${ErrorClass.name} rejection, but it resolved`);
  };
  let counter = 0;
  const key = (name) => `api:${name}:${++counter}:${Math.random().toString(36).slice(2)}`;
  // `defaults`: options every `connect()` of a suite adds (its RESP3 runs).
  const kit = { m, connect, closeAll, eq, ok, rejects, key, defaults: {} };
  return kit;
}
