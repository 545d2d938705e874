// The generated methods against a real redis-server (our own, on a unix
// socket): every command and subcommand it reports has a method and a
// type; every generic method's smallest call passes the server's arity
// check; and the documented examples are accepted and do what they say.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { connect, ReplyError, startRedis } from '../gen/resp.mjs';
import { loadSeed, methods } from '../gen/methods.mjs';
import { loadSnapshot } from '../gen/snapshot.mjs';
import { METHODS } from '../js/commands.js';
import { ENCODERS } from './cases.mjs';
import { EXAMPLES } from './examples.mjs';

const ROOT = resolve(import.meta.dirname, '../..');
const TSC = join(ROOT, 'tests/node_modules/.bin/tsc');
const snapshot = loadSnapshot(ROOT);
const generated = methods(snapshot, loadSeed(ROOT));
const byName = new Map(METHODS.map((m) => [m.name, m]));
const utf8 = ENCODERS.utf8();

let redis;
let conn;
before(async () => {
  redis = await startRedis();
  conn = await connect({ path: redis.path });
});
after(async () => {
  conn?.close();
  await redis?.stop();
});

const isError = (reply) => reply instanceof ReplyError;

/** Every entry the server reports: its commands and, flattened, their subcommands (upper case). */
async function serverEntries() {
  const listed = (await conn.command('COMMAND', 'LIST')).map((name) => name.toUpperCase());
  const info = await conn.command('COMMAND', 'INFO');
  const fromInfo = info.flatMap((entry) => [entry[0], ...entry[9].map((sub) => sub[0])]).map((name) => name.toUpperCase());
  return { listed, fromInfo };
}

test('every command and subcommand the server reports has a METHODS entry', async () => {
  const { listed, fromInfo } = await serverEntries();
  assert.deepEqual([...new Set(listed)].sort(), [...new Set(fromInfo)].sort(), 'COMMAND LIST and COMMAND INFO agree');
  assert.ok(listed.length > 300, `${listed.length} entries`);
  const covered = new Set(METHODS.filter((m) => m.cmd >= 0).map((m) => snapshot.entries[m.cmd].name));
  const missing = listed.filter((name) => !covered.has(name));
  assert.deepEqual(missing, [], 'commands without a method (a newer server? run scripts/gen-commands)');
});

test('every method has a TypeScript declaration', { timeout: 60_000 }, async () => {
  assert.ok(existsSync(TSC), `no TypeScript compiler at ${TSC}: run scripts/setup.sh`);
  const dir = mkdtempSync(join(tmpdir(), 'redis-wasm-types-'));
  try {
    const index = join(ROOT, 'client-wasm/js/index.js');
    writeFileSync(join(dir, 'declared.ts'), [
      `import type { Commands, Connection, RedisCommands, Subscription, Transaction } from ${JSON.stringify(index)};`,
      // The stateful layer's methods (multi, scan, exec, subscribe...) are declared on its classes.
      'type Declared = keyof Commands<string> | keyof RedisCommands<string> | keyof Connection<string>',
      '  | keyof Transaction<string> | keyof Subscription<string>;',
      `export const names: Declared[] = ${JSON.stringify(METHODS.map((m) => m.name))};`,
      '// @ts-expect-error: the check can fail',
      "export const missing: Declared = 'noSuchMethod';",
      '',
    ].join('\n'));
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, target: 'es2022', module: 'esnext', moduleResolution: 'bundler', lib: ['es2022', 'dom'], types: [] },
      files: ['declared.ts'],
    }));
    const { code, output } = await new Promise((done) => {
      execFile(TSC, ['-p', join(dir, 'tsconfig.json'), '--pretty', 'false'], (err, stdout, stderr) => done({ code: err ? err.code ?? 1 : 0, output: stdout + stderr }));
    });
    assert.equal(code, 0, `methods without a declaration:\n${output}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The smallest value a node accepts: required parts only. */
function sample(n) {
  if (n.multiple && n.t !== 'q') return [sample({ ...n, multiple: false })];
  switch (n.t) {
    case 'k': return 'arity:key';
    case 's': case 'p': return 'x';
    case 'i': case 't': return 1;
    case 'd': return 1.5;
    case 'T': return true;
    case 'o': {
      const [alt] = n.children;
      return alt.t === 'T' ? alt.token : { [alt.k]: sample(alt) };
    }
    case 'b': {
      const required = n.children.filter((c) => !c.optional);
      if (required.length === 0) return true;
      if (n.children.length === 1) return sample(n.children[0]);
      return Object.fromEntries(required.map((c) => [c.k, sample(c)]));
    }
    case 'q': return [n.children.map(sample)];
    case 'x': return [n.children.map((c) => sample({ ...c, multiple: false }))];
    default: throw new Error(`no sample for ${n.t}`);
  }
}

/** Commands that act even when queued, or end the transaction: never sent here. */
const NOT_QUEUED = new Set(['exec', 'discard', 'multi', 'quit', 'reset']);

test("every generic method's smallest call passes the server's arity check (queued in MULTI, never run)", async () => {
  assert.equal(await conn.command('MULTI'), 'OK');
  // The check can fail: a line of the wrong length is refused when queued.
  const wrong = await conn.command('GET');
  assert.ok(isError(wrong) && /wrong number of arguments/.test(wrong.message), 'a short GET is refused when queued');
  let queued = 0;
  const refused = [];
  for (const method of generated) {
    if (method.seed || NOT_QUEUED.has(method.name)) continue;
    const args = method.container ? ['HELP'] : method.variadic ? ['x', 'y', 'z']
      : method.shape.positional.map((n) => (n.optional && !n.multiple ? undefined : sample(n)));
    const line = byName.get(method.name).build(utf8, true, args);
    const reply = await conn.command(...line);
    if (isError(reply) && /wrong number of arguments|unknown command|unknown subcommand/i.test(reply.message)) {
      refused.push(`${method.name}: ${line.join(' ')} → ${reply.message}`);
    } else {
      queued++;
    }
  }
  assert.ok(isError(await conn.command('EXEC')), 'the transaction is aborted, nothing ran');
  assert.deepEqual(refused, []);
  assert.ok(queued > 200, `${queued} generic methods checked`);
});

test('the documented examples are accepted by the server and do what they say', async () => {
  assert.equal(await conn.command('FLUSHALL'), 'OK');
  const replies = [];
  for (const { method, args } of EXAMPLES) {
    const line = byName.get(method).build(utf8, true, args());
    const reply = await conn.command(...line);
    assert.ok(!isError(reply), `${line.join(' ')} → ${reply?.message}`);
    replies.push(reply);
  }
  const reply = (method, n = 0) => replies.filter((_, i) => EXAMPLES[i].method === method)[n];
  assert.match(reply('xadd'), /^\d+-\d+$/, 'XADD answers the new id');
  assert.equal(reply('xreadgroup')[0][0], 'ex:s', 'the group read the stream');
  assert.equal(reply('set', 1), 'v1', 'SET ... GET answers the old value');
  assert.equal(reply('hset'), 2, 'HSET of two fields');
  assert.deepEqual(reply('lpos'), [2, 0], 'LPOS from the end (after LMOVE took the first a)');
  assert.deepEqual(reply('zrange'), ['a', '1', 'b', '2'], 'ZRANGE BYSCORE LIMIT with scores');
  assert.deepEqual(reply('zrange', 2), ['a', 'b'], 'ZRANGE BYLEX');
  assert.equal(reply('geosearch')[0][0], 'Catania', 'GEOSEARCH nearest first');
  assert.equal(reply('pfcount'), 3, 'PFCOUNT');
  assert.deepEqual(reply('bitfield'), [200, 200], 'BITFIELD INCRBY and GET');
  assert.equal(reply('objectEncoding'), 'embstr');
  assert.deepEqual(reply('eval'), ['ex:k', 'x'], 'EVAL with a key and an argument');
});
