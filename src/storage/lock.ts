// A directory lock against other processes: `threadraft.lock` holds the owner's pid and start time. Threads of
// the same process share it (the node thread, its pool thread and the main thread's reader open the same
// environment). A lock whose process is gone is stale and taken over: its pid is dead, or now names another
// process (its start time differs: a container's node is pid 1 at every restart).
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
  return readOwner(path)?.pid;
}

/**
 * The start time of process `pid` in clock ticks after boot (field 22 of /proc/<pid>/stat), or undefined where
 * there is no /proc: with the pid, it names one process, whereas a pid alone is reused.
 */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

const ownStart = startTime(process.pid);
/** What a lock file says of its owner: ` start=<ticks>` after the pid, where known. */
const ownerTag = ownStart === undefined ? '' : ` start=${ownStart}`;

/** A lock file's owner: its pid (the first number) and start time (`start=`; absent in older files). */
function readOwner(path: string): { pid: number; start: string | undefined } | undefined {
  return parseOwner(readText(path));
}

function parseOwner(text: string | undefined): { pid: number; start: string | undefined } | undefined {
  if (text === undefined) return undefined;
  const pid = Number.parseInt(text.trim(), 10);
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  return { pid, start: /\bstart=(\d+)/.exec(text)?.[1] };
}

/** A lock file's text, or undefined when it cannot be read (it is gone). */
function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Whether the process a lock file names still runs: its pid is alive and, where both are known, it started when the file says. */
function ownerAlive(owner: { pid: number; start: string | undefined }): boolean {
  if (!pidAlive(owner.pid)) return false;
  if (owner.start === undefined) return true;
  const now = owner.pid === process.pid ? ownStart : startTime(owner.pid);
  return now === undefined || now === owner.start;
}

/**
 * Create `path` holding `text` unless it exists (then false): written to the private file `tmp`, then linked into
 * place, so that the file never exists half-written.
 */
function createFile(path: string, tmp: string, text: string): boolean {
  writeFileSync(tmp, text);
  try {
    linkSync(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw StorageError.wrap(err, 'store', 'open');
    return false;
  } finally {
    unlinkSync(tmp);
  }
}

/** Waits of 1 ms while another opener removes a stale lock (Atomics.wait on a private cell: a synchronous sleep). */
const pause = new Int32Array(new SharedArrayBuffer(4));
const BREAK_WAITS = 1000;

/**
 * Remove the lock file at `path` that was judged stale, but only if it still says `staleText`. Openers that
 * judged the same file stale take turns through `<file>.break`, created exclusively like the lock: each re-reads
 * the file first. Without that, two of them could both remove it, the second removing the lock the first had just
 * taken, and both would hold the directory. A `.break` file whose owner is gone (it crashed in these few steps) is
 * itself removed; that removal is not guarded again, so two openers racing a crashed remover could still both
 * pass: a crash within microseconds of taking over a crashed owner's lock, while another opener starts.
 */
function removeStale(path: string, staleText: string | undefined): void {
  if (staleText === undefined) return; // gone already: the next link tells
  const breaker = `${path}.break`;
  for (let wait = 0; ; wait++) {
    if (createFile(breaker, `${breaker}.${process.pid}.${threadId}`, `${process.pid}${ownerTag}\n`)) {
      try {
        if (readText(path) === staleText) unlinkSync(path);
        return;
      } finally {
        unlinkSync(breaker);
      }
    }
    const breakerText = readText(breaker);
    if (breakerText === undefined) continue; // released meanwhile: try again now
    const owner = parseOwner(breakerText);
    if (owner === undefined || !ownerAlive(owner)) {
      try {
        unlinkSync(breaker); // its owner crashed while removing a stale lock (or its text was lost with the power)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw StorageError.wrap(err, 'store', 'open');
      }
    } else if (wait >= BREAK_WAITS) {
      throw new StorageError(StorageErrorCode.DIR_LOCKED, 'store', 'open', `${breaker} was held for ${BREAK_WAITS} ms: another process is taking ${path} over`);
    } else {
      Atomics.wait(pause, 0, 0, 1);
    }
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
    created = createFile(path, join(dir, `${LOCK_FILE}.${process.pid}.${threadId}`), `${process.pid}${ownerTag}\n`);
    if (created) break;
    const text = readText(path);
    const owner = parseOwner(text);
    const live = owner !== undefined && ownerAlive(owner);
    if (live && owner.pid === process.pid) break; // another thread of this process holds it: shared
    if (live) throw new StorageError(StorageErrorCode.DIR_LOCKED, 'store', 'open', `${dir} is held by live process ${owner.pid}`);
    removeStale(path, text);
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
 * apart. The file is created exclusively (linked into place) with `pid thread token start=…`; any existing
 * file whose process still runs, ours included, means DIR_LOCKED: the cluster holding it releases it in
 * stop(). A file whose process is gone (ownerAlive) is stale and taken over. Release removes the file only
 * if it still holds our token.
 */
export function acquireClusterLock(dir: string): DirLock {
  const path = join(dir, CLUSTER_LOCK_FILE);
  const token = `${process.pid} ${threadId} ${randomUUID()}${ownerTag}`;
  for (let attempt = 0; attempt < 5; attempt++) {
    if (createFile(path, join(dir, `${CLUSTER_LOCK_FILE}.${randomUUID()}`), `${token}\n`)) return clusterRelease(path, token);
    const text = readText(path);
    const owner = parseOwner(text);
    if (owner !== undefined && ownerAlive(owner)) {
      const who = owner.pid === process.pid ? 'another cluster of this process' : `live process ${owner.pid}`;
      throw new StorageError(StorageErrorCode.DIR_LOCKED, 'store', 'open', `${dir} is in use by ${who} (${path})`);
    }
    removeStale(path, text);
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
