// Everything the suite runs against, on free loopback ports: redis-server
// and the bridge (started by tests/harness.mjs), a 3-master Redis Cluster and
// a bridge in cluster mode (tests/cluster.mjs), websockify, and headless
// Chromium with the bench page. `stop()` ends each by its PID.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { extname, join, normalize } from 'node:path';
import { launchChromium } from './browser.mjs';

const BENCH = join(import.meta.dirname, '..');
// The harness reads these when imported: the release bridge (and the static
// files it must be given; the bench page itself is served below).
process.env.BRIDGE_BIN ??= join(BENCH, '..', 'target/release/redis-ws-bridge');
process.env.WWW_DIR = join(BENCH, 'www');
const harness = await import('../../tests/harness.mjs');
const { startCluster, startClusterBridge } = await import('../../tests/cluster.mjs');
export const { redisCommand, freePort } = harness;

// Bridge logs: warnings only (one INFO line per connection would flood the output).
process.env.RUST_LOG ??= 'warn';

// The trusted profile (everything but administration), as an operator's own
// bridge; no connection limits in the way of the many-connection workloads.
const BRIDGE_ARGS = ['--profile', 'trusted', '--max-connections', '100000', '--max-connections-per-ip', '100000',
  '--max-handshakes', '100000', '--max-handshakes-per-ip', '100000'];

async function stop(proc, { group = false } = {}) {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((done) => proc.once('exit', done));
  if (group) process.kill(-proc.pid, 'SIGTERM');
  else proc.kill('SIGTERM');
  const timer = setTimeout(() => (group ? process.kill(-proc.pid, 'SIGKILL') : proc.kill('SIGKILL')), 5000);
  await exited;
  clearTimeout(timer);
}

function waitForPort(port, ms = 10_000) {
  const deadline = Date.now() + ms;
  return new Promise((done, fail) => {
    const attempt = () => {
      const socket = net.connect(port, '127.0.0.1', () => { socket.destroy(); done(); });
      socket.once('error', () => {
        if (Date.now() > deadline) fail(new Error(`nothing listening on ${port} after ${ms} ms`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

/** websockify from bench/.venv relaying to Redis; in its own process group (it forks per connection). */
async function startWebsockify(redisPort) {
  const port = await freePort();
  const proc = spawn(join(BENCH, '.venv/bin/websockify'), [`127.0.0.1:${port}`, `127.0.0.1:${redisPort}`],
    { stdio: 'ignore', detached: true });
  await waitForPort(port);
  return { port, proc };
}

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' };

/**
 * Serves bench/www cross-origin isolated (COOP and COEP headers): only such
 * a page gets a fine `performance.now()` (5 µs rather than 100 µs), which
 * the latency percentiles need. The bridge's own static files carry no
 * such headers, and should not: pages that embed others would break.
 */
async function serveBenchPage() {
  const root = join(BENCH, 'www');
  const server = http.createServer(async (req, res) => {
    const path = normalize(join(root, decodeURIComponent(new URL(req.url, 'http://x').pathname)));
    const file = path.endsWith('/') ? join(path, 'index.html') : path;
    try {
      if (!file.startsWith(root)) throw new Error('outside bench/www');
      const body = await readFile(file);
      res.writeHead(200, {
        'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
        'Cross-Origin-Opener-Policy': 'same-origin',
        'Cross-Origin-Embedder-Policy': 'require-corp',
      });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((listening) => server.listen(0, '127.0.0.1', listening));
  return { origin: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((done) => server.close(done)) };
}

async function openBenchPage(chromium, origin) {
  const page = await chromium.openPage(`${origin}/`);
  const deadline = Date.now() + 20_000;
  while (!(await page.evaluate(() => window.benchReady === true).catch(() => false))) {
    if (Date.now() > deadline) {
      const why = await page.evaluate(() => window.benchError).catch(() => undefined);
      throw new Error(`bench page did not load${why ? `: ${why}` : ''}`);
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  return page;
}

export async function startStack() {
  const stops = [];
  const stopAll = async () => {
    for (const s of stops.reverse()) await s().catch(() => {});
  };
  try {
    const site = await serveBenchPage();
    stops.push(() => site.close());
    const bridgeArgs = [...BRIDGE_ARGS, '--allow-origin', site.origin];
    const redis = await harness.startRedis();
    stops.push(() => stop(redis.proc));
    const bridge = await harness.startBridge(redis.port, bridgeArgs);
    stops.push(() => stop(bridge.proc));
    // Three masters (no replicas: throughput only) behind a cluster bridge.
    const cluster = await startCluster({ masters: 3, replicas: 0 });
    stops.push(() => cluster.stop());
    const clusterBridge = await startClusterBridge(cluster, bridgeArgs);
    stops.push(() => stop(clusterBridge.proc));
    const websockify = await startWebsockify(redis.port);
    stops.push(() => stop(websockify.proc, { group: true }));
    const chromium = await launchChromium();
    stops.push(() => chromium.close());
    const page = await openBenchPage(chromium, site.origin);
    return {
      redisPort: redis.port,
      bridgePid: bridge.proc.pid,
      websockifyPid: websockify.proc.pid,
      urls: { bridge: `ws://${bridge.addr}/`, websockify: `ws://127.0.0.1:${websockify.port}/`, cluster: `ws://${clusterBridge.addr}/ws` },
      /**
       * Runs `measure({ url, pid })` against a bridge of its own, started
       * now and stopped after: memory figures must not count (or reuse)
       * what earlier workloads left in the shared bridge's heap.
       */
      async withFreshBridge(measure) {
        const fresh = await harness.startBridge(redis.port, bridgeArgs);
        try {
          return await measure({ url: `ws://${fresh.addr}/`, pid: fresh.proc.pid });
        } finally {
          await stop(fresh.proc);
        }
      },
      /**
       * Runs `measure(page)` in a bench page of its own, closed after: a
       * new wasm instance, whose memory no earlier workload has grown.
       */
      async withFreshPage(measure) {
        const fresh = await openBenchPage(chromium, site.origin);
        try {
          return await measure(fresh);
        } finally {
          await fresh.close();
        }
      },
      page,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
