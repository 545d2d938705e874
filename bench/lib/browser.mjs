// Headless Chromium driven over the bare DevTools protocol, for the bench
// page. Playwright (which the tests use) enables network tracking, so
// Chromium copies every WebSocket frame, payload and all, to Playwright as
// a protocol event: that costs its browser process more CPU than the
// transfer itself and bounds what the page can measure. Here the page is
// only navigated and evaluated (and profiled by bench/profile.mjs).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';

const START_TIMEOUT_MS = 20_000;

/** Starts Chromium; resolves to `{ pid, openPage(url), close() }`. */
export async function launchChromium() {
  const profile = mkdtempSync(join(tmpdir(), 'redis-wasm-bench-'));
  const proc = spawn(process.env.CHROMIUM ?? '/usr/bin/chromium', [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync', '--mute-audio',
    `--user-data-dir=${profile}`, '--remote-debugging-port=0', 'about:blank',
  ], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  // `Browser.close` (see below) shuts Chromium down in order: it ends and
  // reaps its helper processes, then exits; a signal would leave helpers
  // writing to the profile for a while. They share a process group of
  // their own, so one that hangs is killed with the rest.
  const close = async (cdp) => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((done) => proc.once('exit', done));
      if (cdp) cdp.send('Browser.close').catch(() => {});
      else proc.kill('SIGTERM');
      const timer = setTimeout(() => {
        try {
          process.kill(-proc.pid, 'SIGKILL');
        } catch { /* already gone */ }
      }, 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  };
  try {
    const endpoint = await new Promise((found, fail) => {
      let text = '';
      const timer = setTimeout(() => fail(new Error('Chromium did not print its DevTools endpoint')), START_TIMEOUT_MS);
      proc.stderr.on('data', (chunk) => {
        text += chunk;
        const match = /DevTools listening on (ws:\S+)/.exec(text);
        if (match) {
          clearTimeout(timer);
          proc.stderr.resume();
          found(match[1]);
        }
      });
      proc.once('exit', (code) => fail(new Error(`Chromium exited (${code}): ${text.slice(-500)}`)));
    });
    const cdp = await connect(endpoint);
    return {
      pid: proc.pid,
      openPage: (url) => openPage(cdp, url),
      close: async () => {
        await close(cdp);
        cdp.close();
      },
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** One protocol connection: `send(method, params, sessionId)` resolves to the result. */
function connect(endpoint) {
  return new Promise((open, fail) => {
    const ws = new WebSocket(endpoint, { perMessageDeflate: false, maxPayload: 1 << 30 });
    const pending = new Map();
    let nextId = 1;
    ws.on('message', (data) => {
      const message = JSON.parse(data);
      const call = pending.get(message.id);
      if (!call) return;
      pending.delete(message.id);
      if (message.error) call.fail(new Error(`${call.method}: ${message.error.message}`));
      else call.done(message.result);
    });
    ws.on('close', () => {
      for (const call of pending.values()) call.fail(new Error(`${call.method}: DevTools connection closed`));
      pending.clear();
    });
    ws.once('error', fail);
    ws.once('open', () => open({
      send(method, params = {}, sessionId = undefined) {
        const id = nextId++;
        ws.send(JSON.stringify({ id, method, params, sessionId }));
        return new Promise((done, failCall) => pending.set(id, { method, done, fail: failCall }));
      },
      close: () => ws.close(),
    }));
  });
}

/**
 * A new tab at `url`: `evaluate(fn, arg)` runs `fn(arg)` in the page and
 * resolves to its (awaited, JSON-able) result, as Playwright's does;
 * `send(method, params)` is any protocol call in the tab (Profiler.*);
 * `close()` closes the tab.
 */
async function openPage(cdp, url) {
  const { targetId } = await cdp.send('Target.createTarget', { url });
  const { sessionId } = await cdp.send('Target.attachToTarget', { targetId, flatten: true });
  const send = (method, params) => cdp.send(method, params, sessionId);
  const evaluate = async (fn, arg) => {
    const { result, exceptionDetails } = await send('Runtime.evaluate', {
      expression: `(${fn})(${JSON.stringify(arg)})`, awaitPromise: true, returnByValue: true,
    });
    if (exceptionDetails) throw new Error(exceptionDetails.exception?.description ?? exceptionDetails.text);
    return result.value;
  };
  return { evaluate, send, close: () => cdp.send('Target.closeTarget', { targetId }) };
}
