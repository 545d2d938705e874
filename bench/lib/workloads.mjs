// The suite: every workload with the systems that run it. Each case's `run`
// returns named metrics; the driver repeats the cases, interleaved.
import * as tcp from './tcp.mjs';
import * as wsraw from './wsraw.mjs';
import { cpuMs } from './proc.mjs';

export const SYSTEMS = {
  rb: 'redis-benchmark · TCP',
  io: 'ioredis · TCP',
  ioPipe: 'ioredis pipeline · TCP',
  wasmBridge: 'wasm client · bridge',
  wasmWsk: 'wasm client · websockify',
  bareBridge: 'bare browser WebSocket · bridge',
  wasmPage: 'wasm client · in page, no I/O',
  wasmCache: 'wasm client, client-side cache · bridge',
  wasmCluster: 'wasm client, Cluster of 3 masters · bridge',
  wsBridge: 'ws load gen · bridge',
  wsWsk: 'ws load gen · websockify',
};

export const SIZES = {
  full: { reps: 5, micro: { rounds: 20, calls: 200_000 }, seq: 10_000, pipeOps: 100_000, big: { 1e6: 20, 1e7: 3 }, concMs: 3000, concRbOps: 100_000, items: 100_000, messages: 100_000, idle: 10_000 },
  quick: { reps: 1, micro: { rounds: 5, calls: 20_000 }, seq: 1000, pipeOps: 10_000, big: { 1e6: 3, 1e7: 1 }, concMs: 500, concRbOps: 10_000, items: 10_000, messages: 5000, idle: 500 },
};

/** Source addresses for many connections: 127.0.0.x spreads them over more ephemeral ports. */
export const LOOPBACK_ADDRS = Array.from({ length: 8 }, (_, i) => `127.0.0.${i + 1}`);

/** Builds the workload list for a stack (see stack.mjs) and sizes. */
export function workloads(stack, size) {
  const { page, redisPort: port, urls } = stack;
  const inPage = (fn, ...args) => page.evaluate(([f, a]) => window.bench[f](...a), [fn, args]);
  const rbMixed = (r) => ({ opsPerSec: tcp.mixedRate(r.set.rps, r.get.rps), p50Ms: (r.set.p50Ms + r.get.p50Ms) / 2, p99Ms: (r.set.p99Ms + r.get.p99Ms) / 2 });

  const list = [];
  const add = (name, systems) => list.push({ name, systems });
  /**
   * Wraps `run` to add the relay's CPU time (read from /proc around it) per
   * unit of work, as `metric`: µs per op or message, ms per MB. Throughput
   * through a relay is bounded by its clients as much as by the relay; its
   * CPU cost per unit of work is the relay's alone.
   */
  const relayCpu = (relay, metric, units, run) => async () => {
    const [pid, withChildren] = relay === 'bridge' ? [stack.bridgePid, false] : [stack.websockifyPid, true];
    const before = cpuMs(pid, { withChildren });
    const result = await run();
    // websockify's per-connection process exits at close: give the parent time to reap it.
    if (withChildren) await new Promise((done) => setTimeout(done, 300));
    const ms = cpuMs(pid, { withChildren }) - before;
    return { ...result, [metric]: (metric.includes('Us') ? ms * 1000 : ms) / units };
  };
  const perOp = (relay, ops, run) => relayCpu(relay, 'relayCpuUsPerOp', ops, run);

  add('micro: RESP decode, JS↔wasm', {
    wasmPage: () => inPage('micro', size.micro.rounds, size.micro.calls),
  });

  add('sequential SET/GET', {
    rb: async () => rbMixed(await tcp.redisBenchmark(port, { requests: size.seq })),
    io: () => tcp.seq(port, size.seq),
    wasmBridge: perOp('bridge', size.seq, () => inPage('seq', urls.bridge, size.seq)),
    wasmWsk: perOp('websockify', size.seq, () => inPage('seq', urls.websockify, size.seq)),
    bareBridge: () => inPage('seq', urls.bridge, size.seq, true),
    wsBridge: perOp('bridge', size.seq, () => wsraw.seq(urls.bridge, size.seq)),
    wsWsk: perOp('websockify', size.seq, () => wsraw.seq(urls.websockify, size.seq)),
  });

  // Client-side caching: the same awaited GETs served from the cache
  // against round trips, a 90/10 read/write mix, and what entries cost.
  add('GET of one key', {
    wasmCache: () => inPage('cachedGet', urls.bridge, size.seq * 10, true),
    wasmBridge: () => inPage('cachedGet', urls.bridge, size.seq, false),
  });
  add('90 % GET / 10 % SET', {
    wasmCache: () => inPage('readWrite', urls.bridge, size.seq, true),
    wasmBridge: () => inPage('readWrite', urls.bridge, size.seq, false),
  });
  // In a page of its own: the wasm's memory only grows, and earlier
  // workloads would have grown it already.
  add('10,000 cached entries', {
    wasmCache: () => stack.withFreshPage((fresh) => fresh.evaluate(([url, n]) => window.bench.cacheMemory(url, n), [urls.bridge, 10_000])),
  });

  for (const depth of [100, 1000]) {
    const batches = size.pipeOps / depth;
    add(`pipeline ${depth}`, {
      rb: async () => ({ opsPerSec: (await tcp.redisBenchmark(port, { requests: size.pipeOps, pipeline: depth, tests: 'set' })).set.rps }),
      io: () => tcp.pipeline(port, depth, batches, false),
      ioPipe: () => tcp.pipeline(port, depth, batches, true),
      wasmBridge: perOp('bridge', size.pipeOps, () => inPage('pipeline', urls.bridge, depth, batches)),
      wasmCluster: () => inPage('pipeline', urls.cluster, depth, batches, false, true),
      wasmWsk: perOp('websockify', size.pipeOps, () => inPage('pipeline', urls.websockify, depth, batches)),
      bareBridge: () => inPage('pipeline', urls.bridge, depth, batches, true),
      wsBridge: perOp('bridge', size.pipeOps, () => wsraw.pipeline(urls.bridge, depth, batches)),
      wsWsk: perOp('websockify', size.pipeOps, () => wsraw.pipeline(urls.websockify, depth, batches)),
    });
  }

  // Large values (MB/s each way).
  for (const [bytes, count] of Object.entries(size.big).map(([b, c]) => [Number(b), c])) {
    const relayed = (2 * bytes * count) / 1e6;
    const onBridge = (run) => relayCpu('bridge', 'relayCpuMsPerMB', relayed, run);
    const onWsk = (run) => relayCpu('websockify', 'relayCpuMsPerMB', relayed, run);
    add(`${bytes / 1e6} MB values`, {
      rb: async () => {
        const r = await tcp.redisBenchmark(port, { requests: count, size: bytes });
        return { upMBps: (r.set.rps * bytes) / 1e6, downMBps: (r.get.rps * bytes) / 1e6 };
      },
      io: () => tcp.bigValue(port, bytes, count),
      wasmBridge: onBridge(() => inPage('bigValue', urls.bridge, bytes, count)),
      wasmWsk: onWsk(() => inPage('bigValue', urls.websockify, bytes, count)),
      bareBridge: () => inPage('bigValue', urls.bridge, bytes, count, true),
      wsBridge: onBridge(() => wsraw.bigValue(urls.bridge, bytes, count)),
      wsWsk: onWsk(() => wsraw.bigValue(urls.websockify, bytes, count)),
    });
  }

  for (const conns of [50, 500]) {
    add(`${conns} connections`, {
      rb: async () => rbMixed(await tcp.redisBenchmark(port, { clients: conns, requests: size.concRbOps })),
      wsBridge: () => wsraw.concurrent(urls.bridge, conns, size.concMs, LOOPBACK_ADDRS),
      wsWsk: () => wsraw.concurrent(urls.websockify, conns, size.concMs, LOOPBACK_ADDRS),
    });
  }

  for (const kind of ['list', 'hash']) {
    const key = `bench:${kind}`;
    const replyBytes = collectionReplyBytes(kind, size.items);
    add(kind === 'list' ? `LRANGE ${size.items} → Array` : `HGETALL ${size.items} → Map`, {
      io: () => tcp.collection(port, kind, key, size.items, replyBytes),
      wasmBridge: relayCpu('bridge', 'relayCpuMsPerMB', replyBytes / 1e6, () => inPage('collection', urls.bridge, kind, key, size.items, replyBytes)),
      wasmWsk: relayCpu('websockify', 'relayCpuMsPerMB', replyBytes / 1e6, () => inPage('collection', urls.websockify, kind, key, size.items, replyBytes)),
    });
  }

  const publisher = tcp.ioredis(port);
  const publishAll = (channel) => () => tcp.publish(publisher, channel, size.messages);
  const inPagePubsub = (url, channel) => async () => {
    await inPage('subscribe', url, channel);
    const start = performance.now();
    await Promise.all([publishAll(channel)(), inPage('receive', size.messages)]);
    return { msgsPerSec: (size.messages * 1000) / (performance.now() - start) };
  };
  const perMsg = (relay, run) => relayCpu(relay, 'relayCpuUsPerMsg', size.messages, run);
  add('pub/sub to one subscriber', {
    wasmBridge: perMsg('bridge', inPagePubsub(urls.bridge, 'bench:wasmb')),
    wasmWsk: perMsg('websockify', inPagePubsub(urls.websockify, 'bench:wasmw')),
    io: () => tcp.pubsub(port, 'bench:io', size.messages, publishAll('bench:io')),
    wsBridge: perMsg('bridge', () => wsraw.pubsub(urls.bridge, 'bench:wsb', size.messages, publishAll('bench:wsb'))),
    wsWsk: perMsg('websockify', () => wsraw.pubsub(urls.websockify, 'bench:wsw', size.messages, publishAll('bench:wsw'))),
  });

  return { list, close: () => publisher.disconnect() };
}

const item = (kind, i) => (kind === 'list' ? [`item:${String(i).padStart(8, '0')}`] : [`field:${String(i).padStart(7, '0')}`, `value:${String(i).padStart(7, '0')}`]);
const bulkBytes = (s) => `$${s.length}\r\n`.length + s.length + 2;

/** Exact size of the RESP2 reply to LRANGE 0 -1 / HGETALL of the prepared key. */
function collectionReplyBytes(kind, n) {
  let total = `*${kind === 'list' ? n : 2 * n}\r\n`.length;
  for (let i = 0; i < n; i++) for (const s of item(kind, i)) total += bulkBytes(s);
  return total;
}

/** Fills bench:list and bench:hash with `n` items each (straight over TCP). */
export async function prepareCollections(port, n) {
  const r = tcp.ioredis(port);
  await r.del('bench:list', 'bench:hash');
  for (let i = 0; i < n; i += 10_000) {
    const ids = Array.from({ length: Math.min(10_000, n - i) }, (_, k) => i + k);
    await r.rpush('bench:list', ...ids.flatMap((k) => item('list', k)));
    await r.hset('bench:hash', ...ids.flatMap((k) => item('hash', k)));
  }
  r.disconnect();
}
