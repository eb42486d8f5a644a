// The custom storage layer: synchronous stores (LMDB, in-memory), validation helpers, the one error.
import { LmdbStore } from './lmdb.js';
import { MemoryStore, type StoreTuning } from './memory.js';
import type { SyncStore } from './store.js';
import type { StorageKind, StoreOptions } from './types.js';

export * from './errors.js';
export * from './validate.js';
export type { SnapshotSink, SnapshotSource, SyncStore } from './store.js';
export { LmdbStore, LmdbStateReader, FORMAT_VERSION } from './lmdb.js';
export { MemoryStore } from './memory.js';
export { SESSION_DEFAULTS } from './apply.js';
export { DEFAULT_CHUNK_BYTES, SNAPSHOT_FORMAT } from './snapshot-format.js';

export function openStore(kind: StorageKind, opts: StoreOptions & StoreTuning): SyncStore {
  return kind === 'lmdb' ? LmdbStore.open(opts) : new MemoryStore(opts);
}
