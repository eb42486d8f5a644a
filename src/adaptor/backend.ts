// The bridge from the node's async world to the synchronous store: a piscina pool with ONE thread
// (LMDB writes serialize anyway, and the thread owns the snapshot read transactions), or inline.
import type { Piscina } from 'piscina';
import { StorageError, StorageErrorCode } from '../storage/errors.js';
import { Dispatcher } from './dispatch.js';
import { loadStore } from '../storage/open.js';
import type { SyncStore } from '../storage/store.js';
import type { OpenParams, Reply, Task } from './protocol.js';

export interface Backend {
  readonly mode: 'piscina' | 'inline';
  /** Run a task; buffers in `transfer` are moved to the other thread (the caller must not use them again). */
  call(task: Task, transfer?: ArrayBuffer[]): Promise<unknown>;
  close(): Promise<void>;
}

function unwrap(reply: Reply): unknown {
  if (reply.ok) return reply.v;
  throw StorageError.fromJSON(reply.e);
}

export class InlineBackend implements Backend {
  readonly mode = 'inline' as const;

  private constructor(private readonly dispatcher: Dispatcher) {}

  static async open(params: OpenParams): Promise<InlineBackend> {
    await loadStore(params.kind);
    const b = new InlineBackend(new Dispatcher());
    unwrap(b.dispatcher.handle({ op: 'open', params }).reply);
    return b;
  }

  /** Serve a store opened elsewhere (the simulation's), on this thread. */
  static over(store: SyncStore): InlineBackend {
    return new InlineBackend(new Dispatcher(store));
  }

  /** The store on this thread (inline only): for what is neither a task nor synchronous. */
  store(): SyncStore {
    return this.dispatcher.storeForInline();
  }

  /** Synchronous call, for the inline fast path. */
  callSync(task: Task): unknown {
    return unwrap(this.dispatcher.handle(task).reply);
  }

  call(task: Task): Promise<unknown> {
    try {
      return Promise.resolve(this.callSync(task));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  close(): Promise<void> {
    this.dispatcher.close();
    return Promise.resolve();
  }
}

/** Where the compiled task file is, from dist/src/adaptor/. */
export const STORAGE_TASK_URL = new URL('../../workers/storage-task.js', import.meta.url);

export class PoolBackend implements Backend {
  readonly mode = 'piscina' as const;
  private closed = false;

  private constructor(private readonly pool: Piscina) {}

  static async open(params: OpenParams): Promise<PoolBackend> {
    // Loaded here, not with this module: a node with memory storage never starts a pool.
    const { Piscina } = await import('piscina');
    const pool = new Piscina({
      filename: STORAGE_TASK_URL.href,
      minThreads: 1,
      maxThreads: 1,
      // Up to 4 tasks (the host's maxOutstandingReadies) are handed to the thread at once: its port queues them and it
      // runs them one after another, in order. With 1, each queued write waited for the previous one's result to
      // reach this thread before it was even posted (a hop per write: session 5, 3 nodes at 256 in flight, 7 of 8
      // alternating pairs faster, median +4 %).
      concurrentTasksPerWorker: 4,
      // Tasks run in the order they were submitted: the host keeps several Ready writes in flight and a
      // write must never overtake an earlier one. Without this, piscina puts a task it could not hand to
      // the busy thread back at the TAIL of its queue, and the writes of two Readies swap (seen: a log gap).
      stricterFIFO: true,
      idleTimeout: Number.MAX_SAFE_INTEGER,
      // The host keeps only a few calls in flight (one write per Ready, snapshot steps, reads); the
      // queue bound is a backstop, not flow control ('auto' would be maxThreads² = 1).
      maxQueue: 1024,
    });
    const b = new PoolBackend(pool);
    try {
      await b.call({ op: 'open', params });
    } catch (err) {
      await pool.destroy();
      throw err;
    }
    return b;
  }

  async call(task: Task, transfer?: ArrayBuffer[]): Promise<unknown> {
    if (this.closed) throw new StorageError(StorageErrorCode.CLOSED, 'store', 'read', 'storage pool is closed');
    let reply: Reply;
    try {
      reply = (await this.pool.run(task, transfer ? { transferList: transfer } : {})) as Reply;
    } catch (err) {
      throw StorageError.wrap(err, 'store', task.op === 'write' || task.op === 'write-packed' ? 'write' : 'read');
    }
    return unwrap(reply);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.call({ op: 'close' });
    } finally {
      this.closed = true;
      await this.pool.destroy();
    }
  }
}
