// The in-memory store: the same semantics as the LMDB store (shared validation and apply rules), for
// tests and for the cache use case. State lives on the thread that created it.
import type { Entry, HardState, InitialState, LogId, Membership, SnapshotMeta } from '../raft/types.js';
import type { CommandResult, Key, Value } from './command.js';
import { LIMITS } from './command.js';
import { applyEntry, type KvAccess, SessionTable } from './apply.js';
import { decodeSession, decodeValue, encodeSession, encodeValue, keyFromString, keyString } from './codec.js';
import { StorageError, StorageErrorCode } from './errors.js';
import { DEFAULT_CHUNK_BYTES, SnapshotAssembler, snapshotChunks } from './snapshot-format.js';
import type { SnapshotSink, SnapshotSource, SyncStore } from './store.js';
import type { AppliedState, LogState, StoreOptions, WriteBatch, WriteBatchResult } from './types.js';
import { validateAppend, validateKey, validateRange } from './validate.js';

export interface StoreTuning {
  maxSessions?: number;
  /**
   * Which environment an LMDB store writes (LMDB only; default 'all'). A node with a storage pool opens two
   * stores on its directory: 'log' in the pool thread (the synced log: what blocks) and 'state' on the node
   * thread (applying, snapshots, checkpoints: CPU work, no fsync). Each environment has one writer thread.
   */
  role?: StoreRole;
}

export type StoreRole = 'all' | 'log' | 'state';

function copyValue(v: Value): Value {
  return typeof v === 'string' ? v : Uint8Array.prototype.slice.call(v);
}

export function checkApplyOrder(entries: Entry[], lastApplied: number): void {
  let prev = lastApplied;
  for (const e of entries) {
    if (e.index <= lastApplied) continue;
    if (e.index !== prev + 1) {
      throw new StorageError(StorageErrorCode.INVALID_ENTRIES, 'state-machine', 'apply', `apply gap: applied ${prev}, next entry ${e.index}`);
    }
    prev = e.index;
  }
}

/** The log is purged only behind the applied index: what is purged must be in the state machine (docs/storage.md). */
export function checkPurge(upTo: LogId, applied: number): void {
  if (!Number.isSafeInteger(upTo.index) || upTo.index < 0 || upTo.index > applied) {
    throw new StorageError(StorageErrorCode.INVALID_RANGE, 'log', 'write', `cannot purge to ${upTo.index}: the state machine is applied to ${applied}`);
  }
}

export function checkHardState(hs: HardState): void {
  if (!Number.isSafeInteger(hs.term) || !Number.isSafeInteger(hs.vote) || !Number.isSafeInteger(hs.commit) || hs.term < 0 || hs.vote < 0 || hs.commit < 0) {
    throw new StorageError(StorageErrorCode.INVALID_ENTRIES, 'vote', 'write', `bad hard state ${JSON.stringify(hs)}`);
  }
}

export class MemoryStore implements SyncStore {
  readonly kind = 'memory' as const;
  private log: Entry[] = [];
  private lastPurged: LogId | undefined;
  private hardState: HardState = { term: 0, vote: 0, commit: 0 };
  private kv = new Map<string, Value>();
  private sessions: SessionTable;
  private lastApplied: LogId | undefined;
  private membership: Membership;
  private readonly maxValueBytes: number;
  private readonly chunkBytes: number;
  private receiveGen = 0;
  private closed = false;

  constructor(opts: StoreOptions & StoreTuning) {
    this.membership = opts.membership;
    this.maxValueBytes = opts.maxValueBytes ?? LIMITS.defaultMaxValueBytes;
    this.chunkBytes = opts.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    this.sessions = new SessionTable(opts.maxSessions);
  }

  private check(): void {
    if (this.closed) throw new StorageError(StorageErrorCode.CLOSED, 'store', 'read', 'memory store is closed');
  }

  private firstIndex(): number {
    return (this.lastPurged?.index ?? 0) + 1;
  }

  private lastId(): LogId | undefined {
    const e = this.log[this.log.length - 1];
    return e ? { index: e.index, term: e.term } : this.lastPurged;
  }

  append(entries: Entry[]): void {
    this.write({ entries, apply: [] });
  }

  entries(start: number, end: number): Entry[] {
    this.check();
    validateRange(start, end);
    if (start < this.firstIndex()) throw new StorageError(StorageErrorCode.LOG_PURGED, 'log', 'read', `index ${start} is purged (first index ${this.firstIndex()})`);
    const from = start - this.firstIndex();
    const to = Math.max(from, end - this.firstIndex());
    return this.log.slice(from, to);
  }

  logState(): LogState {
    this.check();
    return { lastPurged: this.lastPurged, last: this.lastId() };
  }

  truncate(from: number): void {
    this.check();
    if (from < this.firstIndex()) throw new StorageError(StorageErrorCode.LOG_PURGED, 'log', 'write', `cannot truncate at ${from}: purged up to ${this.firstIndex() - 1}`);
    this.log.length = Math.max(0, Math.min(this.log.length, from - this.firstIndex()));
  }

  purge(upTo: LogId): void {
    this.write({ entries: [], apply: [], purgeTo: upTo });
  }

  saveHardState(hs: HardState): void {
    this.write({ entries: [], apply: [], hardState: hs });
  }

  loadHardState(): HardState {
    this.check();
    return { ...this.hardState };
  }

  private doPurge(upTo: LogId): void {
    if (upTo.index <= (this.lastPurged?.index ?? 0)) return;
    const n = Math.min(this.log.length, upTo.index - this.firstIndex() + 1);
    this.log.splice(0, n);
    this.lastPurged = { index: upTo.index, term: upTo.term };
  }

  private kvAccess(): KvAccess {
    return {
      get: (k) => this.kv.get(keyString(k)),
      put: (k, v) => void this.kv.set(keyString(k), copyValue(v)),
      del: (k) => void this.kv.delete(keyString(k)),
    };
  }

  write(batch: WriteBatch): WriteBatchResult {
    this.check();
    // Validate everything first: a rejected batch changes nothing.
    validateAppend(batch.entries, this.lastId(), this.lastPurged);
    if (batch.hardState) checkHardState(batch.hardState);
    checkApplyOrder(batch.apply, this.lastApplied?.index ?? 0);
    if (batch.purgeTo) {
      const last = batch.apply[batch.apply.length - 1];
      checkPurge(batch.purgeTo, Math.max(this.lastApplied?.index ?? 0, last?.index ?? 0));
    }
    const first = batch.entries[0];
    if (first) {
      this.log.length = first.index - this.firstIndex();
      for (const e of batch.entries) this.log.push({ index: e.index, term: e.term, type: e.type, data: e.data });
    }
    if (batch.hardState) this.hardState = { ...batch.hardState };
    const applied = this.applyEntries(batch.apply);
    if (batch.purgeTo) this.doPurge(batch.purgeTo);
    return { applied, appliedState: this.appliedState() };
  }

  private applyEntries(entries: Entry[]): CommandResult[][] {
    const kv = this.kvAccess();
    const out: CommandResult[][] = [];
    for (const e of entries) {
      if (e.index <= (this.lastApplied?.index ?? 0)) {
        out.push([]);
        continue;
      }
      out.push(applyEntry(e, kv, this.sessions, this.maxValueBytes));
      this.lastApplied = { index: e.index, term: e.term };
    }
    this.sessions.clearChanges();
    return out;
  }

  apply(entries: Entry[]): CommandResult[][] {
    return this.write({ entries: [], apply: entries }).applied;
  }

  get(key: Key): Value | undefined {
    this.check();
    validateKey(key);
    return this.kv.get(keyString(key));
  }

  appliedState(): AppliedState {
    return { lastApplied: this.lastApplied, membership: this.membership };
  }

  initialState(): InitialState {
    this.check();
    const snapshot: SnapshotMeta | undefined = this.lastPurged ? { ...this.lastPurged, membership: this.membership } : undefined;
    return { hardState: { ...this.hardState }, snapshot, entries: this.log.slice(), applied: this.lastApplied?.index ?? 0 };
  }

  openSnapshot(): SnapshotSource {
    this.check();
    // A consistent view: the current pairs (references, no value copies); values are immutable once stored.
    const pairs = [...this.kv];
    const sessions = [...this.sessions.map].map(([c, s]) => [c, { ...s, results: new Map(s.results) }] as const);
    const meta: SnapshotMeta = { index: this.lastApplied?.index ?? 0, term: this.lastApplied?.term ?? 0, membership: this.membership };
    const gen = snapshotChunks(
      meta,
      (function* () { for (const [k, v] of pairs) yield [keyFromString(k), encodeValue(v)] as [Uint8Array, Uint8Array]; })(),
      (function* () { for (const [c, s] of sessions) yield [c, encodeSession(s)] as [number, Uint8Array]; })(),
      this.chunkBytes,
    );
    return {
      meta,
      next: () => {
        const r = gen.next();
        return r.done ? undefined : r.value;
      },
      close: () => void gen.return(),
    };
  }

  receiveSnapshot(): SnapshotSink {
    this.check();
    const gen = ++this.receiveGen;
    const kv = new Map<string, Value>();
    const sessions: Array<[number, ReturnType<typeof decodeSession>]> = [];
    const asm = new SnapshotAssembler();
    const live = (): void => {
      if (gen !== this.receiveGen) throw new StorageError(StorageErrorCode.SNAPSHOT_ABORTED, 'snapshot', 'install', 'snapshot receive was aborted or superseded');
      this.check();
    };
    return {
      write: (chunk) => {
        live();
        asm.accept(chunk, {
          putKv: (k, v) => void kv.set(keyString(k), copyValue(decodeValue(v))),
          putSession: (c, r) => void sessions.push([c, decodeSession(r)]),
        });
      },
      install: (meta) => {
        live();
        asm.finish(meta);
        this.kv = kv;
        this.sessions.load(sessions);
        this.lastApplied = { index: meta.index, term: meta.term };
        this.membership = meta.membership;
        this.log = [];
        this.lastPurged = { index: meta.index, term: meta.term };
        this.receiveGen++;
      },
      abort: () => {
        if (gen === this.receiveGen) this.receiveGen++;
      },
    };
  }

  /** Nothing to copy: the state lives in memory and nothing survives a crash. */
  checkpoint(): LogId {
    return this.lastApplied ? { ...this.lastApplied } : { index: 0, term: 0 };
  }

  checkpointAsync(): Promise<LogId> {
    return Promise.resolve(this.checkpoint());
  }

  resetLogTo(point: LogId, membership: Membership): void {
    this.membership = membership;
    this.log = [];
    this.lastPurged = { ...point };
  }

  close(): void {
    this.closed = true;
  }
}
