// Shared by the GUI tests (gui-*.test.mjs, demo.test.mjs): a redis-server,
// a bridge with the flags a test asks for, Chromium, and helpers to drive
// the page as a person would and to look at Redis beside it.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { TRUSTED, redisCommand, startStack } from './harness.mjs';

/**
 * The flags for a bridge that lets its operator administer Redis: the
 * GUI's server panel reads INFO, SLOWLOG and CLIENT LIST.
 */
export { TRUSTED };

/**
 * Flags for a bridge with --tokens in front of the test's Redis, whose
 * default user stays open for the side connections.
 */
export const TOKENS_BESIDE_OPEN_REDIS = ['--insecure-default-user'];

/** Screenshots go to SCREENSHOT_DIR when it is set (scripts/screenshots.sh sets it to docs/). */
const SCREENSHOT_DIR = process.env.SCREENSHOT_DIR;

/**
 * redis-server, a bridge started with `bridgeArgs` (default: trusted) and
 * Chromium, as the harness's stack, with `ws` (the bridge's WebSocket URL)
 * and `redis(...words)`, a command over a side connection.
 */
export async function guiStack(bridgeArgs = TRUSTED) {
  const stack = await startStack(bridgeArgs);
  return {
    ...stack,
    ws: stack.url.replace(/^http/, 'ws'),
    redis: (...words) => redisCommand(stack.redisPort, ...words),
  };
}

/** Opens the GUI on `hash` (a panel) and waits until it is connected, or only loaded when `connected: false`. */
export async function openGui(stack, { url = stack.url, hash = 'keys', connected = true, ...pageOptions } = {}) {
  const page = await stack.browser.newPage({ viewport: { width: 1280, height: 720 }, ...pageOptions });
  const problems = [];
  page.on('pageerror', (err) => problems.push(err.message));
  await page.goto(`${url}#${hash}`);
  if (connected) {
    await page.locator('#status.connected').waitFor({ timeout: 10_000 }).catch((err) => {
      throw new Error(`the GUI did not connect: ${problems.join('; ') || err.message}`);
    });
  }
  return { page, problems };
}

/** Resolves once `check()` is truthy (polled), or fails saying `what` and the last value seen. */
export async function until(check, what, timeout = 10_000) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await check();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${last?.message ?? JSON.stringify(last)})`);
    await new Promise((done) => setTimeout(done, 50));
  }
}

/** Writes `docs/<name>-<width>.png` of the page when SCREENSHOT_DIR is set. */
export async function screenshot(page, name) {
  if (!SCREENSHOT_DIR) return;
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  // Error toasts the tests provoked on purpose stay out of the pictures.
  await page.evaluate(() => { document.getElementById('toast').hidden = true; });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}-${page.viewportSize().width}.png`) });
}

/** A bulk string reply's text (`$5\r\nhello\r\n` → `hello`), `null` for nil. */
export function bulk(reply) {
  if (reply.startsWith('$-1')) return null;
  const match = /^\$(\d+)\r\n/.exec(reply);
  if (!match) throw new Error(`not a bulk reply: ${JSON.stringify(reply)}`);
  return Buffer.from(reply.slice(match[0].length), 'utf8').subarray(0, Number(match[1])).toString('utf8');
}

/** An integer reply's number (`:3\r\n` → 3). */
export function integer(reply) {
  const match = /^:(-?\d+)\r\n$/.exec(reply);
  if (!match) throw new Error(`not an integer reply: ${JSON.stringify(reply)}`);
  return Number(match[1]);
}

/** Runs `lua` in Redis (EVAL … 0) over a side connection: quick seeding of thousands of keys. */
export function redisEval(port, lua) {
  return redisCommand(port, 'EVAL', lua, '0');
}
