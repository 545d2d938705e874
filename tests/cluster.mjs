// A real Redis Cluster for the tests: `masters` masters with `replicas`
// replicas each, redis-server processes on free loopback ports, formed with
// `redis-cli --cluster create`, and a bridge in front of it in cluster mode.
// Every process is stopped by PID and every node's directory removed in
// `stop()`. A small `--cluster-node-timeout` makes failovers quick.
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, launchBridge, redisCommand, stopProcess, withTokens } from './harness.mjs';

const STARTUP_MS = 30_000;
const NODE_TIMEOUT_MS = 1000;

/** Polls `check` every 100 ms until it holds, for at most `ms`. */
async function until(what, check, ms = STARTUP_MS) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what} within ${ms} ms`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

function run(command, args) {
  return new Promise((done, fail) => {
    execFile(command, args, { timeout: STARTUP_MS }, (err, stdout, stderr) => {
      if (err) fail(new Error(`${command} ${args.join(' ')}: ${err.message}\n${stdout}${stderr}`));
      else done(stdout);
    });
  });
}

/**
 * One cluster node's redis-server on `port`, its cluster bus on `bus`, its
 * files in `dir`. The bus port is chosen too: by default Redis takes
 * `port + 10000`, which is past 65535 for a fifth of the ephemeral ports.
 */
function spawnNode(port, bus, dir) {
  return spawn('redis-server', ['--port', String(port), '--cluster-port', String(bus), '--bind', '127.0.0.1', '--dir', dir,
    '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf',
    '--cluster-node-timeout', String(NODE_TIMEOUT_MS), '--save', '', '--appendonly', 'no',
    '--enable-debug-command', 'local'], { stdio: 'ignore' });
}

/** The text of one bulk reply (`$n\r\n...\r\n`) read straight from a node. */
async function bulkText(port, ...words) {
  const reply = await redisCommand(port, ...words);
  if (!reply.startsWith('$')) throw new Error(`${words.join(' ')}: ${reply}`);
  return reply.slice(reply.indexOf('\r\n') + 2, -2);
}

/**
 * Whether every node of `ports` says `cluster_state:ok` and they all give
 * the same slot map, in which no node of `gone` (ids) serves a slot.
 */
async function agreed(ports, gone = []) {
  const maps = [];
  for (const port of ports) {
    if (!(await bulkText(port, 'CLUSTER', 'INFO')).includes('cluster_state:ok')) return false;
    // `myself` and link states differ per node; the masters' slots must not.
    const lines = (await bulkText(port, 'CLUSTER', 'NODES')).trim().split('\n').map((line) => line.split(' '));
    const masters = lines.filter((f) => f[2].includes('master') && !f[2].includes('fail'));
    const serving = masters.filter((f) => f.length > 8);
    if (serving.some((f) => gone.includes(f[0]))) return false;
    maps.push(serving.map((f) => `${f[0]} ${f.slice(8).join(' ')}`).sort().join('\n'));
  }
  return maps.every((map) => map === maps[0] && map.length > 0);
}

/**
 * Whether every node of `ports` lists the same `count` replicas, each
 * attached to a master that serves slots. Gossip spreads a replica's role
 * after `--cluster create` returns; tests that compare replicas need it done.
 */
async function replicasKnown(ports, count) {
  const views = [];
  for (const port of ports) {
    const lines = (await bulkText(port, 'CLUSTER', 'NODES')).trim().split('\n').map((line) => line.split(' '));
    const serving = new Set(lines.filter((f) => f[2].includes('master') && f.length > 8).map((f) => f[0]));
    const replicas = lines.filter((f) => f[2].includes('slave') && serving.has(f[3]));
    if (replicas.length !== count) return false;
    views.push(replicas.map((f) => `${f[0]} ${f[3]}`).sort().join('\n'));
  }
  return views.every((view) => view === views[0]);
}

/**
 * Starts a cluster of `masters` masters with `replicas` replicas each.
 * Resolves to `{ nodes: [{ port, proc, id }], seeds, stop(), kill(port), restart(port), waitUntilAgreed() }`:
 * `seeds` is `127.0.0.1:port,...` of every node, `kill` ends one node with
 * SIGKILL (its directory stays for `restart`, which starts it again on its
 * port with its own nodes.conf), `waitUntilAgreed()` waits until the running
 * nodes agree on a slot map that no stopped node serves (after a kill: the
 * failover is done), `stop` ends all and removes their dirs.
 */
export async function startCluster({ masters = 3, replicas = 1 } = {}) {
  const nodes = [];
  const dirs = [];
  const stop = async () => {
    for (const node of nodes) await stopProcess(node.proc);
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  };
  try {
    const count = masters * (1 + replicas);
    const taken = new Set();
    const distinctPort = async () => {
      for (;;) {
        const port = await freePort();
        if (!taken.has(port)) { taken.add(port); return port; }
      }
    };
    for (let i = 0; i < count; i++) {
      const [port, bus] = [await distinctPort(), await distinctPort()];
      const dir = mkdtempSync(join(tmpdir(), 'redis-wasm-cluster-'));
      dirs.push(dir);
      nodes.push({ port, bus, dir, proc: spawnNode(port, bus, dir), id: null });
    }
    const ports = nodes.map((node) => node.port);
    for (const port of ports) {
      await until(`redis-server on ${port} answered PING`, () => redisCommand(port, 'PING').then((r) => r === '+PONG\r\n'));
    }
    await run('redis-cli', ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`),
      '--cluster-replicas', String(replicas), '--cluster-yes']);
    await until('every node agreed on the slot map', () => agreed(ports));
    await until(`every node knowing all ${masters * replicas} replicas`, () => replicasKnown(ports, masters * replicas));
    for (const node of nodes) node.id = await bulkText(node.port, 'CLUSTER', 'MYID');
  } catch (err) {
    await stop();
    throw err;
  }
  const byPort = (port) => {
    const node = nodes.find((n) => n.port === port);
    if (!node) throw new Error(`no cluster node on port ${port}`);
    return node;
  };
  return {
    nodes,
    seeds: nodes.map((node) => `127.0.0.1:${node.port}`).join(','),
    stop,
    async kill(port) {
      const node = byPort(port);
      if (node.proc.exitCode !== null || node.proc.signalCode !== null) return;
      const exited = new Promise((done) => node.proc.once('exit', done));
      node.proc.kill('SIGKILL');
      await exited;
    },
    async restart(port) {
      const node = byPort(port);
      node.proc = spawnNode(port, node.bus, node.dir);
      await until(`redis-server on ${port} answered PING`, () => redisCommand(port, 'PING').then((r) => r === '+PONG\r\n'));
    },
    waitUntilAgreed(ms = STARTUP_MS) {
      const running = (n) => n.proc.exitCode === null && n.proc.signalCode === null;
      const alive = nodes.filter(running).map((n) => n.port);
      const gone = nodes.filter((n) => !running(n)).map((n) => n.id);
      return until('every running node agreed on a slot map the stopped nodes have no part in', () => agreed(alive, gone), ms);
    },
  };
}

/**
 * Starts the bridge in cluster mode in front of `cluster` (its `seeds`),
 * serving www/, plus `extraArgs`; resolves to `{ addr, proc }` once it
 * printed its address.
 */
export function startClusterBridge(cluster, extraArgs = []) {
  return launchBridge(['--redis-cluster', cluster.seeds, ...extraArgs]);
}

/**
 * Gives every node of `cluster` the ACL user alice (every right) and starts
 * a cluster bridge that logs in as alice for the token TOKEN of harness.mjs.
 * The nodes' default user stays on (the bridge gets
 * `--insecure-default-user`), so that the helpers above still reach them;
 * a node brought back by `restart` has lost alice (ACLs live in memory).
 */
export function startClusterTokenBridge(cluster, extraArgs = []) {
  const ports = cluster.nodes.map((node) => node.port);
  const launch = (tokenArgs) => startClusterBridge(cluster, [...tokenArgs, '--insecure-default-user', ...extraArgs]);
  return withTokens(ports, launch, { keepDefaultUser: true });
}
