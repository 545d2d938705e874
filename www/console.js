// The command console: type a command, see Redis's reply.
//
// It talks through a connection with a `BytesEncoder`, so arguments can
// hold any bytes ("\xff" escapes) and binary replies are shown exactly.
// Several lines (paste them, or Shift+Enter between them) are issued in one
// JS task, so the client pipelines them: one WebSocket message (or one per
// 8 KiB, for a longer paste).
// Everything run in this page session can be exported as a JSON file.
import { download } from './dom.js';
import { unescapeBytes } from './keynames.js';
import { bridgeRefusal } from './refusal.js';
import { render, renderError } from './render.js';

const HISTORY_KEY = 'redis-wasm-demo:history';
const HISTORY_MAX = 200;
/** Entries of the session kept for the export; the oldest go first. */
const TRANSCRIPT_MAX = 10_000;
const utf8 = new TextEncoder();

/**
 * Splits a command line into words as redis-cli does: "double quotes" with
 * \n \r \t \\ \" and \xHH escapes, 'single quotes' taken literally. Each
 * word is a `Uint8Array`.
 */
export function parseCommandLine(line) {
  const words = [];
  const pattern = /"((?:\\.|[^"\\])*)"|'([^']*)'|(\S+)/g;
  for (const [, doubleQuoted, singleQuoted, bare] of line.matchAll(pattern)) {
    words.push(doubleQuoted !== undefined ? unescapeBytes(doubleQuoted) : utf8.encode(singleQuoted ?? bare));
  }
  return words;
}

/** `name` → `{ summary, syntax }` from `COMMAND DOCS`, for the hint line. */
function describe(name, docsReply) {
  const pairs = (flat) => {
    const object = {};
    for (let i = 0; i + 1 < flat.length; i += 2) object[flat[i]] = flat[i + 1];
    return object;
  };
  const argText = (arg) => {
    const a = pairs(arg);
    const nested = (a.arguments ?? []).map(argText);
    let text = a.type === 'pure-token' ? a.token
      : a.type === 'oneof' ? nested.join('|')
        : a.type === 'block' ? nested.join(' ')
          : a.display_text ?? a.name;
    if (a.token && a.type !== 'pure-token') text = `${a.token} ${text}`;
    const flags = a.flags ?? [];
    if (flags.includes('multiple')) text = `${text} [${text} …]`;
    return flags.includes('optional') ? `[${text}]` : text;
  };
  const docs = pairs(docsReply?.[1] ?? []);
  return {
    summary: docs.summary ?? '',
    syntax: [name, ...(docs.arguments ?? []).map(argText)].join(' '),
  };
}

/**
 * Wires the console to the session: its `raw` (`Connection<Uint8Array>`)
 * for the commands, its `conn` (`Connection<string>`) for the command
 * names and docs.
 */
export function startConsole({ session }) {
  const form = document.getElementById('prompt');
  const input = document.getElementById('command');
  const output = document.getElementById('output');
  const hint = document.getElementById('hint');
  /** This page session's commands and replies, for the export. */
  const transcript = [];

  let history = [];
  try { history = JSON.parse(localStorage.getItem(HISTORY_KEY)) ?? []; } catch { /* private mode */ }
  let historyAt = history.length;
  let draft = '';

  let names = [];
  const docs = new Map();
  // COMMAND LIST: every command this server knows, for Tab completion.
  function loadNames() {
    docs.clear();
    session.conn?.call('COMMAND', 'LIST').then((list) => { names = list.map((n) => n.toUpperCase()).sort(); }, () => {});
  }
  session.addEventListener('change', loadNames);
  loadNames();

  function show(command, reply, ms) {
    const entry = document.createElement('div');
    entry.className = 'entry';
    const cmd = document.createElement('div');
    cmd.className = 'cmd';
    cmd.textContent = command;
    const time = document.createElement('span');
    time.className = 'time';
    time.textContent = `${ms.toFixed(1)} ms`;
    const body = document.createElement('div');
    const kind = reply.error ? (bridgeRefusal(reply.error) ? 'refused' : 'error') : reply.value === null ? 'nil' : 'ok';
    body.className = `reply ${kind === 'refused' ? 'error refused' : kind}`;
    body.append(reply.error ? renderError(reply.error) : render(reply.value));
    entry.append(time, cmd, body);
    output.append(entry);
    transcript.push({ at: new Date().toISOString(), command, kind, reply: body.textContent, ms: Number(ms.toFixed(2)) });
    if (transcript.length > TRANSCRIPT_MAX) transcript.shift();
  }

  function note(text) {
    const line = document.createElement('div');
    line.className = 'note';
    line.textContent = text;
    output.append(line);
  }

  async function runLines(text) {
    const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
    if (lines.length === 0) return;
    if (lines.length === 1 && lines[0].toLowerCase() === 'clear') {
      output.replaceChildren();
      return;
    }
    const { raw } = session;
    if (!raw) {
      note('Not connected: open a connection first (Connection tab).');
      return;
    }
    // Issue every command before awaiting any: they leave together.
    const started = performance.now();
    const pending = lines.map((line) => {
      const [name, ...args] = parseCommandLine(line);
      const promise = raw.call(new TextDecoder().decode(name), ...args);
      return promise.then((value) => ({ value, at: performance.now() }), (error) => ({ error, at: performance.now() }));
    });
    for (const [i, reply] of (await Promise.all(pending)).entries()) {
      show(lines[i], reply, reply.at - started);
    }
    if (lines.length > 1) {
      note(`${lines.length} commands pipelined: sent without waiting for replies, all replies in ${(performance.now() - started).toFixed(1)} ms`);
    }
    output.scrollTop = output.scrollHeight;
  }

  function remember(text) {
    if (history.at(-1) !== text) history.push(text);
    history = history.slice(-HISTORY_MAX);
    historyAt = history.length;
    try { localStorage.setItem(HISTORY_KEY, JSON.stringify(history)); } catch { /* private mode */ }
  }

  function resize() {
    input.rows = Math.min(8, input.value.split('\n').length);
  }

  /** The first word of the line the caret is on, while the caret is still in it. */
  function wordAtCaret() {
    const before = input.value.slice(0, input.selectionStart);
    const lineStart = before.lastIndexOf('\n') + 1;
    const word = before.slice(lineStart);
    return /^\S*$/.test(word) ? { word, lineStart } : null;
  }

  function complete() {
    const at = wordAtCaret();
    if (!at || !at.word) return false;
    const prefix = at.word.toUpperCase();
    const matches = names.filter((n) => n.startsWith(prefix));
    if (matches.length === 0) return false;
    let common = matches[0];
    for (const m of matches) while (!m.startsWith(common)) common = common.slice(0, -1);
    const replacement = matches.length === 1 ? `${matches[0]} ` : common;
    input.setRangeText(replacement, at.lineStart, input.selectionStart, 'end');
    if (matches.length > 1) {
      hint.textContent = `${matches.slice(0, 16).join('  ')}${matches.length > 16 ? `  … ${matches.length - 16} more` : ''}`;
    } else {
      updateHint();
    }
    return true;
  }

  async function updateHint() {
    const line = input.value.slice(0, input.selectionStart).split('\n').at(-1);
    const name = line.trim().split(/\s+/)[0]?.toUpperCase();
    if (!name || !names.includes(name)) {
      hint.textContent = 'Tab completes a command name · ↑/↓ history · Shift+Enter adds a line: several lines run as one pipeline';
      return;
    }
    if (!docs.has(name)) {
      // COMMAND DOCS: the summary and arguments Redis documents for it.
      docs.set(name, session.conn.call('COMMAND', 'DOCS', name).then((reply) => describe(name, reply), () => null));
    }
    const doc = await docs.get(name);
    if (doc) hint.textContent = `${doc.syntax}${doc.summary ? ` — ${doc.summary}` : ''}`;
  }

  input.addEventListener('keydown', (event) => {
    const { key, shiftKey } = event;
    if (key === 'Enter' && !shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    } else if (key === 'Tab' && !shiftKey) {
      if (complete()) event.preventDefault();
    } else if (key === 'ArrowUp' && !input.value.slice(0, input.selectionStart).includes('\n')) {
      if (historyAt === 0) return;
      if (historyAt === history.length) draft = input.value;
      historyAt -= 1;
      input.value = history[historyAt];
      event.preventDefault();
    } else if (key === 'ArrowDown' && !input.value.slice(input.selectionEnd).includes('\n')) {
      if (historyAt >= history.length) return;
      historyAt += 1;
      input.value = historyAt === history.length ? draft : history[historyAt];
      event.preventDefault();
    }
    queueMicrotask(resize);
  });
  input.addEventListener('input', () => { resize(); updateHint(); });
  input.addEventListener('click', updateHint);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = '';
    resize();
    remember(text);
    await runLines(text);
  });
  document.getElementById('console-clear').addEventListener('click', () => output.replaceChildren());
  document.getElementById('console-export').addEventListener('click', () => {
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
    download(`redis-console-${stamp}.json`, `${JSON.stringify({ connection: session.options?.url ?? null, db: session.options?.db ?? 0, entries: transcript }, null, 2)}\n`);
  });
  updateHint();
}
