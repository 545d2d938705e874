// The conformance suite (conformance/basics.mjs) in a page of Debian's
// Firefox ESR, driven by puppeteer-core over WebDriver BiDi (browsers.mjs).
import { conformance, inBrowser } from './hosts.mjs';

conformance('firefox page', inBrowser('firefox'));
