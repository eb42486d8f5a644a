// Tasks the node thread sends to its storage pool thread, and the replies. Plain data only.
import type { Entry, LogId, Membership, SnapshotMeta } from '../raft/types.js';
import type { StoreRole } from '../storage/memory.js';
import type { StorageErrorData } from '../storage/errors.js';
import type { ScanOptions, ScanRange, StorageKind, WriteBatch } from '../storage/types.js';

/**
 * How entries cross the thread boundary. `pack`: one msgpackr buffer, transferred (zero-copy move);
 * entry data come back as views of that buffer. `clone`: structured clone of the objects.
 * Default 'clone', chosen by measurement (bench/adaptor.ts, docs/benchmarks.md).
 */
export type TransferMode = 'pack' | 'clone';

export interface OpenParams {
  kind: StorageKind;
  dir?: string;
  sync?: boolean;
  maxValueBytes?: number;
  membership: Membership;
  chunkBytes?: number;
  maxSessions?: number;
  role?: StoreRole;
  maxKeys?: number;
  maxBytes?: number;
  existing?: boolean;
}

export type Task =
  | { op: 'open'; params: OpenParams }
  | { op: 'write'; batch: WriteBatch }
  | { op: 'write-packed'; buf: Uint8Array }
  | { op: 'entries'; start: number; end: number; packed: boolean }
  | { op: 'log-state' }
  | { op: 'applied-state' }
  | { op: 'initial' }
  | { op: 'get'; key: Uint8Array; now?: number }
  | { op: 'ttl'; key: Uint8Array; now?: number }
  | { op: 'expiresAt'; key: Uint8Array; now?: number }
  | { op: 'scan'; range: ScanRange; opts?: ScanOptions }
  | { op: 'size'; now?: number }
  | { op: 'stats' }
  | { op: 'record-events'; on: boolean }
  | { op: 'snap-open' }
  | { op: 'snap-next'; id: number }
  | { op: 'snap-close'; id: number }
  | { op: 'recv-open' }
  | { op: 'recv-write'; id: number; chunk: Uint8Array }
  | { op: 'recv-check'; id: number; meta: SnapshotMeta }
  | { op: 'recv-install'; id: number; meta: SnapshotMeta }
  | { op: 'recv-abort'; id: number }
  | { op: 'reset-log'; point: LogId; membership: Membership }
  | { op: 'refresh-log' }
  /**
   * The pool thread's health (thread-health.ts): `reset` starts (or restarts) measuring, else its memory and (once
   * measuring) the health counters since.
   */
  | { op: 'health'; reset: boolean }
  | { op: 'close' }
  | { op: 'noop' }
  | { op: 'echo-clone'; entries: Entry[] }
  | { op: 'echo-packed'; buf: Uint8Array };

export type Reply = { ok: true; v: unknown } | { ok: false; e: StorageErrorData };
