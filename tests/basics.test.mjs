// The client's basic contract (conformance/basics.mjs) in headless Chromium:
// in a page, and in a dedicated Web Worker started by a page. The same
// suite runs in Firefox, WebKitGTK, Node, Deno and Bun (hosts.mjs).
import { conformance, inBrowser } from './hosts.mjs';

conformance('chromium page', inBrowser('chromium'));
conformance('chromium worker', inBrowser('chromium', { worker: true }));
