// The GUI's key browser against a real Redis through the real bridge:
// the namespace tree and filters over 10,000 keys, keyboard navigation,
// every type viewed, edited and checked in Redis over a side connection,
// streams with consumer groups, JSON and binary strings, TTL, confirmed
// rename and delete, and bulk delete of a filtered set.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { bulk, guiStack, integer, openGui, redisEval, screenshot, until } from './gui-kit.mjs';

let stack;
let page;
let problems;
const redis = (...words) => stack.redis(...words);

before(async () => {
  stack = await guiStack();
  // 10,000 keys in three namespaces and three types.
  assert.equal(await redisEval(stack.redisPort, `
    for i = 1, 6000 do redis.call('SET', 'big:user:' .. i, i) end
    for i = 1, 3000 do redis.call('HSET', 'big:session:' .. i, 'user', i) end
    for i = 1, 1000 do redis.call('RPUSH', 'big:queue:' .. i, 'job') end
    return redis.call('DBSIZE')`), ':10000\r\n');
  ({ page, problems } = await openGui(stack));
});

after(async () => {
  assert.deepEqual(problems, [], 'no uncaught errors on the page');
  await stack?.stop();
});

const tree = () => page.locator('#key-tree');
const folder = (prefix) => page.locator(`#key-tree li.folder[data-prefix="${prefix}"]`);
const leaf = (key) => page.locator(`#key-tree li.leaf[data-key="${key}"]`);
const counts = () => page.locator('#key-count');

async function scanFor(pattern, type = '') {
  await page.fill('#key-pattern', pattern);
  await page.selectOption('#key-type', type);
  await page.click('#key-search button[type=submit]');
  await page.locator('#key-tree[aria-busy="false"]').waitFor();
}

/** Clicks, then waits until the key viewer has shown the result (it is aria-busy meanwhile). */
async function act(locator) {
  await (typeof locator === 'string' ? page.locator(locator) : locator).click();
  await page.locator('#key-view[aria-busy="false"]').waitFor();
}

/** Answers the confirmation dialog that `click` opens; resolves to its text. */
async function confirm(click, answer) {
  await (typeof click === 'string' ? page.locator(click) : click).click();
  const dialog = page.locator('dialog.confirm-dialog[open]');
  await dialog.waitFor();
  const text = await dialog.textContent();
  await dialog.locator(answer ? 'button.confirm' : 'button.cancel').click();
  await dialog.waitFor({ state: 'detached' });
  await page.locator('#key-view[aria-busy="false"]').waitFor();
  return text;
}

/** Opens the folder (folders stay open across scans). */
async function expand(prefix) {
  if ((await folder(prefix).getAttribute('aria-expanded')) !== 'true') await folder(prefix).locator('> .row').click();
}

async function openKey(key) {
  const [namespace] = key.split(':');
  await scanFor(`${namespace}:*`);
  // Open each folder on the way to the key.
  const parts = key.split(':');
  for (let i = 1; i < parts.length; i++) await expand(`${parts.slice(0, i).join(':')}:`);
  await act(leaf(key).locator('> .row'));
  await until(async () => (await page.locator('#key-view .key-name').textContent()) === key, `the viewer showing ${key}`);
}

test('tree over 10,000 keys: SCAN pages, counts, all, type filter, DBSIZE', async () => {
  await scanFor('big:*');
  // The first page: about 1,000 keys (SCAN's COUNT is a hint), not done.
  assert.equal(await counts().getAttribute('data-done'), 'false');
  const first = Number(await counts().getAttribute('data-loaded'));
  assert.ok(first >= 1000 && first < 10_000, `first page: ${first} keys`);
  assert.match(await counts().textContent(), /so far match big:\* · 10,000 in this database/);
  await page.click('#key-more');
  await until(async () => Number(await counts().getAttribute('data-loaded')) >= first + 1000, 'a second page');
  await page.click('#key-all');
  await until(async () => (await counts().getAttribute('data-done')) === 'true', 'the whole scan');
  assert.equal(await counts().getAttribute('data-loaded'), '10000');
  assert.match(await counts().textContent(), /^10,000 keys match big:\*/);
  assert.equal(await page.locator('#key-more').isHidden(), true);

  // The tree: big: (10,000) → user: (6,000), session: (3,000), queue: (1,000).
  assert.equal(await folder('big:').locator('> .row .count').textContent(), '10,000');
  await expand('big:');
  const sub = { 'big:user:': '6,000', 'big:session:': '3,000', 'big:queue:': '1,000' };
  for (const [prefix, n] of Object.entries(sub)) assert.equal(await folder(prefix).locator('> .row .count').textContent(), n, prefix);

  // 6,000 leaves render 500 at a time, with a "more" item.
  await expand('big:user:');
  assert.equal(await folder('big:user:').locator('li.leaf').count(), 500);
  const more = folder('big:user:').locator('li.more');
  assert.match(await more.textContent(), /5,500 more: show 500 more/);
  await more.click();
  assert.equal(await folder('big:user:').locator('li.leaf').count(), 1000);
  // The rendered leaves get their type badges (TYPE, pipelined).
  await until(async () => (await leaf('big:user:1').locator('.badge').textContent()) === 'string', 'the type badge of big:user:1');

  // The type filter: SCAN … TYPE hash.
  await scanFor('big:*', 'hash');
  if (await page.locator('#key-all').isVisible()) await page.click('#key-all');
  await until(async () => (await counts().getAttribute('data-done')) === 'true', 'the hash scan');
  assert.equal(await counts().getAttribute('data-loaded'), '3000');
  assert.match(await counts().textContent(), /^3,000 keys match big:\*, type hash/);
  await expand('big:');
  assert.equal(await folder('big:session:').locator('> .row .count').textContent(), '3,000');
  assert.equal(await folder('big:user:').count(), 0);

  // A pattern: only the keys that match it.
  await scanFor('big:queue:1?');
  assert.equal(await counts().getAttribute('data-loaded'), '10');
  // No delimiter: a flat list.
  await page.fill('#key-delimiter', '');
  await page.locator('#key-delimiter').dispatchEvent('change');
  assert.equal(await page.locator('#key-tree > li.leaf').count(), 10);
  await page.fill('#key-delimiter', ':');
  await page.locator('#key-delimiter').dispatchEvent('change');
});

test('keyboard: arrows move through the tree, → opens, ← closes, Enter shows a key', async () => {
  await scanFor('big:queue:1?');
  // Folders stay open across scans: start from a closed tree.
  for (const prefix of ['big:queue:', 'big:']) {
    if ((await folder(prefix).count()) && (await folder(prefix).getAttribute('aria-expanded')) === 'true') await folder(prefix).locator('> .row').click();
  }
  const top = folder('big:');
  await top.focus();
  await page.keyboard.press('ArrowRight');
  assert.equal(await folder('big:').getAttribute('aria-expanded'), 'true');
  await page.keyboard.press('ArrowDown');
  assert.equal(await page.evaluate(() => document.activeElement.dataset.prefix), 'big:queue:');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('End');
  const last = await page.evaluate(() => document.activeElement.dataset.key);
  assert.equal(last, 'big:queue:19');
  await page.keyboard.press('Enter');
  await until(async () => (await page.locator('#key-view .key-name').textContent()) === 'big:queue:19', 'the key opened with Enter');
  assert.equal(await leaf('big:queue:19').getAttribute('aria-selected'), 'true');
  await page.keyboard.press('ArrowLeft');
  assert.equal(await page.evaluate(() => document.activeElement.dataset.prefix), 'big:queue:');
  await page.keyboard.press('ArrowLeft');
  assert.equal(await folder('big:queue:').getAttribute('aria-expanded'), 'false');
  await page.keyboard.press('Home');
  assert.equal(await page.evaluate(() => document.activeElement.dataset.prefix), 'big:');
});

test('strings: text, JSON pretty-printed and checked before saving, binary as hex', async () => {
  await redis('SET', 't:text', 'hello');
  await redis('SET', 't:json', '{"name":"Ada","langs":["en","fr"],"born":1815}');
  // Lua's \ddd escapes are decimal: 137 = 0x89.
  await redis('EVAL', "return redis.call('SET', 't:bin', '\\137PNG\\r\\n\\026\\n\\000\\255')", '0');

  await openKey('t:text');
  assert.equal(await page.inputValue('#key-view .string-value'), 'hello');
  await page.fill('#key-view .string-value', 'hello, world');
  await act('#key-view button.save');
  assert.equal(bulk(await redis('GET', 't:text')), 'hello, world');

  await openKey('t:json');
  assert.equal(await page.locator('#key-view .badge.t-json').textContent(), 'JSON');
  const pretty = await page.inputValue('#key-view textarea.json');
  assert.equal(pretty, JSON.stringify({ name: 'Ada', langs: ['en', 'fr'], born: 1815 }, null, 2));
  // Invalid JSON is refused with a message and not saved.
  await page.fill('#key-view textarea.json', pretty.replace('"Ada"', '"Ada'));
  await act('#key-view button.save');
  assert.match(await page.locator('#key-view .field-error').textContent(), /^Not valid JSON, not saved/);
  assert.equal(bulk(await redis('GET', 't:json')), '{"name":"Ada","langs":["en","fr"],"born":1815}');
  // Valid JSON is saved, compact as it came.
  await page.fill('#key-view textarea.json', pretty.replace('"Ada"', '"Grace"').replace('1815', '1906'));
  await act('#key-view button.save');
  assert.equal(bulk(await redis('GET', 't:json')), '{"name":"Grace","langs":["en","fr"],"born":1906}');

  await openKey('t:bin');
  assert.match(await page.locator('#key-view pre.hex').textContent(), /^00000000 {2}89 50 4e 47 0d 0a 1a 0a 00 ff .*\|\.PNG\.\.\.\.\.\.\|$/);
  assert.equal(await page.inputValue('#key-view .hex-value'), '89 50 4e 47 0d 0a 1a 0a 00 ff');
  await page.fill('#key-view .hex-value', 'ff 00 fe');
  await act('#key-view button.save');
  assert.equal(await redis('EVAL', "local v = redis.call('GET', 't:bin') return {v:byte(1, -1)}", '0'), '*3\r\n:255\r\n:0\r\n:254\r\n');
  // Bad hex is refused; the value stays.
  await page.fill('#key-view .hex-value', 'f');
  await act('#key-view button.save');
  assert.match(await page.locator('#toast').textContent(), /pairs of hex digits/);
  assert.equal(integer(await redis('STRLEN', 't:bin')), 3);
});

test('hash, list, set and sorted set: edit, add, remove, each checked in Redis', async () => {
  await redis('HSET', 't:hash', 'name', 'Ada', 'born', '1815');
  await redis('RPUSH', 't:list', 'a', 'b', 'c', 'b');
  await redis('SADD', 't:set', 'x', 'y', 'z');
  await redis('ZADD', 't:zset', '1', 'one', '2', 'two');

  await openKey('t:hash');
  const name = page.locator('#key-view tr[data-field="name"]');
  await name.locator('input').fill('Grace');
  await act(name.locator('button.save'));
  assert.equal(bulk(await redis('HGET', 't:hash', 'name')), 'Grace');
  await page.fill('#key-view .adder input >> nth=0', 'lang');
  await page.fill('#key-view .adder input >> nth=1', 'COBOL');
  await act('#key-view .adder button');
  assert.equal(bulk(await redis('HGET', 't:hash', 'lang')), 'COBOL');
  await act(page.locator('#key-view tr[data-field="born"] button.remove'));
  assert.equal(integer(await redis('HEXISTS', 't:hash', 'born')), 0);
  // HSCAN … MATCH: the filter.
  await page.fill('#key-view .match', 'l*');
  await page.click('#key-view .match-form button');
  await until(async () => (await page.locator('#key-view tbody tr').count()) === 1, 'the fields matching l*');

  await openKey('t:list');
  const second = page.locator('#key-view tr[data-index="1"]');
  await second.locator('input').fill('B');
  await act(second.locator('button.save'));
  // Removing item 3 (the second "b") by its index, not the first "b" by value.
  await act(page.locator('#key-view tr[data-index="3"] button.remove'));
  await page.fill('#key-view .adder input', 'head');
  await act('#key-view button.push-head');
  await page.fill('#key-view .adder input', 'tail');
  await act('#key-view button.push-tail');
  assert.equal(await redis('LRANGE', 't:list', '0', '-1'), '*5\r\n$4\r\nhead\r\n$1\r\na\r\n$1\r\nB\r\n$1\r\nc\r\n$4\r\ntail\r\n');

  await openKey('t:set');
  await act(page.locator('#key-view tr[data-member="y"] button.remove'));
  await page.fill('#key-view .adder input', 'w');
  await act('#key-view .adder button');
  assert.equal(await redis('EVAL', "local m = redis.call('SMEMBERS', 't:set') table.sort(m) return m", '0'), '*3\r\n$1\r\nw\r\n$1\r\nx\r\n$1\r\nz\r\n');

  await openKey('t:zset');
  const one = page.locator('#key-view tr[data-member="one"]');
  await one.locator('input').fill('3.5');
  await act(one.locator('button.save'));
  assert.equal(bulk(await redis('ZSCORE', 't:zset', 'one')), '3.5');
  await page.fill('#key-view .adder input >> nth=0', 'zero');
  await page.fill('#key-view .adder input >> nth=1', '0');
  await act('#key-view .adder button');
  await act(page.locator('#key-view tr[data-member="two"] button.remove'));
  assert.equal(await redis('ZRANGE', 't:zset', '0', '-1', 'WITHSCORES'), '*4\r\n$4\r\nzero\r\n$1\r\n0\r\n$3\r\none\r\n$3\r\n3.5\r\n');
  // A score that is not a number is refused.
  await one.locator('input').fill('lots');
  await act(one.locator('button.save'));
  assert.match(await page.locator('#toast').textContent(), /A score is a number, not "lots"/);

  // Pages of 100 by index.
  await redisEval(stack.redisPort, "for i = 1, 250 do redis.call('RPUSH', 't:long', 'item' .. i) end");
  await openKey('t:long');
  assert.equal(await page.locator('#key-view .page-text').textContent(), 'items 1–100 of 250');
  await act('#key-view button.next');
  assert.equal(await page.locator('#key-view .page-text').textContent(), 'items 101–200 of 250');
  assert.equal(await page.inputValue('#key-view tr[data-index="100"] input'), 'item101');
});

test('streams: XRANGE pages, XADD, XDEL, consumer groups with pending counts', async () => {
  await redisEval(stack.redisPort, "for i = 1, 45 do redis.call('XADD', 't:stream', i .. '-1', 'n', i) end");
  await openKey('t:stream');
  assert.equal(await page.locator('#key-view .part-entries').getAttribute('aria-pressed'), 'true');
  assert.match(await page.locator('#key-view .page-text').textContent(), /^page 1 · 45 entries, 1-1 … 45-1$/);
  assert.equal(await page.locator('#key-view tr[data-id]').count(), 20);
  await act('#key-view button.next');
  await act('#key-view button.next');
  assert.equal(await page.locator('#key-view tr[data-id]').count(), 5);
  assert.equal(await page.locator('#key-view tr[data-id]').first().getAttribute('data-id'), '41-1');
  assert.equal(await page.locator('#key-view button.next').isDisabled(), true);
  await act(page.locator('#key-view tr[data-id="45-1"] button.remove'));
  assert.equal(integer(await redis('XLEN', 't:stream')), 44);
  await act('#key-view button.prev');
  assert.equal(await page.locator('#key-view tr[data-id]').first().getAttribute('data-id'), '21-1');

  await page.fill('#key-view .entry-id', '100-1');
  await page.fill('#key-view .pair-field', 'type');
  await page.fill('#key-view .pair-value', 'login');
  await page.click('#key-view .add-pair');
  await page.fill('#key-view .pair-field >> nth=1', 'user');
  await page.fill('#key-view .pair-value >> nth=1', 'ada');
  await act('#key-view .xadd-button');
  assert.equal(await redis('XRANGE', 't:stream', '100-1', '100-1'), '*1\r\n*2\r\n$5\r\n100-1\r\n*4\r\n$4\r\ntype\r\n$5\r\nlogin\r\n$4\r\nuser\r\n$3\r\nada\r\n');
  // A field without a name is refused.
  await page.fill('#key-view .pair-value', 'orphan');
  await act('#key-view .xadd-button');
  assert.match(await page.locator('#toast').textContent(), /needs a name/);
  assert.equal(integer(await redis('XLEN', 't:stream')), 45);

  // A group from the first entry; two consumers read 3 and 2 entries without acknowledging them.
  await act('#key-view .part-groups');
  assert.match(await page.locator('#key-view').textContent(), /No consumer groups yet/);
  await page.fill('#key-view .group-name', 'workers');
  await page.selectOption('#key-view .group-start', '0');
  await act('#key-view .group-create button');
  assert.match(await redis('XINFO', 'GROUPS', 't:stream'), /workers/);
  await redis('XREADGROUP', 'GROUP', 'workers', 'alice', 'COUNT', '3', 'STREAMS', 't:stream', '>');
  await redis('XREADGROUP', 'GROUP', 'workers', 'bob', 'COUNT', '2', 'STREAMS', 't:stream', '>');
  await act('#key-view .part-groups');
  assert.equal(await page.locator('#key-view .part-groups').textContent(), 'Consumer groups (1)');
  const group = page.locator('#key-view section.group[data-group="workers"]');
  assert.match(await group.locator('.meta').textContent(), /^2 consumers · 5 pending · last delivered 5-1/);
  assert.equal(await group.locator('tr[data-consumer="alice"] .pending').textContent(), '3');
  assert.equal(await group.locator('tr[data-consumer="bob"] .pending').textContent(), '2');
  assert.match(await group.locator('details.pending').textContent(), /first 5 pending entries/);
  await screenshot(page, 'keys-stream');

  // Destroying a group asks first; Cancel keeps it.
  assert.match(await confirm(group.locator('.destroy-group'), false), /Destroy this consumer group\?.*workers on t:stream.*5 pending/);
  assert.match(await redis('XINFO', 'GROUPS', 't:stream'), /workers/);
  await confirm(group.locator('.destroy-group'), true);
  assert.equal(await redis('XINFO', 'GROUPS', 't:stream'), '*0\r\n');
});

test('TTL, and rename and delete after a confirmation (Cancel changes nothing)', async () => {
  await redis('SET', 't:temp', 'v');
  await openKey('t:temp');
  await page.fill('#key-view .ttl', '120');
  await act('#key-view .ttl-button');
  assert.ok(integer(await redis('TTL', 't:temp')) > 110);
  assert.match(await page.locator('#key-view .meta').textContent(), /^TTL (2m 0s|1m 5\ds)/);
  await act('#key-view .persist-button');
  assert.equal(integer(await redis('TTL', 't:temp')), -1);
  await page.fill('#key-view .ttl', 'soon');
  await act('#key-view .ttl-button');
  assert.match(await page.locator('#toast').textContent(), /whole number of seconds/);

  await page.fill('#key-view .rename', 't:renamed');
  assert.match(await confirm('#key-view .rename-button', false), /Rename this key\?t:temp → t:renamed/);
  assert.equal(bulk(await redis('GET', 't:temp')), 'v');
  await redis('SET', 't:renamed', 'old');
  await page.fill('#key-view .rename', 't:renamed');
  assert.match(await confirm('#key-view .rename-button', true), /t:renamed exists and will be overwritten/);
  assert.equal(integer(await redis('EXISTS', 't:temp')), 0);
  assert.equal(bulk(await redis('GET', 't:renamed')), 'v');
  await until(async () => (await page.locator('#key-view .key-name').textContent()) === 't:renamed', 'the renamed key shown');
  assert.equal(await leaf('t:temp').count(), 0);

  assert.match(await confirm('#key-view button.delete', false), /Delete this key\?t:renamed/);
  assert.equal(integer(await redis('EXISTS', 't:renamed')), 1);
  await confirm('#key-view button.delete', true);
  assert.equal(integer(await redis('EXISTS', 't:renamed')), 0);
  assert.match(await page.locator('#key-view').textContent(), /Select a key/);
  await leaf('t:renamed').waitFor({ state: 'detached' });
});

test('new keys of every type', async () => {
  const create = async (type, name, extra, value) => {
    await page.click('#key-new-button');
    await page.selectOption('#key-view .new-type', type);
    await page.fill('#key-view .new-name', name);
    if (extra !== null) await page.fill('#key-view .new-extra', extra);
    await page.fill('#key-view .new-value', value);
    await act('#key-view .new-key button');
    await until(async () => (await page.locator('#key-view .key-name').textContent()) === name, `${name} created`);
  };
  const created = [['string', 't:new:s', null, 'v'], ['hash', 't:new:h', 'f', 'v'], ['list', 't:new:l', null, 'v'],
    ['set', 't:new:set', null, 'v'], ['zset', 't:new:z', '2', 'm'], ['stream', 't:new:x', 'f', 'v']];
  await scanFor('t:*');
  const before = Number(await counts().getAttribute('data-loaded'));
  for (const [type, name, extra, value] of created) {
    await create(type, name, extra, value);
    assert.equal(await redis('TYPE', name), `+${type}\r\n`, name);
  }
  assert.equal(bulk(await redis('HGET', 't:new:h', 'f')), 'v');
  assert.equal(bulk(await redis('ZSCORE', 't:new:z', 'm')), '2');
  // They joined the tree.
  assert.equal(Number(await counts().getAttribute('data-loaded')), before + created.length);
  await expand('t:');
  assert.equal(await folder('t:new:').locator('> .row .count').textContent(), '6');
  // An existing key is not overwritten.
  await page.click('#key-new-button');
  await page.fill('#key-view .new-name', 't:new:s');
  await page.fill('#key-view .new-value', 'other');
  await act('#key-view .new-key button');
  assert.match(await page.locator('#toast').textContent(), /t:new:s already exists/);
  assert.equal(bulk(await redis('GET', 't:new:s')), 'v');
});

test('bulk delete: the count first, Cancel keeps everything, then progress and only the filtered keys go', async () => {
  await scanFor('big:*', 'hash');
  const dialogText = await (async () => {
    await page.click('#bulk-delete');
    const dialog = page.locator('dialog.confirm-dialog[open]');
    await dialog.waitFor();
    const text = await dialog.textContent();
    await dialog.locator('button.cancel').click();
    return text;
  })();
  assert.match(dialogText, /Delete 3,000 keys\?Every key matching big:\* of type hash: 3,000 keys/);
  await until(async () => (await page.locator('#bulk-progress .bulk-text').textContent()) === 'Nothing deleted.', 'the cancelled bulk delete');
  assert.equal(integer(await redis('DBSIZE')) >= 10_000, true);

  await page.click('#bulk-delete');
  await page.locator('dialog.confirm-dialog[open] button.confirm').click();
  await until(async () => /^deleted 3,000 keys of 3,000\.$/.test(await page.locator('#bulk-progress .bulk-text').textContent()), 'the bulk delete', 30_000);
  assert.equal(await page.locator('#bulk-progress progress').getAttribute('value'), '3000');
  assert.equal(await redis('EVAL', "return #redis.call('KEYS', 'big:session:*')", '0'), ':0\r\n');
  assert.equal(await redis('EVAL', "return #redis.call('KEYS', 'big:user:*')", '0'), ':6000\r\n');
  await until(async () => (await counts().getAttribute('data-loaded')) === '0', 'the tree rescanned');
});

test('screenshots of the key browser', async () => {
  await redis('HSET', 'shop:cart:ada', 'sku-1042', '2', 'sku-2210', '1');
  await redis('SET', 'shop:product:1042', '{"name":"Blue mug","price":12.5,"tags":["kitchen","gift"]}');
  await openKey('shop:product:1042');
  await screenshot(page, 'keys');
  const phone = await stack.browser.newPage({ viewport: { width: 390, height: 844 } });
  await phone.goto(`${stack.url}#keys`);
  await phone.locator('#status.connected').waitFor();
  await phone.locator('#key-tree li.folder[data-prefix="big:"]').waitFor();
  await phone.fill('#key-pattern', 'shop:*');
  await phone.press('#key-pattern', 'Enter');
  // The tree of the new pattern, not the one it replaces (a click on that would be lost).
  await phone.locator('#key-tree li.folder[data-prefix="big:"]').waitFor({ state: 'detached' });
  await phone.locator('#key-tree li.folder[data-prefix="shop:"] > .row').click();
  await phone.locator('#key-tree li.folder[data-prefix="shop:cart:"] > .row').click();
  await phone.locator('#key-tree li.leaf[data-key="shop:cart:ada"] > .row').click();
  await phone.locator('#key-view tr[data-field="sku-1042"]').waitFor();
  await screenshot(phone, 'keys');
  await phone.close();
});
