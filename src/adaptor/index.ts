// The adaptor layer (the seed's LogReaderAdaptor / StateMachineAdaptor / SnapshotBuilderAdaptor) and
// the entry point the node host uses: openNodeStorage. Everything is async; the synchronous store
// runs in the node's one-thread piscina pool, or inline on the calling thread.
import type { Entry, InitialState, LogId, Membership, SnapshotMeta } from '../raft/types.js';
import type { StoreRole } from '../storage/memory.js';
import type { SyncStore } from '../storage/store.js';
import type { CommandResult, Key, Value } from '../storage/command.js';
import { packCopy, unpack } from '../storage/codec.js';
import { StorageError, StorageErrorCode } from '../storage/errors.js';
import type { AppliedState, LogState, ScanOptions, ScanRange, SnapshotStream, StoreOptions, StoreStats, WriteBatch, WriteBatchResult } from '../storage/types.js';
import { validateKey, validateRange } from '../storage/validate.js';
import { type Backend, InlineBackend, PoolBackend } from './backend.js';
import { CACHE_DEFAULTS, LogCache } from './cache.js';
import type { PoolHealthCounters, PoolMemoryCounters } from '../util/thread-health.js';
import type { OpenParams, TransferMode } from './protocol.js';

/** What a pool thread reports about itself: its memory always, its health once measuring started. */
export type PoolCounters = PoolMemoryCounters & Partial<PoolHealthCounters>;

export { StorageError, StorageErrorCode, isStorageError } from '../storage/errors.js';
export type { StorageErrorData, StorageSubject, StorageVerb } from '../storage/errors.js';
export { validateKey, validateValue } from '../storage/validate.js';
export { LogCache, CACHE_DEFAULTS } from './cache.js';
export type { TransferMode, Task } from './protocol.js';
export { type Backend, InlineBackend } from './backend.js';

export interface NodeStorageOptions extends StoreOptions {
  kind: 'lmdb' | 'memory';
  /** `piscina`: the store runs in a one-thread pool off the node's event loop. Memory storage always runs inline (its state lives on the node's thread). */
  pool: 'piscina' | 'inline';
  /** LRU log cache bounds (default 1024 entries, 16 MiB: a larger cache keeps more entries alive and measurably raised p99 through GC). */
  cacheEntries?: number;
  cacheBytes?: number;
  /** How batches and entries cross to the pool thread (default 'clone': faster end to end for Readys of 1–64 entries; 'pack' wins at 512; docs/benchmarks.md). */
  transfer?: TransferMode;
  /** Client sessions kept for exactly-once (default 4096, least recently used evicted). */
  maxSessions?: number;
  /** LMDB: which environment this storage writes (default 'all'; see StoreRole). */
  role?: StoreRole;
}

export class LogReaderAdaptor {
  constructor(private readonly backend: Backend, private readonly cache: LogCache, private readonly transfer: TransferMode) {}

  /**
   * Entries with start <= index < end that the log holds (an empty store returns []); entries past the
   * last index are simply not returned. start at or below the last purged index → StorageError LOG_PURGED.
   */
  async tryGetLogEntries(start: number, end: number): Promise<Entry[]> {
    validateRange(start, end);
    if (start >= end) return [];
    const hit = this.cache.range(start, end);
    if (hit) return hit;
    const epoch = this.cache.epoch;
    const packed = this.backend.mode === 'piscina' && this.transfer === 'pack';
    const v = await this.backend.call({ op: 'entries', start, end, packed });
    const entries = packed ? unpack<Entry[]>(v as Uint8Array) : (v as Entry[]);
    this.cache.filled(entries, epoch);
    return entries;
  }

  async getLogState(): Promise<LogState> {
    return (await this.backend.call({ op: 'log-state' })) as LogState;
  }
}

export class SnapshotBuilderAdaptor {
  constructor(private readonly backend: Backend, private readonly open: Set<number>) {}

  /**
   * A snapshot of the applied state as a stream of chunks read from ONE read transaction in the
   * storage thread, one chunk per pull: memory stays bounded by about a chunk. The read transaction
   * is released when the stream ends, when the consumer stops iterating, or at close().
   */
  async buildSnapshot(): Promise<SnapshotStream> {
    const { id, meta } = (await this.backend.call({ op: 'snap-open' })) as { id: number; meta: SnapshotMeta };
    this.open.add(id);
    const backend = this.backend;
    const open = this.open;
    async function* chunks(): AsyncGenerator<Uint8Array> {
      try {
        for (;;) {
          const c = (await backend.call({ op: 'snap-next', id })) as Uint8Array | undefined;
          if (!c) return;
          yield c;
        }
      } finally {
        open.delete(id);
        await backend.call({ op: 'snap-close', id });
      }
    }
    return { meta, chunks: chunks() };
  }
}

/** A snapshot being received: chunks are staged beside the live state until installSnapshot. */
export interface SnapshotReceiver {
  write(chunk: Uint8Array): Promise<void>;
  /** Rejects (SNAPSHOT_INVALID) unless the stream staged so far is complete and is snapshot `meta`. */
  check(meta: SnapshotMeta): Promise<void>;
  abort(): Promise<void>;
  /** Internal: the receive id in the storage thread. */
  readonly id: number;
}

export class StateMachineAdaptor {
  constructor(private readonly storage: NodeStorageImpl) {}

  async appliedState(): Promise<AppliedState> {
    return (await this.storage.backend.call({ op: 'applied-state' })) as AppliedState;
  }

  /** Apply committed entries in order (entries at or below lastApplied are skipped: []). One transaction. */
  async apply(entries: Entry[]): Promise<CommandResult[][]> {
    return (await this.storage.write({ entries: [], apply: entries })).applied;
  }

  async getSnapshotBuilder(): Promise<SnapshotBuilderAdaptor> {
    return new SnapshotBuilderAdaptor(this.storage.backend, this.storage.openSnapshots);
  }

  async beginReceivingSnapshot(): Promise<SnapshotReceiver> {
    const backend = this.storage.backend;
    const id = (await backend.call({ op: 'recv-open' })) as number;
    return {
      id,
      write: async (chunk: Uint8Array) => {
        await backend.call({ op: 'recv-write', id, chunk });
      },
      check: async (meta: SnapshotMeta) => {
        await backend.call({ op: 'recv-check', id, meta });
      },
      abort: async () => {
        await backend.call({ op: 'recv-abort', id });
      },
    };
  }

  /** Replace the state machine with the received one and reset the log to (meta.index, meta.term), atomically. */
  async installSnapshot(meta: SnapshotMeta, receiver: SnapshotReceiver): Promise<void> {
    await this.storage.backend.call({ op: 'recv-install', id: receiver.id, meta });
    this.storage.cache.clear();
  }
}

export interface NodeStorage {
  readonly logReader: LogReaderAdaptor;
  readonly stateMachine: StateMachineAdaptor;
  /** Hard state, snapshot meta (the last purged / installed point, membership), entries after it, applied index. */
  loadInitialState(): Promise<InitialState>;
  /** ONE transaction per Ready: truncate + append entries, hard state, apply, purge. Synced unless sync: false. */
  write(batch: WriteBatch): Promise<WriteBatchResult>;
  /** The value, undefined when absent or expired at max(log clock, now ?? Date.now()). */
  get(key: Uint8Array, now?: number): Promise<Value | undefined>;
  /** Remaining ms of the key's time-to-live, -1 without expiry, undefined when absent. */
  ttl(key: Uint8Array, now?: number): Promise<number | undefined>;
  /** The key's expiry in ms since the epoch, -1 without expiry, undefined when absent. */
  expiresAt(key: Uint8Array, now?: number): Promise<number | undefined>;
  /** Live pairs in key byte order (SyncStore.scan: at most opts.limit, default 1000; `after` resumes). */
  scan(range: ScanRange, opts?: ScanOptions): Promise<Array<[Key, Value]>>;
  /** Live keys. */
  size(now?: number): Promise<number>;
  stats(): Promise<StoreStats>;
  /**
   * The pool thread's memory, and its health once a `reset` started measuring that (undefined inline: the node's own
   * thread is measured by the host; a reset answers undefined).
   */
  poolHealth(reset: boolean): Promise<PoolCounters | undefined>;
  /** While on, write results carry the batch's ChangeEvents (WriteBatchResult.events). */
  recordEvents(on: boolean): Promise<void>;
  /** The log restarts after `point` (a snapshot was installed by the state's writer). */
  resetLogTo(point: LogId, membership: Membership): Promise<void>;
  /**
   * Another store of this node (on another thread) wrote the log since this one did: read the log's mirrors again
   * and forget the log cache. Through a pool it is queued before the next write, so the caller need not wait.
   */
  refreshLog(): Promise<void>;
  /**
   * Inline storage only (undefined through a pool): the same calls, synchronously, on this thread: what a
   * node uses to apply committed entries without a thread hop.
   */
  readonly sync:
    | {
        apply(entries: Entry[]): WriteBatchResult;
        checkpointAsync(): Promise<LogId>;
        /** While on, applies return their change events (`WriteBatchResult.events`). */
        recordEvents(on: boolean): void;
        /** SyncStore.maintain: what applies deferred, done now (while a log write syncs). */
        maintain(): void;
        /** SyncStore.nextExpiry: the earliest expiry the state holds (Infinity when none). */
        nextExpiry(): number;
        /** SyncStore.checkpointBytes: about what a checkpoint of the state copies now. */
        checkpointBytes(): number;
        /** The state's reads (get, ttl, expiresAt, scan, size, revision, randomKey), answered at once on this thread. */
        reads(): Pick<SyncStore, 'get' | 'ttl' | 'expiresAt' | 'scan' | 'size' | 'revision' | 'record' | 'randomKey'>;
        /** The digests in progress (SyncStore.digestsPending, digestStep), hashed a slice at a time between Raft steps. */
        digests(): Pick<SyncStore, 'digestsPending' | 'digestStep'>;
      }
    | undefined;
  /** Closes the pool and the environment; idempotent. */
  close(): Promise<void>;
}

class NodeStorageImpl implements NodeStorage {
  readonly logReader: LogReaderAdaptor;
  readonly stateMachine: StateMachineAdaptor;
  readonly openSnapshots = new Set<number>();
  private closing: Promise<void> | undefined;

  constructor(readonly backend: Backend, readonly cache: LogCache, private readonly transfer: TransferMode) {
    this.logReader = new LogReaderAdaptor(backend, cache, transfer);
    this.stateMachine = new StateMachineAdaptor(this);
  }

  async loadInitialState(): Promise<InitialState> {
    return (await this.backend.call({ op: 'initial' })) as InitialState;
  }

  async write(batch: WriteBatch): Promise<WriteBatchResult> {
    let res: WriteBatchResult;
    if (this.backend.mode === 'piscina' && this.transfer === 'pack') {
      // One copy into a buffer of its own, moved (not cloned) to the pool thread.
      const buf = packCopy(batch);
      res = unpack<WriteBatchResult>((await this.backend.call({ op: 'write-packed', buf }, [buf.buffer as ArrayBuffer])) as Uint8Array);
    } else {
      res = (await this.backend.call({ op: 'write', batch })) as WriteBatchResult;
    }
    // The store accepted the batch: keep the cache coherent (truncated suffix, new entries, purge).
    this.cache.appended(batch.entries);
    if (batch.purgeTo) this.cache.purged(batch.purgeTo.index);
    return res;
  }

  async get(key: Uint8Array, now?: number): Promise<Value | undefined> {
    validateKey(key);
    return (await this.backend.call(now === undefined ? { op: 'get', key } : { op: 'get', key, now })) as Value | undefined;
  }

  async ttl(key: Uint8Array, now?: number): Promise<number | undefined> {
    validateKey(key);
    return (await this.backend.call(now === undefined ? { op: 'ttl', key } : { op: 'ttl', key, now })) as number | undefined;
  }

  async expiresAt(key: Uint8Array, now?: number): Promise<number | undefined> {
    validateKey(key);
    return (await this.backend.call(now === undefined ? { op: 'expiresAt', key } : { op: 'expiresAt', key, now })) as number | undefined;
  }

  async scan(range: ScanRange, opts?: ScanOptions): Promise<Array<[Key, Value]>> {
    return (await this.backend.call(opts === undefined ? { op: 'scan', range } : { op: 'scan', range, opts })) as Array<[Key, Value]>;
  }

  async size(now?: number): Promise<number> {
    return (await this.backend.call(now === undefined ? { op: 'size' } : { op: 'size', now })) as number;
  }

  async poolHealth(reset: boolean): Promise<PoolCounters | undefined> {
    if (this.backend.mode !== 'piscina') return undefined;
    return (await this.backend.call({ op: 'health', reset })) as PoolCounters | undefined;
  }

  async stats(): Promise<StoreStats> {
    return (await this.backend.call({ op: 'stats' })) as StoreStats;
  }

  async recordEvents(on: boolean): Promise<void> {
    await this.backend.call({ op: 'record-events', on });
  }

  async resetLogTo(point: LogId, membership: Membership): Promise<void> {
    await this.backend.call({ op: 'reset-log', point, membership });
    this.cache.clear();
  }

  async refreshLog(): Promise<void> {
    this.cache.clear();
    await this.backend.call({ op: 'refresh-log' });
  }

  get sync(): NodeStorage['sync'] {
    const b = this.backend;
    if (!(b instanceof InlineBackend)) return undefined;
    return {
      apply: (entries) => b.callSync({ op: 'write', batch: { entries: [], apply: entries } }) as WriteBatchResult,
      checkpointAsync: async () => {
        try {
          return await b.store().checkpointAsync();
        } catch (err) {
          throw StorageError.wrap(err, 'snapshot', 'build');
        }
      },
      recordEvents: (on) => b.store().recordEvents(on),
      maintain: () => b.store().maintain(),
      nextExpiry: () => b.store().nextExpiry(),
      checkpointBytes: () => b.store().checkpointBytes(),
      reads: () => b.store(),
      digests: () => b.store(),
    };
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const id of [...this.openSnapshots]) {
        this.openSnapshots.delete(id);
        await this.backend.call({ op: 'snap-close', id }).catch(() => undefined);
      }
      await this.backend.close();
      this.cache.clear();
    })();
    return this.closing;
  }
}

/** A NodeStorage over a backend built elsewhere (the simulation's stores). */
export function nodeStorageOver(backend: Backend, cache = new LogCache(CACHE_DEFAULTS.entries, CACHE_DEFAULTS.bytes)): NodeStorage {
  return new NodeStorageImpl(backend, cache, 'clone');
}

export async function openNodeStorage(opts: NodeStorageOptions): Promise<NodeStorage> {
  if (opts.kind === 'lmdb' && !opts.dir) throw new StorageError(StorageErrorCode.IO, 'store', 'open', 'kind lmdb needs `dir`');
  const params: OpenParams = { kind: opts.kind, membership: opts.membership };
  if (opts.dir !== undefined) params.dir = opts.dir;
  if (opts.sync !== undefined) params.sync = opts.sync;
  if (opts.maxValueBytes !== undefined) params.maxValueBytes = opts.maxValueBytes;
  if (opts.chunkBytes !== undefined) params.chunkBytes = opts.chunkBytes;
  if (opts.maxSessions !== undefined) params.maxSessions = opts.maxSessions;
  if (opts.role !== undefined) params.role = opts.role;
  if (opts.maxKeys !== undefined) params.maxKeys = opts.maxKeys;
  if (opts.maxBytes !== undefined) params.maxBytes = opts.maxBytes;
  if (opts.existing !== undefined) params.existing = opts.existing;
  // Memory storage lives on the node's thread: `pool: 'piscina'` runs it inline.
  const backend = opts.pool === 'piscina' && opts.kind === 'lmdb' ? await PoolBackend.open(params) : await InlineBackend.open(params);
  const cache = new LogCache(opts.cacheEntries ?? CACHE_DEFAULTS.entries, opts.cacheBytes ?? CACHE_DEFAULTS.bytes);
  return new NodeStorageImpl(backend, cache, opts.transfer ?? 'clone');
}
