// Key names that are not UTF-8 in the GUI's key browser, against a real
// Redis through the real bridge: keys holding a NUL byte, a 0xff byte and
// an invalid UTF-8 sequence (and a backslash) are made over TCP, shown
// escaped (`\x00`, `\xff`, `\\`), and every action on them (open, edit,
// TTL, rename, delete, a new key, bulk delete) is checked in Redis with
// the exact bytes.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { guiStack, openGui, until } from './gui-kit.mjs';

let stack;
let page;
let problems;

/** One command over TCP, its words as bytes; resolves to the reply's bytes. */
function redisBytes(...words) {
  const parts = [Buffer.from(`*${words.length}\r\n`)];
  for (const word of words.map((w) => Buffer.from(w))) parts.push(Buffer.from(`$${word.length}\r\n`), word, Buffer.from('\r\n'));
  return new Promise((done, fail) => {
    let seen = Buffer.alloc(0);
    const socket = net.connect(stack.redisPort, '127.0.0.1', () => socket.write(Buffer.concat(parts)));
    socket.setTimeout(10_000, () => socket.destroy(new Error('redis did not answer')));
    socket.on('data', (data) => {
      seen = Buffer.concat([seen, data]);
      const head = seen.indexOf('\r\n');
      if (head < 0) return;
      // A bulk reply is complete with its length's bytes and CRLF; anything else is one line.
      const length = seen[0] === 0x24 ? Number(seen.subarray(1, head)) : -1;
      if (length >= 0 && seen.length < head + 2 + length + 2) return;
      socket.end();
      done(length >= 0 ? seen.subarray(head + 2, head + 2 + length) : seen.subarray(0, head));
    });
    socket.once('error', fail);
  });
}

const bytes = (...parts) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
const KEYS = {
  nul: { bytes: bytes('bin:', [0x00], 'zero'), shown: 'bin:\\x00zero' },
  ff: { bytes: bytes('bin:', [0xff]), shown: 'bin:\\xff' },
  invalid: { bytes: bytes('bin:', [0xc3, 0x28]), shown: 'bin:\\xc3(' },
  backslash: { bytes: bytes('bin:back\\slash'), shown: 'bin:back\\\\slash' },
  hash: { bytes: bytes('bin:', [0xfe], 'hash'), shown: 'bin:\\xfehash' },
};
const text = async (...words) => (await redisBytes(...words)).toString('latin1');

before(async () => {
  stack = await guiStack();
  for (const [name, key] of Object.entries(KEYS)) {
    if (name === 'hash') assert.equal(await text('HSET', key.bytes, 'f', 'v'), ':1');
    else assert.equal(await text('SET', key.bytes, `value of ${name}`), '+OK');
  }
  ({ page, problems } = await openGui(stack));
});

after(async () => {
  assert.deepEqual(problems, [], 'no uncaught errors on the page');
  await stack?.stop();
});

const leaf = (shown) => page.locator(`#key-tree li.leaf[data-key=${JSON.stringify(shown)}]`);

async function scan() {
  await page.fill('#key-pattern', 'bin:*');
  await page.click('#key-search button[type=submit]');
  await page.locator('#key-tree[aria-busy="false"]').waitFor();
  const folder = page.locator('#key-tree li.folder[data-prefix="bin:"]');
  if ((await folder.getAttribute('aria-expanded')) !== 'true') await folder.locator('> .row').click();
}

async function open(shown) {
  await scan();
  await leaf(shown).locator('> .row').click();
  await until(async () => (await page.locator('#key-view .key-name').textContent()) === shown, `the viewer showing ${shown}`);
  await page.locator('#key-view[aria-busy="false"]').waitFor();
}

/** Answers the confirmation dialog `click` opens with yes. */
async function confirmed(selector) {
  await page.click(selector);
  const dialog = page.locator('dialog.confirm-dialog[open]');
  await dialog.waitFor();
  const said = await dialog.textContent();
  await dialog.locator('button.confirm').click();
  await dialog.waitFor({ state: 'detached' });
  await page.locator('#key-view[aria-busy="false"]').waitFor();
  return said;
}

test('names that are not printable UTF-8 are shown escaped, and open with their exact bytes', async () => {
  await scan();
  assert.equal(await page.locator('#key-count').getAttribute('data-loaded'), String(Object.keys(KEYS).length));
  for (const key of Object.values(KEYS)) {
    await leaf(key.shown).waitFor();
    assert.equal(await leaf(key.shown).locator('.label').textContent(), key.shown.slice('bin:'.length));
  }
  // Badges come from TYPE sent with the exact bytes.
  await until(async () => (await leaf(KEYS.hash.shown).locator('.badge').textContent()) === 'hash', 'the hash badge');
  await until(async () => (await leaf(KEYS.ff.shown).locator('.badge').textContent()) === 'string', 'the string badge');
  for (const name of ['nul', 'ff', 'invalid', 'backslash']) {
    await open(KEYS[name].shown);
    assert.equal(await page.inputValue('#key-view .string-value'), `value of ${name}`);
  }
});

test('edit, TTL, rename and delete reach the key with its exact bytes', async () => {
  await open(KEYS.nul.shown);
  await page.fill('#key-view .string-value', 'edited');
  await page.click('#key-view button.save');
  await until(async () => (await text('GET', KEYS.nul.bytes)) === 'edited', 'the edit in Redis');
  await page.locator('#key-view[aria-busy="false"]').waitFor();

  await open(KEYS.ff.shown);
  await page.fill('#key-view .ttl', '300');
  await page.click('#key-view .ttl-button');
  await until(async () => Number((await text('TTL', KEYS.ff.bytes)).slice(1)) > 290, 'the TTL in Redis');

  await open(KEYS.hash.shown);
  await page.fill('#key-view tr[data-field="f"] .item-value', 'w');
  await page.click('#key-view tr[data-field="f"] button.save');
  await until(async () => (await text('HGET', KEYS.hash.bytes, 'f')) === 'w', 'the hash field in Redis');
  await page.locator('#key-view[aria-busy="false"]').waitFor();

  // Rename onto a name typed with escapes: the bytes they stand for.
  const renamed = bytes('bin:', [0xfe, 0x01], 'renamed');
  await open(KEYS.invalid.shown);
  await page.fill('#key-view .rename', 'bin:\\xfe\\x01renamed');
  assert.match(await confirmed('#key-view .rename-button'), /bin:\\xc3\( → bin:\\xfe\\x01renamed/);
  await until(async () => (await page.locator('#key-view .key-name').textContent()) === 'bin:\\xfe\\x01renamed', 'the viewer on the new name');
  assert.equal(await text('EXISTS', KEYS.invalid.bytes), ':0');
  assert.equal(await text('GET', renamed), 'value of invalid');
  await leaf('bin:\\xfe\\x01renamed').waitFor();

  await open(KEYS.backslash.shown);
  assert.match(await confirmed('#key-view button.delete'), /bin:back\\\\slash/);
  assert.equal(await text('EXISTS', KEYS.backslash.bytes), ':0');
  assert.equal(await leaf(KEYS.backslash.shown).count(), 0);
});

test('a new key named with escapes, then bulk delete of every binary name', async () => {
  await scan();
  await page.click('#key-new-button');
  await page.fill('#key-view .new-name', 'bin:\\xffnew\\x00');
  await page.fill('#key-view .new-value', 'fresh');
  await page.click('#key-view .new-key button[type=submit]');
  await until(async () => (await page.locator('#key-view .key-name').textContent()) === 'bin:\\xffnew\\x00', 'the new key shown');
  assert.equal(await text('GET', bytes('bin:', [0xff], 'new', [0x00])), 'fresh');

  const before = Number((await text('DBSIZE')).slice(1));
  assert.equal(before, 5, "four left of the five, and the new one");
  await page.fill('#key-pattern', 'bin:*');
  await page.click('#bulk-delete');
  const dialog = page.locator('dialog.confirm-dialog[open]');
  await dialog.waitFor();
  const said = await dialog.textContent();
  assert.match(said, /Delete 5 keys\?/);
  assert.match(said, /bin:\\x(00|ff|fe)/);
  await dialog.locator('button.confirm').click();
  await until(async () => /deleted 5 keys of 5/.test(await page.locator('#bulk-progress .bulk-text').textContent()), 'the bulk delete');
  assert.equal(await text('DBSIZE'), ':0');
});
