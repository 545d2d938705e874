// The WebSocket load generator: raw RESP over `ws`, through the bridge or
// websockify, one JS object per connection and no reply decoding.
import WebSocket from 'ws';
import { command, ReplyCounter } from './resp.mjs';
import { latencySummary } from './stats.mjs';

const OPEN_TIMEOUT_MS = 20_000;

/** Opens one raw connection; `request(bytes, replies)` resolves once that many replies arrived. */
export function connect(url, localAddress) {
  return new Promise((done, fail) => {
    // The relay's own origin, as a page it served sends: the bridge refuses a
    // handshake without Origin unless it checks tokens.
    const origin = `http://${new URL(url).host}`;
    const ws = new WebSocket(url, { perMessageDeflate: false, localAddress, origin, handshakeTimeout: OPEN_TIMEOUT_MS });
    const waiters = [];
    let received = 0;
    const counter = new ReplyCounter((n) => {
      received += n;
      while (waiters.length && waiters[0].target <= received) waiters.shift().resolve();
    });
    let expected = 0;
    const client = {
      ws,
      get received() { return received; },
      /** Sends `bytes` (one message) and waits for `replies` more replies. */
      request(bytes, replies = 1) {
        expected += replies;
        const target = expected;
        return new Promise((resolve, reject) => {
          waiters.push({ target, resolve, reject });
          ws.send(bytes, { binary: true });
        });
      },
      /** Waits until `total` replies have arrived since the connection opened. */
      until(total) {
        if (received >= total) return Promise.resolve();
        return new Promise((resolve, reject) => waiters.push({ target: total, resolve, reject }));
      },
      close() { ws.terminate(); },
    };
    ws.on('message', (data) => counter.push(data));
    ws.once('open', () => done(client));
    ws.once('error', fail);
    ws.once('close', () => { for (const w of waiters.splice(0)) w.reject(new Error('connection closed')); });
  });
}

/** Opens `n` connections, `parallel` handshakes at a time, spreading them over `addrs`. */
export async function connectMany(url, n, { parallel = 200, addrs = [undefined] } = {}) {
  const clients = [];
  for (let i = 0; i < n; i += parallel) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + parallel); j++) batch.push(connect(url, addrs[j % addrs.length]));
    clients.push(...(await Promise.all(batch)));
  }
  return clients;
}

const SET = command('SET', 'bench:seq', 'xxx');
const GET = command('GET', 'bench:seq');

/** Sequential SET/GET round trips on one connection. */
export async function seq(url, n) {
  const c = await connect(url);
  for (let i = 0; i < 100; i++) await c.request(i % 2 ? GET : SET);
  const lat = new Array(n);
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await c.request(i % 2 ? GET : SET);
    lat[i] = performance.now() - t0;
  }
  const elapsed = performance.now() - start;
  c.close();
  return latencySummary(lat, elapsed);
}

/** `batches` messages of `depth` SETs each, one message in flight at a time. */
export async function pipeline(url, depth, batches) {
  const c = await connect(url);
  const msg = Buffer.concat(Array.from({ length: depth }, (_, i) => command('SET', `bench:p:${i}`, 'xxx')));
  await c.request(msg, depth);
  const start = performance.now();
  for (let b = 0; b < batches; b++) await c.request(msg, depth);
  const elapsed = performance.now() - start;
  c.close();
  return { opsPerSec: (depth * batches * 1000) / elapsed };
}

/** SET then GET of a `size`-byte value, `count` times each: MB/s each way. */
export async function bigValue(url, size, count) {
  const c = await connect(url);
  const set = command('SET', 'bench:big', Buffer.alloc(size, 0x78));
  const get = command('GET', 'bench:big');
  let t0 = performance.now();
  for (let i = 0; i < count; i++) await c.request(set);
  const up = performance.now() - t0;
  t0 = performance.now();
  for (let i = 0; i < count; i++) await c.request(get);
  const down = performance.now() - t0;
  c.close();
  const mb = (size * count) / 1e6;
  return { upMBps: (mb * 1000) / up, downMBps: (mb * 1000) / down };
}

/** `conns` connections each doing sequential SET/GET for `durationMs`. */
export async function concurrent(url, conns, durationMs, addrs) {
  const clients = await connectMany(url, conns, { addrs });
  const lat = [];
  const start = performance.now();
  const end = start + durationMs;
  await Promise.all(clients.map(async (c, k) => {
    for (let i = k; performance.now() < end; i++) {
      const t0 = performance.now();
      await c.request(i % 2 ? GET : SET);
      lat.push(performance.now() - t0);
    }
  }));
  const elapsed = performance.now() - start;
  for (const c of clients) c.close();
  return latencySummary(lat, elapsed);
}

/** A raw subscriber on `channel`; `publishAll()` must publish `messages` messages. */
export async function pubsub(url, channel, messages, publishAll) {
  const c = await connect(url);
  await c.request(command('SUBSCRIBE', channel));
  const start = performance.now();
  await Promise.all([publishAll(), c.until(1 + messages)]);
  const elapsed = performance.now() - start;
  c.close();
  return { msgsPerSec: (messages * 1000) / elapsed };
}
