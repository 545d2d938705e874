// How long the JS builders of client-wasm/js/commands.js take per command,
// in node: `node bench/builders.mjs [--quick]`. Every command runs its
// builder, so this is per-command overhead. Each case runs in rounds of a
// fixed count after a warm-up, and the median round is reported, next to
// an Array literal of the same line as the floor.
import { METHODS } from '../client-wasm/js/commands.js';
import { UTF8Encoder } from '../client-wasm/js/classes.js';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 3 : 9;
const COUNT = quick ? 100_000 : 1_000_000;
const byName = new Map(METHODS.map((m) => [m.name, m]));
const encoder = new UTF8Encoder();
let sink = 0;

function measure(run) {
  for (let i = 0; i < COUNT / 10; i++) sink += run(i).length;
  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < COUNT; i++) sink += run(i).length;
    rounds.push(Number(process.hrtime.bigint() - start) / COUNT);
  }
  return rounds.sort((a, b) => a - b)[ROUNDS >> 1];
}

const keys = Array.from({ length: 10 }, (_, i) => `key:${i}`);
const cases = [
  ['get', () => ['user:1'], (a) => ['GET', a[0]]],
  ['set', () => ['user:1', 'value'], (a) => ['SET', a[0], a[1]]],
  ['set with { expire }', () => ['user:1', 'value', { expire: 60 }], (a) => ['SET', a[0], a[1], 'EX', String(a[2].expire)]],
  ['hset', () => ['h', 'field', 'value'], (a) => ['HSET', a[0], a[1], a[2]]],
  ['incrby', () => ['n', 5], (a) => ['INCRBY', a[0], String(a[1])]],
  ['mget of 10', () => [keys], (a) => ['MGET', ...a[0]]],
  ['zadd of 2', () => ['z', { a: 1, b: 2.5 }], () => ['ZADD', 'z', '1', 'a', '2.5', 'b']],
  ['getdel (generic)', () => ['user:1'], (a) => ['GETDEL', a[0]]],
  ['lmove (generic)', () => ['a', 'b', 'LEFT', 'RIGHT'], (a) => ['LMOVE', ...a]],
  ['xadd (generic, 2 fields)', () => ['s', '*', { f: 'v', g: 'w' }], () => ['XADD', 's', '*', 'f', 'v', 'g', 'w']],
  ['call GET', () => ['GET', 'user:1'], (a) => [a[0], a[1]]],
];

console.log(`builders, ns per command (median of ${ROUNDS} rounds of ${COUNT}):`);
console.log(`${'case'.padEnd(28)}${'build'.padStart(9)}${'literal'.padStart(9)}`);
for (const [label, args, literal] of cases) {
  const method = label.split(' ')[0] === 'mget' ? 'mget' : label.split(' ')[0];
  const { build } = byName.get(method);
  const a = args();
  const built = measure(() => build(encoder, true, a));
  const floor = measure(() => literal(a));
  console.log(`${label.padEnd(28)}${built.toFixed(1).padStart(9)}${floor.toFixed(1).padStart(9)}`);
}
if (sink === 0) console.log('');
