// Read queries: what a read asks of a state machine once its barrier (read index, lease, or none for
// 'stale') is passed. The coordinator evaluates them on the main thread against an LMDB node's
// LmdbStateReader, or sends them with the read to a memory node, whose state only its thread can see;
// both evaluate them here, so a query means the same thing on either storage.
import type { Key, Value } from '../storage/command.js';
import type { KeyRecord, ScanOptions, ScanRange } from '../storage/types.js';

export type { KeyRecord, ScanOptions, ScanRange };

export type ReadQuery =
  | { q: 'get'; key: Key }
  | { q: 'has'; key: Key }
  /** Remaining ms, -1 for a key without expiry, undefined when absent. */
  | { q: 'ttl'; key: Key }
  /** The expiry in ms since the epoch, -1 for a key without expiry, undefined when absent. */
  | { q: 'expiresAt'; key: Key }
  | { q: 'scan'; range: ScanRange; opts: ScanOptions }
  /** Live keys. */
  | { q: 'size' }
  /** The key's revision (0: absent). */
  | { q: 'rev'; key: Key }
  /** The key's value, revision and expiry, from one read of its record; undefined when absent. */
  | { q: 'record'; key: Key }
  /** A live key picked by `r` in [0, 1) (StateMachine.randomKey), undefined when none. */
  | { q: 'random'; r: number };

export type QueryResult = Value | undefined | boolean | number | Array<[Key, Value]> | KeyRecord;

/**
 * What a state machine answers (the cache semantics of issue 13: an expired key is absent once its expiry is
 * <= max(the log's clock, `now`)). `now` is the caller's wall clock: the coordinator's, so that a test freezing
 * Date.now() on the main thread sees its keys expire.
 */
export interface StateView {
  get(key: Key, now?: number): Value | undefined;
  ttl(key: Key, now?: number): number | undefined;
  expiresAt(key: Key, now?: number): number | undefined;
  scan(range: ScanRange, opts: ScanOptions, now?: number): Array<[Key, Value]>;
  revision(key: Key, now?: number): number;
  record(key: Key, now?: number): KeyRecord | undefined;
  randomKey(r: number, now?: number): Key | undefined;
  /** Only the store that applies has it: it counts expired keys not yet purged through its expiry index, kept in memory. */
  size?(now?: number): number;
}

/** Queries that only the node's own thread can answer (see StateView.size): the coordinator sends them to the node. */
export function needsNode(queries: readonly ReadQuery[]): boolean {
  return queries.some((q) => q.q === 'size');
}

/** One query against a state machine read on the calling thread: the main thread's LMDB reader, or a memory node's own store. */
export function runQuery(s: StateView, query: ReadQuery, now: number | undefined): QueryResult {
  switch (query.q) {
    case 'get':
      return s.get(query.key, now);
    case 'has':
      return s.get(query.key, now) !== undefined;
    case 'ttl':
      return s.ttl(query.key, now);
    case 'expiresAt':
      return s.expiresAt(query.key, now);
    case 'scan':
      return s.scan(query.range, query.opts, now);
    case 'rev':
      return s.revision(query.key, now);
    case 'record':
      return s.record(query.key, now);
    case 'random':
      return s.randomKey(query.r, now);
    case 'size':
      if (!s.size) throw new Error('size is answered by the node that applies');
      return s.size(now);
  }
}
