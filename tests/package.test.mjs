// The npm package as users get it: `npm pack` of client-wasm/pkg, installed
// from the tarball into a fresh project, then
//  - loaded with no bundler from a static server (an import map for the bare
//    name) and from the output of `vite build`, esbuild, Rollup and webpack 5, all running commands
//    through the real bridge to a real redis-server in headless Chromium;
//  - imported by its name from Node 22 and 24, Deno and Bun (each through
//    its own condition of the package's exports), connecting with a bridge
//    token and exiting by itself, and from `redis-wasm/manual` with a
//    compiled module handed over;
//  - type-checked: tests/types/good.ts compiles with `tsc --strict`, every
//    line of tests/types/bad.ts marked `// error TSxxxx` fails with exactly
//    that error, and the declarations name every method the wasm classes
//    really have, and no other.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { closeServer, launchBrowser, serveStatic, startBridge, startRedis, startTokenBridge, stopProcess, TOKEN, TRUSTED } from './harness.mjs';
import { runScript } from './hosts.mjs';

const run = promisify(execFile);
const TESTS = import.meta.dirname;
const PKG_DIR = process.env.PKG_DIR ?? resolve(TESTS, '../client-wasm/pkg');
const BIN = join(TESTS, 'node_modules/.bin');
const RUNTIMES = join(TESTS, 'runtimes/node_modules');

let dir;
let app;
let tarball;
let server;
let origin;
let redis;
let bridge;
let tokenBridge;
let browser;
const stops = [];

before(async () => {
  assert.ok(existsSync(join(PKG_DIR, 'index.d.ts')), `no built package in ${PKG_DIR}: run scripts/build.sh first`);
  dir = mkdtempSync(join(tmpdir(), 'redis-wasm-package-'));
  stops.push(() => rmSync(dir, { recursive: true, force: true }));
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: PKG_DIR });
  tarball = join(dir, JSON.parse(stdout)[0].filename);

  // A fresh project: the fixture app, the package installed from the tarball.
  app = join(dir, 'app');
  cpSync(join(TESTS, 'package-app'), app, { recursive: true });
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  await run('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], { cwd: app });

  server = await serveStatic({ '/': app });
  stops.push(() => closeServer(server));
  origin = server.origin;
  redis = await startRedis();
  stops.push(() => stopProcess(redis.proc));
  bridge = await startBridge(redis.port, [...TRUSTED, '--allow-origin', origin]);
  stops.push(() => stopProcess(bridge.proc));
  // A token bridge wants a Redis that requires credentials: one of its own.
  const tokenRedis = await startRedis();
  stops.push(() => stopProcess(tokenRedis.proc));
  tokenBridge = await startTokenBridge(tokenRedis.port, TRUSTED);
  stops.push(() => stopProcess(tokenBridge.proc));
  browser = await launchBrowser();
  stops.push(() => browser.close());
});

after(async () => {
  for (const stop of stops.reverse()) await stop();
});

/** Opens `path` of the app, waits for `window.result`; also returns the URLs the page requested. */
async function load(path) {
  const page = await browser.newPage();
  const requested = [];
  const problems = [];
  page.on('request', (req) => requested.push(new URL(req.url()).pathname));
  page.on('pageerror', (err) => problems.push(err.message));
  page.on('console', (msg) => { if (msg.type() === 'error') problems.push(msg.text()); });
  try {
    await page.goto(`${origin}${path}?bridge=ws://${bridge.addr}/`);
    const result = await page.waitForFunction(() => window.result, null, { timeout: 15_000 })
      .then((handle) => handle.jsonValue())
      .catch((err) => { throw new Error(`${path}: ${problems.join('; ') || err.message}`); });
    assert.equal(result.failed, undefined, `${path}: ${result.failed}`);
    return { result, requested, problems };
  } finally {
    await page.close();
  }
}

function checkCommands(result) {
  assert.equal(result.set, 'OK');
  assert.equal(result.get, 'hello');
  assert.equal(result.incr, 1);
  assert.deepEqual(result.list, ['a', 'b']);
  assert.equal(result.error.isErrorReply, true);
  assert.match(result.error.message, /^ERR value is not an integer/);
  assert.deepEqual(result.bytes, [0, 255, 128]);
}

test('npm pack: the tarball holds the entries, their types, the glue, the wasm and the shared worker, and nothing else', async () => {
  const { stdout } = await run('tar', ['tzf', tarball]);
  const files = stdout.trim().split('\n').map((f) => f.replace(/^package\//, '')).sort();
  // (npm adds a README.md by itself when there is one.)
  assert.deepEqual(files.filter((f) => !f.startsWith('snippets/') && f !== 'README.md'),
    ['LICENSE', 'index.d.ts', 'index.js', 'manual.js', 'methods.d.ts', 'node.js', 'package.json', 'redis_wasm.js', 'redis_wasm_bg.wasm', 'shared-host.js', 'shared-leader.js', 'shared-worker.js', 'shared.js']);
  assert.ok(files.some((f) => /^snippets\/.+\/js\/classes\.js$/.test(f)), 'the classes.js snippet');
  const manifest = JSON.parse(readFileSync(join(app, 'node_modules/redis-wasm/package.json'), 'utf8'));
  assert.equal(manifest.name, 'redis-wasm');
  assert.match(manifest.version, /^\d+\.\d+\.\d+/);
  assert.ok(manifest.description && manifest.license && manifest.repository?.url);
  assert.equal(manifest.type, 'module');
  assert.equal(manifest.types, './index.d.ts');
  assert.deepEqual(manifest.exports['.'], {
    types: './index.d.ts', deno: './index.js', bun: './node.js', node: './node.js', worker: './index.js', browser: './index.js', default: './index.js',
  });
  assert.deepEqual(manifest.exports['./manual'], { types: './index.d.ts', default: './manual.js' });
  assert.ok(Array.isArray(manifest.sideEffects) && manifest.sideEffects.includes('./index.js'));
});

test('no bundler: a static server and <script type="module"> with an import map', async () => {
  const { result, requested } = await load('/static.html');
  checkCommands(result);
  assert.ok(requested.includes('/node_modules/redis-wasm/index.js'), 'the entry came from node_modules');
  assert.ok(requested.includes('/node_modules/redis-wasm/redis_wasm_bg.wasm'), 'the .wasm was found next to the module');
  for (const name of ['Connection', 'Pool', 'ErrorReply', 'BytesEncoder', 'ZScoreBoundary', 'ListReply']) {
    assert.ok(result.exports.includes(name), `exports ${name}`);
  }
});

test('vite build: the bundle carries the .wasm as an asset and runs with no init call', async () => {
  await run(join(BIN, 'vite'), ['build'], { cwd: app });
  const assets = readdirSync(join(app, 'dist/assets'));
  const wasm = assets.find((f) => f.endsWith('.wasm'));
  assert.ok(wasm, `a .wasm asset in dist/assets: ${assets}`);
  assert.deepEqual(readFileSync(join(app, 'dist/assets', wasm)), readFileSync(join(PKG_DIR, 'redis_wasm_bg.wasm')));
  const bundle = assets.filter((f) => f.endsWith('.js')).map((f) => readFileSync(join(app, 'dist/assets', f), 'utf8')).join('\n');
  assert.ok(bundle.includes(wasm), 'the bundle refers to the hashed .wasm');
  assert.ok(!bundle.includes('node:fs'), 'the browser bundle took the browser entry, not node.js');

  const { result, requested } = await load('/dist/index.html');
  checkCommands(result);
  assert.ok(requested.includes(`/dist/assets/${wasm}`), 'the page loaded the bundled .wasm');
  assert.ok(!requested.some((p) => p.includes('node_modules')), 'nothing came from node_modules');
});

/** A page of the app's `dir` that loads `script` as a module, for a bundler's output. */
function pageFor(dir, script) {
  writeFileSync(join(app, dir, 'index.html'), `<!doctype html><meta charset="utf-8"><script type="module" src="./${script}"></script>`);
}

/**
 * The bundle `dir/main.js` of a bundler that leaves `new URL(…,
 * import.meta.url)` alone took the browser entry, and runs in a page with
 * the .wasm copied beside it.
 */
async function runsWithWasmBeside(dir) {
  assert.ok(!readFileSync(join(app, dir, 'main.js'), 'utf8').includes('node:fs'), 'the browser bundle took the browser entry');
  cpSync(join(app, 'node_modules/redis-wasm/redis_wasm_bg.wasm'), join(app, dir, 'redis_wasm_bg.wasm'));
  pageFor(dir, 'main.js');
  const { result, requested } = await load(`/${dir}/index.html`);
  checkCommands(result);
  assert.ok(requested.includes(`/${dir}/redis_wasm_bg.wasm`), 'the .wasm beside the bundle');
  assert.ok(!requested.some((p) => p.includes('node_modules')), 'nothing came from node_modules');
}

test('esbuild: the bundle runs with the .wasm copied beside it (esbuild leaves new URL(…, import.meta.url) alone)', async () => {
  const esbuild = await import(join(TESTS, 'node_modules/esbuild/lib/main.js'));
  await esbuild.build({
    absWorkingDir: app, entryPoints: ['main.js'], bundle: true, format: 'esm', platform: 'browser', target: 'esnext',
    outdir: 'dist-esbuild', logLevel: 'error',
  });
  await runsWithWasmBeside('dist-esbuild');
});

test('Rollup: the bundle runs with the .wasm copied beside it (Rollup leaves new URL(…, import.meta.url) alone)', async () => {
  const { rollup } = await import(join(TESTS, 'node_modules/rollup/dist/es/rollup.js'));
  const { nodeResolve } = await import(join(TESTS, 'node_modules/@rollup/plugin-node-resolve/dist/es/index.js'));
  const bundle = await rollup({ input: join(app, 'main.js'), plugins: [nodeResolve({ browser: true, rootDir: app })], logLevel: 'silent' });
  await bundle.write({ dir: join(app, 'dist-rollup'), format: 'es', inlineDynamicImports: true });
  await bundle.close();
  await runsWithWasmBeside('dist-rollup');
});

test('webpack 5: the bundle carries the .wasm as an asset and runs with no init call', async () => {
  const { default: webpack } = await import(join(TESTS, 'node_modules/webpack/lib/index.js'));
  const out = join(app, 'dist-webpack');
  const stats = await new Promise((done, fail) => webpack({
    mode: 'production', context: app, entry: './main.js', target: 'web',
    output: { path: out, module: true, filename: 'main.mjs' }, experiments: { outputModule: true },
  }, (err, result) => (err ? fail(err) : done(result))));
  assert.equal(stats.hasErrors(), false, stats.toString('errors-only'));
  const wasm = readdirSync(out).filter((f) => f.endsWith('.wasm'));
  assert.ok(wasm.some((f) => readFileSync(join(out, f)).equals(readFileSync(join(PKG_DIR, 'redis_wasm_bg.wasm')))), `the .wasm among ${wasm}`);
  pageFor('dist-webpack', 'main.mjs');
  const { result, requested } = await load('/dist-webpack/index.html');
  checkCommands(result);
  assert.ok(requested.some((p) => p.startsWith('/dist-webpack/') && p.endsWith('.wasm')), 'the page loaded the emitted .wasm');
  assert.ok(!requested.some((p) => p.includes('node_modules')), 'nothing came from node_modules');
});

/**
 * A script that imports `specifier` by name from the fresh project, runs a
 * few commands through the token bridge and closes, then prints what it saw
 * and simply ends: the runtime must exit by itself (runScript's bound).
 * `prepare` runs first, given the module.
 */
function importScript(specifier, prepare = '') {
  return `const m = await import(${JSON.stringify(specifier)});
    ${prepare}
    const conn = await m.Connection.create({ url: ${JSON.stringify(`ws://${tokenBridge.addr}/`)}, token: ${JSON.stringify(TOKEN)} });
    const key = 'package:' + Math.random().toString(36).slice(2);
    const set = (await conn.set(key, 'hello')).status;
    const got = await conn.get(key);
    const error = await conn.incr(key).catch((err) => err instanceof m.ErrorReply);
    await conn.delete([key]);
    conn.close();
    console.log(JSON.stringify({ entry: import.meta.resolve(${JSON.stringify(specifier)}), set, got, error }));`;
}

/** Runs `script` with `command args…` in the app; resolves to what it printed, checking it exited 0 by itself. */
async function inApp(command, args, script) {
  const outcome = await runScript(command, [...args, script], { cwd: app, env: { DENO_NO_UPDATE_CHECK: '1' } });
  assert.equal(outcome.code, 0, `${command} exited with ${outcome.code}: ${outcome.stderr}`);
  return JSON.parse(outcome.stdout);
}

const RUNTIME_IMPORTS = {
  'node 22': [join(RUNTIMES, 'node22/bin/node'), ['--input-type=module', '-e'], 'node.js'],
  'node 24': [join(RUNTIMES, 'node24/bin/node'), ['--input-type=module', '-e'], 'node.js'],
  deno: [join(RUNTIMES, 'deno/deno'), ['eval'], 'index.js'],
  bun: [join(RUNTIMES, 'bun/bin/bun'), ['-e'], 'node.js'],
};

for (const [runtime, [command, args, entry]] of Object.entries(RUNTIME_IMPORTS)) {
  test(`${runtime}: import('redis-wasm') from the fresh project loads ${entry}, connects with a token and exits by itself`, async () => {
    const result = await inApp(command, args, importScript('redis-wasm'));
    assert.equal(result.entry, pathToFileURL(join(app, 'node_modules/redis-wasm', entry)).href);
    assert.deepEqual({ ...result, entry: undefined }, { entry: undefined, set: 'OK', got: 'hello', error: true });
  });
}

test('redis-wasm/manual: nothing is loaded until initSync is handed a compiled WebAssembly.Module', async () => {
  const prepare = `
    if (m.RedisError !== undefined) throw new Error('the manual entry loaded the wasm by itself');
    const { readFileSync } = await import('node:fs');
    const wasm = readFileSync(new URL(import.meta.resolve('redis-wasm/redis_wasm_bg.wasm')));
    m.initSync(await WebAssembly.compile(wasm));
    m.initSync(wasm); // a second call does nothing`;
  const [command, args] = RUNTIME_IMPORTS['node 22'];
  const result = await inApp(command, args, importScript('redis-wasm/manual', prepare));
  assert.equal(result.entry, pathToFileURL(join(app, 'node_modules/redis-wasm/manual.js')).href);
  assert.deepEqual([result.set, result.got, result.error], ['OK', 'hello', true]);
});

/** Runs `tsc -p <config>` in the app; resolves to `{ code, diagnostics: [{ file, line, code, text }] }`. */
async function tsc(config) {
  const outcome = await run(join(BIN, 'tsc'), ['-p', config, '--pretty', 'false'], { cwd: app })
    .then(({ stdout }) => ({ code: 0, stdout }), (err) => ({ code: err.code, stdout: `${err.stdout}${err.stderr}` }));
  const diagnostics = [...outcome.stdout.matchAll(/^(.+?)\((\d+),\d+\): error (TS\d+): (.*)$/gm)]
    .map(([, file, line, code, text]) => ({ file, line: Number(line), code, text }));
  return { ...outcome, diagnostics };
}

function tsconfig(name, files) {
  writeFileSync(join(app, name), JSON.stringify({
    compilerOptions: {
      strict: true, noEmit: true, target: 'es2022', module: 'esnext', moduleResolution: 'bundler',
      lib: ['es2022', 'dom'], types: [], skipLibCheck: false,
    },
    files,
  }));
}

test('types: good.ts compiles with tsc --strict against the installed package', async () => {
  cpSync(join(TESTS, 'types/good.ts'), join(app, 'good.ts'));
  tsconfig('tsconfig.good.json', ['good.ts']);
  const { code, stdout } = await tsc('tsconfig.good.json');
  assert.equal(code, 0, stdout);
});

test('types: each wrong call in bad.ts fails with the expected error, and nothing else does', async () => {
  cpSync(join(TESTS, 'types/bad.ts'), join(app, 'bad.ts'));
  tsconfig('tsconfig.bad.json', ['bad.ts']);
  const source = readFileSync(join(app, 'bad.ts'), 'utf8').split('\n');
  const expected = source.flatMap((text, index) => {
    const match = /\/\/ error (TS\d+)/.exec(text);
    return match ? [`${index + 1} ${match[1]}`] : [];
  });
  assert.ok(expected.length >= 15, `${expected.length} expected errors`);
  const { code, diagnostics, stdout } = await tsc('tsconfig.bad.json');
  assert.notEqual(code, 0, 'bad.ts compiled');
  assert.ok(diagnostics.every((d) => d.file === 'bad.ts'), `errors outside bad.ts (a config or package problem):\n${stdout}`);
  assert.deepEqual(diagnostics.map((d) => `${d.line} ${d.code}`), expected, stdout);
});

test('types: the declarations name exactly the methods and getters the wasm classes have', async () => {
  const { result } = await load('/static.html');
  const lines = ["import type { Connection, Pool, Transaction, Subscription, Script, Cursor } from 'redis-wasm';"];
  for (const [name, members] of Object.entries(result.prototypes)) {
    assert.ok(members.length > 0, name);
    const union = members.map((m) => JSON.stringify(m)).join(' | ');
    const type = name === 'Cursor' ? 'Cursor<string>' : `${name}<string>`;
    // Every runtime name is declared (TS2344 names the missing one)...
    lines.push(`type ${name}Declared<K extends keyof ${type}> = K;`, `export type ${name}Runtime = ${name}Declared<${union}>;`);
    // ...and every declared string key exists at runtime (TS2741/TS2739 name the extra ones).
    lines.push(`export const ${name}Extra: Record<Exclude<Extract<keyof ${type}, string>, ${union}>, true> = {};`);
  }
  writeFileSync(join(app, 'complete.ts'), `${lines.join('\n')}\n`);
  tsconfig('tsconfig.complete.json', ['complete.ts']);
  const { code, stdout } = await tsc('tsconfig.complete.json');
  assert.equal(code, 0, `the types and the runtime classes differ:\n${stdout}`);
  assert.ok(result.prototypes.Connection.length > 150, `${result.prototypes.Connection.length} Connection members`);
});
