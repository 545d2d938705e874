// The conformance suite in a browser page, or (`worker: true`) in a
// dedicated module Web Worker that the page starts: either way the package
// is imported from /pkg/ of the page's origin, as an application would.
import { runSuite } from './run.mjs';

export async function run({ worker, ...options }) {
  if (!worker) return runSuite(await import('/pkg/index.js'), options);
  const thread = new Worker(new URL('./worker.mjs', import.meta.url), { type: 'module' });
  try {
    return await new Promise((done, fail) => {
      thread.onmessage = (event) => {
        if (event.data === 'ready') thread.postMessage(options);
        else done(event.data);
      };
      thread.onerror = (event) => fail(new Error(`the worker failed: ${event.message}`));
    });
  } finally {
    thread.terminate();
  }
}
