// Runs the benchmark suite (started by bench/run): every workload on every
// system, repetitions interleaved (the system order rotates each round),
// then prints the table and writes results/<timestamp>.json and .svg.
// Exits non-zero only when something broke, never because of a speed.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startStack } from './lib/stack.mjs';
import { workloads, prepareCollections, SIZES, SYSTEMS, LOOPBACK_ADDRS } from './lib/workloads.mjs';
import { idleRss, idleCapacity, openFileLimit } from './lib/idle.mjs';
import { median, quantile } from './lib/stats.mjs';
import { targets, nativeDecodeMBps } from './lib/targets.mjs';
import { renderTables, writeJson, writeSvg, fmt } from './lib/report.mjs';

const BENCH = import.meta.dirname;
const ROOT = join(BENCH, '..');
const quick = process.argv.includes('--quick');
const size = quick ? SIZES.quick : SIZES.full;
const CASE_TIMEOUT_MS = quick ? 60_000 : 240_000;

const log = (...args) => console.error('bench:', ...args);
const withTimeout = (promise, ms, what) => Promise.race([promise,
  new Promise((_, fail) => setTimeout(() => fail(new Error(`${what} took over ${ms} ms`)), ms).unref())]);

const started = Date.now();
const stack = await startStack();
const samples = new Map(); // "workload\0system" → { metric → [values] }
const errors = [];
const notes = [];
let idle = null;
let isolated = false;
try {
  isolated = await stack.page.evaluate(() => window.bench.isolated());
  const pubsubInPage = await stack.page.evaluate(() => window.bench.pubsubApi());
  if (!pubsubInPage) {
    notes.push('The wasm client has no pub/sub API yet (no Connection.startSubscribe): pub/sub is measured with the raw ws load generator (and an ioredis TCP subscriber as baseline), not in the browser.');
  }
  log(`preparing ${size.items}-item list and hash`);
  await prepareCollections(stack.redisPort, size.items);
  const suite = workloads(stack, size, { pubsubInPage });
  for (let rep = 0; rep < size.reps; rep++) {
    for (const { name, systems } of suite.list) {
      const keys = Object.keys(systems);
      const order = keys.map((_, i) => keys[(i + rep) % keys.length]);
      for (const key of order) {
        const label = `${name} / ${SYSTEMS[key]}`;
        log(`round ${rep + 1}/${size.reps}: ${label}`);
        try {
          const result = await withTimeout(systems[key](), CASE_TIMEOUT_MS, label);
          const id = `${name}\0${SYSTEMS[key]}`;
          if (!samples.has(id)) samples.set(id, {});
          for (const [metric, value] of Object.entries(result)) (samples.get(id)[metric] ??= []).push(value);
        } catch (err) {
          const message = err.message.split('\n')[0];
          errors.push(`${label}: ${message}`);
          log(`FAILED ${label}: ${message}`);
        }
      }
    }
  }
  suite.close();

  const n = idleCapacity(size.idle);
  if (n < size.idle) notes.push(`Idle connections: ${n} instead of ${size.idle}; the open-file limit (${openFileLimit()}) caps it, as the bridge holds a WebSocket and a Redis socket per connection.`);
  log(`opening ${n} idle WebSockets to the bridge`);
  try {
    idle = await withTimeout(idleRss(stack.urls.bridge, stack.bridgePid, n, LOOPBACK_ADDRS), CASE_TIMEOUT_MS, 'idle connections');
  } catch (err) {
    errors.push(`idle connections: ${err.message}`);
  }
} finally {
  await stack.stop();
}

const results = [];
for (const [id, metrics] of samples) {
  const [workload, system] = id.split('\0');
  for (const [metric, values] of Object.entries(metrics)) {
    results.push({ workload, system, metric, median: median(values), min: Math.min(...values), max: Math.max(...values),
      q1: quantile(values, 0.25), q3: quantile(values, 0.75), n: values.length, samples: values });
  }
}
if (idle) {
  results.push({ workload: `${idle.connections} idle WebSockets`, system: SYSTEMS.wsBridge, metric: 'KiB per connection',
    median: idle.kibPerConnection, min: idle.kibPerConnection, max: idle.kibPerConnection, n: 1, samples: [idle.kibPerConnection], detail: idle });
}
const nativeMBps = nativeDecodeMBps(ROOT);
const med = (w, s, m) => results.find((r) => r.workload === w && r.system === s && r.metric === m)?.median;
const record = {
  date: new Date().toISOString(),
  quick,
  sizes: size,
  environment: { node: process.version, crossOriginIsolatedPage: isolated, nativeDecodeMBps: nativeMBps },
  results,
  targets: targets(med, { items: size.items, nativeMBps }),
  notes,
  errors,
};
if (nativeMBps) {
  notes.push(`Native decode (resp crate, criterion, last \`cargo bench -p resp\`): ${fmt(nativeMBps)} MB/s. The in-page figure includes the transfer and building the JS Array, so it is a lower bound on the wasm decoder.`);
} else {
  notes.push('No criterion result under target/criterion: run `cargo bench -p resp --bench decode` to compare the in-page decode speed with native.');
}
if (!isolated) notes.push('The bench page was not cross-origin isolated: performance.now() is coarse (100 µs) in the browser latencies.');

const stamp = record.date.replace(/[:.]/g, '-');
const outDir = join(BENCH, 'results');
mkdirSync(outDir, { recursive: true });
writeJson(join(outDir, `${stamp}.json`), record);
writeSvg(join(outDir, `${stamp}.svg`), record);

console.log(renderTables(record));
for (const note of notes) console.log(`\nnote: ${note}`);
for (const err of errors) console.log(`\nERROR: ${err}`);
console.log(`\nwrote bench/results/${stamp}.json and .svg in ${((Date.now() - started) / 1000).toFixed(0)} s`);
process.exit(errors.length ? 1 : 0);
