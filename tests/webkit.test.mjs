// The conformance suite (conformance/basics.mjs) in WebKitGTK's MiniBrowser,
// driven through WebKitWebDriver (browsers.mjs): in a page, and in a
// dedicated Web Worker started by a page.
import { conformance, inBrowser } from './hosts.mjs';

conformance('webkit page', inBrowser('webkit'));
conformance('webkit worker', inBrowser('webkit', { worker: true }));
