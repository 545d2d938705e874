// Profiles one in-page workload with Chromium's sampling profiler (CDP) and
// prints where the page's main thread spends its time, by function, self
// time first, and how busy each process of the stack was (Chromium's
// browser, renderer and network processes, the relay, redis-server):
//   node bench/profile.mjs <workload> [bridge|websockify]
// with <workload> one of those in RUNS below.
// Writes the raw profile to bench/results/<workload>.cpuprofile (open it in
// Chromium's DevTools, Performance panel).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startStack } from './lib/stack.mjs';
import { prepareCollections } from './lib/workloads.mjs';
import { stackCpuMs } from './lib/proc.mjs';

const [workload = 'pipeline', relay = 'bridge'] = process.argv.slice(2);
const RUNS = {
  pipeline: ({ url, items }) => window.bench.pipeline(url, 100, 2000),
  pipeline1000: ({ url, items }) => window.bench.pipeline(url, 1000, 200),
  seq: ({ url, items }) => window.bench.seq(url, 20000),
  big: ({ url, items }) => window.bench.bigValue(url, 1 << 20, 100),
  bareBig: ({ url, items }) => window.bench.bigValue(url, 1 << 20, 100, true),
  list: ({ url, items }) => window.bench.collection(url, 'list', 'bench:list', items, 0),
  hash: ({ url, items }) => window.bench.collection(url, 'hash', 'bench:hash', items, 0),
};
const ITEMS = 100_000;
if (!RUNS[workload]) throw new Error(`unknown workload ${workload}; one of ${Object.keys(RUNS)}`);

const stack = await startStack();
try {
  const url = stack.urls[relay];
  await prepareCollections(stack.redisPort, ITEMS);
  const cdp = stack.page;
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
  await stack.page.evaluate(RUNS[workload], { url, items: ITEMS }); // warm-up
  const cpuBefore = stackCpuMs();
  const started = performance.now();
  await cdp.send('Profiler.start');
  const result = await stack.page.evaluate(RUNS[workload], { url, items: ITEMS });
  const { profile } = await cdp.send('Profiler.stop');
  const wallMs = performance.now() - started;
  console.log(workload, relay, result);
  console.log(`\nCPU use per process over ${wallMs.toFixed(0)} ms (100% = one core):`);
  for (const [name, ms] of stackCpuMs()) {
    const used = ms - (cpuBefore.get(name) ?? 0);
    if (used > 0) console.log(`${((100 * used) / wallMs).toFixed(0).padStart(5)}%  ${name}`);
  }
  console.log('\nThe page\'s main thread, self time:');

  const dir = join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${workload}.cpuprofile`), JSON.stringify(profile));

  // Self time per function from the sample counts.
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const hits = new Map();
  for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  const self = new Map();
  for (const [id, count] of hits) {
    const { functionName, url: file, lineNumber } = byId.get(id).callFrame;
    const name = `${functionName || '(anonymous)'} ${file.split('/').pop()}:${lineNumber + 1}`;
    self.set(name, (self.get(name) ?? 0) + count);
  }
  const total = profile.samples.length;
  for (const [name, count] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 40)) {
    console.log(`${((100 * count) / total).toFixed(1).padStart(5)}%  ${name}`);
  }
} finally {
  await stack.stop();
}
