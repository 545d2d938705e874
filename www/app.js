// The demo console: type a command, see Redis's reply. It uses the package
// exactly as an application would: import, Connection.create, call().
import { Connection, ErrorReply } from './pkg/index.js';

const output = document.getElementById('output');
const input = document.getElementById('command');
const statusBadge = document.getElementById('status');

/** Splits a command line into words; "double" and 'single' quotes group. */
export function parseCommandLine(line) {
  const words = [];
  const pattern = /"((?:\\.|[^"\\])*)"|'([^']*)'|(\S+)/g;
  for (const [, doubleQuoted, singleQuoted, bare] of line.matchAll(pattern)) {
    words.push(doubleQuoted !== undefined ? JSON.parse(`"${doubleQuoted}"`) : singleQuoted ?? bare);
  }
  return words;
}

/** Renders a decoded reply the way redis-cli shows it. */
function render(value, indent = '') {
  if (value === null) return '(nil)';
  if (typeof value === 'number' || typeof value === 'bigint') return `(integer) ${value}`;
  if (typeof value === 'string') return JSON.stringify(value);
  if (value instanceof ErrorReply) return `(error) ${value.message}`;
  if (value instanceof Map) value = [...value].flat();
  if (value instanceof Set) value = [...value];
  if (Array.isArray(value)) {
    if (value.length === 0) return '(empty array)';
    const width = String(value.length).length;
    return value
      .map((item, i) => `${i === 0 ? '' : indent}${String(i + 1).padStart(width)}) ${render(item, `${indent}${' '.repeat(width + 2)}`)}`)
      .join('\n');
  }
  return String(value);
}

function show(command, text, kind) {
  const entry = document.createElement('div');
  entry.className = 'entry';
  const cmd = document.createElement('div');
  cmd.className = 'cmd';
  cmd.textContent = command;
  const reply = document.createElement('div');
  reply.className = `reply ${kind}`;
  reply.textContent = text;
  entry.append(cmd, reply);
  output.append(entry);
  output.scrollTop = output.scrollHeight;
}

function setStatus(text, kind) {
  statusBadge.textContent = text;
  statusBadge.className = `status ${kind}`;
}

const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/`;
let conn;
try {
  conn = await Connection.create({ url });
  setStatus('connected', 'connected');
} catch (err) {
  setStatus('disconnected', 'disconnected');
  show('(connect)', `(error) ${err.message}`, 'error');
}

document.getElementById('prompt').addEventListener('submit', async (event) => {
  event.preventDefault();
  const line = input.value.trim();
  if (!line || !conn) return;
  input.value = '';
  const [name, ...args] = parseCommandLine(line);
  try {
    const reply = await conn.call(name, ...args);
    show(line, render(reply), reply === null ? 'nil' : 'ok');
  } catch (err) {
    show(line, `(error) ${err.message}`, 'error');
    if (!conn.isConnected) setStatus('disconnected', 'disconnected');
  }
});
