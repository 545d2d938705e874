// Output: the console table, the JSON record and a hand-written SVG chart.
import { writeFileSync } from 'node:fs';

export const UNITS = {
  opsPerSec: 'ops/s', p50Ms: 'p50 ms', p99Ms: 'p99 ms', upMBps: 'SET MB/s', downMBps: 'GET MB/s',
  itemsPerSec: 'items/s', MBps: 'MB/s', msgsPerSec: 'msgs/s', relayCpuMsPerMB: 'relay CPU ms/MB',
  relayCpuUsPerOp: 'relay CPU µs/op', relayCpuUsPerMsg: 'relay CPU µs/msg',
  decodeMBps: 'decode MB/s', decodeToJsMBps: 'decode → JS values MB/s', nsPerCommand: 'ns per command read + encoded',
  freshMiBMs: 'ms to fill a fresh 1 MiB array', reusedMiBMs: 'ms to fill a reused one',
  p50Us: 'p50 µs (batches of 100)', p99Us: 'p99 µs (batches of 100)',
  wasmBytesPerEntry: 'wasm memory bytes/entry', accountedBytesPerEntry: 'cache-counted bytes/entry',
};
/** Metrics where more is better (the chart draws these). */
const THROUGHPUT = new Set(['opsPerSec', 'upMBps', 'downMBps', 'itemsPerSec', 'msgsPerSec', 'decodeMBps', 'decodeToJsMBps']);

export function fmt(x) {
  if (x === undefined || x === null || !Number.isFinite(x)) return '-';
  const abs = Math.abs(x);
  if (abs >= 1e5) return `${(x / 1e3).toFixed(0)}k`;
  if (abs >= 1e4) return `${(x / 1e3).toFixed(1)}k`;
  if (abs >= 100) return x.toFixed(0);
  if (abs >= 10) return x.toFixed(1);
  if (abs >= 1) return x.toFixed(2);
  return x.toFixed(3);
}

function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => `| ${cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/** Markdown tables of the measurements (median, min–max, runs) and of the targets. */
export function renderTables(record) {
  const rows = record.results.map((r) => [r.workload, r.system, UNITS[r.metric] ?? r.metric, fmt(r.median), `${fmt(r.min)}–${fmt(r.max)}`, r.n]);
  const out = [table(['workload', 'system', 'metric', 'median', 'min–max', 'runs'], rows)];
  if (record.targets.length) {
    out.push('', table(['target (informational)', 'ratio', 'goal', 'met'],
      record.targets.map((t) => [t.target, fmt(t.value), `≥ ${t.goal}`, t.met ? 'yes' : 'no'])));
  }
  return out.join('\n');
}

export function writeJson(path, record) {
  writeFileSync(path, `${JSON.stringify(record, null, 2)}\n`);
}

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const COLORS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#9c755f', '#ff9da7'];

/** One panel per workload × throughput metric: a bar per system (median) with a min–max whisker. */
export function writeSvg(path, record) {
  const systems = [...new Set(record.results.map((r) => r.system))];
  const panels = [];
  for (const r of record.results) {
    if (!THROUGHPUT.has(r.metric)) continue;
    const title = `${r.workload} — ${UNITS[r.metric]}`;
    let panel = panels.find((p) => p.title === title);
    if (!panel) panels.push((panel = { title, bars: [] }));
    panel.bars.push(r);
  }
  const W = 760;
  const LABEL = 190;
  const BAR = 14;
  let y = 40;
  const parts = [`<text x="10" y="24" font-size="16" font-weight="bold">redis-wasm benchmarks ${esc(record.date)}${record.quick ? ' (quick)' : ''} — median, whiskers min–max</text>`];
  for (const panel of panels) {
    const max = Math.max(...panel.bars.map((b) => b.max));
    const scale = (v) => (v / max) * (W - LABEL - 80);
    parts.push(`<text x="10" y="${y + 12}" font-size="13" font-weight="bold">${esc(panel.title)}</text>`);
    y += 18;
    for (const b of panel.bars) {
      const color = COLORS[systems.indexOf(b.system) % COLORS.length];
      const mid = y + BAR / 2;
      parts.push(
        `<text x="${LABEL - 6}" y="${mid + 4}" font-size="11" text-anchor="end">${esc(b.system)}</text>`,
        `<rect x="${LABEL}" y="${y}" width="${scale(b.median).toFixed(1)}" height="${BAR}" fill="${color}"/>`,
        `<line x1="${(LABEL + scale(b.min)).toFixed(1)}" x2="${(LABEL + scale(b.max)).toFixed(1)}" y1="${mid}" y2="${mid}" stroke="#000"/>`,
        `<text x="${(LABEL + scale(b.max) + 6).toFixed(1)}" y="${mid + 4}" font-size="11">${fmt(b.median)}</text>`,
      );
      y += BAR + 4;
    }
    y += 12;
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${y + 10}" font-family="sans-serif">\n`
    + `<rect width="100%" height="100%" fill="#fff"/>\n${parts.join('\n')}\n</svg>\n`;
  writeFileSync(path, svg);
}
