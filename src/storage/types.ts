// The custom storage layer (the seed's LogStorage / StateMachine / SnapshotBuilder), synchronous:
// implementations run inside the blocking pool (or inline), never on a node's event loop directly.
import type { Entry, HardState, LogId, Membership, SnapshotMeta } from '../raft/types.js';
import type { CommandResult, Key, Value } from './command.js';

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

export interface AppliedState {
  lastApplied: LogId | undefined;
  membership: Membership;
}

export interface StateMachine {
  /** Apply committed entries in order, one result array per entry (empty for Noop). Entries at or below lastApplied are skipped (idempotent replay) and return []. */
  apply(entries: Entry[]): CommandResult[][];
  get(key: Key): Value | undefined;
  appliedState(): AppliedState;
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
  purgeTo?: LogId;
}

export interface WriteBatchResult {
  /** One result array per entry of `apply`. */
  applied: CommandResult[][];
  appliedState: AppliedState;
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
}
