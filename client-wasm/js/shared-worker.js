// The SharedWorker behind SharedConnection: every tab of the origin that
// opens one for this URL connects here, and shared-host.js serves it over
// the MessagePort the `connect` event brings.
import { serve } from './shared-host.js';

self.onconnect = (event) => {
  const [port] = event.ports;
  serve(port);
};
