// The conformance suite in a dedicated Web Worker (see page.mjs): the
// package loads and connects with the worker's own fetch and WebSocket.
// The worker says 'ready' once the package is imported (a message sent to
// it before then could arrive while nothing listens), then runs the suite
// with the options it is sent and posts the results back.
import * as m from '/pkg/index.js';
import { runSuite } from './run.mjs';

self.onmessage = async (event) => self.postMessage(await runSuite(m, event.data));
self.postMessage('ready');
