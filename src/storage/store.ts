// The synchronous store both implementations provide: LogStorage + StateMachine + the write batch,
// the initial state, and snapshot streams. Adaptors run it in the pool thread or inline.
import type { InitialState, LogId, Membership, SnapshotMeta } from '../raft/types.js';
import type { ReplicaDigest } from './command.js';
import type { LogStorage, StateMachine, StorageKind, WriteBatch, WriteBatchResult } from './types.js';

/** A snapshot being read from one consistent view, one chunk at a time. */
export interface SnapshotSource {
  readonly meta: SnapshotMeta;
  /** The next chunk (its own buffer), or undefined at the end. */
  next(): Uint8Array | undefined;
  /** Release the read view (idempotent). */
  close(): void;
}

/** A snapshot being received: chunks are staged beside the live state, which `install` replaces atomically. */
export interface SnapshotSink {
  write(chunk: Uint8Array): void;
  /** Throws SNAPSHOT_INVALID unless the staged stream is complete and is snapshot `meta` (what install checks first). */
  check(meta: SnapshotMeta): void;
  /** Replace the state machine with the staged one and reset the log to (meta.index, meta.term), in one transaction. */
  install(meta: SnapshotMeta): void;
  abort(): void;
}

export interface SyncStore extends LogStorage, StateMachine {
  readonly kind: StorageKind;
  /** Entries (truncating a conflicting suffix first), hard state, apply, purge: one transaction. */
  write(batch: WriteBatch): WriteBatchResult;
  initialState(): InitialState;
  openSnapshot(): SnapshotSource;
  /** Starts receiving; a sink from an earlier call becomes invalid (SNAPSHOT_ABORTED). */
  receiveSnapshot(): SnapshotSink;
  /** Make the state machine durable up to its applied index (LMDB: a synced copy); the log may then be purged up to it. */
  checkpoint(): LogId;
  /** The same without blocking the calling thread (LMDB: a hot copy in a libuv thread while applies go on). */
  checkpointAsync(): Promise<LogId>;
  /** About the bytes a checkpoint copies now (LMDB: the state file's pages in use; memory: 0, it copies nothing). */
  checkpointBytes(): number;
  /** The log restarts after `point` (a snapshot was installed by the state's writer). */
  resetLogTo(point: LogId, membership: Membership): void;
  /**
   * Another thread's store of this directory wrote the log since this one did (LMDB: a node's log is written on
   * its own thread while it follows and by its pool thread while it leads): read the log's mirrors again (its
   * last entry, purge point, checkpoint, membership). The caller makes sure the other writes are done.
   */
  refreshLog(): void;
  /** While on, each write's result lists its ChangeEvents (WriteBatchResult.events). Off by default. */
  recordEvents(on: boolean): void;
  /**
   * Work that applies deferred, done now (the expiry index's moves): the node calls it while its log write syncs.
   * Optional for the caller: whatever reads that work does it first.
   */
  maintain(): void;
  /**
   * The earliest expiry the state holds (Infinity when none): a key not purged yet may expire then (it may also have
   * been rewritten since, which the next purge finds). A leader with nothing in flight proposes an entry once it is
   * due, so that an idle cluster removes expired keys too (their watchers' `expire` events included).
   */
  nextExpiry(): number;
  /** Digests (Op 'digest') in progress: each reads a view of the state as it stood after its entry. */
  readonly digestsPending: number;
  /**
   * Hash up to `maxRecords` records of the oldest digest in progress; the digests finished (the node calls it between
   * its Raft steps while digestsPending, and reports them for Cluster.checkReplicas).
   */
  digestStep(maxRecords: number): ReplicaDigest[];
  /**
   * Give back this thread's read snapshots now (LMDB: lmdb-js keeps a read transaction until a later macrotask,
   * which a pool thread blocked waiting for its next task never runs; a snapshot held there keeps every page freed
   * since from being reused). The pool thread calls it after each task. Snapshot sources keep their own view.
   */
  releaseReads(): void;
  close(): void;
}
