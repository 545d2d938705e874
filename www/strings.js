// The string viewer: text in a textarea; JSON (a value that parses and
// starts with { or [) pretty-printed, checked before it is saved; binary
// values (not UTF-8, or with control characters) as a hex dump with a
// text column, editable as hex. Values are read with the session's
// BytesEncoder connection so that nothing is decoded lossily.
import { h } from './dom.js';
import { hexDump, printable } from './render.js';

const utf8 = new TextEncoder();

/** The parsed JSON when `text` is a JSON object or array, else `undefined`. */
function asJson(text) {
  if (!/^\s*[[{]/.test(text)) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** `"de ad be ef"` (any whitespace, optional 0x) → bytes; throws on anything else. */
function parseHex(text) {
  const digits = text.replace(/0x/gi, '').replace(/\s+/g, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(digits)) throw new Error('Hex: pairs of hex digits (0-9, a-f), spaces between them allowed.');
  return Uint8Array.from(digits.match(/../g) ?? [], (pair) => parseInt(pair, 16));
}

const toHex = (bytes) => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ');

export async function stringViewer({ conn, raw, key, action }) {
  const keyBytes = typeof key === 'string' ? utf8.encode(key) : key;
  const bytes = await raw.get(keyBytes);
  if (bytes === null) return [];
  // SET … KEEPTTL: saving a value keeps the key's expiry. set() has no
  // KEEPTTL option; call() sends it. Bytes go through the BytesEncoder
  // connection, whose every argument is a Uint8Array.
  const save = (value) => (typeof value === 'string'
    ? conn.call('SET', key, value, 'KEEPTTL')
    : raw.call('SET', keyBytes, value, utf8.encode('KEEPTTL')));
  const text = printable(bytes);

  if (text === null) {
    const area = h('textarea.hex-value', { value: toHex(bytes), rows: 6, spellcheck: false, 'aria-label': 'value in hex' });
    return [
      h('p.note', { textContent: `Binary value, ${bytes.length} bytes: hex and text below; edit the hex to change it.` }),
      h('pre.hex', { textContent: hexDump(bytes) }),
      area,
      h('button.save', { type: 'button', textContent: 'Save hex', onclick: action(() => save(parseHex(area.value))) }),
    ];
  }

  const json = asJson(text);
  if (json !== undefined) {
    // Kept as compact as it came: a one-line value is saved on one line.
    const compact = !text.trim().includes('\n');
    const area = h('textarea.string-value.json', { value: JSON.stringify(json, null, 2), rows: 12, spellcheck: false, 'aria-label': 'JSON value' });
    const problem = h('p.field-error', { role: 'alert', hidden: true });
    const check = () => {
      try {
        JSON.parse(area.value);
        problem.hidden = true;
        return true;
      } catch (err) {
        problem.textContent = `Not valid JSON, not saved: ${err.message}`;
        problem.hidden = false;
        return false;
      }
    };
    area.addEventListener('input', check);
    return [
      h('p.note', {}, h('span.badge.t-json', { textContent: 'JSON' }), ` ${text.length} bytes, shown pretty-printed; saved ${compact ? 'compact, as it was' : 'as typed'}.`),
      area,
      problem,
      h('div.buttons', {},
        h('button.save', {
          type: 'button',
          textContent: 'Save',
          onclick: action(() => {
            if (!check()) return false;
            return save(compact ? JSON.stringify(JSON.parse(area.value)) : area.value);
          }),
        }),
        h('button.format', { type: 'button', textContent: 'Format', onclick: () => { if (check()) area.value = JSON.stringify(JSON.parse(area.value), null, 2); } })),
    ];
  }

  const area = h('textarea.string-value', { value: text, rows: 6, spellcheck: false, 'aria-label': 'value' });
  return [
    h('p.note', { textContent: `${bytes.length} bytes of text` }),
    area,
    h('button.save', { type: 'button', textContent: 'Save', onclick: action(() => save(area.value)) }),
  ];
}
