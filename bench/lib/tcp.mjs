// Node over TCP, straight to Redis: ioredis (plain and pipelined) and
// redis-benchmark, the baselines without any WebSocket hop.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { latencySummary } from './stats.mjs';

export function ioredis(port, options = {}) {
  return new Redis({ port, host: '127.0.0.1', lazyConnect: false, maxRetriesPerRequest: 0, ...options });
}

/** Sequential SET/GET round trips, each awaited. */
export async function seq(port, n) {
  const r = ioredis(port);
  for (let i = 0; i < 100; i++) await (i % 2 ? r.get('bench:seq') : r.set('bench:seq', 'xxx'));
  const lat = new Array(n);
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await (i % 2 ? r.get('bench:seq') : r.set('bench:seq', 'xxx'));
    lat[i] = performance.now() - t0;
  }
  const elapsed = performance.now() - start;
  r.disconnect();
  return latencySummary(lat, elapsed);
}

/** `batches` × `depth` SETs: with `r.pipeline()` (piped) or as a Promise.all of plain calls. */
export async function pipeline(port, depth, batches, piped) {
  const r = ioredis(port);
  const batch = () => {
    if (!piped) return Promise.all(Array.from({ length: depth }, (_, i) => r.set(`bench:p:${i}`, 'xxx')));
    const p = r.pipeline();
    for (let i = 0; i < depth; i++) p.set(`bench:p:${i}`, 'xxx');
    return p.exec();
  };
  await batch();
  const start = performance.now();
  for (let b = 0; b < batches; b++) await batch();
  const elapsed = performance.now() - start;
  r.disconnect();
  return { opsPerSec: (depth * batches * 1000) / elapsed };
}

export async function bigValue(port, size, count) {
  const r = ioredis(port);
  const value = Buffer.alloc(size, 0x78);
  let t0 = performance.now();
  for (let i = 0; i < count; i++) await r.set('bench:big', value);
  const up = performance.now() - t0;
  t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const got = await r.getBuffer('bench:big');
    if (got.length !== size) throw new Error(`GET returned ${got.length} bytes`);
  }
  const down = performance.now() - t0;
  r.disconnect();
  const mb = (size * count) / 1e6;
  return { upMBps: (mb * 1000) / up, downMBps: (mb * 1000) / down };
}

/** LRANGE 0 -1 or HGETALL of a prepared key, decoded into JS. */
export async function collection(port, kind, key, items, replyBytes) {
  const r = ioredis(port);
  const t0 = performance.now();
  const got = kind === 'list' ? await r.lrange(key, 0, -1) : await r.hgetall(key);
  const ms = performance.now() - t0;
  const n = kind === 'list' ? got.length : Object.keys(got).length;
  if (n !== items) throw new Error(`${kind} returned ${n} items, expected ${items}`);
  r.disconnect();
  return { itemsPerSec: (items * 1000) / ms, MBps: replyBytes / 1e3 / ms };
}

/** A TCP subscriber (ioredis) on `channel`, for the pub/sub baseline. */
export async function pubsub(port, channel, messages, publishAll) {
  const r = ioredis(port);
  await r.subscribe(channel);
  let got = 0;
  const all = new Promise((done) => r.on('messageBuffer', () => { if (++got === messages) done(); }));
  const start = performance.now();
  await Promise.all([publishAll(), all]);
  const elapsed = performance.now() - start;
  r.disconnect();
  return { msgsPerSec: (messages * 1000) / elapsed };
}

/** Publishes `messages` small messages, pipelined 1,000 at a time. */
export async function publish(publisher, channel, messages) {
  for (let i = 0; i < messages; i += 1000) {
    const p = publisher.pipeline();
    for (let j = i; j < Math.min(messages, i + 1000); j++) p.publish(channel, `message ${j}`);
    await p.exec();
  }
}

const run = promisify(execFile);

/**
 * redis-benchmark, one client process: `-c clients -P pipeline -d size`,
 * tests SET and GET (or `tests`). Returns per-test rps and latency from its CSV.
 */
export async function redisBenchmark(port, { clients = 1, requests, pipeline = 1, size = 3, tests = 'set,get' }) {
  const args = ['-h', '127.0.0.1', '-p', String(port), '-c', String(clients), '-n', String(requests),
    '-P', String(pipeline), '-d', String(size), '-t', tests, '--csv'];
  const { stdout } = await run('redis-benchmark', args, { maxBuffer: 1 << 20, timeout: 300_000 });
  const rows = stdout.trim().split('\n').map((line) => line.split(',').map((cell) => cell.replace(/"/g, '')));
  const header = rows.shift();
  const col = (name) => header.indexOf(name);
  return Object.fromEntries(rows.map((row) => [row[0].toLowerCase(), {
    rps: Number(row[col('rps')]),
    p50Ms: Number(row[col('p50_latency_ms')]),
    p99Ms: Number(row[col('p99_latency_ms')]),
  }]));
}

/** Ops/s of a mixed SET/GET run from its two per-test rates (total requests over total time). */
export const mixedRate = (a, b) => 2 / (1 / a + 1 / b);
