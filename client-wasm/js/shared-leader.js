// SharedConnection without a SharedWorker (Chrome on Android, or the
// option `sharing: 'leader'`): every SharedConnection of the origin waits in
// line for the Web Lock `redis-wasm-leader:<url>`, and the one holding it
// leads: its tab runs the host (shared-host.js, the SharedWorker's own code)
// for every tab, over the BroadcastChannel `redis-wasm:<url>`. A closed or
// crashed leader frees the lock, the next in line takes it and announces
// its host; every tab then rejects what it had sent to the old one with
// ConnectionLostError and opens itself at the new one. Requests made in
// between wait for it, bounded in number and time.
//
// Every message on a BroadcastChannel reaches every tab: each is addressed
// (`to`: a tab's id, a host's id, 'leader' or '*'; `from`: the sender's)
// and the others drop it after a comparison.
import { Port, unpackError } from './shared.js';

/** Requests that may wait for a leader at once; more reject with NotConnectedError. */
const WAITING_LIMIT = 1000;
/** How long requests wait for a leader to answer before they reject with NotConnectedError. */
const WAITING_MS = 10_000;

const notConnected = (message) => unpackError({ name: 'NotConnectedError', message });

/** A tab's link to whichever tab leads: requests go to its host, or wait for one. */
export class LeaderPort extends Port {
  constructor(url, handlers) {
    super(handlers);
    this.url = url;
    this.onLost = handlers.onLost;
    /** The host this tab follows, and whether its `open` was answered. */
    this.host = null;
    this.attached = false;
    this.opening = false;
    /** Counts the hosts followed: an answer from an earlier one is ignored. */
    this.turn = 0;
    /** This tab's own host while it leads. */
    this.hosting = null;
    /** Requests (by id) that wait to be attached. */
    this.queued = new Map();
    this.timer = null;
    this.closed = new AbortController();
  }

  /** Joins: waits in line to lead, and asks who leads now. */
  open(body) {
    this.body = body;
    this.tab = body.tab;
    this.channel = new BroadcastChannel(`redis-wasm:${this.url}`);
    this.channel.onmessage = ({ data }) => {
      // (What a host it no longer follows still says is not for it.)
      if (data.to === this.tab && data.from === this.host) this.receive(data.data);
      else if (data.to === '*') this.follow(data.leader);
    };
    const first = new Promise((resolve, reject) => { this.first = { resolve, reject }; });
    navigator.locks.request(`redis-wasm-leader:${this.url}`, { signal: this.closed.signal }, () => this.lead()).catch(() => {});
    this.channel.postMessage({ to: 'leader' });
    this.wait();
    return first;
  }

  /** This tab's turn to lead: it hosts every tab until it closes. */
  async lead() {
    const { serve } = await import('./shared-host.js');
    const { signal } = this.closed;
    if (signal.aborted) return;
    const host = new Host(this.url, serve);
    this.hosting = host.id;
    this.follow(host.id);
    await new Promise((done) => signal.addEventListener('abort', done, { once: true }));
    host.stop();
  }

  /** A leader announced its host: a new one means the old one went. */
  follow(host) {
    if (host === this.host || this.closed.signal.aborted) return;
    const had = this.host !== null;
    this.host = host;
    this.attached = false;
    this.turn++;
    if (had) {
      const lost = unpackError({ name: 'ConnectionLostError', message: 'the leader tab went away' });
      for (const [id, { reject }] of this.waiting) {
        if (this.queued.has(id)) continue;
        this.waiting.delete(id);
        reject(lost);
      }
      this.onLost(lost);
    }
    this.attach();
  }

  /** Opens this tab at the host; then what waited goes there, in order. */
  attach() {
    const turn = this.turn;
    const id = this.next++;
    this.opening = true;
    this.wait();
    this.waiting.set(id, {
      resolve: () => {
        if (turn !== this.turn) return;
        this.opening = false;
        this.attached = true;
        clearTimeout(this.timer);
        this.timer = null;
        for (const message of this.queued.values()) this.post(message);
        this.queued.clear();
        this.first?.resolve();
        this.first = null;
        this.onEvent('leader', { hosting: this.host === this.hosting });
      },
      reject: (error) => {
        if (turn !== this.turn) return;
        this.opening = false;
        this.drop(error);
      },
    });
    this.post({ id, op: 'open', ...this.body });
  }

  send(message) {
    if (this.attached) return this.post(message);
    if (this.queued.size >= WAITING_LIMIT) {
      this.waiting.get(message.id).reject(notConnected(`${WAITING_LIMIT} requests already wait for a leader tab`));
      this.waiting.delete(message.id);
      return;
    }
    this.queued.set(message.id, message);
    this.wait();
    // The last open was refused (the leader could not connect): try again.
    if (!this.opening && this.host !== null) this.attach();
  }

  post(message) {
    this.channel.postMessage({ to: this.host, from: this.tab, data: message });
  }

  /** Starts the clock on what waits for a leader, unless it runs. */
  wait() {
    this.timer ??= setTimeout(() => {
      this.timer = null;
      if (!this.attached) this.drop(notConnected(`no leader tab answered within ${WAITING_MS} ms`));
    }, WAITING_MS);
  }

  /** What waits for a leader (and the first open) rejects with `error`. */
  drop(error) {
    this.first?.reject(error);
    this.first = null;
    for (const id of this.queued.keys()) {
      this.waiting.get(id)?.reject(error);
      this.waiting.delete(id);
    }
    this.queued.clear();
  }

  /** The tab leaves: the host lets its leases go; a leader hands over to the next in line. */
  close(error) {
    if (this.closed.signal.aborted) return;
    if (this.attached) this.post({ op: 'close' });
    this.closed.abort();
    clearTimeout(this.timer);
    this.queued.clear();
    this.fail(error);
    this.first?.reject(error);
    this.channel.close();
  }
}

/** The leader's end of the channel: one port per tab, each served by shared-host.js. */
class Host {
  constructor(url, serve) {
    this.id = crypto.randomUUID();
    this.serve = serve;
    this.ports = new Map();
    this.channel = new BroadcastChannel(`redis-wasm:${url}`);
    this.channel.onmessage = ({ data }) => {
      if (data.to === this.id) this.deliver(data.from, data.data);
      else if (data.to === 'leader') this.announce();
    };
    this.announce();
  }

  announce() {
    this.channel.postMessage({ to: '*', leader: this.id });
  }

  deliver(tab, message) {
    let port = this.ports.get(tab);
    if (message.op === 'open') {
      // Open here already, the tab followed another host since and counts
      // what it had here as lost: it joins afresh, then its old self leaves
      // (after, so that the sockets stay for it).
      const old = port?.served;
      const fresh = new ChannelPort(this.channel, this.id, tab, () => {
        if (this.ports.get(tab) === fresh) this.ports.delete(tab);
      });
      fresh.served = this.serve(fresh);
      if (old) Promise.all([old, fresh.served]).then(([gone]) => gone.leave());
      this.ports.set(tab, fresh);
      port = fresh;
    }
    // Anything else from a tab not here comes from one that has left.
    port?.deliver(message);
  }

  /** The leader closes: every tab leaves it (the sockets close) and follows the next leader. */
  stop() {
    this.channel.onmessage = null;
    for (const port of this.ports.values()) {
      port.shut = true;
      port.served.then((tab) => tab.leave());
    }
    this.channel.close();
  }
}

/** A MessagePort's shape for one tab on the channel: what arrives waits for `start()`, as there. */
class ChannelPort {
  constructor(channel, host, tab, onClose) {
    this.channel = channel;
    this.host = host;
    this.tab = tab;
    this.onClose = onClose;
    this.onmessage = null;
    this.early = [];
    this.shut = false;
  }

  deliver(data) {
    if (this.early) this.early.push(data);
    else this.onmessage?.({ data });
  }

  start() {
    const early = this.early;
    this.early = null;
    for (const data of early) this.onmessage?.({ data });
  }

  postMessage(data) {
    if (!this.shut) this.channel.postMessage({ to: this.tab, from: this.host, data });
  }

  close() {
    this.shut = true;
    this.onClose();
  }
}
