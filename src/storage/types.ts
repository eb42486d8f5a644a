// The custom storage layer (the seed's LogStorage / StateMachine / SnapshotBuilder), synchronous:
// implementations run inside the blocking pool (or inline), never on a node's event loop directly.
import type { Entry, HardState, LogId, Membership, SnapshotMeta } from '../raft/types.js';
import type { ChangeEvent, CommandResult, Key, Value } from './command.js';

export interface LogState {
  /** The last entry purged (covered by a snapshot), or undefined if nothing was purged. */
  lastPurged: LogId | undefined;
  /** The last entry in the log, or lastPurged when the log is empty after a purge, or undefined when empty. */
  last: LogId | undefined;
}

export interface LogStorage {
  /** Append contiguous entries in one synced transaction. If entries[0].index <= last index, the conflicting suffix is truncated first. */
  append(entries: Entry[]): void;
  /** Entries with start <= index < end, in order. Indexes at or below lastPurged are an error (code LOG_PURGED). */
  entries(start: number, end: number): Entry[];
  logState(): LogState;
  /** Delete entries with index >= from. */
  truncate(from: number): void;
  /** Delete entries with index <= upTo.index and remember upTo as lastPurged. */
  purge(upTo: LogId): void;
  saveHardState(hs: HardState): void;
  loadHardState(): HardState; // { term: 0, vote: 0, commit: 0 } when never saved
}

/** A live key's value, revision (StateMachine.revision) and expiry (ms since the epoch; undefined: none). */
export interface KeyRecord<V = Value> {
  value: V;
  revision: number;
  expiresAt: number | undefined;
}

export interface AppliedState {
  lastApplied: LogId | undefined;
  membership: Membership;
}

export interface StateMachine {
  /** Apply committed entries in order, one result array per entry (empty for Noop). Entries at or below lastApplied are skipped (idempotent replay) and return []. */
  apply(entries: Entry[]): CommandResult[][];
  /** The value, or undefined when absent or expired at max(log clock, now ?? Date.now()). */
  get(key: Key, now?: number): Value | undefined;
  /** Remaining ms of the key's time-to-live, -1 when it has no expiry, undefined when absent (as get). */
  ttl(key: Key, now?: number): number | undefined;
  /** The key's expiry in ms since the epoch, -1 when it has no expiry, undefined when absent (as get). */
  expiresAt(key: Key, now?: number): number | undefined;
  /** Live pairs in key byte order (reverse: descending); at most opts.limit (default 1000), after opts.after (exclusive). */
  scan(range: ScanRange, opts?: ScanOptions, now?: number): Array<[Key, Value]>;
  /** Live keys (expired ones excluded, as get). */
  size(now?: number): number;
  /**
   * A live key picked by `r` (0 <= r < 1): the first live key, in key order and wrapping around, from the key at
   * index floor(r * keys) among the keys held (expired ones not purged yet included); undefined when none is live.
   */
  randomKey(r: number, now?: number): Key | undefined;
  /** The key's revision (apply.ts liveRevision): 0 when absent (as get), else a number every write of the key changes. */
  revision(key: Key, now?: number): number;
  /** The key's value, revision and expiry from one read of its record (a script's view of it); undefined when absent (as get). */
  record(key: Key, now?: number): KeyRecord | undefined;
  stats(): StoreStats;
  appliedState(): AppliedState;
}

/** scan()'s range: keys starting with `prefix`, or start <= key < end (byte order; either end open). */
export type ScanRange = { prefix: Key } | { start?: Key; end?: Key };

export interface ScanOptions {
  /** At most this many pairs (default 1000: page on with `after`). */
  limit?: number;
  reverse?: boolean;
  /** Exclusive resume point: the last key of the previous page. */
  after?: Key;
  /** Stop once the pairs' keys and values come to this many bytes (the pair that reaches it included). */
  maxBytes?: number;
}

export interface StoreStats {
  /** Records held, expired ones not purged yet included (what maxKeys counts). */
  keys: number;
  /** Their key + value bytes (what maxBytes counts). */
  bytes: number;
  /** Keys evicted by the bounds, and expired keys removed, by this replica since it was created. */
  evictions: number;
  expirations: number;
  /** The log clock: the latest entry time applied (ms since the epoch). */
  clock: number;
  /** Keys with an expiry (expired ones not purged yet included), and their mean expiry (ms since the epoch; 0 when none). */
  expires: number;
  meanExpiresAt: number;
}

/** A snapshot as a stream of chunks, produced from one consistent read view. */
export interface SnapshotStream {
  meta: SnapshotMeta;
  chunks: AsyncIterable<Uint8Array>;
}

/**
 * Everything one Ready asks of storage, written in ONE transaction (one fsync): install a received snapshot,
 * truncate + append entries, save hard state, apply committed entries, purge the log behind a snapshot point.
 */
export interface WriteBatch {
  entries: Entry[];
  hardState?: HardState;
  apply: Entry[];
  /**
   * Purge the log up to here. In an LMDB store a point that a checkpoint covers becomes the log's purge goal: each
   * log transaction deletes toward it a little more than it appends, and a batch of only this point up to 1 MiB
   * (docs/storage.md, "Purging the log"). Otherwise, and in the memory store, all at once.
   */
  purgeTo?: LogId;
}

export interface WriteBatchResult {
  /** One result array per entry of `apply`. */
  applied: CommandResult[][];
  appliedState: AppliedState;
  /** The changes the batch applied, in order, while the store records events (SyncStore.recordEvents). */
  events?: ChangeEvent[];
}

export type StorageKind = 'lmdb' | 'memory';

export interface StoreOptions {
  /** The node's own directory (LMDB environment). Ignored for memory. */
  dir?: string;
  /** Synced writes (default true). false is UNSAFE for durability: an acknowledged write may be lost on a machine crash. */
  sync?: boolean;
  maxValueBytes?: number;
  membership: Membership;
  /** Snapshot chunk size in bytes (default 1 MiB). */
  chunkBytes?: number;
  /** Bounds of the key/value data (default unbounded): after each entry the least recently written keys are evicted until within them. */
  maxKeys?: number;
  /** Key + value bytes (UTF-8 bytes for strings). */
  maxBytes?: number;
  /**
   * LMDB: the store was created before (a node restarted, a cluster reopened). Its log environment missing or empty
   * is then CORRUPT, not a new store: a node that forgot its votes could vote twice in a term under its old id.
   */
  existing?: boolean;
}
