// Opening a store of either kind. The LMDB store's module, and with it the lmdb package (a native addon), loads
// when an LMDB store is first wanted (loadStore): a node thread with memory storage never loads it, about a quarter
// of the CPU time a memory cluster takes to start and stop (docs/storage.md).
import { MemoryStore, type StoreTuning } from './memory.js';
import type { SyncStore } from './store.js';
import type { StorageKind, StoreOptions } from './types.js';

let lmdb: typeof import('./lmdb.js') | undefined;

/** Load what a store of `kind` needs (the LMDB store's module): openStore(kind) requires it done. */
export async function loadStore(kind: StorageKind): Promise<void> {
  if (kind === 'lmdb') lmdb ??= await import('./lmdb.js');
}

export function openStore(kind: StorageKind, opts: StoreOptions & StoreTuning): SyncStore {
  if (kind !== 'lmdb') return new MemoryStore(opts);
  if (lmdb === undefined) throw new Error("openStore('lmdb') before loadStore('lmdb'): the LMDB store's module is not loaded");
  return lmdb.LmdbStore.open(opts);
}
