// A directory lock against other processes: `threadraft.lock` holds the owner's pid. Threads of the
// same process share it (the node thread, its pool thread and the main thread's reader open the same
// environment). A lock whose pid is dead is stale and taken over.
import { randomUUID } from 'node:crypto';
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

export const CLUSTER_LOCK_FILE = 'threadraft-cluster.lock';

/**
 * A cluster's hold on its directory, against every other cluster, of this process or another: the
 * node-store locks above are shared by the threads of a process (a node's thread, its pool thread and
 * the coordinator's reader open the same environment), so they cannot tell two clusters of one process
 * apart. The file is created exclusively (linked into place) with `pid token`; any existing file whose
 * pid is alive, ours included, means DIR_LOCKED: the cluster holding it releases it in stop(). A file
 * whose pid is dead is stale and taken over. Release removes the file only if it still holds our token.
 */
export function acquireClusterLock(dir: string): DirLock {
  const path = join(dir, CLUSTER_LOCK_FILE);
  const token = `${process.pid} ${threadId} ${randomUUID()}`;
  for (let attempt = 0; attempt < 5; attempt++) {
    const tmp = join(dir, `${CLUSTER_LOCK_FILE}.${randomUUID()}`);
    writeFileSync(tmp, `${token}\n`);
    try {
      linkSync(tmp, path);
      return clusterRelease(path, token);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw StorageError.wrap(err, 'store', 'open');
    } finally {
      unlinkSync(tmp);
    }
    const pid = readPid(path);
    if (pid !== undefined && pidAlive(pid)) {
      const who = pid === process.pid ? 'another cluster of this process' : `live process ${pid}`;
      throw new StorageError(StorageErrorCode.DIR_LOCKED, 'store', 'open', `${dir} is in use by ${who} (${path})`);
    }
    try {
      unlinkSync(path); // stale: its owner is dead
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw StorageError.wrap(err, 'store', 'open');
    }
  }
  throw new StorageError(StorageErrorCode.DIR_LOCKED, 'store', 'open', `could not take the lock of ${dir}`);
}

function clusterRelease(path: string, token: string): DirLock {
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      try {
        if (readFileSync(path, 'utf8').trim() === token) unlinkSync(path);
      } catch {
        // already gone
      }
    },
  };
}
