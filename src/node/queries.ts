// Read queries: what a read asks of a state machine once its barrier (read index, lease, or none for
// 'stale') is passed. The coordinator evaluates them on the main thread against an LMDB node's
// LmdbStateReader, or sends them with the read to a memory node, whose state only its thread can see;
// both evaluate them here, so a query means the same thing on either storage.
import type { Key, Value } from '../storage/command.js';

/** Byte order; `end` is exclusive. A prefix stands for [prefix, the next prefix). */
export type ScanRange = { prefix: Key } | { start?: Key; end?: Key };

export interface ScanOptions {
  limit?: number;
  reverse?: boolean;
  /** Resume after this key, in the scan's direction. */
  after?: Key;
}

export type ReadQuery =
  | { q: 'get'; key: Key }
  | { q: 'has'; key: Key }
  /** Remaining ms, -1 for a key without expiry, undefined when absent. */
  | { q: 'ttl'; key: Key }
  | { q: 'scan'; range: ScanRange; opts: ScanOptions }
  /** Live keys. */
  | { q: 'size' };

export type QueryResult = Value | undefined | boolean | number | Array<[Key, Value]>;

/**
 * What a state machine answers (the cache semantics of issue 13: an expired key is absent once its expiry is
 * <= max(the log's clock, `now`)). `now` is the caller's wall clock: the coordinator's, so that a test freezing
 * Date.now() on the main thread sees its keys expire.
 */
export interface StateView<R> {
  get(key: Key, now?: number): R extends 'sync' ? Value | undefined : Promise<Value | undefined>;
  ttl(key: Key, now?: number): R extends 'sync' ? number | undefined : Promise<number | undefined>;
  scan(range: ScanRange, opts: ScanOptions): R extends 'sync' ? Array<[Key, Value]> : Promise<Array<[Key, Value]>>;
  size(now?: number): R extends 'sync' ? number : Promise<number>;
}

const CACHE_METHODS = ['get', 'ttl', 'scan', 'size'] as const;

/**
 * The store seen as a StateView. Asserts the cache reads are there: a store without them (before the storage
 * side of issue 13) fails such a query loudly instead of answering wrongly.
 */
export function stateView<R extends 'sync' | 'async'>(store: object, query: ReadQuery['q']): StateView<R> {
  const s = store as Partial<Record<(typeof CACHE_METHODS)[number], unknown>>;
  const needed = query === 'scan' ? 'scan' : query === 'size' ? 'size' : query === 'ttl' ? 'ttl' : 'get';
  if (typeof s[needed] !== 'function') throw new Error(`this state machine has no ${needed}(): the ${query} query needs the cache storage (issue 13)`);
  return store as StateView<R>;
}

/** One query against a synchronous store (the main thread's LMDB reader). */
export function runQuerySync(store: object, query: ReadQuery, now: number | undefined): QueryResult {
  const s = stateView<'sync'>(store, query.q);
  switch (query.q) {
    case 'get':
      return s.get(query.key, now);
    case 'has':
      return s.get(query.key, now) !== undefined;
    case 'ttl':
      return s.ttl(query.key, now);
    case 'scan':
      return s.scan(query.range, query.opts);
    case 'size':
      return s.size(now);
  }
}

/** One query against the node's asynchronous storage (memory storage, on the node's thread). */
export async function runQuery(store: object, query: ReadQuery, now: number | undefined): Promise<QueryResult> {
  const s = stateView<'async'>(store, query.q);
  switch (query.q) {
    case 'get':
      return s.get(query.key, now);
    case 'has':
      return (await s.get(query.key, now)) !== undefined;
    case 'ttl':
      return s.ttl(query.key, now);
    case 'scan':
      return s.scan(query.range, query.opts);
    case 'size':
      return s.size(now);
  }
}
