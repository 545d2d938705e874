// The conformance suite (conformance/basics.mjs) in a page of WebKitGTK's
// MiniBrowser, driven through WebKitWebDriver (browsers.mjs).
import { conformance, inBrowser } from './hosts.mjs';

conformance('webkit page', inBrowser('webkit'));
