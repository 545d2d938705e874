// Small DOM and formatting helpers shared by the panels. No framework: a
// panel builds its elements with `h()` and replaces them when data changes.

/** Creates an element: `h('button.small', { onclick }, 'Save')`. */
export function h(tag, props = {}, ...children) {
  const [name, ...classes] = tag.split('.');
  const element = document.createElement(name);
  if (classes.length) element.className = classes.join(' ');
  for (const [prop, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (prop.startsWith('on')) element.addEventListener(prop.slice(2), value);
    else if (prop === 'dataset') Object.assign(element.dataset, value);
    else if (prop.startsWith('aria-') || prop === 'role' || prop === 'for') element.setAttribute(prop, value);
    else element[prop] = value;
  }
  element.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return element;
}

const number = new Intl.NumberFormat('en');

/** `12,345`. */
export const count = (n) => number.format(n);

/** A cluster node's id shortened for the page (the full id goes in its title). */
export const shortId = (id) => id.slice(0, 8);

/** `3 keys`, `1 key`. */
export const plural = (n, word) => `${count(n)} ${word}${n === 1 ? '' : 's'}`;

/** A PTTL in words: `no expiry`, `42 s`, `5m 3s`, `2h 0m`. */
export function formatTtl(ms) {
  if (ms === -1) return 'no expiry';
  if (ms === -2) return 'gone';
  const s = Math.ceil(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

export function formatBytes(n) {
  if (n === null || n === undefined) return '—';
  n = Number(n);
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** A flat `[field, value, field, value…]` reply (RESP2) or a `Map` (RESP3) as a `Map`. */
export function pairs(reply) {
  if (reply instanceof Map) return reply;
  const map = new Map();
  for (let i = 0; i + 1 < reply.length; i += 2) map.set(reply[i], reply[i + 1]);
  return map;
}

/** Offers `text` as a file download named `name`. */
export function download(name, text, type = 'application/json') {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = h('a', { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
