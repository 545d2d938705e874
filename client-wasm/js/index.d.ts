// Type definitions for redis-wasm.
//
// Hand-written, except the body of `Commands<N>`: client-wasm/finish-pkg.mjs
// inserts one declaration per row of the Rust command table there
// (client-wasm/gen-types.mjs, from src/commands/mod.rs), so the types and
// the methods come from one source.
//
// `N` is a connection's native type: the type its encoder turns keys and
// values into and back from. `string` with `UTF8Encoder` (the default),
// `Uint8Array` with `BytesEncoder`, or whatever a custom `Encoder<N>` makes.

// ---------------------------------------------------------------- values

/** An integer reply: a `number`, or a `bigint` beyond ±2^53−1. An integer argument may be either. */
export type Int = number | bigint;

/**
 * "A list or iterable" argument: any iterable object (`Array`, `Set`,
 * generator...). A lone string is refused: it is not meant as a list of
 * characters.
 */
export type Many<T> = Iterable<T> & object;

/**
 * Field → value (or member → score) pairs: a `Map`, an iterable of
 * `[key, value]` pairs, or, when the native type is `string`, a plain object.
 */
export type Pairs<N, V> =
  | Map<N, V>
  | Iterable<readonly [N, V]>
  | ([N] extends [string] ? Readonly<Record<string, V>> : never);

/**
 * What `call()` and scripts resolve to: the reply decoded as JS has it. Bulk
 * strings are the native type, simple strings `string`, nil `null`; an
 * error nested in an array is an `ErrorReply` value.
 */
export type RedisValue<N = string> =
  | N
  | string
  | number
  | bigint
  | boolean
  | null
  | ErrorReply
  | RedisValue<N>[]
  | Set<RedisValue<N>>
  | Map<RedisValue<N>, RedisValue<N>>;

// ---------------------------------------------------------------- encoders

/** Turns native values into the bytes Redis stores, and back. */
export interface Encoder<N> {
  encodeFromNative(value: N): Uint8Array;
  decodeToNative(bytes: Uint8Array): N;
}

/** Native type `string` (the default). */
export declare class UTF8Encoder implements Encoder<string> {
  readonly nativeKind: 'utf8';
  encodeFromNative(value: string): Uint8Array;
  decodeToNative(bytes: Uint8Array): string;
}

/** Native type `Uint8Array`: binary data byte for byte. */
export declare class BytesEncoder implements Encoder<Uint8Array> {
  readonly nativeKind: 'bytes';
  encodeFromNative(value: Uint8Array): Uint8Array;
  decodeToNative(bytes: Uint8Array): Uint8Array;
}

// ---------------------------------------------------------------- arguments

/** A score boundary for `zrangebyscore` and friends: inclusive unless `excludeBoundary`. */
export declare class ZScoreBoundary {
  constructor(value: number | '-inf' | '+inf' | 'inf', excludeBoundary?: boolean);
  readonly value: number | '-inf' | '+inf' | 'inf';
  readonly excludeBoundary: boolean;
  static readonly MIN_VALUE: ZScoreBoundary;
  static readonly MAX_VALUE: ZScoreBoundary;
}

/** How `zinterstore` and `zunionstore` combine scores. */
export declare const ZAggregate: { readonly SUM: 'SUM'; readonly MIN: 'MIN'; readonly MAX: 'MAX' };
export type ZAggregate = 'SUM' | 'MIN' | 'MAX';

/** The options object of `set(key, value, options)`. */
export interface SetOptions {
  /** Expire after this many seconds (`EX`). */
  expire?: Int;
  /** Expire after this many milliseconds (`PX`). */
  pexpire?: Int;
  /** Set only if the key does not exist (`NX`). */
  onlyIfNotExists?: boolean;
  /** Set only if the key exists (`XX`). */
  onlyIfExists?: boolean;
}

/** The options of `Connection.create`. */
export interface ConnectionOptions<N = string> {
  /** The bridge's `ws://` or `wss://` URL. */
  url: string;
  /** Sent as `AUTH` once connected (and again after each reconnect). */
  password?: N | null;
  /** Sent as `SELECT` once connected, when not 0. */
  db?: Int | null;
  /** `UTF8Encoder` (the default), `BytesEncoder` or a custom `Encoder`. */
  encoder?: Encoder<N> | null;
  /** Reconnect with exponential backoff when the socket drops (default `true`). */
  autoReconnect?: boolean;
  /** The longest delay between two reconnect attempts, in milliseconds (default 2000). */
  reconnectCap?: number;
  /** Reject arguments of the wrong type with `TypeError` before sending (default `true`). */
  enableTypechecking?: boolean;
  /** A token of the bridge's `--tokens` file: the bridge logs in to Redis for this client. */
  token?: string | null;
}

/** The options of `Pool.create`: those of a connection, and how many. */
export interface PoolOptions<N = string> extends ConnectionOptions<N> {
  /** How many connections to open (default 1). */
  poolsize?: number;
}

/** The options of `fromUri`: the URI gives `url`, `password` and `db`. */
export type UriOptions<N = string> = Omit<ConnectionOptions<N>, 'url'>;

// ---------------------------------------------------------------- errors

/** The base class of every error the client raises (wrong argument types are `TypeError`s). */
export declare class RedisError extends Error {
  constructor(message?: string, options?: { cause?: unknown });
}
/** An error reply from the server (`WRONGTYPE ...`, `ERR ...`), with its text as `message`. */
export declare class ErrorReply extends RedisError {}
/** `exec()` failed: a watched key changed, or the transaction was discarded or aborted. */
export declare class TransactionError extends RedisError {}
/** The WebSocket could not be opened, or the connection is closed or reconnecting. */
export declare class NotConnectedError extends RedisError {}
/** The socket closed while the command was in flight. */
export declare class ConnectionLostError extends NotConnectedError {}
/** Every connection of the pool is in a transaction, a blocking call or pub/sub. */
export declare class NoAvailableConnectionsInPoolError extends RedisError {}
/** The script was killed by `SCRIPT KILL`. */
export declare class ScriptKilledError extends RedisError {}
/** `SCRIPT KILL` found no script running. */
export declare class NoRunningScriptError extends RedisError {}
/** A blocking pop timed out. */
export declare class TimeoutError extends RedisError {}

// ---------------------------------------------------------------- replies

/** A status reply (`+OK`, `+PONG`). */
export declare class StatusReply {
  constructor(status: string);
  readonly status: string;
  toString(): string;
}

/**
 * A multi-bulk reply that fills while it streams in. Iterate it with
 * `for await` to consume items as they are parsed, or wait for all of them.
 */
declare abstract class MultiBulkReply<T> implements AsyncIterable<T> {
  constructor(length: number);
  /** How many items the reply has (pairs count once). */
  readonly length: number;
  [Symbol.asyncIterator](): AsyncIterator<T>;
}

export declare class ListReply<T = string> extends MultiBulkReply<T> {
  aslist(): Promise<T[]>;
}

export declare class SetReply<T = string> extends MultiBulkReply<T> {
  asset(): Promise<Set<T>>;
}

/** Iterates `[key, value]` pairs. */
export declare class DictReply<K = string, V = string> extends MultiBulkReply<[K, V]> {
  asdict(): Promise<Map<K, V>>;
}

/** Iterates `[member, score]` pairs in rank order. */
export declare class ZRangeReply<M = string> extends MultiBulkReply<[M, number]> {
  /** Member → score. */
  asdict(): Promise<Map<M, number>>;
  /** The members in order. */
  aslist(): Promise<M[]>;
}

/** `CONFIG GET`: `null`s when no parameter matched. */
export declare class ConfigPairReply {
  constructor(parameter: string | null, value: string | null);
  readonly parameter: string | null;
  readonly value: string | null;
}

/** `BLPOP`/`BRPOP`: the list popped from and the value. */
export declare class BlockingPopReply<N = string> {
  constructor(listName: N, value: N);
  readonly listName: N;
  readonly value: N;
}

/** A published message; `pattern` is the matching pattern of a `psubscribe`, else `null`. */
export declare class PubSubReply<N = string> {
  constructor(channel: N, value: N, pattern?: N | null);
  readonly channel: N;
  readonly value: N;
  readonly pattern: N | null;
}

/** `INFO`: the raw text, and its sections parsed on demand. */
export declare class InfoReply {
  constructor(raw: string);
  readonly raw: string;
  /** Section name (`Server`, `Stats`...) → field → value, as the server spells them. */
  sections(): Map<string, Map<string, string>>;
}

/** `CLIENT LIST`: the raw text, and one `Map` of fields per client. */
export declare class ClientListReply {
  constructor(raw: string);
  readonly raw: string;
  /** One `Map` per client: `id`, `addr`, `name`, `db`, ... → value. */
  clients(): Map<string, string>[];
}

/** The reply of a Lua script. */
export declare class EvalScriptReply<N = string> {
  constructor(value: RedisValue<N>);
  /** What the script returned, decoded (tables become arrays). */
  returnValue(): Promise<RedisValue<N>>;
}

// ---------------------------------------------------------------- commands

/**
 * Every command method of the seed's `RedisProtocol`, on `Connection`,
 * `Pool` and `Transaction`. Every one returns a Promise, and every failure
 * is a rejection: `TypeError` for a wrong argument (before anything is
 * sent), `ErrorReply` for an error reply, `NotConnectedError` when there is
 * no connection.
 */
export interface Commands<N> {
  /**
   * `SET key value`, with `{ expire, pexpire, onlyIfNotExists, onlyIfExists }`.
   * Resolves to a `StatusReply`, or `null` when a condition kept the key from being set.
   */
  set(key: N, value: N, options?: SetOptions | null): Promise<StatusReply | null>;
  /**
   * Sends any Redis command: `call('HSET', 'h', 'field', 'value')`. Numbers
   * and bigints are sent as their decimal text, other arguments through the
   * encoder. Resolves to the plain decoding of the reply.
   */
  call(name: string, ...args: (N | number | bigint)[]): Promise<RedisValue<N>>;
  /** Insert `value` before (`before` true) or after `pivot`; resolves to the new length (-1 when `pivot` is missing). */
  linsert(key: N, pivot: N, value: N, before?: boolean): Promise<Int>;
  /** Store the intersection of sorted sets; scores are multiplied by `weights` and combined by `aggregate` (default `SUM`). */
  zinterstore(destination: N, keys: Many<N>, weights?: Many<number> | null, aggregate?: ZAggregate | Lowercase<ZAggregate> | null): Promise<Int>;
  /** Store the union of sorted sets; arguments as `zinterstore`. */
  zunionstore(destination: N, keys: Many<N>, weights?: Many<number> | null, aggregate?: ZAggregate | Lowercase<ZAggregate> | null): Promise<Int>;
  /** Run a cached script by its SHA1 digest; rejects with `ScriptKilledError` when it is killed. */
  evalsha(sha: string, keys?: Many<N> | null, args?: Many<N> | null): Promise<EvalScriptReply<N>>;
  /** Stop the server, saving first when `save` is true. */
  shutdown(save?: boolean): Promise<StatusReply>;

  /* @generated commands */
}

/** A scan in progress, from `scan`, `sscan`, `hscan` or `zscan`. */
export declare class Cursor<T = string, All = T[]> implements AsyncIterable<T> {
  private constructor();
  /** The next item, or `null` after the last. */
  fetchone(): Promise<T | null>;
  /** Every remaining item. */
  fetchall(): Promise<All>;
  [Symbol.asyncIterator](): AsyncIterator<T>;
  /** Frees the wasm memory now rather than when garbage-collected. */
  free(): void;
}

/** What `Connection` and `Pool` both offer besides the command methods. */
interface Client<N> {
  /** Start a transaction, watching `watch` first. */
  multi(watch?: Many<N> | null): Promise<Transaction<N>>;
  /** Enter pub/sub mode (a `Pool` gives up one of its connections for it). */
  startSubscribe(): Promise<Subscription<N>>;
  /** Load a Lua script (`SCRIPT LOAD`); `run` uses `EVALSHA`. */
  registerScript(script: N): Promise<Script<N>>;
  /** Iterate the keys matching `match` (default `*`). */
  scan(match?: N | null): Cursor<N, N[]>;
  /** Iterate the members of a set. */
  sscan(key: N, match?: N | null): Cursor<N, Set<N>>;
  /** Iterate the fields of a hash: items are `[field, value]`. */
  hscan(key: N, match?: N | null): Cursor<[N, N], Map<N, N>>;
  /** Iterate a sorted set: items are `[member, score]`. */
  zscan(key: N, match?: N | null): Cursor<[N, number], Map<N, number>>;
  /** Close (every connection); commands in flight reject with `ConnectionLostError`. */
  close(): void;
  /** Frees the wasm memory now rather than when garbage-collected. */
  free(): void;
}

/** One Redis connection through a WebSocket bridge. */
export declare class Connection<N = string> {
  private constructor();
  /**
   * Opens a connection. Rejects with `NotConnectedError` when the WebSocket
   * cannot be opened, or with the server's `ErrorReply` when AUTH or SELECT fails.
   */
  static create(options: ConnectionOptions<string>): Promise<Connection<string>>;
  static create(options: ConnectionOptions<Uint8Array> & { encoder: BytesEncoder }): Promise<Connection<Uint8Array>>;
  static create<N>(options: ConnectionOptions<N> & { encoder: Encoder<N> }): Promise<Connection<N>>;
  /**
   * Opens a connection from `ws[s]://[user:password@]host:port[/path][/DB][?password=...]`:
   * a last path segment that is a number is the database.
   */
  static fromUri(uri: string, options?: UriOptions<string>): Promise<Connection<string>>;
  static fromUri(uri: string, options: UriOptions<Uint8Array> & { encoder: BytesEncoder }): Promise<Connection<Uint8Array>>;
  static fromUri<N>(uri: string, options: UriOptions<N> & { encoder: Encoder<N> }): Promise<Connection<N>>;

  /** Whether the socket is open (false while reconnecting). */
  readonly isConnected: boolean;
  readonly inTransaction: boolean;
  readonly inPubsub: boolean;
  readonly inBlockingCall: boolean;
  /** In a transaction, a blocking call or pub/sub. */
  readonly inUse: boolean;
}
export interface Connection<N = string> extends Commands<N>, Client<N> {}

/** Several connections behind one command API: each command goes to a free one. */
export declare class Pool<N = string> {
  private constructor();
  /** Opens `poolsize` connections; rejects as `Connection.create` does. */
  static create(options: PoolOptions<string>): Promise<Pool<string>>;
  static create(options: PoolOptions<Uint8Array> & { encoder: BytesEncoder }): Promise<Pool<Uint8Array>>;
  static create<N>(options: PoolOptions<N> & { encoder: Encoder<N> }): Promise<Pool<N>>;

  readonly poolsize: number;
  /** How many connections are in a transaction, blocking call or pub/sub. */
  readonly connectionsInUse: number;
  readonly connectionsConnected: number;
}
export interface Pool<N = string> extends Commands<N>, Client<N> {}

/**
 * A transaction from `multi()`. Each command is queued at once and its
 * Promise settles at `exec()` with its own result; a watch conflict rejects
 * them with `TransactionError`.
 */
export declare class Transaction<N = string> {
  private constructor();
  /** Runs the queued commands; rejects with `TransactionError` on a watch conflict. */
  exec(): Promise<void>;
  /** Abandons the transaction: the queued Promises reject with `TransactionError`. */
  discard(): Promise<void>;
  /** Forget the watched keys (queued like the other commands). */
  unwatch(): Promise<void>;
  free(): void;
}
export interface Transaction<N = string> extends Commands<N> {}

/** A connection's pub/sub side, from `startSubscribe()`; `for await` yields the published messages. */
export declare class Subscription<N = string> implements AsyncIterable<PubSubReply<N>> {
  private constructor();
  subscribe(channels: Many<N>): Promise<void>;
  psubscribe(patterns: Many<N>): Promise<void>;
  /** An empty list unsubscribes from every channel. */
  unsubscribe(channels: Many<N>): Promise<void>;
  /** An empty list unsubscribes from every pattern. */
  punsubscribe(patterns: Many<N>): Promise<void>;
  /** The next published message; messages that arrived earlier come first. */
  nextPublished(): Promise<PubSubReply<N>>;
  ping(): Promise<StatusReply>;
  [Symbol.asyncIterator](): AsyncIterator<PubSubReply<N>>;
  free(): void;
}

/** A Lua script from `registerScript(code)`. */
export declare class Script<N = string> {
  private constructor();
  /** Runs the script by its digest (sending it whole once if the server lost it). */
  run(keys?: Many<N> | null, args?: Many<N> | null): Promise<EvalScriptReply<N>>;
  /** The script's SHA1 digest. */
  readonly sha: string;
  /** The script's source. */
  readonly code: N;
  free(): void;
}

// Only what is marked `export` above is part of the package.
export {};
