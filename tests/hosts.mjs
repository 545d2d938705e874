// One conformance suite (conformance/basics.mjs), many hosts. Each host file
// calls `conformance(host, start)`: `start()` runs the whole suite in that
// host and resolves to its `{ name, error }` results; here every test of the
// suite becomes a node:test test that reports its own result, so a host
// that ran none of them fails each one by name.
//
// The stack behind every host is the same: a real redis-server, the bridge
// (refusing WebSocket messages over 2 MiB, as the suite expects), and for
// browsers a static server with /pkg/ (the built package) and
// /conformance/ (the suite) that the bridge accepts as an Origin. Runtimes
// that send no Origin (Node, Deno, Bun) connect with a bridge token instead.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { openPage } from './browsers.mjs';
import { tests } from './conformance/basics.mjs';
import { closeServer, serveStatic, startBridge, startRedis, startTokenBridge, stopProcess, TOKEN, TRUSTED, WWW_DIR } from './harness.mjs';

const CONFORMANCE = join(import.meta.dirname, 'conformance');
const BRIDGE_ARGS = [...TRUSTED, '--max-message-size', '2097152'];
const RUN_MS = 300_000;
/**
 * How long a runtime may take to exit by itself once it printed its results
 * (about 50 ms here): a socket or a timer (a connect timeout, a long
 * reconnect delay) that a closed client left behind holds it longer.
 */
const EXIT_MS = 1_500;

export function conformance(host, start) {
  describe(host, () => {
    let results = [];
    before(async () => { results = await start(); }, { timeout: RUN_MS });
    for (const name of Object.keys(tests)) {
      test(name, () => {
        const result = results.find((r) => r.name === name);
        assert.ok(result, `${host} did not run it`);
        if (result.error) assert.fail(result.error);
      });
    }
  });
}

/** Starts what `use` needs, runs it, and stops everything again, whatever happened. */
async function withStops(use) {
  const stops = [];
  try {
    return await use((stop) => stops.push(stop));
  } finally {
    for (const stop of stops.reverse()) await stop();
  }
}

/** Runs the suite in a page of `kind` (browsers.mjs), or in a worker the page starts. */
export function inBrowser(kind, { worker = false } = {}) {
  return () => withStops(async (onStop) => {
    const server = await serveStatic({ '/pkg/': join(WWW_DIR, 'pkg'), '/conformance/': CONFORMANCE });
    onStop(() => closeServer(server));
    const redis = await startRedis();
    onStop(() => stopProcess(redis.proc));
    const bridge = await startBridge(redis.port, [...BRIDGE_ARGS, '--allow-origin', server.origin]);
    onStop(() => stopProcess(bridge.proc));
    const page = await openPage(kind, `${server.origin}/conformance/page.html`);
    onStop(() => page.close());
    return page.run(async (options) => (await import('/conformance/page.mjs')).run(options), { url: `ws://${bridge.addr}/`, worker });
  });
}

/**
 * Spawns `command args… cli.mjs <entry> <url> <token> [extra…]`; resolves to
 * `{ code, stdout, stderr, exitAfterOutput }`, the last the ms between the
 * results line and the exit. Killed (and rejected) if it runs past RUN_MS,
 * or keeps running EXIT_MS after it printed its results.
 */
export function runScript(command, args, { env, cwd } = {}) {
  // NODE_TEST_CONTEXT would make a child node report to this test runner.
  const { NODE_TEST_CONTEXT, ...inherited } = process.env;
  const proc = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...inherited, ...env } });
  let stdout = '';
  let stderr = '';
  let printedAt;
  return new Promise((done, fail) => {
    const kill = (why) => { proc.kill('SIGKILL'); fail(new Error(`${why}; stderr: ${stderr}`)); };
    let timer = setTimeout(() => kill(`${command} ran past ${RUN_MS} ms`), RUN_MS);
    proc.stdout.on('data', (chunk) => {
      stdout += chunk;
      if (printedAt === undefined && stdout.includes('\n')) {
        printedAt = Date.now();
        clearTimeout(timer);
        timer = setTimeout(() => kill(`${command} did not exit by itself within ${EXIT_MS} ms of its last output`), EXIT_MS);
      }
    });
    proc.stderr.on('data', (chunk) => { stderr += chunk; });
    proc.once('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr, exitAfterOutput: printedAt === undefined ? undefined : Date.now() - printedAt });
    });
  });
}

/**
 * Runs the suite in a JavaScript runtime through conformance/cli.mjs, with
 * a token bridge: `command` and `runtimeArgs` start the runtime on a script,
 * `entry` is the package's module for it, `extra` goes to cli.mjs. Also
 * checks that the runtime exits by itself once every connection is closed.
 */
export function inRuntime(command, runtimeArgs, entry, extra = []) {
  return () => withStops(async (onStop) => {
    const redis = await startRedis();
    onStop(() => stopProcess(redis.proc));
    const bridge = await startTokenBridge(redis.port, BRIDGE_ARGS);
    onStop(() => stopProcess(bridge.proc));
    const script = join(CONFORMANCE, 'cli.mjs');
    const outcome = await runScript(command, [...runtimeArgs, script, entry, `ws://${bridge.addr}/`, TOKEN, ...extra]);
    assert.equal(outcome.code, 0, `${command} exited with ${outcome.code}: ${outcome.stderr}`);
    return JSON.parse(outcome.stdout).results;
  });
}
