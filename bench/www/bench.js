// The in-browser side of the suite: the wasm client (`./pkg`, copied from
// client-wasm/pkg by bench/run) running each workload against a WebSocket
// URL given by the driver (the bridge or websockify). Every function
// returns plain numbers; percentiles are computed here.
import { Connection, BytesEncoder } from './pkg/index.js';

const quantile = (values, q) => {
  const sorted = Float64Array.from(values).sort();
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  return sorted[lo] + (sorted[Math.ceil(pos)] - sorted[lo]) * (pos - lo);
};

async function withConnection(options, work) {
  const conn = await Connection.create(options);
  try {
    return await work(conn);
  } finally {
    conn.close();
  }
}

/** Sequential SET/GET round trips, each awaited. */
function seq(url, n) {
  return withConnection({ url }, async (conn) => {
    const op = (i) => (i % 2 ? conn.get('bench:seq') : conn.set('bench:seq', 'xxx'));
    for (let i = 0; i < 100; i++) await op(i);
    const lat = new Array(n);
    const start = performance.now();
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await op(i);
      lat[i] = performance.now() - t0;
    }
    const elapsed = performance.now() - start;
    return { opsPerSec: (n * 1000) / elapsed, p50Ms: quantile(lat, 0.5), p99Ms: quantile(lat, 0.99) };
  });
}

/** `batches` × `depth` SETs issued without awaiting (one WebSocket message each batch). */
function pipeline(url, depth, batches) {
  return withConnection({ url }, async (conn) => {
    const keys = Array.from({ length: depth }, (_, i) => `bench:p:${i}`);
    const batch = () => Promise.all(keys.map((key) => conn.set(key, 'xxx')));
    await batch();
    const start = performance.now();
    for (let b = 0; b < batches; b++) await batch();
    return { opsPerSec: (depth * batches * 1000) / (performance.now() - start) };
  });
}

/** SET then GET of a `size`-byte Uint8Array, `count` times each: MB/s each way. */
function bigValue(url, size, count) {
  return withConnection({ url, encoder: new BytesEncoder() }, async (conn) => {
    const key = new TextEncoder().encode('bench:big');
    const value = new Uint8Array(size).fill(0x78);
    let t0 = performance.now();
    for (let i = 0; i < count; i++) await conn.set(key, value);
    const up = performance.now() - t0;
    t0 = performance.now();
    for (let i = 0; i < count; i++) {
      const got = await conn.get(key);
      if (got.length !== size) throw new Error(`GET returned ${got.length} bytes`);
    }
    const down = performance.now() - t0;
    const mb = (size * count) / 1e6;
    return { upMBps: (mb * 1000) / up, downMBps: (mb * 1000) / down };
  });
}

/** LRANGE 0 -1 into an Array, or HGETALL into a Map, of a key prepared by the driver. */
function collection(url, kind, key, items, replyBytes) {
  return withConnection({ url }, async (conn) => {
    const t0 = performance.now();
    const got = kind === 'list' ? await conn.lrangeAsList(key, 0, -1) : await conn.hgetallAsDict(key);
    const ms = performance.now() - t0;
    const n = kind === 'list' ? got.length : got.size;
    if (n !== items) throw new Error(`${kind} returned ${n} items, expected ${items}`);
    return { itemsPerSec: (items * 1000) / ms, MBps: replyBytes / 1e3 / ms };
  });
}

/** Whether the client has a pub/sub API to measure (it may not exist yet). */
const pubsubApi = () => typeof Connection.prototype.startSubscribe === 'function';

let subscriber = null;

/** Subscribes to `channel`; `receive` then waits for the driver's messages. */
async function subscribe(url, channel) {
  const conn = await Connection.create({ url });
  const sub = await conn.startSubscribe();
  await sub.subscribe([channel]);
  subscriber = { conn, sub };
}

/** Resolves once `messages` published messages arrived, then closes. */
async function receive(messages) {
  const { conn, sub } = subscriber;
  try {
    for (let i = 0; i < messages; i++) await sub.nextPublished();
  } finally {
    subscriber = null;
    conn.close();
  }
}

window.bench = { seq, pipeline, bigValue, collection, pubsubApi, subscribe, receive, isolated: () => self.crossOriginIsolated };
window.benchReady = true;
