// The custom storage layer: synchronous stores (LMDB, in-memory), validation helpers, the one error.
import { loadStore } from './open.js';

export * from './errors.js';
export * from './validate.js';
export type { SnapshotSink, SnapshotSource, SyncStore } from './store.js';
export { LmdbStore, LmdbStateReader, FORMAT_VERSION } from './lmdb.js';
export { MemoryStore } from './memory.js';
export { SESSION_DEFAULTS } from './apply.js';
export { DEFAULT_CHUNK_BYTES, SNAPSHOT_FORMAT } from './snapshot-format.js';
export { loadStore, openStore } from './open.js';

// This module exports the LMDB store, so it is loaded already: openStore('lmdb') works for whoever imports it.
await loadStore('lmdb');
