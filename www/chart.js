// A live chart of the round-trip latency (a PING, timed) and of the
// server's commands per second (the change of INFO's
// total_commands_processed), drawn as SVG paths; and a burst button that
// pipelines thousands of INCRs to show what pipelining does.
const SVG = 'http://www.w3.org/2000/svg';
const POINTS = 120;
const TICK_MS = 500;
const PAD = 28;

/** A "nice" axis maximum at least `value`: 1, 2 or 5 times a power of ten. */
export function niceMax(value) {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((m) => m * power).find((m) => m >= value);
}

export function startChart({ conn }) {
  const svg = document.getElementById('chart');
  const latencyNow = document.getElementById('latency-now');
  const opsNow = document.getElementById('ops-now');
  const samples = [];
  let last = null;

  const make = (tag, attrs, text) => {
    const element = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, value);
    if (text !== undefined) element.textContent = text;
    svg.append(element);
    return element;
  };

  /** How many ticks the chart spans: it grows with the samples up to a minute. */
  const span = () => Math.min(POINTS, Math.max(20, samples.length));

  /** An SVG path through the samples' `field`, broken where there is no value. */
  function path(field, max, w, h) {
    let d = '';
    let pen = false;
    samples.forEach((sample, i) => {
      const value = sample[field];
      if (value === null) {
        pen = false;
        return;
      }
      const x = PAD + ((w - 2 * PAD) * (span() - samples.length + i)) / (span() - 1);
      const y = h - PAD - ((h - 2 * PAD) * Math.min(value, max)) / max;
      d += `${pen ? 'L' : 'M'}${x.toFixed(1)},${y.toFixed(1)} `;
      pen = true;
    });
    return d.trim();
  }

  /** Redraws the whole chart at the size the page gives it. */
  function draw() {
    const box = svg.getBoundingClientRect();
    const [w, h] = [Math.max(200, Math.round(box.width)), Math.max(100, Math.round(box.height))];
    svg.setAttribute('viewBox', `0 0 ${w} ${h}`);
    svg.replaceChildren();
    for (const f of [0, 0.5, 1]) {
      const y = PAD + (h - 2 * PAD) * f;
      make('line', { class: 'grid', x1: PAD, x2: w - PAD, y1: y, y2: y });
    }
    const latency = niceMax(Math.max(...samples.map((s) => s.latency ?? 0)));
    const ops = niceMax(Math.max(...samples.map((s) => s.ops ?? 0)));
    make('text', { class: 'axis latency', x: 4, y: PAD - 8 }, `${latency} ms`);
    make('text', { class: 'axis ops', x: w - 4, y: PAD - 8, 'text-anchor': 'end' }, `${ops.toLocaleString('en')} cmd/s`);
    make('text', { class: 'axis', x: 4, y: h - 8 }, `${(span() * TICK_MS) / 1000} s ago`);
    make('text', { class: 'axis', x: w - 4, y: h - 8, 'text-anchor': 'end' }, 'now');
    make('path', { class: 'ops', id: 'ops-line', d: path('ops', ops, w, h) });
    make('path', { class: 'latency', id: 'latency-line', d: path('latency', latency, w, h) });
    const current = samples.at(-1);
    latencyNow.textContent = current.latency === null ? '—' : `${current.latency.toFixed(2)} ms`;
    opsNow.textContent = current.ops === null ? '—' : `${Math.round(current.ops).toLocaleString('en')} cmd/s`;
    svg.dataset.points = String(samples.filter((s) => s.latency !== null).length);
  }

  async function sample() {
    if (!conn.isConnected) {
      last = null;
      return { latency: null, ops: null };
    }
    try {
      const started = performance.now();
      await conn.ping();
      const latency = performance.now() - started;
      // info('stats') resolves to an InfoReply; sections() parses it.
      const stats = (await conn.info('stats')).sections().get('Stats');
      const total = Number(stats.get('total_commands_processed'));
      const at = performance.now();
      const ops = last ? ((total - last.total) * 1000) / (at - last.at) : null;
      last = { total, at };
      return { latency, ops };
    } catch {
      last = null;
      return { latency: null, ops: null };
    }
  }

  async function tick() {
    samples.push(await sample());
    if (samples.length > POINTS) samples.shift();
    draw();
    setTimeout(tick, TICK_MS);
  }
  tick();

  const burst = document.getElementById('burst');
  const burstResult = document.getElementById('burst-result');
  burst.addEventListener('click', async () => {
    const count = 10_000;
    burst.disabled = true;
    try {
      const started = performance.now();
      // 10,000 commands issued in one task: the client pipelines them.
      const replies = await Promise.all(Array.from({ length: count }, () => conn.incr('demo:burst')));
      const ms = performance.now() - started;
      burstResult.textContent = `${count.toLocaleString('en')} INCR in ${ms.toFixed(0)} ms (${Math.round((count * 1000) / ms).toLocaleString('en')}/s), counter at ${replies.at(-1)}`;
    } catch (err) {
      burstResult.textContent = `(error) ${err.message}`;
    } finally {
      burst.disabled = false;
    }
  });
}
