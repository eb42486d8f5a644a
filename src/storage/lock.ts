// A directory lock against other processes: `threadraft.lock` holds the owner's pid. Threads of the
// same process share it (the node thread, its pool thread and the main thread's reader open the same
// environment). A lock whose pid is dead is stale and taken over.
import { linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { StorageError, StorageErrorCode } from './errors.js';

export const LOCK_FILE = 'threadraft.lock';

/** Opens of each directory on this thread, and whether this thread created the lock file. */
const held = new Map<string, { count: number; created: boolean }>();

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readPid(path: string): number | undefined {
  try {
    const n = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isSafeInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

export interface DirLock {
  release(): void;
}

/** Take the directory for this process, or throw DIR_LOCKED when another live process holds it. */
export function acquireDirLock(dir: string): DirLock {
  const path = join(dir, LOCK_FILE);
  const mine = held.get(path);
  if (mine) {
    mine.count++;
    return once(path);
  }
  let created = false;
  for (let attempt = 0; attempt < 5 && !created; attempt++) {
    // Write the pid to a private file, then link it into place: the lock file never exists half-written.
    const tmp = join(dir, `${LOCK_FILE}.${process.pid}.${threadId}`);
    writeFileSync(tmp, `${process.pid}\n`);
    try {
      linkSync(tmp, path);
      created = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw StorageError.wrap(err, 'store', 'open');
    } finally {
      unlinkSync(tmp);
    }
    if (created) break;
    const pid = readPid(path);
    if (pid === process.pid) break; // another thread of this process holds it: shared
    if (pid !== undefined && pidAlive(pid)) {
      throw new StorageError(StorageErrorCode.DIR_LOCKED, 'store', 'open', `${dir} is held by live process ${pid}`);
    }
    try {
      unlinkSync(path); // stale: its owner is dead
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw StorageError.wrap(err, 'store', 'open');
    }
  }
  if (!created && readPid(path) !== process.pid) {
    throw new StorageError(StorageErrorCode.DIR_LOCKED, 'store', 'open', `could not take the lock of ${dir}`);
  }
  held.set(path, { count: 1, created });
  return once(path);
}

function once(path: string): DirLock {
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      const h = held.get(path);
      if (!h || --h.count > 0) return;
      held.delete(path);
      // Only the thread that created the file removes it (other threads of this process may still use the env).
      if (h.created && readPid(path) === process.pid) {
        try {
          unlinkSync(path);
        } catch {
          // already gone
        }
      }
    },
  };
}
