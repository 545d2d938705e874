// Test harness: a real redis-server and the real bridge on free loopback
// ports, and a headless Chromium driven by Playwright. Everything started
// here is stopped by PID in `stop()`; nothing outlives the test process.
import { spawn } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const ROOT = resolve(import.meta.dirname, '..');
export const BRIDGE_BIN = process.env.BRIDGE_BIN ?? join(ROOT, 'target/debug/redis-ws-bridge');
export const WWW_DIR = process.env.WWW_DIR ?? join(ROOT, 'www');
const STARTUP_MS = 10_000;

export function freePort() {
  return new Promise((done, fail) => {
    const server = net.createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

function until(what, check) {
  const deadline = Date.now() + STARTUP_MS;
  return new Promise((done, fail) => {
    const attempt = async () => {
      if (await check()) return done();
      if (Date.now() > deadline) return fail(new Error(`${what} did not start within ${STARTUP_MS} ms`));
      setTimeout(attempt, 50);
    };
    attempt();
  });
}

/** Sends one RESP command straight to Redis over TCP; resolves to the raw reply text. */
export function redisCommand(port, ...words) {
  const payload = `*${words.length}\r\n${words.map((w) => `$${Buffer.byteLength(w)}\r\n${w}\r\n`).join('')}`;
  return new Promise((done, fail) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(payload));
    socket.setTimeout(STARTUP_MS, () => socket.destroy(new Error('redis did not answer')));
    socket.once('data', (data) => { socket.end(); done(data.toString()); });
    socket.once('error', fail);
  });
}

/** A redis-server of our own; its files go to a temp dir removed when it exits. */
export async function startRedis(port) {
  port ??= await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'redis-wasm-redis-'));
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
    '--dir', dir, '--busy-reply-threshold', '100', '--enable-debug-command', 'local'], { stdio: 'ignore' });
  proc.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  try {
    await until('redis-server', () => redisCommand(port, 'PING').then((r) => r === '+PONG\r\n', () => false));
  } catch (err) {
    await stopProcess(proc);
    throw err;
  }
  return { port, proc };
}

export function startBridge(redisPort, extraArgs = []) {
  return launchBridge(['--redis', `127.0.0.1:${redisPort}`, ...extraArgs]);
}

/** The bridge on a free port serving www/, with `args`; resolves to `{ addr, proc }` once it printed its address. */
export async function launchBridge(args) {
  const proc = spawn(BRIDGE_BIN, ['--listen', '127.0.0.1:0', '--static', WWW_DIR, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const addr = await new Promise((done, fail) => {
    let seen = '';
    const timer = setTimeout(() => fail(new Error('the bridge did not print its address')), STARTUP_MS);
    proc.stdout.on('data', (chunk) => {
      seen += chunk;
      const match = /^listening on (\S+)$/m.exec(seen);
      if (match) { clearTimeout(timer); done(match[1]); }
    });
    proc.once('exit', (code) => fail(new Error(`the bridge exited with ${code}`)));
  }).catch(async (err) => {
    await stopProcess(proc);
    throw err;
  });
  return { addr, proc };
}

/** Headless Debian Chromium; Playwright gives it a fresh profile of its own and removes it on close. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      // Lets tests force garbage collection with gc().
      '--js-flags=--expose-gc'],
  });
}

/** Stops `proc` (SIGTERM) and resolves once it exited. */
export async function stopProcess(proc) {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((done) => proc.once('exit', done));
  proc.kill('SIGTERM');
  await exited;
}

/** The token of startTokenBridge's bridges (not ASCII: it must travel intact). */
export const TOKEN = 't0ken-for-älice';

/**
 * Makes `redisPort`'s Redis want credentials (the ACL user `alice` may do
 * everything, the default user is off, as a token bridge wants) and starts
 * a bridge that logs in as alice for the token TOKEN. Its tokens file is
 * removed when the bridge exits.
 */
export function startTokenBridge(redisPort, extraArgs = []) {
  return withTokens([redisPort], (tokenArgs) => startBridge(redisPort, [...tokenArgs, ...extraArgs]));
}

/**
 * Gives every Redis of `ports` the ACL user alice and turns its default
 * user off (unless `keepDefaultUser`), writes a tokens file mapping TOKEN
 * to alice, and resolves to `launch(['--tokens', file])` (a bridge), whose
 * exit removes the file.
 */
export async function withTokens(ports, launch, { keepDefaultUser = false } = {}) {
  const acls = [['alice', 'on', '>alice-pw', '~*', '&*', '+@all'], ...(keepDefaultUser ? [] : [['default', 'off']])];
  for (const port of ports) {
    for (const acl of acls) {
      const reply = await redisCommand(port, 'ACL', 'SETUSER', ...acl);
      if (reply !== '+OK\r\n') throw new Error(`ACL SETUSER ${acl[0]} on ${port}: ${reply}`);
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'redis-wasm-tokens-'));
  const tokens = join(dir, 'tokens.toml');
  writeFileSync(tokens, `[[token]]\ntoken = "${TOKEN}"\nuser = "alice"\npassword = "alice-pw"\n`);
  const bridge = await launch(['--tokens', tokens])
    .catch((err) => { rmSync(dir, { recursive: true, force: true }); throw err; });
  bridge.proc.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return bridge;
}

const MIME = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json', '.css': 'text/css' };

/**
 * A static file server on a free loopback port (what any web host does):
 * `mounts` maps URL prefixes ending in `/` to folders, the longest prefix
 * winning. Resolves to the server; `server.origin` is its `http://` origin.
 */
export function serveStatic(mounts) {
  const prefixes = Object.keys(mounts).sort((a, b) => b.length - a.length);
  const server = http.createServer((req, res) => {
    const pathname = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const prefix = prefixes.find((p) => pathname.startsWith(p));
    const root = prefix && resolve(mounts[prefix]);
    const path = root && normalize(join(root, pathname.slice(prefix.length)));
    if (!path || !path.startsWith(root) || !existsSync(path) || !statSync(path).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': MIME[extname(path)] ?? 'application/octet-stream' });
    createReadStream(path).pipe(res);
  });
  return new Promise((done) => server.listen(0, '127.0.0.1', () => {
    server.origin = `http://127.0.0.1:${server.address().port}`;
    done(server);
  }));
}

/** Closes a server of serveStatic, and the keep-alive connections browsers leave open. */
export function closeServer(server) {
  return new Promise((done) => { server.closeAllConnections(); server.close(done); });
}

/**
 * The seed API includes server administration (CONFIG, FLUSHDB, INFO, KEYS,
 * SELECT, scripts, CLIENT LIST...), which the bridge's default `web` profile
 * denies: the test bridges run the `trusted` profile, as an operator's own
 * bridge would.
 */
export const TRUSTED = ['--profile', 'trusted'];

/** ...and the stack's bridge also lets through what `trusted` still denies. */
export const ADMIN_COMMANDS = [...TRUSTED, ...['CONFIG', 'FLUSHDB', 'FLUSHALL', 'SAVE', 'BGSAVE', 'BGREWRITEAOF', 'SHUTDOWN']
  .flatMap((name) => ['--allow-command', name])];

/**
 * Starts redis-server, the bridge serving www/ (with `bridgeArgs`), and
 * Chromium; on a failure, stops what did start. `bridge(args)` starts
 * another bridge to the same Redis. `killRedis()` and `restartRedis()` let
 * a test take the server away under a running client and bring it back on
 * its port.
 */
export async function startStack(bridgeArgs = ADMIN_COMMANDS) {
  const started = [];
  const stop = async () => {
    for (const stopOne of started.reverse()) await stopOne();
  };
  try {
    let redis = await startRedis();
    started.push(() => stopProcess(redis.proc));
    const bridge = await startBridge(redis.port, bridgeArgs);
    started.push(() => stopProcess(bridge.proc));
    const browser = await launchBrowser();
    started.push(() => browser.close());
    return {
      redisPort: redis.port,
      url: `http://${bridge.addr}/`,
      browser,
      stop,
      async bridge(args) {
        const another = await startBridge(redis.port, args);
        started.push(() => stopProcess(another.proc));
        return { addr: another.addr, url: `http://${another.addr}/`, ws: `ws://${another.addr}/` };
      },
      async killRedis() {
        const exited = new Promise((done) => redis.proc.once('exit', done));
        redis.proc.kill('SIGKILL');
        await exited;
      },
      async restartRedis() {
        redis = await startRedis(redis.port);
        started.push(() => stopProcess(redis.proc));
      },
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Opens the demo page served by the stack's bridge and waits until it is connected. */
export async function openDemo(stack, pageOptions) {
  const page = await stack.browser.newPage(pageOptions);
  const problems = [];
  page.on('pageerror', (err) => problems.push(err.message));
  await page.goto(stack.url);
  await page.locator('#status.connected').waitFor({ timeout: 10_000 }).catch((err) => {
    throw new Error(`the demo did not connect: ${problems.join('; ') || err.message}`);
  });
  return { page, problems };
}
