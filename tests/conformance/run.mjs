// Runs the conformance suite inside a host: each test body of basics.mjs
// with a fresh kit, one after the other, each bounded in time; every
// connection a test opened is closed after it. Resolves to one
// `{ name, error }` per test (`error` null when it passed), never rejects.
import { makeKit } from './kit.mjs';
import { tests } from './basics.mjs';

const TEST_MS = 30_000;

export async function runSuite(m, hostOptions) {
  const results = [];
  for (const [name, body] of Object.entries(tests)) {
    const kit = makeKit(m, hostOptions);
    let timer;
    const timeout = new Promise((_, fail) => { timer = setTimeout(() => fail(new Error(`did not finish within ${TEST_MS} ms`)), TEST_MS); });
    try {
      await Promise.race([body(kit), timeout]);
      results.push({ name, error: null });
    } catch (err) {
      results.push({ name, error: `${err?.name}: ${err?.message}` });
    } finally {
      clearTimeout(timer);
      kit.closeAll();
    }
  }
  return results;
}
