// A live chart of the round trip to Redis and of the server's commands/s.
//
// Each second the page times a few PINGs one after another; p50 and p99
// are taken over the last WINDOW_MS of those round trips (nearest rank),
// and commands/s is the change of INFO's total_commands_processed. The
// chart is SVG with a time axis (seconds ago), a latency axis on the left
// (ms) and a commands/s axis on the right, ticks at "nice" steps. A burst
// button pipelines thousands of INCRs to show what pipelining does.
//
// On a Redis Cluster commands/s is the sum over the masters, each read
// through `cluster.node(id)`, and each master has a thin line of its own.
import { count, shortId } from './dom.js';
import { notAllowed } from './refusal.js';

const SVG = 'http://www.w3.org/2000/svg';
const TICK_MS = 1000;
const PINGS_PER_TICK = 5;
const WINDOW_MS = 10_000;
/** Seconds of points kept; the time axis spans them all, or half on a phone. */
const KEPT_S = 60;
const spanFor = (width) => (width < 500 ? KEPT_S / 2 : KEPT_S);
const PAD = { left: 56, right: 56, top: 28, bottom: 34 };

/** The nearest-rank `q` quantile (0 < q ≤ 1) of `values`. */
export function percentile(values, q) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** Ticks from 0 covering `max` in about `n` steps of 1, 2, 2.5 or 5 × 10^k. */
export function niceTicks(max, n = 4) {
  if (!(max > 0)) return [0, 1];
  const raw = max / n;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw);
  const ticks = [];
  for (let i = 0; i <= Math.ceil(max / step - 1e-9); i++) ticks.push(Number((i * step).toPrecision(12)));
  return ticks;
}

/** `0.25 ms`, `12 ms`; `1.5k`, `20k` for commands/s. */
const msLabel = (v) => `${v < 10 ? Number(v.toFixed(2)) : Math.round(v)} ms`;
const opsLabel = (v) => (v >= 1000 ? `${Number((v / 1000).toFixed(2))}k` : String(Number(v.toFixed(1))));

export function startChart({ session, isShown }) {
  const svg = document.getElementById('chart');
  const now = { p50: document.getElementById('p50-now'), p99: document.getElementById('p99-now'), ops: document.getElementById('ops-now') };
  const note = document.getElementById('chart-note');
  /** Round trips in the window: `{ at, ms }`. */
  let trips = [];
  /** One point a tick over the span: `{ at, p50, p99, ops }`. */
  let points = [];
  let last = null;
  /** The cache's counters at the last tick, for its hit rate since. */
  let lastCache = null;
  const cacheLegend = document.getElementById('cache-legend');
  const cacheNow = document.getElementById('cache-now');
  const nodesLegend = document.getElementById('ops-nodes');
  const opsLegend = document.getElementById('ops-label');
  /** Masters in the order of their lines: a master keeps its colour while it stays. */
  let masters = [];

  /** The client-side cache's hit rate since the last tick, and its size. */
  function showCache() {
    const stats = session.conn?.cacheStats?.() ?? null;
    cacheLegend.hidden = stats === null;
    if (stats === null) return;
    const reads = lastCache ? stats.hits + stats.misses - lastCache.hits - lastCache.misses : 0;
    const rate = reads > 0 ? `${Math.round(((stats.hits - lastCache.hits) * 100) / reads)} % hits · ` : '';
    cacheNow.textContent = `${rate}${count(stats.entries)} entries · ${count(stats.invalidations)} invalidated`;
    lastCache = stats;
  }

  const make = (tag, attrs, text) => {
    const element = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, value);
    if (text !== undefined) element.textContent = text;
    svg.append(element);
    return element;
  };

  function draw() {
    const box = svg.getBoundingClientRect();
    if (box.width === 0) return;
    const [w, h] = [Math.round(box.width), Math.round(box.height)];
    svg.setAttribute('viewBox', `0 0 ${w} ${h}`);
    svg.replaceChildren();
    const plot = { x0: PAD.left, x1: w - PAD.right, y0: h - PAD.bottom, y1: PAD.top };
    const span = spanFor(w);
    const end = points.at(-1)?.at ?? Date.now();
    const x = (at) => plot.x1 - ((plot.x1 - plot.x0) * (end - at)) / (span * 1000);
    const shown = points.filter((p) => p.at >= end - span * 1000);
    const latencyTicks = niceTicks(Math.max(0, ...shown.map((p) => p.p99 ?? 0)));
    const opsTicks = niceTicks(Math.max(0, ...shown.map((p) => p.ops ?? 0)));
    const yOf = (ticks) => (v) => plot.y0 - ((plot.y0 - plot.y1) * Math.min(v, ticks.at(-1))) / ticks.at(-1);
    const yLatency = yOf(latencyTicks);
    const yOps = yOf(opsTicks);

    latencyTicks.forEach((tick, i) => {
      const y = plot.y0 - ((plot.y0 - plot.y1) * i) / (latencyTicks.length - 1);
      make('line', { class: 'grid', x1: plot.x0, x2: plot.x1, y1: y, y2: y });
      make('text', { class: 'tick latency', x: plot.x0 - 6, y: y + 4, 'text-anchor': 'end' }, msLabel(tick));
    });
    opsTicks.forEach((tick, i) => {
      const y = plot.y0 - ((plot.y0 - plot.y1) * i) / (opsTicks.length - 1);
      make('text', { class: 'tick ops', x: plot.x1 + 6, y: y + 4 }, opsLabel(tick));
    });
    for (let s = 0; s <= span; s += 10) {
      const at = plot.x1 - ((plot.x1 - plot.x0) * s) / span;
      make('line', { class: 'axis-tick', x1: at, x2: at, y1: plot.y0, y2: plot.y0 + 4 });
      make('text', { class: 'tick time', x: at, y: plot.y0 + 16, 'text-anchor': 'middle' }, s === 0 ? 'now' : `−${s} s`);
    }
    make('line', { class: 'axis', x1: plot.x0, x2: plot.x1, y1: plot.y0, y2: plot.y0 });
    make('text', { class: 'axis-title latency', x: 4, y: 12 }, 'latency (ms)');
    make('text', { class: 'axis-title ops', x: w - 4, y: 12, 'text-anchor': 'end' }, 'commands/s');
    make('text', { class: 'axis-title', x: (plot.x0 + plot.x1) / 2, y: h - 4, 'text-anchor': 'middle' }, 'time (seconds ago)');

    const lineOf = (series, field, y) => {
      let d = '';
      let pen = false;
      for (const p of series) {
        if (p[field] === null) {
          pen = false;
          continue;
        }
        d += `${pen ? 'L' : 'M'}${x(p.at).toFixed(1)},${y(p[field]).toFixed(1)} `;
        pen = true;
      }
      return d.trim();
    };
    const line = (field, y) => lineOf(shown, field, y);
    make('path', { class: 'ops', id: 'ops-line', d: line('ops', yOps) });
    masters.forEach((id, i) => {
      const perNode = shown.map((p) => ({ ...p, node: p.opsBy?.get(id) ?? null }));
      make('path', { class: `ops-node n${i % 6}`, 'data-node': id, d: lineOf(perNode, 'node', yOps) });
    });
    make('path', { class: 'p99', id: 'p99-line', d: line('p99', yLatency) });
    make('path', { class: 'p50', id: 'p50-line', d: line('p50', yLatency) });
    svg.dataset.points = String(shown.filter((p) => p.p50 !== null).length);
    svg.dataset.latencyMax = String(latencyTicks.at(-1));
    svg.dataset.opsMax = String(opsTicks.at(-1));
  }

  async function sample() {
    const conn = session.conn;
    if (!session.connected) {
      last = null;
      return { p50: null, p99: null, ops: null };
    }
    const at = Date.now();
    try {
      for (let i = 0; i < PINGS_PER_TICK; i++) {
        const started = performance.now();
        await conn.ping();
        trips.push({ at, ms: performance.now() - started });
      }
    } catch {
      last = null;
    }
    trips = trips.filter((t) => t.at > at - WINDOW_MS);
    const window = trips.map((t) => t.ms);
    let ops = null;
    let opsBy = null;
    try {
      // info('stats') resolves to an InfoReply; sections() parses it. Each node's own (each master of a cluster).
      const totals = new Map(await Promise.all(session.nodes().map(async ({ id, conn: node }) => {
        const stats = (await node.info('stats')).sections().get('Stats');
        return [id, Number(stats.get('total_commands_processed'))];
      })));
      const t = performance.now();
      if (last) {
        opsBy = new Map([...totals].filter(([id]) => last.totals.has(id)).map(([id, total]) => [id, ((total - last.totals.get(id)) * 1000) / (t - last.t)]));
        ops = [...opsBy.values()].reduce((sum, n) => sum + n, 0);
      }
      last = { totals, t };
      note.textContent = '';
    } catch (err) {
      last = null;
      note.textContent = `Commands/s needs INFO: ${notAllowed(err) ?? err.message}.`;
    }
    return { p50: percentile(window, 0.5), p99: percentile(window, 0.99), ops, opsBy: session.isCluster ? opsBy : null };
  }

  async function tick() {
    const point = { at: Date.now(), ...await sample() };
    points.push(point);
    points = points.filter((p) => p.at >= point.at - KEPT_S * 1000);
    now.p50.textContent = point.p50 === null ? '—' : `${point.p50.toFixed(2)} ms`;
    now.p99.textContent = point.p99 === null ? '—' : `${point.p99.toFixed(2)} ms`;
    now.ops.textContent = point.ops === null ? '—' : `${count(Math.round(point.ops))} cmd/s`;
    showNodes(point);
    showCache();
    if (isShown()) draw();
    setTimeout(tick, TICK_MS);
  }
  tick();
  /** The masters' legend (on a cluster): each one's colour, short id and commands/s now. */
  function showNodes(point) {
    const ids = session.isCluster ? session.nodes().map((node) => node.id) : [];
    masters = [...masters.filter((id) => ids.includes(id)), ...ids.filter((id) => !masters.includes(id))];
    nodesLegend.hidden = masters.length === 0;
    opsLegend.textContent = masters.length ? 'masters' : 'server';
    nodesLegend.replaceChildren(...masters.map((id, i) => {
      const ops = point.opsBy?.get(id);
      const item = document.createElement('span');
      item.className = `legend ops-node n${i % 6}`;
      item.title = `master ${id}`;
      item.dataset.node = id;
      item.textContent = `${shortId(id)} `;
      const value = document.createElement('strong');
      value.textContent = ops === undefined ? '—' : `${count(Math.round(ops))}/s`;
      item.append(value);
      return item;
    }));
  }

  session.addEventListener('change', () => { trips = []; points = []; last = null; lastCache = null; masters = []; });

  const burst = document.getElementById('burst');
  const burstResult = document.getElementById('burst-result');
  burst.addEventListener('click', async () => {
    const total = 10_000;
    burst.disabled = true;
    try {
      const started = performance.now();
      // 10,000 commands issued in one task: the client pipelines them.
      const replies = await Promise.all(Array.from({ length: total }, () => session.conn.incr('demo:burst')));
      const ms = performance.now() - started;
      burstResult.textContent = `${count(total)} INCR in ${ms.toFixed(0)} ms (${count(Math.round((total * 1000) / ms))}/s), counter at ${replies.at(-1)}`;
    } catch (err) {
      burstResult.textContent = `(error) ${err.message}`;
    } finally {
      burst.disabled = false;
    }
  });
  return { shown: draw };
}
