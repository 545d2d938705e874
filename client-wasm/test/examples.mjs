// The examples of docs/USAGE.md's rule for every Redis command, with the
// command line each builds. builders.test.mjs checks the lines;
// server.test.mjs sends them, in this order, to a real redis-server and
// checks it accepts them (so the keys build on each other).
export const EXAMPLES = [
  // Streams: XADD with MAXLEN ~, a consumer group read with COUNT/BLOCK/STREAMS.
  { method: 'xadd', args: () => ['ex:s', '*', { temperature: '21.5', unit: 'C' }], line: ['XADD', 'ex:s', '*', 'temperature', '21.5', 'unit', 'C'] },
  {
    method: 'xadd',
    args: () => ['ex:s', '*', new Map([['n', 1]]), { trim: { strategy: 'MAXLEN', operator: '~', threshold: 1000 } }],
    line: ['XADD', 'ex:s', 'MAXLEN', '~', '1000', '*', 'n', '1'],
  },
  { method: 'xadd', args: () => ['ex:s', '*', [['n', 2]], { nomkstream: true, trim: ['MINID', '=', '0-1'] }], line: ['XADD', 'ex:s', 'NOMKSTREAM', 'MINID', '=', '0-1', '*', 'n', '2'] },
  { method: 'xgroupCreate', args: () => ['ex:s', 'workers', '0', { mkstream: true }], line: ['XGROUP', 'CREATE', 'ex:s', 'workers', '0', 'MKSTREAM'] },
  {
    method: 'xreadgroup',
    args: () => [['workers', 'alice'], { 'ex:s': '>' }, { count: 2, block: 100 }],
    line: ['XREADGROUP', 'GROUP', 'workers', 'alice', 'COUNT', '2', 'BLOCK', '100', 'STREAMS', 'ex:s', '>'],
  },
  { method: 'xread', args: () => [new Map([['ex:s', '0'], ['ex:s2', '$']]), { count: 1 }], line: ['XREAD', 'COUNT', '1', 'STREAMS', 'ex:s', 'ex:s2', '0', '$'] },
  { method: 'xpending', args: () => ['ex:s', 'workers', { start: '-', end: '+', count: 10 }], line: ['XPENDING', 'ex:s', 'workers', '-', '+', '10'] },
  { method: 'xautoclaim', args: () => ['ex:s', 'workers', 'bob', 0, '0-0', { count: 5 }], line: ['XAUTOCLAIM', 'ex:s', 'workers', 'bob', '0', '0-0', 'COUNT', '5'] },
  { method: 'xack', args: () => ['ex:s', 'workers', ['0-1']], line: ['XACK', 'ex:s', 'workers', '0-1'] },
  { method: 'xinfoStream', args: () => ['ex:s', { full: { count: 5 } }], line: ['XINFO', 'STREAM', 'ex:s', 'FULL', 'COUNT', '5'] },
  // Strings and keys
  { method: 'set', args: () => ['ex:k', 'v1', { exat: 4102444800, onlyIfNotExists: true }], line: ['SET', 'ex:k', 'v1', 'EXAT', '4102444800', 'NX'] },
  { method: 'set', args: () => ['ex:k', 'v2', { get: true, keepttl: true }], line: ['SET', 'ex:k', 'v2', 'GET', 'KEEPTTL'], reply: 'Native' },
  { method: 'set', args: () => ['ex:k', 'v3', { pxat: 4102444800000n }], line: ['SET', 'ex:k', 'v3', 'PXAT', '4102444800000'] },
  { method: 'getex', args: () => ['ex:k', { ex: 60 }], line: ['GETEX', 'ex:k', 'EX', '60'] },
  { method: 'getex', args: () => ['ex:k', { persist: true }], line: ['GETEX', 'ex:k', 'PERSIST'] },
  { method: 'copy', args: () => ['ex:k', 'ex:k2', { db: 0, replace: true }], line: ['COPY', 'ex:k', 'ex:k2', 'DB', '0', 'REPLACE'] },
  { method: 'objectEncoding', args: () => ['ex:k'], line: ['OBJECT', 'ENCODING', 'ex:k'] },
  { method: 'getdel', args: () => ['ex:k2'], line: ['GETDEL', 'ex:k2'] },
  { method: 'mset', args: () => [{ 'ex:a': '1', 'ex:b': '2' }], line: ['MSET', 'ex:a', '1', 'ex:b', '2'] },
  // Hashes: several fields at once
  { method: 'hset', args: () => ['ex:h', { name: 'Ada', born: '1815' }], line: ['HSET', 'ex:h', 'name', 'Ada', 'born', '1815'] },
  { method: 'hset', args: () => ['ex:h', 'died', '1852'], line: ['HSET', 'ex:h', 'died', '1852'] },
  // Lists
  { method: 'rpush', args: () => ['ex:l', ['a', 'b', 'c', 'b']], line: ['RPUSH', 'ex:l', 'a', 'b', 'c', 'b'] },
  { method: 'lmove', args: () => ['ex:l', 'ex:l2', 'LEFT', 'right'], line: ['LMOVE', 'ex:l', 'ex:l2', 'LEFT', 'RIGHT'] },
  { method: 'lpos', args: () => ['ex:l', 'b', { rank: -1, count: 0, maxlen: 100 }], line: ['LPOS', 'ex:l', 'b', 'RANK', '-1', 'COUNT', '0', 'MAXLEN', '100'] },
  // Sorted sets: by score with LIMIT, by lex
  { method: 'zadd', args: () => ['ex:z', { a: 1, b: 2, c: 3 }], line: ['ZADD', 'ex:z', '1', 'a', '2', 'b', '3', 'c'] },
  {
    method: 'zrange',
    args: () => ['ex:z', 1, { value: '+inf', excludeBoundary: false }, { sortby: 'BYSCORE', limit: { offset: 0, count: 2 } }],
    line: ['ZRANGE', 'ex:z', '1', '+inf', 'BYSCORE', 'LIMIT', '0', '2', 'WITHSCORES'],
  },
  { method: 'zrange', args: () => ['ex:z', undefined, undefined, { sortby: 'BYSCORE', rev: true }], line: ['ZRANGE', 'ex:z', '+inf', '-inf', 'BYSCORE', 'REV', 'WITHSCORES'] },
  { method: 'zrange', args: () => ['ex:z', '[a', '(c', { sortby: 'bylex' }], line: ['ZRANGE', 'ex:z', '[a', '(c', 'BYLEX'], reply: 'List' },
  { method: 'zrangeAsDict', args: () => ['ex:z', 0, -1, { rev: true }], line: ['ZRANGE', 'ex:z', '0', '-1', 'REV', 'WITHSCORES'] },
  { method: 'zrangestore', args: () => ['ex:z2', 'ex:z', 0, 1, { sortby: 'BYSCORE' }], line: ['ZRANGESTORE', 'ex:z2', 'ex:z', '0', '1', 'BYSCORE'] },
  { method: 'zunion', args: () => [['ex:z', 'ex:z2'], { aggregate: 'MAX', withscores: true }], line: ['ZUNION', '2', 'ex:z', 'ex:z2', 'AGGREGATE', 'MAX', 'WITHSCORES'] },
  // Geo
  {
    method: 'geoadd',
    args: () => ['ex:g', [[13.361389, 38.115556, 'Palermo'], { longitude: 15.087269, latitude: 37.502669, member: 'Catania' }], { ch: true }],
    line: ['GEOADD', 'ex:g', 'CH', '13.361389', '38.115556', 'Palermo', '15.087269', '37.502669', 'Catania'],
  },
  {
    method: 'geosearch',
    args: () => ['ex:g', { fromlonlat: [15, 37] }, { circle: { byradius: 200, unit: 'km' } }, { order: 'ASC', count: { count: 2, any: true }, withdist: true }],
    line: ['GEOSEARCH', 'ex:g', 'FROMLONLAT', '15', '37', 'BYRADIUS', '200', 'KM', 'ASC', 'COUNT', '2', 'ANY', 'WITHDIST'],
  },
  { method: 'geosearch', args: () => ['ex:g', 'Palermo', { box: [400, 400, 'km'] }], line: ['GEOSEARCH', 'ex:g', 'FROMMEMBER', 'Palermo', 'BYBOX', '400', '400', 'KM'] },
  { method: 'geodist', args: () => ['ex:g', 'Palermo', 'Catania', 'km'], line: ['GEODIST', 'ex:g', 'Palermo', 'Catania', 'KM'] },
  // HyperLogLog
  { method: 'pfadd', args: () => ['ex:hll', ['a', 'b', 'c']], line: ['PFADD', 'ex:hll', 'a', 'b', 'c'] },
  { method: 'pfadd', args: () => ['ex:hll2'], line: ['PFADD', 'ex:hll2'] },
  { method: 'pfcount', args: () => [['ex:hll', 'ex:hll2']], line: ['PFCOUNT', 'ex:hll', 'ex:hll2'] },
  // Bit fields
  {
    method: 'bitfield',
    args: () => ['ex:bf', [{ write: { overflow: 'SAT', writeOperation: { incrby: ['u8', 0, 200] } } }, { get: { encoding: 'u8', offset: 0 } }]],
    line: ['BITFIELD', 'ex:bf', 'OVERFLOW', 'SAT', 'INCRBY', 'u8', '0', '200', 'GET', 'u8', '0'],
  },
  { method: 'bitfieldRo', args: () => ['ex:bf', { get: [['u8', 0], ['u4', 4]] }], line: ['BITFIELD_RO', 'ex:bf', 'GET', 'u8', '0', 'GET', 'u4', '4'] },
  // Scripts, sorting, connections
  { method: 'eval', args: () => ['return {KEYS[1], ARGV[1]}', ['ex:k'], ['x']], line: ['EVAL', 'return {KEYS[1], ARGV[1]}', '1', 'ex:k', 'x'] },
  { method: 'eval', args: () => ['return 1'], line: ['EVAL', 'return 1', '0'] },
  { method: 'sort', args: () => ['ex:l2', { limit: [0, 10], alpha: true, store: 'ex:sorted' }], line: ['SORT', 'ex:l2', 'LIMIT', '0', '10', 'ALPHA', 'STORE', 'ex:sorted'] },
  { method: 'clientNoEvict', args: () => ['on'], line: ['CLIENT', 'NO-EVICT', 'ON'] },
  { method: 'client', args: () => ['INFO'], line: ['CLIENT', 'INFO'] },
];
