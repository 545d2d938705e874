// /proc readings of a process we started: CPU time and resident memory.
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SEC = 100; // USER_HZ on Linux

/** Fields of /proc/<pid>/stat after the command name (index 0 is `state`). */
function statFields(pid) {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

/** Children of `pid` (one level), e.g. websockify's per-connection processes. */
function children(pid) {
  const kids = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (Number(statFields(entry)[1]) === pid) kids.push(Number(entry));
    } catch { /* exited meanwhile */ }
  }
  return kids;
}

/** utime + stime in ms of `pid`, plus its live children (and the ones it reaped). */
export function cpuMs(pid, { withChildren = false } = {}) {
  const ticks = (p, reaped) => {
    try {
      const f = statFields(p);
      return Number(f[11]) + Number(f[12]) + (reaped ? Number(f[13]) + Number(f[14]) : 0);
    } catch {
      return 0;
    }
  };
  let total = ticks(pid, withChildren);
  if (withChildren) for (const kid of children(pid)) total += ticks(kid, true);
  return (total * 1000) / TICKS_PER_SEC;
}

/** Resident set size in KiB. */
export function rssKiB(pid) {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match[1]);
}

/**
 * CPU ms so far of every process of the stack (Chromium's by their
 * `--type`, redis-server, the relays), keyed "pid name".
 */
export function stackCpuMs() {
  const out = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Chromium's children rewrite their command line into one string.
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      const program = cmdline.split(' ')[0].split('/').pop();
      let name;
      if (/redis-server|redis-ws-bridge|websockify/.test(program)) name = program;
      else if (/websockify/.test(cmdline)) name = 'websockify';
      else if (/chrom/.test(cmdline)) {
        const type = /--utility-sub-type=(\S+)/.exec(cmdline)?.[1] ?? /--type=(\S+)/.exec(cmdline)?.[1] ?? 'browser';
        name = `chromium ${type}`;
      } else continue;
      out.set(`${entry} ${name}`, cpuMs(Number(entry)));
    } catch { /* exited meanwhile */ }
  }
  return out;
}
