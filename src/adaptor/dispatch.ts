// Runs tasks against one synchronous store: in the pool thread (workers/storage-task.ts) or inline.
// Snapshot sources and sinks live here, by id, so a read transaction stays in the thread that opened it.
import { packCopy, unpack } from '../storage/codec.js';
import { StorageError, StorageErrorCode } from '../storage/errors.js';
import { openStore } from '../storage/open.js';
import type { SnapshotSink, SnapshotSource, SyncStore } from '../storage/store.js';
import type { WriteBatch } from '../storage/types.js';
import { ThreadHealth, poolMemory } from '../util/thread-health.js';
import type { Reply, Task } from './protocol.js';

/** A reply and the buffers to transfer with it (moved, not copied). */
export interface Outcome {
  reply: Reply;
  transfer: ArrayBuffer[];
}

export class Dispatcher {
  /** `store`: an open store to serve (the simulation's); otherwise the 'open' task opens one. */
  constructor(private store?: SyncStore) {}
  private nextId = 1;
  /** This thread's health, from the first 'health' task (the pool thread's, for the benchmark). */
  private health: ThreadHealth | undefined;
  private readonly sources = new Map<number, SnapshotSource>();
  private readonly sinks = new Map<number, SnapshotSink>();

  handle(task: Task): Outcome {
    try {
      return this.run(task);
    } catch (err) {
      return { reply: { ok: false, e: StorageError.wrap(err, 'store', verbOf(task)).toJSON() }, transfer: [] };
    } finally {
      // The pool thread may now wait for its next task without ever yielding to lmdb-js's own release of the read
      // snapshot a read took (a follower's pool thread runs 'initial' and then nothing): give it back now.
      this.store?.releaseReads();
    }
  }

  /** The store itself, for a caller on its own thread (the inline backend). */
  storeForInline(): SyncStore {
    return this.s();
  }

  private s(): SyncStore {
    if (!this.store) throw new StorageError(StorageErrorCode.CLOSED, 'store', 'read', 'storage is not open');
    return this.store;
  }

  private ok(v: unknown, transfer: ArrayBuffer[] = []): Outcome {
    return { reply: { ok: true, v }, transfer };
  }

  private run(task: Task): Outcome {
    switch (task.op) {
      case 'open':
        if (!this.store) this.store = openStore(task.params.kind, task.params);
        return this.ok(undefined);
      case 'write':
        return this.ok(this.s().write(task.batch));
      case 'write-packed': {
        const res = this.s().write(unpack<WriteBatch>(task.buf));
        const out = packCopy(res);
        return this.ok(out, [out.buffer as ArrayBuffer]);
      }
      case 'entries': {
        const entries = this.s().entries(task.start, task.end);
        if (!task.packed) return this.ok(entries);
        const out = packCopy(entries);
        return this.ok(out, [out.buffer as ArrayBuffer]);
      }
      case 'log-state':
        return this.ok(this.s().logState());
      case 'applied-state':
        return this.ok(this.s().appliedState());
      case 'initial':
        return this.ok(this.s().initialState());
      default:
        return this.runRead(task);
    }
  }

  private runRead(task: Task): Outcome {
    switch (task.op) {
      case 'get':
        return this.ok(this.s().get(task.key, task.now));
      case 'ttl':
        return this.ok(this.s().ttl(task.key, task.now));
      case 'expiresAt':
        return this.ok(this.s().expiresAt(task.key, task.now));
      case 'scan':
        return this.ok(this.s().scan(task.range, task.opts));
      case 'size':
        return this.ok(this.s().size(task.now));
      case 'stats':
        return this.ok(this.s().stats());
      case 'health':
        if (task.reset) {
          (this.health ??= new ThreadHealth()).reset();
          return this.ok(undefined);
        }
        return this.ok({ ...this.health?.poolCounters(), ...poolMemory() });
      case 'record-events':
        this.s().recordEvents(task.on);
        return this.ok(undefined);
      default:
        return this.runSnapshot(task);
    }
  }

  private runSnapshot(task: Task): Outcome {
    switch (task.op) {
      case 'snap-open': {
        const src = this.s().openSnapshot();
        const id = this.nextId++;
        this.sources.set(id, src);
        return this.ok({ id, meta: src.meta });
      }
      case 'snap-next': {
        const chunk = this.source(task.id).next();
        if (!chunk) return this.ok(undefined);
        return this.ok(chunk, [chunk.buffer as ArrayBuffer]);
      }
      case 'snap-close':
        this.sources.get(task.id)?.close();
        this.sources.delete(task.id);
        return this.ok(undefined);
      case 'recv-open': {
        const sink = this.s().receiveSnapshot();
        const id = this.nextId++;
        this.sinks.clear(); // a new receive supersedes the others (their sinks already refuse writes)
        this.sinks.set(id, sink);
        return this.ok(id);
      }
      case 'recv-write':
        this.sink(task.id).write(task.chunk);
        return this.ok(undefined);
      case 'recv-check':
        this.sink(task.id).check(task.meta);
        return this.ok(undefined);
      case 'recv-install':
        this.sink(task.id).install(task.meta);
        this.sinks.delete(task.id);
        return this.ok(undefined);
      case 'recv-abort':
        this.sinks.get(task.id)?.abort();
        this.sinks.delete(task.id);
        return this.ok(undefined);
      default:
        return this.runMisc(task);
    }
  }

  private runMisc(task: Task): Outcome {
    switch (task.op) {
      case 'reset-log':
        this.s().resetLogTo(task.point, task.membership);
        return this.ok(undefined);
      case 'refresh-log':
        this.s().refreshLog();
        return this.ok(undefined);
      case 'close':
        this.close();
        return this.ok(undefined);
      case 'noop':
        return this.ok(undefined);
      case 'echo-clone':
        return this.ok(task.entries.length);
      case 'echo-packed':
        return this.ok((unpack<unknown[]>(task.buf)).length);
      default:
        throw new StorageError(StorageErrorCode.IO, 'store', 'read', `unknown task ${(task as { op: string }).op}`);
    }
  }

  private source(id: number): SnapshotSource {
    const s = this.sources.get(id);
    if (!s) throw new StorageError(StorageErrorCode.SNAPSHOT_ABORTED, 'snapshot', 'build', `snapshot stream ${id} is closed`);
    return s;
  }

  private sink(id: number): SnapshotSink {
    const s = this.sinks.get(id);
    if (!s) throw new StorageError(StorageErrorCode.SNAPSHOT_ABORTED, 'snapshot', 'install', `snapshot receive ${id} was aborted or superseded`);
    return s;
  }

  close(): void {
    for (const s of this.sources.values()) s.close();
    this.sources.clear();
    this.sinks.clear();
    this.store?.close();
    this.store = undefined;
  }
}

function verbOf(task: Task): 'read' | 'write' | 'open' | 'close' | 'build' | 'install' {
  switch (task.op) {
    case 'open':
      return 'open';
    case 'write':
    case 'write-packed':
      return 'write';
    case 'close':
      return 'close';
    case 'snap-open':
    case 'snap-next':
    case 'snap-close':
      return 'build';
    case 'recv-open':
    case 'recv-write':
    case 'recv-check':
    case 'recv-install':
    case 'recv-abort':
    case 'reset-log':
      return 'install';
    default:
      return 'read';
  }
}
