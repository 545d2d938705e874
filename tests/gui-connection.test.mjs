// The GUI's connection manager against real bridges: a bridge that wants
// a token (none, a wrong one, the right one), saved connections with and
// without their token, a bridge that refuses the page's origin, nothing
// listening, another database, and the state and event log while Redis
// goes away and comes back.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { freePort } from './harness.mjs';
import { TOKENS_BESIDE_OPEN_REDIS, TRUSTED, guiStack, openGui, screenshot, until } from './gui-kit.mjs';

let stack;
let tokenBridge;
let dir;

before(async () => {
  stack = await guiStack();
  assert.equal(await stack.redis('ACL', 'SETUSER', 'alice', 'on', '>alice-pw', '~*', '&*', '+@all'), '+OK\r\n');
  dir = mkdtempSync(join(tmpdir(), 'redis-wasm-gui-tokens-'));
  const tokens = join(dir, 'tokens.toml');
  writeFileSync(tokens, '[[token]]\ntoken = "t0ken-for-alice"\nuser = "alice"\npassword = "alice-pw"\n');
  // ACL is denied by default; ACL WHOAMI shows who the token logged in as.
  tokenBridge = await stack.bridge([...TRUSTED, ...TOKENS_BESIDE_OPEN_REDIS, '--tokens', tokens, '--allow-command', 'ACL']);
});

after(async () => {
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const problem = (page) => page.locator('#conn-error');

async function connectWith(page, { url, token = '', db = '0', name = '' }) {
  await page.fill('#conn-name', name);
  await page.fill('#conn-url', url);
  await page.fill('#conn-token', token);
  await page.fill('#conn-db', db);
  await page.click('#conn-connect');
  await page.locator('#conn-form[aria-busy="false"]').waitFor();
}

test('a bridge that wants a token: none and a wrong one are explained, the right one connects', async () => {
  const { page, problems } = await openGui(stack, { url: tokenBridge.url, connected: false });
  // The page connects to its own bridge without a token, is refused, and says why.
  await problem(page).waitFor();
  assert.equal(await page.locator('#panel-connection').isVisible(), true);
  assert.equal(await page.locator('#status').textContent(), 'disconnected');
  const none = await problem(page).textContent();
  assert.match(none, /The bridge at 127\.0\.0\.1:\d+ answered, but refused the WebSocket/);
  assert.match(none, /Likely causes, most likely first:401 token: this bridge may require a token \(started with --tokens\), and none was given \("missing token"\)/);
  assert.match(none, /The bridge's log \(its stderr\) says which: look for a "refused" warning/);
  await screenshot(page, 'connection');

  await connectWith(page, { url: tokenBridge.ws, token: 'not-the-token' });
  assert.match(await problem(page).textContent(), /most likely first:401 token: the bridge does not know this token \("unknown token"\)/);
  assert.equal(await page.locator('#status').textContent(), 'disconnected');

  await connectWith(page, { url: tokenBridge.ws, token: 't0ken-for-alice', name: 'alice' });
  await page.locator('#status.connected').waitFor();
  assert.equal(await problem(page).isHidden(), true);
  assert.match(await page.locator('#conn-state').textContent(), /connected alice · db 0 · with a token/);
  // The token logs in as its ACL user: the console shows it.
  await page.click('#tab-console');
  await page.fill('#command', 'ACL WHOAMI');
  await page.press('#command', 'Enter');
  await until(async () => (await page.locator('.entry .reply').last().textContent()) === '"alice"', 'ACL WHOAMI');
  assert.deepEqual(problems, []);
  await page.close();
});

test('saved connections: the token only when "remember" is ticked; connect, edit, forget', async () => {
  // The token bridge's own page: it starts refused, as it has no token yet.
  const { page } = await openGui(stack, { url: tokenBridge.url, hash: 'connection', connected: false });
  await problem(page).waitFor();
  const saved = () => page.evaluate(() => JSON.parse(localStorage.getItem('redis-wasm-gui:connections')));

  await page.fill('#conn-name', 'tokens, forgotten');
  await page.fill('#conn-url', tokenBridge.ws);
  await page.fill('#conn-token', 't0ken-for-alice');
  await page.click('#conn-save');
  assert.deepEqual(await saved(), [{ name: 'tokens, forgotten', url: tokenBridge.ws, db: 0, protocol: 2, cache: false }]);

  await page.fill('#conn-name', 'tokens, remembered');
  await page.check('#conn-remember');
  await page.click('#conn-save');
  assert.deepEqual((await saved())[1], { name: 'tokens, remembered', url: tokenBridge.ws, db: 0, protocol: 2, cache: false, token: 't0ken-for-alice' });
  assert.match(await page.locator('#saved-list li[data-name="tokens, remembered"]').textContent(), /token remembered/);
  assert.doesNotMatch(await page.locator('#saved-list li[data-name="tokens, forgotten"]').textContent(), /token remembered/);

  // The remembered one connects as it is; the other one needs the token typed again.
  await page.click('#saved-list li[data-name="tokens, remembered"] .saved-connect');
  await until(async () => /connected tokens, remembered/.test(await page.locator('#conn-state').textContent()), 'the remembered connection');
  await page.click('#saved-list li[data-name="tokens, forgotten"] .saved-connect');
  await problem(page).waitFor();
  assert.match(await problem(page).textContent(), /none was given/);
  assert.equal(await page.inputValue('#conn-token'), '');

  // The last saved connection used is opened on the next visit.
  await page.click('#saved-list li[data-name="tokens, remembered"] .saved-connect');
  await page.locator('#status.connected').waitFor();
  await page.reload();
  await page.locator('#status.connected').waitFor();
  assert.equal(await page.inputValue('#conn-name'), 'tokens, remembered');

  // Forget asks first.
  await page.click('#tab-connection');
  await page.click('#saved-list li[data-name="tokens, forgotten"] .saved-remove');
  await page.locator('dialog[open] button.cancel').click();
  await page.locator('dialog').waitFor({ state: 'detached' });
  assert.equal((await saved()).length, 2);
  await page.click('#saved-list li[data-name="tokens, forgotten"] .saved-remove');
  await page.locator('dialog[open] button.confirm').click();
  await page.locator('#saved-list li[data-name="tokens, forgotten"]').waitFor({ state: 'detached' });
  assert.deepEqual((await saved()).map((c) => c.name), ['tokens, remembered']);
  await screenshot(page, 'connection-saved');
  const phone = await stack.browser.newPage({ viewport: { width: 390, height: 844 } });
  await phone.goto(`${tokenBridge.url}#connection`);
  await phone.locator('#conn-error').waitFor();
  await screenshot(phone, 'connection');
  await phone.close();
  await page.close();
});

test('another origin, and nothing listening, are told apart', async () => {
  const { page } = await openGui(stack, { hash: 'connection' });
  // The token bridge did not allow the main bridge's page as an origin.
  await connectWith(page, { url: tokenBridge.ws, token: 't0ken-for-alice' });
  const refused = await problem(page).textContent();
  assert.match(refused, /answered, but refused the WebSocket/);
  assert.match(refused, /most likely first:403 origin: this page \(http:\/\/127\.0\.0\.1:\d+\) is neither the bridge's own origin nor listed with --allow-origin/);

  const port = await freePort();
  await connectWith(page, { url: `ws://127.0.0.1:${port}/` });
  const nothing = await problem(page).textContent();
  assert.match(nothing, new RegExp(`^Nothing answered at 127\\.0\\.0\\.1:${port}The client said: .*closed \\(code 1006\\)Is the bridge running`));
  assert.doesNotMatch(nothing, /most likely/);
  await connectWith(page, { url: 'not a url' });
  assert.match(await problem(page).textContent(), /That is not a bridge URL/);
  await page.close();
});

test('a database other than 0', async () => {
  const { page } = await openGui(stack, { hash: 'connection' });
  await connectWith(page, { url: stack.ws, db: '3' });
  await page.locator('#status.connected').waitFor();
  assert.match(await page.locator('#server').textContent(), /db 3$/);
  await page.click('#tab-console');
  await page.fill('#command', 'SET only:in:three yes');
  await page.press('#command', 'Enter');
  await until(async () => (await page.locator('.entry .reply').last().textContent()) === '"OK"', 'the SET');
  assert.match(await stack.redis('INFO', 'keyspace'), /db3:keys=1,/);
  await page.click('#tab-keys');
  await page.click('#key-search button[type=submit]');
  await page.locator('#key-tree li.folder[data-prefix="only:"]').waitFor();
  await page.close();
});

test('RESP3 and the client-side cache from the form: reads served in the page, another client\'s write seen, saved with the connection', async () => {
  const { page, problems } = await openGui(stack, { hash: 'connection' });
  await page.check('#conn-cache');
  assert.equal(await page.inputValue('#conn-protocol'), '3', 'the cache picks RESP3');
  await page.fill('#conn-name', 'cached');
  await connectWith(page, { url: stack.ws, name: 'cached' });
  await page.locator('#status.connected').waitFor();
  assert.match(await stack.redis('CLIENT', 'LIST'), /resp=3/);
  await page.click('#tab-console');
  /** Runs `line` in the console and returns its reply's text. */
  const run = async (line) => {
    const replies = page.locator('.entry .reply');
    const before = await replies.count();
    await page.fill('#command', line);
    await page.press('#command', 'Enter');
    await until(async () => (await replies.count()) > before, line);
    return replies.last().textContent();
  };
  assert.equal(await run('SET gui:cached one'), '"OK"');
  assert.equal(await run('GET gui:cached'), '"one"');
  assert.equal(await run('GET gui:cached'), '"one"');
  assert.equal(await stack.redis('SET', 'gui:cached', 'two'), '+OK\r\n');
  // The invalidation comes on the page's socket ahead of any later reply.
  assert.equal(await run('PING'), '"PONG"');
  assert.equal(await run('GET gui:cached'), '"two"', 'the other client\'s write');
  await page.click('#tab-live');
  await until(async () => /\d+ entries · \d+ invalidated/.test(await page.locator('#cache-now').textContent()), 'the cache legend');
  assert.equal(await page.locator('#cache-legend').isVisible(), true);
  await page.click('#tab-connection');
  await page.click('#conn-save');
  assert.match(await page.locator('#saved-list li.saved[data-name="cached"] .saved-url').textContent(), /RESP3 · cache/);
  await page.selectOption('#conn-protocol', '2');
  assert.equal(await page.isChecked('#conn-cache'), false, 'RESP2 turns the cache off');
  assert.deepEqual(problems, []);
  await page.close();
});

test('the state and its lifecycle events while Redis goes away and comes back', async () => {
  const { page } = await openGui(stack, { hash: 'connection' });
  const events = () => page.locator('#conn-log').textContent();
  await stack.killRedis();
  await page.locator('#status.reconnecting').waitFor({ timeout: 10_000 });
  await until(async () => /reconnecting: attempt 1, next try in \d+ ms/.test(await events()), 'the first reconnecting event');
  await stack.restartRedis();
  await page.locator('#status.connected').waitFor({ timeout: 15_000 });
  await page.locator('#conn-log li.event[data-kind="ready"]').first().waitFor({ timeout: 10_000 });
  await page.close();
});
