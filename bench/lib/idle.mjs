// Bridge memory per idle WebSocket: RSS before and after opening `n`
// connections (each answered one PING, so its Redis connection exists).
import { readFileSync } from 'node:fs';
import { command } from './resp.mjs';
import { rssKiB } from './proc.mjs';
import { connectMany } from './wsraw.mjs';

/** Soft limit on open files of this process (the bridge inherits the same). */
export function openFileLimit() {
  const match = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  return match ? Number(match[1]) : 1024;
}

/** How many idle WebSockets fit: the bridge holds two descriptors per connection. */
export const idleCapacity = (wanted) => Math.min(wanted, Math.floor((openFileLimit() - 500) / 2));

const settle = (ms) => new Promise((done) => setTimeout(done, ms));

export async function idleRss(url, bridgePid, n, addrs) {
  await settle(300);
  const before = rssKiB(bridgePid);
  const clients = await connectMany(url, n, { addrs, parallel: 250 });
  const ping = command('PING');
  for (let i = 0; i < clients.length; i += 1000) await Promise.all(clients.slice(i, i + 1000).map((c) => c.request(ping)));
  await settle(500);
  const after = rssKiB(bridgePid);
  for (const c of clients) c.close();
  await settle(500);
  return { connections: n, rssBeforeMiB: before / 1024, rssAfterMiB: after / 1024, kibPerConnection: (after - before) / n };
}
