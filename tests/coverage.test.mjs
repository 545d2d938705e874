// Every method the seed documents exists in the package, under the names
// API.md's rules give it: snake_case → camelCase, _asdict/_aslist/_asset →
// AsDict/AsList/AsSet, plus the methods API.md lists whose signature line
// the seed text lacks. Checked in the browser on the built package.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { browserSuite } from './kit.mjs';

const SHARED = process.env.SHARED_DIR ?? resolve(import.meta.dirname, '../../shared');
const seed = readFileSync(join(SHARED, 'seed/000_5faad6a07efb7552.txt'), 'utf8');
const api = readFileSync(join(SHARED, 'API.md'), 'utf8');

export function jsName(seedName) {
  return seedName
    .replace(/_as(dict|list|set)$/, (_, kind) => `As${kind[0].toUpperCase()}${kind.slice(1)}`)
    .replace(/_([a-z])/g, (_, letter) => letter.toUpperCase());
}

const seedMethods = [...seed.matchAll(/^([a-z][a-z_]*)\(self/gm)].map(([, name]) => name);
const subscriptionMethods = [...seed.matchAll(/^_([a-z]+)\(self/gm)].map(([, name]) => name);
const unsigned = /signature line is missing from the seed text:([\s\S]*?)\n- /.exec(api)[1];
const unsignedMethods = [...unsigned.matchAll(/`([A-Za-z]+)`/g)].map(([, name]) => name);

let suite;
before(async () => { suite = await browserSuite(); });
after(async () => { await suite?.stop(); });

test('the seed lists what API.md says it does', () => {
  assert.ok(seedMethods.length > 130, `${seedMethods.length} seed methods`);
  assert.ok(unsignedMethods.includes('bgrewriteaof') && unsignedMethods.includes('inTransaction'));
  assert.deepEqual(subscriptionMethods.sort(), ['psubscribe', 'punsubscribe', 'subscribe', 'unsubscribe']);
  assert.equal(jsName('hgetall_asdict'), 'hgetallAsDict');
  assert.equal(jsName('bitop_and'), 'bitopAnd');
  assert.equal(jsName('start_subscribe'), 'startSubscribe');
});

test('every seed method is on Connection and Pool; commands on Transaction; subscription methods on Subscription', async () => {
  const expected = [...new Set([...seedMethods.map(jsName), ...unsignedMethods])];
  const names = await suite.run(() => {
    const { m } = window.kit;
    const own = (cls) => Object.getOwnPropertyNames(cls.prototype);
    return { Connection: own(m.Connection), Pool: own(m.Pool), Transaction: own(m.Transaction), Subscription: own(m.Subscription) };
  });
  const missing = (cls, wanted) => wanted.filter((name) => !names[cls].includes(name));
  assert.deepEqual(missing('Connection', expected), [], 'missing on Connection');
  const stateGetters = ['inBlockingCall', 'inPubsub', 'inTransaction', 'inUse', 'isConnected'];
  assert.deepEqual(missing('Pool', expected.filter((name) => !stateGetters.includes(name))), [], 'missing on Pool');
  const connectionOnly = [...stateGetters, 'multi', 'startSubscribe', 'registerScript', 'scan', 'sscan', 'hscan', 'zscan', 'watch'];
  assert.deepEqual(missing('Transaction', expected.filter((name) => !connectionOnly.includes(name))), [], 'missing on Transaction');
  assert.deepEqual(missing('Subscription', subscriptionMethods), [], 'missing on Subscription');
});
