// Minimal RESP for the load generator: encode commands, and count complete
// top-level replies in a byte stream without building them (so the
// generator, not the decoder, is what gets measured).

/** One command as RESP bytes; arguments are strings or Buffers. */
export function command(...args) {
  const parts = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = Buffer.isBuffer(arg) ? arg : Buffer.from(String(arg));
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

const INCOMPLETE = -1;

/**
 * Counts replies as chunks arrive. `onReply(count)` gets how many replies
 * each chunk completed. Large bulk strings are not re-scanned: chunks are
 * only joined once enough bytes for the pending reply have arrived.
 */
export class ReplyCounter {
  constructor(onReply) {
    this.onReply = onReply;
    this.chunks = [];
    this.length = 0;
    this.need = 1;
  }

  push(chunk) {
    this.chunks.push(chunk);
    this.length += chunk.length;
    if (this.length < this.need) return;
    const buf = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.length);
    let offset = 0;
    let count = 0;
    for (;;) {
      const end = skip(buf, offset, this);
      if (end === INCOMPLETE) break;
      offset = end;
      count += 1;
    }
    const rest = buf.subarray(offset);
    this.chunks = rest.length ? [rest] : [];
    this.length = rest.length;
    this.need = Math.max(this.need, this.length + 1); // need counts from the pending reply's start
    if (count) this.onReply(count);
  }
}

/** End offset of the reply starting at `at`, or INCOMPLETE (setting state.need). */
function skip(buf, at, state) {
  const lineEnd = buf.indexOf('\r\n', at + 1);
  if (lineEnd < 0) {
    state.need = buf.length - at + 1;
    return INCOMPLETE;
  }
  const type = buf[at];
  if (type === 0x24 /* $ */ || type === 0x2a /* * */) {
    const n = Number(buf.toString('latin1', at + 1, lineEnd));
    if (type === 0x24) {
      if (n < 0) return lineEnd + 2;
      const end = lineEnd + 2 + n + 2;
      if (end > buf.length) {
        state.need = end - at;
        return INCOMPLETE;
      }
      return end;
    }
    let offset = lineEnd + 2;
    for (let i = 0; i < n; i++) {
      const end = skip(buf, offset, state);
      if (end === INCOMPLETE) {
        state.need = buf.length - at + 1;
        return INCOMPLETE;
      }
      offset = end;
    }
    return offset;
  }
  return lineEnd + 2; // + - : and other single-line replies
}
