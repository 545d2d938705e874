// The conformance suite (conformance/basics.mjs) in Debian's Firefox ESR,
// driven by puppeteer-core over WebDriver BiDi (browsers.mjs): in a page,
// and in a dedicated Web Worker started by a page.
import { conformance, inBrowser } from './hosts.mjs';

conformance('firefox page', inBrowser('firefox'));
conformance('firefox worker', inBrowser('firefox', { worker: true }));
