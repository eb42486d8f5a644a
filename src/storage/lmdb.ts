// The LMDB store: one environment per node directory holding the log, the hard state, the state
// machine (two key/value slots + client sessions, with an active pointer) and metadata.
// Every write is ONE `transactionSync` with a block body: synced (durable on return) unless opened
// with sync: false (UNSAFE for durability): see docs/storage.md.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { open, type Database, type RootDatabase, type Transaction } from 'lmdb';
import type { Entry, HardState, InitialState, LogId, Membership, SnapshotMeta } from '../raft/types.js';
import type { CommandResult, Key, Value } from './command.js';
import { LIMITS } from './command.js';
import { applyEntry, type KvAccess, SessionTable } from './apply.js';
import {
  decodeHardState, decodeLogId, decodeLogRecord, decodeMembership, decodeSession, decodeValue, encodeHardState,
  encodeLogId, encodeLogRecord, encodeMembership, encodeSession, encodeValue, logKey, logKeyIndex, pack, unpack,
} from './codec.js';
import { StorageError, StorageErrorCode, type StorageSubject, type StorageVerb } from './errors.js';
import { acquireDirLock, type DirLock } from './lock.js';
import { checkApplyOrder, checkHardState, type StoreTuning } from './memory.js';
import { DEFAULT_CHUNK_BYTES, SnapshotAssembler, snapshotChunks } from './snapshot-format.js';
import type { SnapshotSink, SnapshotSource, SyncStore } from './store.js';
import type { AppliedState, LogState, StoreOptions, WriteBatch, WriteBatchResult } from './types.js';
import { validateAppend, validateKey, validateRange } from './validate.js';

/** The on-disk format this code reads and writes; any other → FORMAT_VERSION. */
export const FORMAT_VERSION = 1;
export const DATA_FILE = 'data.mdb';

/** Keys of the `meta` db. */
export const META = {
  format: 'format',
  hardState: 'hardState',
  lastPurged: 'lastPurged',
  applied: 'applied',
  membership: 'membership',
  active: 'active',
} as const;

type Slot = 0 | 1;

export interface LmdbHandles {
  env: RootDatabase;
  meta: Database<Buffer, string>;
  log: Database<Buffer, Buffer>;
  kv: [Database<Buffer, Buffer>, Database<Buffer, Buffer>];
  sessions: [Database<Buffer, number>, Database<Buffer, number>];
  /** A counter shared by every thread of the process that opened this env: bumped after each commit. */
  commitSeq: Int32Array;
}

/** Open (or create) the environment and its dbs; checks the format version. */
/**
 * lmdb-js transaction flags: ABORTABLE | SYNCHRONOUS_COMMIT (its default: data fdatasync'd, then the meta
 * page written synchronously), and the same with MDB_NOMETASYNC for this transaction only: the data is
 * fdatasync'd but the meta page is not waited for, so a system crash may undo this one transaction but
 * never corrupts the database (measured here: ~230 µs instead of ~390 µs). Not MDB_NOSYNC (~20 µs): its
 * meta page could reach the disk before its data pages, and a system crash then corrupts the tree.
 */
const TXN_SYNCED = 3;
const TXN_NO_META_SYNC = 3 | 0x40000;

export function openEnv(dir: string, sync: boolean): LmdbHandles {
  mkdirSync(dir, { recursive: true });
  // overlappingSync off: every synced transactionSync is one plain LMDB commit with its fdatasync, and the
  // per-transaction flag (TXN_NO_META_SYNC) takes effect.
  const env = open({ path: join(dir, DATA_FILE), maxDbs: 8, noSync: !sync, overlappingSync: false, compression: false, encoding: 'binary' });
  const binary = { encoding: 'binary' as const, compression: false };
  const h: LmdbHandles = {
    env,
    meta: env.openDB<Buffer, string>({ name: 'meta', ...binary }),
    log: env.openDB<Buffer, Buffer>({ name: 'log', keyEncoding: 'binary', ...binary }),
    kv: [
      env.openDB<Buffer, Buffer>({ name: 'kv0', keyEncoding: 'binary', ...binary }),
      env.openDB<Buffer, Buffer>({ name: 'kv1', keyEncoding: 'binary', ...binary }),
    ],
    sessions: [
      env.openDB<Buffer, number>({ name: 'sessions0', ...binary }),
      env.openDB<Buffer, number>({ name: 'sessions1', ...binary }),
    ],
    commitSeq: new Int32Array(1),
  };
  const shared = (h.meta as unknown as { getUserSharedBuffer(k: string, b: ArrayBuffer): ArrayBuffer }).getUserSharedBuffer('commit-seq', new ArrayBuffer(4));
  h.commitSeq = new Int32Array(shared);
  try {
    checkFormat(h);
  } catch (err) {
    env.close();
    throw err;
  }
  return h;
}

function checkFormat(h: LmdbHandles): void {
  const b = h.meta.getBinary(META.format);
  if (b === undefined) {
    h.env.transactionSync(() => {
      h.meta.put(META.format, pack(FORMAT_VERSION));
    });
    return;
  }
  const v = unpack<unknown>(b);
  if (v !== FORMAT_VERSION) {
    throw new StorageError(StorageErrorCode.FORMAT_VERSION, 'store', 'open', `format version ${String(v)}, this code reads ${FORMAT_VERSION}`);
  }
}

/**
 * The voters are fixed when a store is created: record them then, and refuse to open the store for
 * other voters (MEMBERSHIP_MISMATCH). Reopened with fewer voters, a node could elect itself without the
 * nodes that hold acknowledged writes; with more, new empty voters could form a majority of their own.
 * A store of an older version without the record adopts the voters it is opened with.
 */
function checkMembership(h: LmdbHandles, membership: Membership): void {
  const wanted = [...membership.voters].sort((a, b) => a - b);
  const b = h.meta.getBinary(META.membership);
  if (b === undefined) {
    h.env.transactionSync(() => {
      h.meta.put(META.membership, encodeMembership({ voters: wanted }));
    });
    return;
  }
  const stored = [...decodeMembership(b).voters].sort((x, y) => x - y);
  if (stored.length !== wanted.length || stored.some((v, i) => v !== wanted[i])) {
    throw new StorageError(StorageErrorCode.MEMBERSHIP_MISMATCH, 'store', 'open', `the store was created for voters [${stored.join(', ')}], opened for [${wanted.join(', ')}]`);
  }
}

/** A meta record, optionally from an explicit read transaction (lmdb-js copies binary values on get). */
function metaGet(h: LmdbHandles, key: string, transaction?: Transaction): Buffer | undefined {
  return transaction ? h.meta.get(key, { transaction }) : h.meta.getBinary(key);
}

export function readActive(h: LmdbHandles, transaction?: Transaction): Slot {
  const b = metaGet(h, META.active, transaction);
  return b === undefined ? 0 : (unpack<number>(b) === 1 ? 1 : 0);
}

export class LmdbStore implements SyncStore {
  readonly kind = 'lmdb' as const;
  private active: Slot;
  private last: LogId | undefined;
  private lastPurged: LogId | undefined;
  private lastApplied: LogId | undefined;
  private readonly sessions: SessionTable;
  private readonly maxValueBytes: number;
  private readonly chunkBytes: number;
  private receiveGen = 0;
  private closed = false;
  private readonly snapshotsOpen = new Set<SnapshotSource>();

  private constructor(
    private readonly h: LmdbHandles,
    private readonly lock: DirLock,
    private readonly opts: StoreOptions & StoreTuning,
  ) {
    this.maxValueBytes = opts.maxValueBytes ?? LIMITS.defaultMaxValueBytes;
    this.chunkBytes = opts.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    this.sessions = new SessionTable(opts.maxSessions);
    this.active = 0;
    this.reload();
  }

  static open(opts: StoreOptions & StoreTuning): LmdbStore {
    const dir = opts.dir;
    if (!dir) throw new StorageError(StorageErrorCode.IO, 'store', 'open', 'an LMDB store needs `dir`');
    mkdirSync(dir, { recursive: true });
    const lock = acquireDirLock(dir);
    try {
      const h = openEnv(dir, opts.sync ?? true);
      try {
        checkMembership(h, opts.membership);
      } catch (err) {
        h.env.close();
        throw err;
      }
      return new LmdbStore(h, lock, opts);
    } catch (err) {
      lock.release();
      throw StorageError.wrap(err, 'store', 'open');
    }
  }

  /** Rebuild the in-memory mirrors from disk (at open, and after a failed transaction). */
  private reload(): void {
    const h = this.h;
    h.env.resetReadTxn();
    this.active = readActive(h);
    const p = h.meta.getBinary(META.lastPurged);
    this.lastPurged = p ? decodeLogId(p) : undefined;
    const a = h.meta.getBinary(META.applied);
    this.lastApplied = a ? decodeLogId(a) : undefined;
    let last: LogId | undefined;
    for (const { key, value } of h.log.getRange({ reverse: true, limit: 1 })) {
      last = { index: logKeyIndex(key), term: decodeLogRecord(0, value).term };
    }
    this.last = last ?? this.lastPurged;
    const sessions: Array<[number, ReturnType<typeof decodeSession>]> = [];
    for (const { key, value } of h.sessions[this.active].getRange({})) sessions.push([key, decodeSession(value)]);
    this.sessions.load(sessions);
  }

  private check(verb: StorageVerb): void {
    if (this.closed) throw new StorageError(StorageErrorCode.CLOSED, 'store', verb, 'LMDB store is closed');
  }

  /**
   * One write transaction: synced and durable on return (unless sync: false, or durable: false for a
   * transaction whose loss a restart repairs). On failure nothing is written and the mirrors are reloaded.
   */
  private txn<T>(subject: StorageSubject, verb: StorageVerb, body: () => T, durable = true): T {
    let out: T | undefined;
    try {
      this.h.env.transactionSync(() => {
        out = body();
      }, durable ? TXN_SYNCED : TXN_NO_META_SYNC);
    } catch (err) {
      this.reload();
      throw StorageError.wrap(err, subject, verb);
    }
    // Reads on this thread after the commit must see it (lmdb-js would renew its read txn only on a later turn).
    this.h.env.resetReadTxn();
    Atomics.add(this.h.commitSeq, 0, 1);
    return out as T;
  }

  // ── log ──

  append(entries: Entry[]): void {
    this.write({ entries, apply: [] });
  }

  entries(start: number, end: number): Entry[] {
    this.check('read');
    validateRange(start, end);
    const first = (this.lastPurged?.index ?? 0) + 1;
    if (start < first) throw new StorageError(StorageErrorCode.LOG_PURGED, 'log', 'read', `index ${start} is purged (first index ${first})`);
    const stop = Math.min(end, (this.last?.index ?? 0) + 1);
    if (start >= stop) return [];
    const out: Entry[] = [];
    try {
      for (const { key, value } of this.h.log.getRange({ start: logKey(start), end: logKey(stop) })) {
        out.push(decodeLogRecord(logKeyIndex(key), value));
      }
    } catch (err) {
      throw StorageError.wrap(err, 'log', 'read');
    }
    return out;
  }

  logState(): LogState {
    this.check('read');
    return { lastPurged: this.lastPurged, last: this.last };
  }

  truncate(from: number): void {
    this.check('write');
    const first = (this.lastPurged?.index ?? 0) + 1;
    if (from < first) throw new StorageError(StorageErrorCode.LOG_PURGED, 'log', 'write', `cannot truncate at ${from}: purged up to ${first - 1}`);
    this.txn('log', 'write', () => this.removeFrom(from));
  }

  private removeFrom(from: number): void {
    const lastIndex = this.last?.index ?? 0;
    for (let i = from; i <= lastIndex && i > (this.lastPurged?.index ?? 0); i++) this.h.log.remove(logKey(i));
    if (from <= lastIndex) {
      const prev = from - 1;
      if (prev <= (this.lastPurged?.index ?? 0)) this.last = this.lastPurged;
      else {
        const b = this.h.log.getBinary(logKey(prev));
        this.last = b ? { index: prev, term: decodeLogRecord(prev, b).term } : this.lastPurged;
      }
    }
  }

  purge(upTo: LogId): void {
    this.write({ entries: [], apply: [], purgeTo: upTo });
  }

  private doPurge(upTo: LogId): void {
    const purged = this.lastPurged?.index ?? 0;
    if (upTo.index <= purged) return;
    const lastIndex = this.last?.index ?? 0;
    for (let i = purged + 1; i <= Math.min(upTo.index, lastIndex); i++) this.h.log.remove(logKey(i));
    this.lastPurged = { index: upTo.index, term: upTo.term };
    if (upTo.index >= lastIndex) this.last = this.lastPurged;
    this.h.meta.put(META.lastPurged, encodeLogId(this.lastPurged));
  }

  saveHardState(hs: HardState): void {
    this.write({ entries: [], apply: [], hardState: hs });
  }

  loadHardState(): HardState {
    this.check('read');
    const b = this.h.meta.getBinary(META.hardState);
    return b ? decodeHardState(b) : { term: 0, vote: 0, commit: 0 };
  }

  // ── the write batch: one transaction per Ready ──

  write(batch: WriteBatch): WriteBatchResult {
    this.check('write');
    // Validate everything before the transaction: a rejected batch writes nothing.
    validateAppend(batch.entries, this.last, this.lastPurged);
    if (batch.hardState) checkHardState(batch.hardState);
    checkApplyOrder(batch.apply, this.lastApplied?.index ?? 0);
    const applied = this.txn('log', 'write', () => {
      const first = batch.entries[0];
      if (first) {
        // Truncate the conflicting suffix, then append (§5.3).
        const lastIndex = this.last?.index ?? 0;
        const newLast = batch.entries[batch.entries.length - 1]!;
        for (let i = newLast.index + 1; i <= lastIndex; i++) this.h.log.remove(logKey(i));
        for (const e of batch.entries) this.h.log.put(logKey(e.index), encodeLogRecord(e));
        this.last = { index: newLast.index, term: newLast.term };
      }
      if (batch.hardState) this.h.meta.put(META.hardState, encodeHardState(batch.hardState));
      const results = batch.apply.length > 0 ? this.applyInTxn(batch.apply) : [];
      if (batch.purgeTo) this.doPurge(batch.purgeTo);
      return results;
    }, batch.durable !== false);
    return { applied, appliedState: this.appliedState() };
  }

  // ── state machine ──

  private kvAccess(): KvAccess {
    const kv = this.h.kv[this.active];
    return {
      get: (k) => {
        const b = kv.getBinary(k as Buffer);
        return b === undefined ? undefined : decodeValue(b);
      },
      put: (k, v) => {
        kv.put(k as Buffer, encodeValue(v));
      },
      del: (k) => {
        kv.remove(k as Buffer);
      },
    };
  }

  /** Inside a write transaction: apply, persist touched sessions and the applied index. */
  private applyInTxn(entries: Entry[]): CommandResult[][] {
    const kv = this.kvAccess();
    const out: CommandResult[][] = [];
    let advanced = false;
    for (const e of entries) {
      if (e.index <= (this.lastApplied?.index ?? 0)) {
        out.push([]); // idempotent replay after a restart
        continue;
      }
      out.push(applyEntry(e, kv, this.sessions, this.maxValueBytes));
      this.lastApplied = { index: e.index, term: e.term };
      advanced = true;
    }
    const sdb = this.h.sessions[this.active];
    for (const c of this.sessions.dirty) sdb.put(c, encodeSession(this.sessions.get(c)!));
    for (const c of this.sessions.evicted) sdb.remove(c);
    this.sessions.clearChanges();
    if (advanced && this.lastApplied) this.h.meta.put(META.applied, encodeLogId(this.lastApplied));
    return out;
  }

  apply(entries: Entry[]): CommandResult[][] {
    return this.write({ entries: [], apply: entries }).applied;
  }

  get(key: Key): Value | undefined {
    this.check('read');
    validateKey(key);
    const b = this.h.kv[this.active].getBinary(key as Buffer);
    return b === undefined ? undefined : decodeValue(b);
  }

  private membership(): Membership {
    const m = this.h.meta.getBinary(META.membership);
    return m ? decodeMembership(m) : this.opts.membership;
  }

  appliedState(): AppliedState {
    return { lastApplied: this.lastApplied, membership: this.membership() };
  }

  initialState(): InitialState {
    this.check('read');
    const first = (this.lastPurged?.index ?? 0) + 1;
    const snapshot: SnapshotMeta | undefined = this.lastPurged ? { ...this.lastPurged, membership: this.membership() } : undefined;
    return {
      hardState: this.loadHardState(),
      snapshot,
      entries: this.entries(first, (this.last?.index ?? 0) + 1),
      applied: this.lastApplied?.index ?? 0,
    };
  }

  // ── snapshots ──

  /** Read the whole state machine from ONE read transaction, one chunk at a time. */
  openSnapshot(): SnapshotSource {
    this.check('build');
    const h = this.h;
    const transaction = h.env.useReadTransaction();
    let closed = false;
    const source: SnapshotSource = {
      meta: { index: 0, term: 0, membership: this.opts.membership },
      next: () => {
        if (closed) return undefined;
        const r = gen.next();
        if (r.done) {
          source.close();
          return undefined;
        }
        return r.value;
      },
      close: () => {
        if (closed) return;
        closed = true;
        this.snapshotsOpen.delete(source);
        gen.return();
        transaction.done();
      },
    };
    let gen: Generator<Uint8Array, void, undefined>;
    try {
      const slot = readActive(h, transaction);
      const a = metaGet(h, META.applied, transaction);
      const m = metaGet(h, META.membership, transaction);
      const applied = a ? decodeLogId(a) : { index: 0, term: 0 };
      const meta: SnapshotMeta = { index: applied.index, term: applied.term, membership: m ? decodeMembership(m) : this.opts.membership };
      (source as { meta: SnapshotMeta }).meta = meta;
      const kv = h.kv[slot].getRange({ transaction });
      const sessions = h.sessions[slot].getRange({ transaction });
      gen = snapshotChunks(
        meta,
        (function* () { for (const { key, value } of kv) yield [key, value] as [Uint8Array, Uint8Array]; })(),
        (function* () { for (const { key, value } of sessions) yield [key, value] as [number, Uint8Array]; })(),
        this.chunkBytes,
      );
    } catch (err) {
      transaction.done();
      throw StorageError.wrap(err, 'snapshot', 'build');
    }
    this.snapshotsOpen.add(source);
    return source;
  }

  /**
   * Stage the received state in the inactive slot (a synced transaction per chunk: the live state is
   * untouched), then flip the active pointer, set the applied index and reset the log in ONE
   * transaction. A crash before the flip leaves the old state; the stale staging is cleared next time.
   */
  receiveSnapshot(): SnapshotSink {
    this.check('install');
    const gen = ++this.receiveGen;
    const slot: Slot = this.active === 0 ? 1 : 0;
    const h = this.h;
    try {
      h.kv[slot].clearSync();
      h.sessions[slot].clearSync();
    } catch (err) {
      throw StorageError.wrap(err, 'snapshot', 'install');
    }
    const asm = new SnapshotAssembler();
    const live = (): void => {
      this.check('install');
      if (gen !== this.receiveGen || slot === this.active) {
        throw new StorageError(StorageErrorCode.SNAPSHOT_ABORTED, 'snapshot', 'install', 'snapshot receive was aborted or superseded');
      }
    };
    return {
      write: (chunk) => {
        live();
        this.txn('snapshot', 'install', () => {
          asm.accept(chunk, {
            putKv: (k, v) => {
              h.kv[slot].put(k as Buffer, v as Buffer);
            },
            putSession: (c, r) => {
              h.sessions[slot].put(c, r as Buffer);
            },
          });
        });
      },
      install: (meta) => {
        live();
        asm.finish(meta);
        this.txn('snapshot', 'install', () => {
          h.meta.put(META.active, pack(slot));
          const point = { index: meta.index, term: meta.term };
          h.meta.put(META.applied, encodeLogId(point));
          h.meta.put(META.membership, encodeMembership(meta.membership));
          h.meta.put(META.lastPurged, encodeLogId(point));
          for (const { key } of h.log.getRange({})) h.log.remove(key);
        });
        this.receiveGen++;
        this.reload();
        // The old slot is garbage now; clear it (not needed for safety: the next receive clears it too).
        const old: Slot = slot === 0 ? 1 : 0;
        try {
          h.kv[old].clearSync();
          h.sessions[old].clearSync();
        } catch {
          // left for the next receive
        }
      },
      abort: () => {
        if (gen === this.receiveGen) this.receiveGen++;
      },
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of [...this.snapshotsOpen]) s.close();
    try {
      this.h.env.close();
    } finally {
      this.lock.release();
    }
  }
}

/**
 * A reader for the main thread (or any thread) of the same process: synchronous gets that always see
 * the latest committed data. lmdb-js keeps a thread's read transaction until a later event-loop turn,
 * so a write committed on another thread could be invisible to a get in the same turn; the writer
 * bumps a process-wide shared counter after each commit, and the reader renews its read transaction
 * whenever the counter moved (one Atomics.load per get otherwise).
 */
export class LmdbStateReader {
  private seen = -1;
  private active: Slot = 0;
  private closed = false;

  private constructor(private readonly h: LmdbHandles, private readonly lock: DirLock) {}

  static open(dir: string): LmdbStateReader {
    const lock = acquireDirLock(dir);
    try {
      return new LmdbStateReader(openEnv(dir, true), lock);
    } catch (err) {
      lock.release();
      throw StorageError.wrap(err, 'store', 'open');
    }
  }

  private refresh(): void {
    if (this.closed) throw new StorageError(StorageErrorCode.CLOSED, 'state-machine', 'read', 'reader is closed');
    const seq = Atomics.load(this.h.commitSeq, 0);
    if (seq !== this.seen) {
      this.seen = seq;
      this.h.env.resetReadTxn();
      this.active = readActive(this.h);
    }
  }

  get(key: Uint8Array): Value | undefined {
    validateKey(key);
    this.refresh();
    const b = this.h.kv[this.active].getBinary(key as Buffer);
    return b === undefined ? undefined : decodeValue(b);
  }

  appliedIndex(): number {
    this.refresh();
    const a = this.h.meta.getBinary(META.applied);
    return a ? decodeLogId(a).index : 0;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.h.env.close();
    } finally {
      this.lock.release();
    }
  }
}
