// Renders what `call()` resolves to, by type, the way redis-cli prints it:
// nested arrays as collapsible trees, binary strings as hex and text,
// errors in red, and the bridge's refusal of a command as a refusal
// rather than Redis's "unknown command". With a `BytesEncoder` connection
// (the console's), bulk strings arrive as `Uint8Array` and simple strings
// (+OK) as `string`.
import { ErrorReply } from './pkg/index.js';
import { bridgeRefusal } from './refusal.js';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
/** Items shown per array level before "… N more". */
const MAX_ITEMS = 1000;

function span(className, text) {
  const element = document.createElement('span');
  element.className = className;
  element.textContent = text;
  return element;
}

/** The text of `bytes` when they are UTF-8 without control characters, else `null`. */
export function printable(bytes) {
  try {
    const text = strictUtf8.decode(bytes);
    // eslint-disable-next-line no-control-regex
    return /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text) ? null : text;
  } catch {
    return null;
  }
}

/** `00000000  89 50 4e 47 0d 0a 1a 0a  |.PNG....|`, 16 bytes a line. */
export function hexDump(bytes) {
  const lines = [];
  for (let at = 0; at < bytes.length; at += 16) {
    const chunk = bytes.subarray(at, at + 16);
    const hex = [...chunk].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const text = [...chunk].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${at.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  |${text}|`);
  }
  return lines.join('\n');
}

function renderBytes(bytes) {
  const text = printable(bytes);
  if (text !== null) return span('bulk', JSON.stringify(text));
  const box = span('binary', '');
  box.append(span('binary-head', `(binary, ${bytes.length} bytes)`), '\n', span('hex', hexDump(bytes)));
  return box;
}

/** One array level: `1) value` rows; a row holding an array is a branch that folds. */
function renderList(entries, length, ordered) {
  const tree = document.createElement('div');
  tree.className = 'tree';
  const width = String(Math.min(length, MAX_ITEMS)).length;
  let index = 0;
  for (const [key, value] of entries) {
    if (index === MAX_ITEMS) {
      tree.append('\n', span('more', `… ${length - MAX_ITEMS} more`));
      break;
    }
    const row = document.createElement('div');
    row.className = 'row';
    const label = ordered ? `${String(index + 1).padStart(width)}) ` : '';
    const idx = span('idx', label);
    const val = span('val', '');
    if (!ordered) val.append(render(key), span('arrow', ' => '));
    const child = render(value);
    val.append(child);
    if (child.classList.contains('tree')) {
      row.classList.add('branch');
      idx.title = 'fold / unfold';
      idx.addEventListener('click', () => row.classList.toggle('folded'));
      val.dataset.size = String(value.length ?? value.size);
    }
    row.append(idx, val);
    if (index > 0) tree.append('\n');
    tree.append(row);
    index += 1;
  }
  return tree;
}

/**
 * An error reply, or the bridge's refusal (class `refusal`) with what the
 * bridge said, or an error of the client (such as a Cluster's
 * `CrossSlotError`: nothing was sent) under its name.
 */
export function renderError(error) {
  const refusal = bridgeRefusal(error);
  if (!refusal && error?.name && !(error instanceof ErrorReply)) return span(`error client-error ${error.name}`, `(${error.name}) ${error.message}`);
  if (!refusal) return span('error', `(error) ${error.message}`);
  const node = span('refusal', `(refused by the bridge) ${refusal.command}: ${refusal.reason}`);
  node.title = 'The bridge kept this command from Redis: its policy does not allow it (see redis-ws-bridge --help for the flags that do).';
  return node;
}

/** A DOM node showing one decoded reply value. */
export function render(value) {
  if (value === null || value === undefined) return span('nil', '(nil)');
  if (typeof value === 'bigint') return span('int', `(integer) ${value}`);
  if (typeof value === 'number') return span('int', Number.isInteger(value) ? `(integer) ${value}` : `(double) ${value}`);
  if (typeof value === 'boolean') return span('bool', `(${value})`);
  if (typeof value === 'string') return span('simple', JSON.stringify(value));
  if (value instanceof Uint8Array) return renderBytes(value);
  if (value instanceof ErrorReply) return renderError(value);
  if (value instanceof Map) {
    return value.size === 0 ? span('empty', '(empty hash)') : renderList(value.entries(), value.size, false);
  }
  if (value instanceof Set) value = [...value];
  if (Array.isArray(value)) {
    return value.length === 0 ? span('empty', '(empty array)') : renderList(value.map((v) => [null, v]), value.length, true);
  }
  return span('other', String(value));
}
