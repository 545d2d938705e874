// Runs API tests inside the page: the package is imported from the bridge's
// static server exactly as an application would, and each test body runs in
// Chromium with a small assertion kit. A failed check throws, and Playwright
// carries the message back to node's test runner.
import { ADMIN_COMMANDS, startStack } from './harness.mjs';

/** Installed in the page as `window.kit`. Runs in the browser. */
async function installKit() {
  const m = await import('/pkg/index.js');
  const url = `ws://${location.host}/`;
  const connect = (options = {}) => m.Connection.create({ url, ...window.kit.defaults, ...options });
  const plain = (value) => {
    if (value instanceof Map) return { map: [...value].map(([k, v]) => [plain(k), plain(v)]) };
    if (value instanceof Set) return { set: [...value].map(plain).sort() };
    if (value instanceof Uint8Array) return { bytes: [...value] };
    if (Array.isArray(value)) return value.map(plain);
    if (typeof value === 'bigint') return { bigint: String(value) };
    if (value === undefined) return { undefined: true };
    if (value && typeof value === 'object') return { [value.constructor.name]: Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)])) };
    return value;
  };
  const eq = (actual, expected, what) => {
    const a = JSON.stringify(plain(actual));
    const e = JSON.stringify(plain(expected));
    if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
  };
  const ok = (condition, what) => {
    if (!condition) throw new Error(`${what}: not true`);
  };
  const rejects = async (promise, ErrorClass, what) => {
    try {
      await promise;
    } catch (err) {
      if (!(err instanceof ErrorClass)) throw new Error(`${what}: expected ${ErrorClass.name}, got ${err?.name}: ${err?.message}`);
      return err;
    }
    throw new Error(`${what}: expected a ${ErrorClass.name} rejection, but it resolved`);
  };
  let counter = 0;
  const key = (name) => `api:${name}:${++counter}:${Math.random().toString(36).slice(2)}`;
  window.kit = { m, connect, eq, ok, rejects, key, defaults: {} };
}

/**
 * Starts the stack (its bridge also given `bridgeArgs`) and a page with the
 * kit; `run(body, arg)` evaluates a test body in it.
 */
export async function browserSuite(bridgeArgs = []) {
  const stack = await startStack([...ADMIN_COMMANDS, ...bridgeArgs]);
  const page = await stack.browser.newPage();
  await page.goto(`${stack.url}style.css`);
  await page.evaluate(installKit);
  return {
    stack,
    page,
    run: (body, arg) => page.evaluate(body, arg),
    stop: () => stack.stop(),
  };
}
