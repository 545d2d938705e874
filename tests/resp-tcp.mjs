// A plain TCP Redis client for tests: the writers "outside the browser".
// Commands are pipelined; replies (RESP2) resolve in order. An error reply
// resolves to an Error object rather than rejecting, as a test compares it.
import net from 'node:net';

export class RespClient {
  static connect(port) {
    return new Promise((done, fail) => {
      const socket = net.connect(port, '127.0.0.1', () => done(new RespClient(socket)));
      socket.once('error', fail);
    });
  }

  constructor(socket) {
    this.socket = socket;
    this.waiting = [];
    this.buffer = Buffer.alloc(0);
    socket.on('data', (data) => {
      this.buffer = Buffer.concat([this.buffer, data]);
      for (;;) {
        const parsed = parse(this.buffer, 0);
        if (!parsed) break;
        this.buffer = this.buffer.subarray(parsed.end);
        this.waiting.shift()?.done(parsed.value);
      }
    });
    socket.on('close', () => {
      for (const { fail } of this.waiting.splice(0)) fail(new Error('the socket closed'));
    });
  }

  command(...words) {
    const payload = `*${words.length}\r\n${words.map((w) => `$${Buffer.byteLength(String(w))}\r\n${w}\r\n`).join('')}`;
    return new Promise((done, fail) => {
      this.waiting.push({ done, fail });
      this.socket.write(payload);
    });
  }

  /** How many connections CLIENT LIST shows with this name (and, with `cmd`, that last ran it). */
  async countNamed(name, cmd) {
    const list = await this.command('CLIENT', 'LIST');
    return list.split('\n').filter((line) => line.includes(` name=${name} `) && (!cmd || line.includes(` cmd=${cmd} `))).length;
  }

  close() {
    this.socket.destroy();
  }
}

/** One RESP2 value from `buf` at `at`, or null when incomplete. */
function parse(buf, at) {
  const eol = buf.indexOf('\r\n', at);
  if (eol < 0) return null;
  const line = buf.toString('utf8', at + 1, eol);
  const next = eol + 2;
  switch (String.fromCharCode(buf[at])) {
    case '+': return { value: line, end: next };
    case '-': return { value: new Error(line), end: next };
    case ':': return { value: Number(line), end: next };
    case '$': {
      const len = Number(line);
      if (len < 0) return { value: null, end: next };
      if (buf.length < next + len + 2) return null;
      return { value: buf.toString('utf8', next, next + len), end: next + len + 2 };
    }
    case '*': {
      const len = Number(line);
      if (len < 0) return { value: null, end: next };
      const items = [];
      let end = next;
      for (let i = 0; i < len; i++) {
        const item = parse(buf, end);
        if (!item) return null;
        items.push(item.value);
        end = item.end;
      }
      return { value: items, end };
    }
    default: throw new Error(`not RESP: ${line}`);
  }
}
