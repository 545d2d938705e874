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
// `--only <regex>`: the cases whose "workload / system" matches (the idle
// connections as "idle WebSockets"), for a focused look; the default is all.
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt > 0 ? new RegExp(process.argv[onlyAt + 1], 'i') : null;
const selected = (label) => !only || only.test(label);
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
  log(`preparing ${size.items}-item list and hash`);
  await prepareCollections(stack.redisPort, size.items);
  const suite = workloads(stack, size);
  // Round 0 warms up (JIT tiers in Chromium and Node, Redis's allocator)
  // and is not recorded.
  for (let rep = 0; rep <= size.reps; rep++) {
    for (const { name, systems } of suite.list) {
      const keys = Object.keys(systems);
      const order = keys.map((_, i) => keys[(i + rep) % keys.length]);
      for (const key of order) {
        const label = `${name} / ${SYSTEMS[key]}`;
        if (!selected(label)) continue;
        log(`${rep ? `round ${rep}/${size.reps}` : 'warm-up'}: ${label}`);
        try {
          const result = await withTimeout(systems[key](), CASE_TIMEOUT_MS, label);
          if (!rep) continue;
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

  const n = selected('idle WebSockets') ? idleCapacity(size.idle) : 0;
  if (n && n < size.idle) notes.push(`Idle connections: ${n} instead of ${size.idle}; the open-file limit (${openFileLimit()}) caps it, as the bridge holds a WebSocket and a Redis socket per connection.`);
  if (n) {
    log(`opening ${n} idle WebSockets to a fresh bridge`);
    try {
      idle = await withTimeout(stack.withFreshBridge(({ url, pid }) => idleRss(url, pid, n, LOOPBACK_ADDRS)), CASE_TIMEOUT_MS, 'idle connections');
    } catch (err) {
      errors.push(`idle connections: ${err.message}`);
    }
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
  notes.push(`Native decode (resp crate, criterion \`cargo bench -p resp --bench decode\`, run by bench/run before the suite): ${fmt(nativeMBps)} MB/s.`);
} else {
  notes.push('No criterion result under target/criterion (quick runs skip it): run `cargo bench -p resp --bench decode` to compare the wasm decoder with native.');
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
