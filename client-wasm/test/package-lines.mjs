// Runs the seed cases through a built package's own methods in node, with
// a WebSocket that records what the client sends instead of sending it, and
// reads back each command line. This is how seed-lines.json was recorded
// from the Rust ArgReader, and how the built package is checked against it.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseReply } from '../gen/resp.mjs';
import { ENCODERS } from './cases.mjs';

/** A WebSocket that opens at once and keeps every frame it is given. */
class RecordingSocket {
  static OPEN = 1;
  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    this.binaryType = 'blob';
    setTimeout(() => {
      this.readyState = 1;
      this.onopen?.({ type: 'open' });
    });
  }

  send(data) {
    // The client's handshake (a PING: nothing to replay) is answered, so
    // that it becomes ready; every later frame is recorded.
    if (!this.greeted) {
      this.greeted = true;
      const pong = new TextEncoder().encode('+PONG\r\n');
      setTimeout(() => this.onmessage?.({ data: pong.buffer }));
      return;
    }
    this.sent.push(Buffer.from(data));
  }

  close() {
    this.readyState = 3;
  }
}

/** The package's entry loads its .wasm with fetch(): serve file URLs from disk. */
function fetchFiles() {
  const fetch = globalThis.fetch;
  globalThis.fetch = async (url, init) => {
    const href = String(url);
    if (!href.startsWith('file:')) return fetch(url, init);
    return new Response(readFileSync(new URL(href)), { headers: { 'content-type': 'application/wasm' } });
  };
}

const tick = () => new Promise((done) => setTimeout(done));

/** The line a command method sent, or the error it rejected with: `{ line }` or `{ error: { name, message } }`. */
async function runOne(conn, sockets, method, args) {
  const before = sockets.map((s) => s.sent.length);
  let failure = null;
  try {
    conn[method](...args).catch((err) => { failure = err; });
  } catch (err) {
    failure = err;
  }
  await tick();
  if (failure) return { error: { name: failure.name, message: failure.message } };
  const frames = sockets.flatMap((s, i) => s.sent.slice(before[i]));
  if (frames.length === 0) return { error: { name: 'none', message: 'nothing sent and no rejection' } };
  const [line] = parseReply(Buffer.concat(frames), 0, true);
  return { line: line.map((item) => new Uint8Array(item)) };
}

/** Runs `cases` through the package in `pkgDir`; resolves to one result per case, lines as bytes. */
export async function runPackage(pkgDir, cases) {
  fetchFiles();
  const sockets = [];
  globalThis.WebSocket = class extends RecordingSocket {
    constructor(url) {
      super(url);
      sockets.push(this);
    }
  };
  const m = await import(pathToFileURL(`${pkgDir}/index.js`).href);
  const connections = new Map();
  const results = [];
  for (const c of cases) {
    const key = `${c.encoder} ${c.strict}`;
    if (!connections.has(key)) {
      connections.set(key, await m.Connection.create({ url: 'ws://recorded.invalid/', encoder: ENCODERS[c.encoder](), enableTypechecking: c.strict }));
    }
    results.push({ id: c.id, ...(await runOne(connections.get(key), sockets, c.method, c.args())) });
  }
  for (const conn of connections.values()) conn.close();
  return results;
}
