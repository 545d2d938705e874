// Runs API tests inside the page: the package is imported from the bridge's
// static server exactly as an application would, and each test body runs in
// Chromium with the assertion kit of the conformance suite
// (conformance/kit.mjs, served to the page from tests/). A failed check
// throws, and Playwright carries the message back to node's test runner.
import { join } from 'node:path';
import { ADMIN_COMMANDS, startStack } from './harness.mjs';

const CONFORMANCE = join(import.meta.dirname, 'conformance');

/** Installed in the page as `window.kit`. Runs in the browser. */
async function installKit() {
  const m = await import('/pkg/index.js');
  const { makeKit } = await import('/conformance/kit.mjs');
  window.kit = makeKit(m, { url: `ws://${location.host}/` });
}

/**
 * Starts the stack (its bridge also given `bridgeArgs`) and a page with the
 * kit; `run(body, arg)` evaluates a test body in it.
 */
export async function browserSuite(bridgeArgs = []) {
  const stack = await startStack([...ADMIN_COMMANDS, ...bridgeArgs]);
  const page = await stack.browser.newPage();
  await page.route((url) => url.pathname.startsWith('/conformance/'), (route) => route.fulfill({
    path: join(CONFORMANCE, new URL(route.request().url()).pathname.slice('/conformance/'.length)),
    contentType: 'text/javascript',
  }));
  await page.goto(`${stack.url}style.css`);
  await page.evaluate(installKit);
  return {
    stack,
    page,
    run: (body, arg) => page.evaluate(body, arg),
    stop: () => stack.stop(),
  };
}
