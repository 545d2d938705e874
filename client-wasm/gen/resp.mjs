// A tiny RESP2/RESP3 client and a throwaway redis-server, for the command
// table generator (scripts/gen-commands) and the tests that check the
// generated methods against a real server. Plain node, no dependencies:
// it must run on a fresh machine with only what scripts/setup.sh installs.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const STARTUP_MS = 10_000;
const REPLY_MS = 10_000;

/** An error reply from the server, as a value (it is not thrown by `command`). */
export class ReplyError {
  constructor(message) {
    this.message = message;
  }
}

/** One command line in RESP: `*n` then each word as a bulk string. */
export function encodeCommand(words) {
  const parts = [Buffer.from(`*${words.length}\r\n`)];
  for (const word of words) {
    const bytes = typeof word === 'string' ? Buffer.from(word) : Buffer.from(word);
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/**
 * Parses one reply at `offset`; returns `[value, next offset]`, or `null`
 * when the buffer holds only part of it. Bulk strings become JS strings
 * (`Buffer`s with `raw`), maps `Map`s, sets and pushes arrays, errors
 * `ReplyError`s.
 */
export function parseReply(buffer, offset = 0, raw = false) {
  const lineEnd = buffer.indexOf('\r\n', offset);
  if (lineEnd < 0) return null;
  const type = String.fromCharCode(buffer[offset]);
  const line = buffer.toString('utf8', offset + 1, lineEnd);
  const next = lineEnd + 2;
  const items = (count, at) => {
    const out = [];
    for (let i = 0; i < count; i++) {
      const item = parseReply(buffer, at, raw);
      if (item === null) return null;
      out.push(item[0]);
      at = item[1];
    }
    return [out, at];
  };
  switch (type) {
    case '+': return [line, next];
    case '-': return [new ReplyError(line), next];
    case ':': return [Number(line), next];
    case ',': return [Number(line.replace('inf', 'Infinity')), next];
    case '#': return [line === 't', next];
    case '_': return [null, next];
    case '(': return [BigInt(line), next];
    case '$': case '=': case '!': {
      const length = Number(line);
      if (length < 0) return [null, next];
      if (buffer.length < next + length + 2) return null;
      if (raw && type === '$') return [Buffer.from(buffer.subarray(next, next + length)), next + length + 2];
      const text = buffer.toString('utf8', next + (type === '=' ? 4 : 0), next + length);
      return [type === '!' ? new ReplyError(text) : text, next + length + 2];
    }
    case '*': case '~': case '>': {
      const count = Number(line);
      return count < 0 ? [null, next] : items(count, next);
    }
    case '%': {
      const flat = items(Number(line) * 2, next);
      if (flat === null) return null;
      const map = new Map();
      for (let i = 0; i < flat[0].length; i += 2) map.set(flat[0][i], flat[0][i + 1]);
      return [map, flat[1]];
    }
    case '|': {
      // Attributes precede the reply they describe: skip them.
      const attributes = items(Number(line) * 2, next);
      return attributes === null ? null : parseReply(buffer, attributes[1], raw);
    }
    default:
      throw new Error(`not a RESP reply: type byte ${JSON.stringify(type)}`);
  }
}

/**
 * A connection to a redis-server: `path` (unix socket) or `port` on
 * 127.0.0.1. `command(...words)` resolves to the parsed reply; replies
 * match commands in order.
 */
export async function connect({ path, port }) {
  const socket = path ? net.connect(path) : net.connect(port, '127.0.0.1');
  await new Promise((done, fail) => {
    socket.once('connect', done);
    socket.once('error', fail);
  });
  const waiting = [];
  let buffer = Buffer.alloc(0);
  let failure = null;
  const failAll = (err) => {
    failure = err;
    for (const { fail, timer } of waiting.splice(0)) {
      clearTimeout(timer);
      fail(err);
    }
  };
  socket.on('data', (chunk) => {
    buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
    let offset = 0;
    for (let parsed; waiting.length && (parsed = parseReply(buffer, offset)) !== null;) {
      const { done, timer } = waiting.shift();
      clearTimeout(timer);
      done(parsed[0]);
      offset = parsed[1];
    }
    buffer = buffer.subarray(offset);
  });
  socket.on('error', failAll);
  socket.on('close', () => failAll(new Error('the connection to redis-server closed')));
  return {
    command(...words) {
      if (failure) return Promise.reject(failure);
      return new Promise((done, fail) => {
        const timer = setTimeout(() => {
          socket.destroy();
          failAll(new Error(`redis-server did not answer ${words[0]} within ${REPLY_MS} ms`));
        }, REPLY_MS);
        waiting.push({ done, fail, timer });
        socket.write(encodeCommand(words));
      });
    },
    close() {
      socket.destroy();
    },
  };
}

/**
 * Starts a redis-server of our own on a unix socket in a fresh temp dir
 * (no TCP port unless `port` is given, no persistence); `stop()` ends it by
 * its PID and removes the dir.
 */
export async function startRedis({ port = 0 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'redis-wasm-gen-'));
  const path = join(dir, 'redis.sock');
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--unixsocket', path,
    '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  const exited = new Promise((done) => proc.once('exit', done));
  exited.then(() => rmSync(dir, { recursive: true, force: true }));
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    await exited;
  };
  const deadline = Date.now() + STARTUP_MS;
  for (;;) {
    try {
      const probe = await connect({ path });
      const pong = await probe.command('PING');
      probe.close();
      if (pong === 'PONG') return { path, port, proc, stop };
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline || proc.exitCode !== null) {
      await stop();
      throw new Error(`redis-server did not start within ${STARTUP_MS} ms`);
    }
    await new Promise((done) => setTimeout(done, 50));
  }
}
