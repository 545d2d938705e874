// The in-browser side of the suite: the wasm client (`./pkg`, copied from
// client-wasm/pkg by bench/run) running each workload against a WebSocket
// URL given by the driver (the bridge or websockify). Every function
// returns plain numbers; percentiles are computed here.
//
// With `bare` set, the same workload runs on a bare browser WebSocket with
// hand-encoded commands and replies only counted: the most any client in
// this browser could do, which bounds ours.
import { Connection, Cluster, BytesEncoder } from './pkg/index.js';

const quantile = (values, q) => {
  const sorted = Float64Array.from(values).sort();
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  return sorted[lo] + (sorted[Math.ceil(pos)] - sorted[lo]) * (pos - lo);
};

const encoder = new TextEncoder();

function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** One RESP command as bytes; `args` are strings or Uint8Arrays. */
function command(...args) {
  const parts = [encoder.encode(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = typeof arg === 'string' ? encoder.encode(arg) : arg;
    parts.push(encoder.encode(`$${bytes.length}\r\n`), bytes, encoder.encode('\r\n'));
  }
  return concat(parts);
}

/**
 * Counts the replies in a stream of messages; knows only the replies these
 * workloads get (simple strings, errors, integers, bulk strings), split
 * anywhere across messages.
 */
function replyCounter() {
  let body = 0; // bytes of a bulk string (and its CRLF) still to come
  let header = ''; // a header line split across messages
  return (bytes) => {
    let replies = 0;
    let at = 0;
    while (at < bytes.length) {
      if (body) {
        const taken = Math.min(body, bytes.length - at);
        body -= taken;
        at += taken;
        if (!body) replies++;
        continue;
      }
      const lf = bytes.indexOf(10, at);
      header += String.fromCharCode(...bytes.subarray(at, lf < 0 ? bytes.length : lf));
      if (lf < 0) break;
      at = lf + 1;
      const line = header.slice(0, -1); // without its CR
      header = '';
      if (line[0] === '*') throw new Error('bare socket: an array reply is not counted');
      const len = line[0] === '$' ? Number(line.slice(1)) : -1;
      if (len >= 0) body = len + 2;
      else replies++;
    }
    return replies;
  };
}

/** A bare WebSocket: `request(bytes, replies)` sends one message and resolves once that many replies came. */
function bareSocket(url) {
  return new Promise((open, fail) => {
    const ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    const count = replyCounter();
    let received = 0;
    let expected = 0;
    let waiter = null;
    ws.onmessage = (event) => {
      received += count(new Uint8Array(event.data));
      if (waiter && received >= waiter.target) waiter.resolve();
    };
    ws.onclose = () => waiter?.reject(new Error(`bare socket to ${url} closed`));
    ws.onerror = () => fail(new Error(`bare socket to ${url} failed`));
    ws.onopen = () => open({
      request(bytes, replies = 1) {
        expected += replies;
        const target = expected;
        ws.send(bytes);
        return new Promise((resolve, reject) => { waiter = { target, resolve, reject }; });
      },
      close: () => ws.close(),
    });
  });
}

/** Runs `work` with the wasm client (`Client.create(options)`: a `Connection` or a `Cluster`) or a bare socket. */
async function withClient(bare, options, work, Client = Connection) {
  const client = bare ? await bareSocket(options.url) : await Client.create(options);
  try {
    return await work(client);
  } finally {
    client.close();
  }
}

/** Sequential SET/GET round trips, each awaited. */
function seq(url, n, bare = false) {
  const [SET, GET] = bare ? [command('SET', 'bench:seq', 'xxx'), command('GET', 'bench:seq')] : [];
  return withClient(bare, { url }, async (conn) => {
    const op = bare
      ? (i) => conn.request(i % 2 ? GET : SET)
      : (i) => (i % 2 ? conn.get('bench:seq') : conn.set('bench:seq', 'xxx'));
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

/**
 * `batches` × `depth` SETs issued without awaiting (one WebSocket message each batch): one message in flight.
 * With `cluster`, through `Cluster.create`: the keys spread over every master, a message to each.
 */
function pipeline(url, depth, batches, bare = false, cluster = false) {
  const keys = Array.from({ length: depth }, (_, i) => `bench:p:${i}`);
  const message = bare && concat(keys.map((key) => command('SET', key, 'xxx')));
  return withClient(bare, { url }, async (conn) => {
    const batch = bare
      ? () => conn.request(message, depth)
      : () => Promise.all(keys.map((key) => conn.set(key, 'xxx')));
    await batch();
    const start = performance.now();
    for (let b = 0; b < batches; b++) await batch();
    return { opsPerSec: (depth * batches * 1000) / (performance.now() - start) };
  }, cluster ? Cluster : Connection);
}

/** SET then GET of a `size`-byte Uint8Array, `count` times each: MB/s each way. */
function bigValue(url, size, count, bare = false) {
  const key = encoder.encode('bench:big');
  const value = new Uint8Array(size).fill(0x78);
  const [SET, GET] = bare ? [command('SET', key, value), command('GET', key)] : [];
  return withClient(bare, { url, encoder: new BytesEncoder() }, async (conn) => {
    const set = bare ? () => conn.request(SET) : () => conn.set(key, value);
    const get = bare ? () => conn.request(GET) : async () => {
      const got = await conn.get(key);
      if (got.length !== size) throw new Error(`GET returned ${got.length} bytes`);
    };
    let t0 = performance.now();
    for (let i = 0; i < count; i++) await set();
    const up = performance.now() - t0;
    t0 = performance.now();
    for (let i = 0; i < count; i++) await get();
    const down = performance.now() - t0;
    const mb = (size * count) / 1e6;
    return { upMBps: (mb * 1000) / up, downMBps: (mb * 1000) / down };
  });
}

/** LRANGE 0 -1 into an Array, or HGETALL into a Map, of a key prepared by the driver. */
function collection(url, kind, key, items, replyBytes) {
  return withClient(false, { url }, async (conn) => {
    const t0 = performance.now();
    const got = kind === 'list' ? await conn.lrangeAsList(key, 0, -1) : await conn.hgetallAsDict(key);
    const ms = performance.now() - t0;
    const n = kind === 'list' ? got.length : got.size;
    if (n !== items) throw new Error(`${kind} returned ${n} items, expected ${items}`);
    return { itemsPerSec: (items * 1000) / ms, MBps: replyBytes / 1e3 / ms };
  });
}

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

/**
 * `n` awaited operations in batches of 100: the page clock ticks in 5 µs at
 * best, so each batch is timed and its mean is one latency sample.
 */
async function batched(n, op) {
  for (let i = 0; i < 200; i++) await op(i);
  const samples = [];
  const start = performance.now();
  for (let done = 0; done < n; ) {
    const t0 = performance.now();
    for (let i = 0; i < 100; i++, done++) await op(done);
    samples.push(((performance.now() - t0) / 100) * 1000);
  }
  const elapsed = performance.now() - start;
  return { opsPerSec: (n * 1000) / elapsed, p50Us: quantile(samples, 0.5), p99Us: quantile(samples, 0.99) };
}

/** GETs of one key, each awaited, with the client-side cache on (hits) or off (round trips). */
function cachedGet(url, n, cache) {
  return withClient(false, { url, clientSideCache: cache }, async (conn) => {
    await conn.set('bench:cached', 'xxx');
    return batched(n, () => conn.get('bench:cached'));
  });
}

/** 90 % GET, 10 % SET over 100 keys, each awaited, with the cache on or off. */
function readWrite(url, n, cache) {
  const keys = Array.from({ length: 100 }, (_, i) => `bench:rw:${i}`);
  let state = 1;
  // The high bits: the low bits of this generator repeat with short periods.
  const next = () => Math.floor((state = (state * 1103515245 + 12345) % 2147483648) / 65536);
  return withClient(false, { url, clientSideCache: cache }, async (conn) => {
    await conn.mset(Object.fromEntries(keys.map((k) => [k, 'xxx'])));
    return batched(n, () => (next() % 10 ? conn.get(keys[next() % 100]) : conn.set(keys[next() % 100], 'yyy')));
  });
}

/** What 10,000 cached GETs of 32-byte values cost: wasm memory grown, and the cache's own count. */
function cacheMemory(url, entries) {
  return withClient(false, { url, clientSideCache: { maxEntries: 2 * entries } }, async (conn) => {
    const keys = Array.from({ length: entries }, (_, i) => `bench:mem:${String(i).padStart(6, '0')}`);
    for (let i = 0; i < entries; i += 1000) {
      await conn.mset(Object.fromEntries(keys.slice(i, i + 1000).map((k) => [k, 'v'.repeat(32)])));
    }
    const { default: init } = await import('./pkg/redis_wasm.js');
    const memory = (await init()).memory;
    const before = memory.buffer.byteLength;
    for (let i = 0; i < entries; i += 1000) await Promise.all(keys.slice(i, i + 1000).map((k) => conn.get(k)));
    const grown = memory.buffer.byteLength - before;
    const stats = conn.cacheStats();
    if (stats.entries !== entries) throw new Error(`cached ${stats.entries} of ${entries}`);
    return { wasmBytesPerEntry: grown / entries, accountedBytesPerEntry: stats.bytes / entries };
  });
}

/**
 * The micro-benchmarks (the client built with its `bench` feature, see
 * client-wasm/src/js/micro.rs): decoding 1 MiB of replies inside wasm,
 * `rounds` times, into frames and into JS values; and `calls` commands
 * read from JS and encoded, with no socket. Beside them, what any client
 * pays to hand over a 1 MiB value and a bare socket never does: filling a
 * fresh 1 MiB Uint8Array (new memory, faulted in page by page) against
 * filling one that is reused.
 */
async function micro(rounds, calls) {
  const { default: init, Micro } = await import('./micro/redis_wasm.js');
  await init();
  const input = Micro.corpus();
  const timed = (work) => {
    work(); // warm-up: wasm code tiers up while it runs
    const t0 = performance.now();
    work();
    return performance.now() - t0;
  };
  const mb = (input.length * rounds) / 1e6;
  const decodeMs = timed(() => Micro.decode(input, rounds));
  const toJsMs = timed(() => Micro.decodeToJs(input, rounds));
  const commandMs = timed(() => {
    for (let i = 0; i < calls; i++) Micro.encodeLine(['GET', 'bench:seq']);
  });
  const value = new Uint8Array(1 << 20).fill(0x78);
  const reused = new Uint8Array(value.length);
  const fills = rounds * 10;
  const freshMs = timed(() => {
    for (let i = 0; i < fills; i++) new Uint8Array(value.length).set(value);
  });
  const reusedMs = timed(() => {
    for (let i = 0; i < fills; i++) reused.set(value);
  });
  return {
    decodeMBps: (mb * 1000) / decodeMs,
    decodeToJsMBps: (mb * 1000) / toJsMs,
    nsPerCommand: (commandMs * 1e6) / calls,
    freshMiBMs: freshMs / fills,
    reusedMiBMs: reusedMs / fills,
  };
}

window.bench = { micro, seq, pipeline, bigValue, collection, subscribe, receive, cachedGet, readWrite, cacheMemory, isolated: () => self.crossOriginIsolated };
window.benchReady = true;
