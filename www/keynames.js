// Key names as the GUI shows them, and back to their exact bytes.
//
// Redis keys are bytes. The key browser scans with a BytesEncoder and
// shows each name as text in which every byte that is not printable UTF-8
// (invalid sequences, NUL and other control characters) reads `\xff`, and
// a backslash reads `\\`: the escapes redis-cli and the console take in
// "double quotes", so the shown name is unambiguous. A name with no
// backslash in it is plain text; one with a backslash goes to Redis as
// the bytes its escapes stand for.

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** The length of the UTF-8 sequence a lead byte starts (0: not a lead byte). */
function sequenceLength(byte) {
  if (byte < 0x80) return 1;
  if (byte >= 0xc2 && byte <= 0xdf) return 2;
  if (byte >= 0xe0 && byte <= 0xef) return 3;
  if (byte >= 0xf0 && byte <= 0xf4) return 4;
  return 0;
}

const hex = (byte) => `\\x${byte.toString(16).padStart(2, '0')}`;

/** `Uint8Array` → the name shown: printable UTF-8 as is, `\` as `\\`, any other byte as `\xNN`. */
export function keyName(bytes) {
  let name = '';
  for (let at = 0; at < bytes.length;) {
    const length = sequenceLength(bytes[at]);
    let char = null;
    if (length > 0 && at + length <= bytes.length) {
      try {
        char = strictUtf8.decode(bytes.subarray(at, at + length));
      } catch {
        char = null; // overlong, a surrogate or a bad continuation byte
      }
    }
    if (char === null || CONTROL.test(char)) {
      name += hex(bytes[at]);
      at += 1;
    } else {
      name += char === '\\' ? '\\\\' : char;
      at += length;
    }
  }
  return name;
}

/**
 * The bytes of a double-quoted redis-cli word: `\n \r \t \b \a \\ \"` and
 * `\xHH` escapes, any other character as its UTF-8.
 */
export function unescapeBytes(text) {
  const bytes = [];
  const simple = { n: 10, r: 13, t: 9, b: 8, a: 7, '\\': 92, '"': 34 };
  const utf8 = new TextEncoder();
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\' && text[i + 1] === 'x' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 2, i + 4))) {
      bytes.push(parseInt(text.slice(i + 2, i + 4), 16));
      i += 3;
    } else if (text[i] === '\\' && text[i + 1] in simple) {
      bytes.push(simple[text[i + 1]]);
      i += 1;
    } else {
      const codePoint = text.codePointAt(i);
      const char = String.fromCodePoint(codePoint);
      bytes.push(...utf8.encode(char));
      i += char.length - 1;
    }
  }
  return new Uint8Array(bytes);
}

/**
 * What a command is given for the key shown as `name`: the text itself
 * when it has no escapes, else its exact bytes (a `Uint8Array`, which the
 * session's connections send as they are).
 */
export const keyArg = (name) => (name.includes('\\') ? unescapeBytes(name) : name);

/** The shown name of a key argument (text or bytes): `keyName` of its bytes. */
export const nameOf = (arg) => keyName(typeof arg === 'string' ? new TextEncoder().encode(arg) : arg);
