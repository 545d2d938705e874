// A tiny application of the installed package, loaded two ways by
// tests/package.test.mjs: straight from a static server (static.html, with an
// import map for the bare name) and as the output of `vite build`
// (index.html). It runs a few commands through the bridge given as
// `?bridge=ws://...` and leaves what it saw in `window.result`.
import * as redis from 'redis-wasm';
import { BytesEncoder, Connection, ErrorReply } from 'redis-wasm';

/** The public names on each wasm-bindgen class's prototype (not its `__` internals), for the types-completeness check. */
function prototypeNames() {
  const names = {};
  for (const name of ['Connection', 'Pool', 'Transaction', 'Subscription', 'Script', 'Cursor']) {
    names[name] = Object.getOwnPropertyNames(redis[name].prototype).filter((n) => n !== 'constructor' && !n.startsWith('__')).sort();
  }
  return names;
}

async function run() {
  const url = new URLSearchParams(location.search).get('bridge');
  const conn = await Connection.create({ url });
  const key = `package:${Math.random().toString(36).slice(2)}`;
  const result = {
    exports: Object.keys(redis).sort(),
    prototypes: prototypeNames(),
    set: (await conn.set(key, 'hello', { expire: 60 }))?.status,
    get: await conn.get(key),
    incr: await conn.incr(`${key}:n`),
    list: (await conn.rpush(`${key}:l`, ['a', 'b']), await conn.lrangeAsList(`${key}:l`)),
  };
  try {
    await conn.incr(key);
  } catch (err) {
    result.error = { isErrorReply: err instanceof ErrorReply, message: err.message };
  }
  const raw = await Connection.create({ url, encoder: new BytesEncoder() });
  await raw.set(new TextEncoder().encode(`${key}:b`), new Uint8Array([0, 255, 128]));
  result.bytes = [...await raw.get(new TextEncoder().encode(`${key}:b`))];
  await conn.delete([key, `${key}:n`, `${key}:l`, `${key}:b`]);
  conn.close();
  raw.close();
  return result;
}

window.result = run().catch((err) => ({ failed: `${err?.name}: ${err?.message}` }));
