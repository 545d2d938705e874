// One page in each browser the conformance suite runs in, behind one small
// interface: `openPage(kind, url)` resolves to `{ run(fn, arg), close() }`,
// where `run` calls an async function in the page and resolves to what it
// returned (JSON). Each kind is driven by what works with Debian's build:
// - chromium: Playwright over the DevTools protocol (harness.mjs);
// - firefox: puppeteer-core over WebDriver BiDi (Playwright's Firefox is a
//   patched build of its own; Debian's Firefox ESR speaks BiDi natively);
// - webkit: WebKitGTK's WebKitWebDriver over classic WebDriver, through the
//   few commands below (no client library needed). Its MiniBrowser has no
//   headless mode, so it gets an Xvfb display of its own.
// Everything started is stopped by PID in `close()`.
import { spawn } from 'node:child_process';
import puppeteer from 'puppeteer-core';
import { freePort, launchBrowser, stopProcess } from './harness.mjs';

const FIREFOX = process.env.FIREFOX ?? '/usr/bin/firefox-esr';
const WEBKIT_DRIVER = process.env.WEBKIT_DRIVER ?? '/usr/bin/WebKitWebDriver';
const MINIBROWSER = process.env.MINIBROWSER ?? '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';
const STARTUP_MS = 20_000;
const SCRIPT_MS = 300_000;

/** A page of `browser` (Playwright's or puppeteer's: the same calls) at `url`; closing it closes the browser. */
async function pageOf(browser, url) {
  try {
    const page = await browser.newPage();
    await page.goto(url);
    return { run: (fn, arg) => page.evaluate(fn, arg), close: () => browser.close() };
  } catch (err) {
    await browser.close();
    throw err;
  }
}

const chromium = async (url) => pageOf(await launchBrowser(), url);

// Puppeteer gives Firefox a fresh profile in a temp dir and removes it on close.
const firefox = async (url) => pageOf(await puppeteer.launch({
  browser: 'firefox', executablePath: FIREFOX, headless: true, timeout: STARTUP_MS, protocolTimeout: SCRIPT_MS,
}), url);

/** Starts Xvfb on a display it picks itself (-displayfd); resolves to `{ display, proc }`. */
function startXvfb() {
  const proc = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '1280x1024x24', '-nolisten', 'tcp'], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
  return new Promise((done, fail) => {
    const timer = setTimeout(() => { proc.kill('SIGKILL'); fail(new Error('Xvfb did not start')); }, STARTUP_MS);
    proc.stdio[3].once('data', (chunk) => { clearTimeout(timer); done({ display: `:${String(chunk).trim()}`, proc }); });
    proc.once('exit', (code) => { clearTimeout(timer); fail(new Error(`Xvfb exited with ${code}`)); });
  });
}

async function webkit(url) {
  const started = [];
  const close = async () => {
    for (const stop of started.reverse()) await stop();
  };
  try {
    const xvfb = await startXvfb();
    started.push(() => stopProcess(xvfb.proc));
    const port = await freePort();
    const driver = spawn(WEBKIT_DRIVER, [`--port=${port}`], { stdio: 'ignore', env: { ...process.env, DISPLAY: xvfb.display } });
    started.push(() => stopProcess(driver));
    const base = `http://127.0.0.1:${port}`;
    const command = async (method, path, body) => {
      const response = await fetch(`${base}${path}`, { method, headers: { 'content-type': 'application/json' }, body: body && JSON.stringify(body) });
      const { value } = await response.json();
      if (!response.ok) throw new Error(`WebDriver ${method} ${path}: ${value?.error}: ${value?.message}`);
      return value;
    };
    const deadline = Date.now() + STARTUP_MS;
    while (!(await fetch(`${base}/status`).then((r) => r.ok, () => false))) {
      if (Date.now() > deadline) throw new Error('WebKitWebDriver did not start');
      await new Promise((done) => setTimeout(done, 100));
    }
    const { sessionId } = await command('POST', '/session', {
      capabilities: { alwaysMatch: { 'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation'] } } },
    });
    const session = `/session/${sessionId}`;
    started.push(() => command('DELETE', session).catch(() => {}));
    await command('POST', `${session}/timeouts`, { script: SCRIPT_MS, pageLoad: STARTUP_MS });
    await command('POST', `${session}/url`, { url });
    const run = (fn, arg) => command('POST', `${session}/execute/async`, {
      script: `const done = arguments[arguments.length - 1];
        (${fn})(arguments[0]).then(done, (err) => done({ scriptFailed: String(err?.stack ?? err) }));`,
      args: [arg],
    }).then((value) => {
      if (value?.scriptFailed) throw new Error(value.scriptFailed);
      return value;
    });
    return { run, close };
  } catch (err) {
    await close();
    throw err;
  }
}

const KINDS = { chromium, firefox, webkit };

export function openPage(kind, url) {
  return KINDS[kind](url);
}
