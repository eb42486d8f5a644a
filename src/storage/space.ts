// The free-space check before every state transaction. The state environment is written through a shared
// memory map (MDB_WRITEMAP, docs/storage.md): when the file system cannot give a page of the file a block, the
// write is a SIGBUS that ends the whole process, not an ENOSPC error. So a state transaction is refused, with
// NO_SPACE, while the file system has less than a reserve free; the node then stops as on any storage error.
import { statfsSync } from 'node:fs';
import { StorageError, StorageErrorCode, type StorageSubject, type StorageVerb } from './errors.js';

/** Bytes an unprivileged writer may still use on the file system that holds `dir`. */
export type FreeBytes = (dir: string) => number;

export const statfsFreeBytes: FreeBytes = (dir) => {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
};

/** Below this much free space a state transaction is refused. */
export const SPACE_RESERVE_BYTES = 64 * 1024 * 1024;
/**
 * How often the free space is read. A state transaction writes at most a few new pages per put (a leaf and the
 * branches above it, 4 KiB each, when no freed page can be reused): at 100,000 puts/s, about the fastest rate
 * seen here, that is under 1.2 GB/s, so under the reserve in SPACE_RECHECK_MS, and under SPACE_AMPLE_BYTES in
 * SPACE_SLOW_RECHECK_MS. Usually the state grows by its new data only.
 */
export const SPACE_RECHECK_MS = 50;
export const SPACE_SLOW_RECHECK_MS = 1000;
export const SPACE_AMPLE_BYTES = 4 * 1024 * 1024 * 1024;

export class SpaceGuard {
  private nextCheck = 0;

  constructor(
    private readonly dir: string,
    private readonly freeBytes: FreeBytes = statfsFreeBytes,
    private readonly now: () => number = Date.now,
  ) {}

  /** Throws NO_SPACE when the file system is short of the reserve; statfs at most once per recheck interval. */
  check(subject: StorageSubject, verb: StorageVerb): void {
    const t = this.now();
    if (t < this.nextCheck) return;
    let free: number;
    try {
      free = this.freeBytes(this.dir);
    } catch (err) {
      throw StorageError.wrap(err, subject, verb);
    }
    if (free < SPACE_RESERVE_BYTES) {
      this.nextCheck = 0; // read again before the next transaction: space may come back
      throw new StorageError(StorageErrorCode.NO_SPACE, subject, verb, `${Math.floor(free / 1048576)} MiB free on the file system of ${this.dir}, under the reserve of ${SPACE_RESERVE_BYTES / 1048576} MiB the state needs to be written`);
    }
    this.nextCheck = t + (free >= SPACE_AMPLE_BYTES ? SPACE_SLOW_RECHECK_MS : SPACE_RECHECK_MS);
  }
}
