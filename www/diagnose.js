// Why a connection failed, in words a person can act on.
//
// A browser is never told why a WebSocket handshake failed: the bridge
// answers 401 (token), 403 (origin or host) or 429/503 (connection
// limits), and the page only sees the socket close with code 1006. So
// this asks the bridge's /healthz over plain HTTP (no-cors: it answers
// whatever the origin) to tell "nothing there" from "it answered but
// refused", and ranks the likely causes by what the form held. The bridge
// logs each refusal with its reason, which is what to look up.
import { bridgeRefusal } from './refusal.js';

/** `ws://host:port/path` → `http://host:port/healthz` (wss → https). */
export function healthUrl(wsUrl) {
  const url = new URL(wsUrl);
  url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:';
  url.pathname = '/healthz';
  url.search = '';
  return url.href;
}

/** Whether anything answers HTTP at the bridge's address (within 3 s). */
async function reachable(wsUrl) {
  try {
    await fetch(healthUrl(wsUrl), { mode: 'no-cors', cache: 'no-store', signal: AbortSignal.timeout(3000) });
    return true;
  } catch {
    return false;
  }
}

/**
 * `{ title, causes: [text…], log }` for a failed `Connection.create` (or
 * `Cluster.create`) with `options` (`{ url, token, db, cluster }`). `log`, when the bridge refused the
 * handshake, is what to look for in its log; the causes are then ranked.
 */
export async function diagnose(error, options) {
  const message = error?.message ?? String(error);
  const refusal = bridgeRefusal(error);
  if (refusal) {
    const select = refusal.command === 'SELECT';
    return {
      title: `The bridge refused ${refusal.command} while logging in`,
      causes: [select
        ? `This bridge does not let browsers choose a database: use db 0, or start it with --allow-select.`
        : `The bridge's policy keeps ${refusal.command} from Redis (${refusal.reason}).`],
      log: null,
    };
  }
  if (error?.name === 'ErrorReply') {
    return { title: 'Redis refused the login', causes: [`${message} (check the password, the ACL user and the db number)`], log: null };
  }
  let url;
  try {
    url = new URL(options.url);
  } catch {
    return { title: 'That is not a bridge URL', causes: ['Use ws://host:port/ or wss://host/path.'], log: null };
  }
  if (/code 1011/.test(message)) {
    return { title: 'The bridge could not reach Redis', causes: ['The bridge is up but its Redis is not answering (or refused the bridge\'s own login).'], log: null };
  }
  if (!(await reachable(options.url))) {
    return {
      title: `Nothing answered at ${url.host}`,
      causes: ['Is the bridge running, and listening on that address and port?',
        url.protocol === 'wss:' ? 'wss:// needs the bridge started with --tls-cert and --tls-key (or a TLS proxy in front).' : 'A bridge behind TLS needs wss://, not ws://.'],
      log: null,
    };
  }
  const ownOrigin = `${url.protocol === 'wss:' ? 'https' : 'http'}://${url.host}`;
  const causes = [];
  const token = options.token
    ? '401 token: the bridge does not know this token ("unknown token").'
    : '401 token: this bridge may require a token (started with --tokens), and none was given ("missing token").';
  const origin = `403 origin: this page (${location.origin}) is neither the bridge's own origin nor listed with --allow-origin ("origin not allowed").`;
  const host = `403 host: "${url.host}" is not a name this bridge serves (--allow-host) ("host not served").`;
  const limits = '429 / 503 limits: too many WebSockets from this address (--max-connections-per-ip) or in total (--max-connections) ("too many connections").';
  // A cluster bridge refuses /ws with 400; a plain one refuses the cluster feed with 404.
  const mode = options.cluster
    ? '404 not a cluster: this bridge serves one Redis, not a cluster ("not_a_cluster"): untick Redis Cluster.'
    : '400 cluster: this bridge serves a Redis Cluster (--redis-cluster) and refuses plain connections ("cluster_only"): tick Redis Cluster.';
  // The bridge checks the origin before the token: a page from elsewhere is
  // most likely refused for its origin; its own page cannot be.
  if (location.origin === ownOrigin) causes.push(token, mode, host, limits, origin);
  else causes.push(origin, token, mode, host, limits);
  return {
    title: `The bridge at ${url.host} answered, but refused the WebSocket`,
    causes,
    log: 'a "refused" warning, whose reason is one of the quoted words above',
  };
}
