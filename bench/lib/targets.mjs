// The project's performance targets (issue 8), computed from medians.
// Informational only: a missed target never fails the run.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SYSTEMS as S } from './workloads.mjs';

/** Native decode speed of the resp crate from the last `cargo bench -p resp` (MB/s), if any. */
export function nativeDecodeMBps(root) {
  const dir = join(root, 'target/criterion/decode 1 MiB of replies/resp');
  const estimates = join(dir, 'new/estimates.json');
  const benchmark = join(dir, 'new/benchmark.json');
  if (!existsSync(estimates) || !existsSync(benchmark)) return null;
  const ns = JSON.parse(readFileSync(estimates, 'utf8')).median.point_estimate;
  const bytes = JSON.parse(readFileSync(benchmark, 'utf8')).throughput.Bytes;
  return (bytes / ns) * 1e3;
}

/** [{ target, value, goal, met }] from `med(workload, system, metric)` (undefined when not measured). */
export function targets(med, { items, nativeMBps }) {
  const rows = [];
  const ratio = (target, a, b, goal) => {
    const value = a / b;
    if (Number.isFinite(value)) rows.push({ target, value, goal, met: value >= goal });
  };
  ratio('wasm·bridge sequential ops/s ÷ redis-benchmark', med('sequential SET/GET', S.wasmBridge, 'opsPerSec'), med('sequential SET/GET', S.rb, 'opsPerSec'), 0.6);
  ratio('wasm·bridge pipeline 100 ÷ redis-benchmark -P 100', med('pipeline 100', S.wasmBridge, 'opsPerSec'), med('pipeline 100', S.rb, 'opsPerSec'), 0.5);
  for (const depth of [100, 1000]) {
    ratio(`wasm·bridge pipeline ${depth} ÷ ioredis pipeline`, med(`pipeline ${depth}`, S.wasmBridge, 'opsPerSec'), med(`pipeline ${depth}`, S.ioPipe, 'opsPerSec'), 1);
  }
  for (const system of [S.wasmBridge, S.wsBridge]) {
    for (const metric of ['upMBps', 'downMBps']) {
      ratio(`1 MB values ${metric === 'upMBps' ? 'SET' : 'GET'} via ${system} ÷ 1 GB/s`, med('1 MB values', system, metric), 1000, 1);
    }
  }
  // Our own bar (issue 13): the client's cost is noise over a bare browser
  // WebSocket that sends prebuilt lines and only counts replies.
  for (const [w, metric] of [['sequential SET/GET', 'opsPerSec'], ['pipeline 100', 'opsPerSec'], ['pipeline 1000', 'opsPerSec'],
    ['1 MB values', 'upMBps'], ['1 MB values', 'downMBps']]) {
    ratio(`wasm client ÷ bare browser WebSocket: ${w}, ${metric}`, med(w, S.wasmBridge, metric), med(w, S.bareBridge, metric), 0.95);
  }
  // Redis Cluster (issue 16): three masters serve a pipeline at least as fast as one.
  for (const depth of [100, 1000]) {
    ratio(`Cluster of 3 masters ÷ one server: pipeline ${depth}`, med(`pipeline ${depth}`, S.wasmCluster, 'opsPerSec'), med(`pipeline ${depth}`, S.wasmBridge, 'opsPerSec'), 1);
  }
  // Client-side caching (issue 15): a hit under 5 µs, 50× a round trip.
  ratio('5 µs ÷ cache hit p50', 5, med('GET of one key', S.wasmCache, 'p50Us'), 1);
  ratio('round trip p50 ÷ cache hit p50', med('GET of one key', S.wasmBridge, 'p50Us'), med('GET of one key', S.wasmCache, 'p50Us'), 50);
  ratio('90/10 read/write ops/s: cache ÷ no cache', med('90 % GET / 10 % SET', S.wasmCache, 'opsPerSec'), med('90 % GET / 10 % SET', S.wasmBridge, 'opsPerSec'), 1);
  // Our bridge against websockify, same client on both sides, every workload both ran.
  const pairs = [[S.wasmBridge, S.wasmWsk], [S.wsBridge, S.wsWsk]];
  const workloadNames = ['sequential SET/GET', 'pipeline 100', 'pipeline 1000', '1 MB values', '10 MB values', '50 connections',
    '500 connections', `LRANGE ${items} → Array`, `HGETALL ${items} → Map`, 'pub/sub to one subscriber'];
  for (const w of workloadNames) {
    for (const [ours, theirs] of pairs) {
      for (const metric of ['opsPerSec', 'upMBps', 'downMBps', 'itemsPerSec', 'msgsPerSec']) {
        ratio(`bridge ÷ websockify: ${w}, ${ours.split(' · ')[0]}, ${metric}`, med(w, ours, metric), med(w, theirs, metric), 1.5);
      }
      for (const [metric, unit] of [['relayCpuMsPerMB', 'ms/MB'], ['relayCpuUsPerOp', 'µs/op'], ['relayCpuUsPerMsg', 'µs/msg']]) {
        ratio(`websockify ÷ bridge CPU ${unit}: ${w}, ${ours.split(' · ')[0]}`, med(w, theirs, metric), med(w, ours, metric), 1.5);
      }
    }
  }
  if (nativeMBps) {
    ratio('wasm decoder in Chromium ÷ native (same 1 MiB of replies)', med('micro: RESP decode, JS↔wasm', S.wasmPage, 'decodeMBps'), nativeMBps, 0.7);
  }
  return rows;
}
