// The LMDB store: two environments per node directory.
// - data.mdb, the LOG environment: the Raft log, the hard state, the voters, the last purge point, the state
//   machine's last checkpoint. Every transaction here is ONE `transactionSync` with a block body, synced
//   (durable on return) unless the store is opened with sync: false (UNSAFE for durability).
// - state.mdb, the STATE MACHINE environment: two key/value slots + client sessions, the active slot and the
//   applied index. Written WITHOUT fsync (MDB_NOSYNC): the log is the durability point, as in etcd (a WAL and
//   batched backend commits). A process crash keeps every committed state transaction (the page cache
//   survives) and a restart re-applies the log after the applied index; after a crash of the machine the
//   state is rebuilt from its last checkpoint, a synced copy, and the log after it. See docs/storage.md.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, promises as fsPromises, readFileSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { open, type Database, type RootDatabase, type Transaction } from 'lmdb';
import type { Entry, HardState, InitialState, LogId, Membership, SnapshotMeta } from '../raft/types.js';
import type { CommandResult, Key, Value } from './command.js';
import { LIMITS } from './command.js';
import { applyEntry, type KvAccess, SessionTable } from './apply.js';
import {
  decodeHardState, decodeLogId, decodeLogRecord, decodeMembership, decodeSession, decodeValue, decodeValueCopy, encodeHardState,
  encodeLogId, encodeLogRecord, encodeMembership, encodeSession, encodeValue, logKey, logKeyIndex, pack, unpack,
} from './codec.js';
import { StorageError, StorageErrorCode, type StorageSubject, type StorageVerb } from './errors.js';
import { acquireDirLock, type DirLock } from './lock.js';
import { checkApplyOrder, checkHardState, checkPurge, type StoreRole, type StoreTuning } from './memory.js';
import { DEFAULT_CHUNK_BYTES, SnapshotAssembler, snapshotChunks } from './snapshot-format.js';
import type { SnapshotSink, SnapshotSource, SyncStore } from './store.js';
import type { AppliedState, LogState, StoreOptions, WriteBatch, WriteBatchResult } from './types.js';
import { validateAppend, validateKey, validateRange } from './validate.js';

/** The on-disk format this code reads and writes; any other → FORMAT_VERSION. 2: the state machine has an environment of its own. */
export const FORMAT_VERSION = 2;
export const DATA_FILE = 'data.mdb';
export const STATE_FILE = 'state.mdb';
/** The last checkpoint of the state machine: a copy of state.mdb, synced, then renamed into place. */
export const CHECKPOINT_FILE = 'state.checkpoint.mdb';

/** Keys of the log environment's `meta` db. */
export const META = {
  format: 'format',
  hardState: 'hardState',
  lastPurged: 'lastPurged',
  membership: 'membership',
  /** The LogId the last checkpoint covers: the log is never purged past it. */
  checkpoint: 'checkpoint',
  /** The boot id of the machine while the state environment is open for writing; removed at a clean close. */
  stateOpen: 'stateOpen',
} as const;

/** Keys of the state environment's `meta` db: written in the same transaction as the data they describe. */
export const STATE_META = {
  applied: 'applied',
  active: 'active',
  /** The voters of the last installed snapshot. */
  membership: 'membership',
} as const;

type Slot = 0 | 1;

export interface StateHandles {
  env: RootDatabase;
  meta: Database<Buffer, string>;
  kv: [Database<Buffer, Buffer>, Database<Buffer, Buffer>];
  sessions: [Database<Buffer, number>, Database<Buffer, number>];
  /** A counter shared by every thread of the process that opened this env: bumped after each commit. */
  commitSeq: Int32Array;
}

export interface LmdbHandles {
  /** The log environment. */
  env: RootDatabase;
  meta: Database<Buffer, string>;
  log: Database<Buffer, Buffer>;
  /** The state machine environment. */
  sm: StateHandles;
}

const binary = { encoding: 'binary' as const, compression: false };

/** Open (or create) the log environment; checks the format version. */
function openLogEnv(dir: string, sync: boolean): Pick<LmdbHandles, 'env' | 'meta' | 'log'> {
  // overlappingSync off: every synced transactionSync is one plain LMDB commit with its fdatasync.
  const env = open({ path: join(dir, DATA_FILE), maxDbs: 4, noSync: !sync, overlappingSync: false, compression: false, encoding: 'binary' });
  const h = {
    env,
    meta: env.openDB<Buffer, string>({ name: 'meta', ...binary }),
    log: env.openDB<Buffer, Buffer>({ name: 'log', keyEncoding: 'binary', ...binary }),
  };
  try {
    checkFormat(h);
  } catch (err) {
    env.close();
    throw err;
  }
  return h;
}

/**
 * Open the state environment: MDB_NOSYNC (no fsync per transaction; LMDB keeps it intact across a process
 * crash, not across a machine crash, hence the checkpoints). Every opener in the process uses the same flags.
 */
function openStateEnv(dir: string): StateHandles {
  const env = open({ path: join(dir, STATE_FILE), maxDbs: 8, noSync: true, overlappingSync: false, compression: false, encoding: 'binary' });
  const s: StateHandles = {
    env,
    meta: env.openDB<Buffer, string>({ name: 'meta', ...binary }),
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
  const shared = (s.meta as unknown as { getUserSharedBuffer(k: string, b: ArrayBuffer): ArrayBuffer }).getUserSharedBuffer('commit-seq', new ArrayBuffer(4));
  s.commitSeq = new Int32Array(shared);
  return s;
}

/** Open both environments (a reader: no recovery; the store recovers before it calls this). */
export function openEnv(dir: string, sync: boolean): LmdbHandles {
  mkdirSync(dir, { recursive: true });
  const log = openLogEnv(dir, sync);
  try {
    return { ...log, sm: openStateEnv(dir) };
  } catch (err) {
    log.env.close();
    throw err;
  }
}

function checkFormat(h: Pick<LmdbHandles, 'env' | 'meta'>): void {
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
function checkMembership(h: Pick<LmdbHandles, 'env' | 'meta'>, membership: Membership): void {
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

/** A state meta record, optionally from an explicit read transaction (lmdb-js copies binary values on get). */
function stateMetaGet(s: StateHandles, key: string, transaction?: Transaction): Buffer | undefined {
  return transaction ? s.meta.get(key, { transaction }) : s.meta.getBinary(key);
}

export function readActive(s: StateHandles, transaction?: Transaction): Slot {
  const b = stateMetaGet(s, STATE_META.active, transaction);
  return b === undefined ? 0 : (unpack<number>(b) === 1 ? 1 : 0);
}

/**
 * The machine's boot id. THREADRAFT_BOOT_ID overrides it so that a test can stand for a reboot; the value
 * `per-process` gives every process a boot of its own (a simulated power loss between two runs).
 */
export function bootId(): string {
  const forced = process.env['THREADRAFT_BOOT_ID'];
  if (forced === 'per-process') return `process-${process.pid}`;
  if (forced) return forced;
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return 'unknown'; // then every unclean stop is treated as a machine crash: always safe
  }
}

/** Copy `from` to `to` with plain reads and writes, then fsync `to` (kept simple so a power-loss shim sees every byte). */
function copyDurably(from: string, to: string): void {
  const src = openSync(from, 'r');
  let dst: number | undefined;
  try {
    dst = openSync(to, 'w');
    const buf = Buffer.allocUnsafe(1 << 20);
    for (let pos = 0; ; ) {
      const n = readSync(src, buf, 0, buf.length, pos);
      if (n === 0) break;
      for (let off = 0; off < n; ) off += writeSync(dst, buf, off, n - off, pos + off);
      pos += n;
    }
    fsyncSync(dst);
  } finally {
    closeSync(src);
    if (dst !== undefined) closeSync(dst);
  }
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function removeIfExists(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/**
 * Before the state environment is opened for writing: if it was left open by a process that ran on an
 * earlier boot (the machine crashed), its unsynced pages may be lost or torn, so it is replaced by the last
 * checkpoint (or removed, when none was taken: then the log was never purged and replays from index 1).
 * After a crash of the process alone, the page cache held every commit: the state is kept as it is.
 */
function recoverStateEnv(dir: string, log: Pick<LmdbHandles, 'env' | 'meta'>): boolean {
  const b = log.meta.getBinary(META.stateOpen);
  const openedOnBoot = b === undefined ? undefined : unpack<string>(b);
  const boot = bootId();
  const rebuild = openedOnBoot !== undefined && (openedOnBoot !== boot || boot === 'unknown');
  if (rebuild) {
    const state = join(dir, STATE_FILE);
    const checkpoint = join(dir, CHECKPOINT_FILE);
    removeIfExists(`${state}-lock`);
    if (existsSync(checkpoint)) copyDurably(checkpoint, state);
    else removeIfExists(state);
    fsyncDir(dir);
  }
  log.env.transactionSync(() => {
    log.meta.put(META.stateOpen, pack(boot));
  });
  return rebuild;
}

export class LmdbStore implements SyncStore {
  readonly kind = 'lmdb' as const;
  private active: Slot;
  private last: LogId | undefined;
  private lastPurged: LogId | undefined;
  private lastApplied: LogId | undefined;
  private checkpointed: LogId | undefined;
  private readonly sessions: SessionTable;
  private readonly maxValueBytes: number;
  private readonly chunkBytes: number;
  private receiveGen = 0;
  private closed = false;
  private readonly snapshotsOpen = new Set<SnapshotSource>();
  /** Whether the state was rebuilt from a checkpoint at open (tests and logs). */
  readonly rebuiltAtOpen: boolean;
  private checkpointGen = 0;
  /** Which environment this store writes (StoreRole): the log, the state, or both. */
  private readonly role: StoreRole;
  /** The voters (of the last installed snapshot, else those the store was created for), read at reload. */
  private membership: Membership;

  private constructor(
    private readonly h: LmdbHandles,
    private readonly lock: DirLock,
    private readonly opts: StoreOptions & StoreTuning & { dir: string },
    rebuilt: boolean,
  ) {
    this.maxValueBytes = opts.maxValueBytes ?? LIMITS.defaultMaxValueBytes;
    this.chunkBytes = opts.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    this.sessions = new SessionTable(opts.maxSessions);
    this.active = 0;
    this.rebuiltAtOpen = rebuilt;
    this.role = opts.role ?? 'all';
    this.membership = opts.membership;
    this.reload();
    // The state's writer recovers: a 'log' store is opened after it (NodeHost opens the state first).
    if (this.role !== 'log') this.repairInterruptedInstall();
  }

  private writes(env: 'log' | 'state', what: string): void {
    if (this.role === 'all' || this.role === env) return;
    throw new StorageError(StorageErrorCode.IO, env === 'log' ? 'log' : 'state-machine', 'write', `${what}: this store writes the ${this.role} environment only`);
  }

  static open(opts: StoreOptions & StoreTuning): LmdbStore {
    const dir = opts.dir;
    if (!dir) throw new StorageError(StorageErrorCode.IO, 'store', 'open', 'an LMDB store needs `dir`');
    mkdirSync(dir, { recursive: true });
    const lock = acquireDirLock(dir);
    try {
      const log = openLogEnv(dir, opts.sync ?? true);
      let sm: StateHandles;
      let rebuilt: boolean;
      try {
        checkMembership(log, opts.membership);
        rebuilt = opts.role === 'log' ? false : recoverStateEnv(dir, log);
        sm = openStateEnv(dir);
      } catch (err) {
        log.env.close();
        throw err;
      }
      return new LmdbStore({ ...log, sm }, lock, { ...opts, dir }, rebuilt);
    } catch (err) {
      lock.release();
      throw StorageError.wrap(err, 'store', 'open');
    }
  }

  /** Rebuild the in-memory mirrors from disk (at open, and after a failed transaction). */
  private reload(): void {
    const h = this.h;
    h.env.resetReadTxn();
    h.sm.env.resetReadTxn();
    this.active = readActive(h.sm);
    const p = h.meta.getBinary(META.lastPurged);
    this.lastPurged = p ? decodeLogId(p) : undefined;
    const c = h.meta.getBinary(META.checkpoint);
    this.checkpointed = c ? decodeLogId(c) : undefined;
    const a = h.sm.meta.getBinary(STATE_META.applied);
    this.lastApplied = a ? decodeLogId(a) : undefined;
    let last: LogId | undefined;
    for (const { key, value } of h.log.getRange({ reverse: true, limit: 1 })) {
      last = { index: logKeyIndex(key), term: decodeLogRecord(0, value).term };
    }
    this.last = last ?? this.lastPurged;
    const sessions: Array<[number, ReturnType<typeof decodeSession>]> = [];
    for (const { key, value } of h.sm.sessions[this.active].getRange({})) sessions.push([key, decodeSession(value)]);
    this.sessions.load(sessions);
    this.membership = this.readMembership();
    this.releaseReads();
  }

  /**
   * Release this thread's read snapshots of both environments now. lmdb-js releases them on a later
   * macrotask, which a pool thread waiting for its next task never runs: a snapshot held there keeps every
   * page written since from being reused, and the file grows without bound (seen: 900 MB in 8 s).
   */
  private releaseReads(): void {
    this.h.env.resetReadTxn();
    this.h.sm.env.resetReadTxn();
  }

  /**
   * A snapshot install switches the state first, then resets the log (two environments): a crash between
   * the two leaves a state applied past the log's history. Finish the install: the log restarts at the
   * state's applied point. A state behind the purge point cannot be caught up from the log: refuse to open.
   */
  private repairInterruptedInstall(): void {
    const applied = this.lastApplied;
    const purged = this.lastPurged?.index ?? 0;
    if ((applied?.index ?? 0) < purged) {
      throw new StorageError(StorageErrorCode.IO, 'state-machine', 'open', `the state is applied to ${applied?.index ?? 0}, behind the log purged to ${purged}: it cannot be replayed`);
    }
    if (applied === undefined || applied.index === purged) return;
    const b = applied.index <= (this.last?.index ?? 0) ? this.h.log.getBinary(logKey(applied.index)) : undefined;
    if (b !== undefined && decodeLogRecord(applied.index, b).term === applied.term) return;
    this.logTxn('snapshot', 'install', () => this.resetLog(applied, this.membership));
  }

  private check(verb: StorageVerb): void {
    if (this.closed) throw new StorageError(StorageErrorCode.CLOSED, 'store', verb, 'LMDB store is closed');
  }

  /** One log transaction: synced and durable on return (unless sync: false). On failure nothing is written and the mirrors are reloaded. */
  private logTxn<T>(subject: StorageSubject, verb: StorageVerb, body: () => T): T {
    let out: T | undefined;
    try {
      // lmdb-js's default flags: abortable, and synchronous (data fdatasync'd, then the meta page written synchronously).
      this.h.env.transactionSync(() => {
        out = body();
      });
    } catch (err) {
      this.reload();
      throw StorageError.wrap(err, subject, verb);
    }
    // Reads on this thread after the commit must see it (lmdb-js would renew its read txn only on a later turn).
    this.h.env.resetReadTxn();
    return out as T;
  }

  /** One state transaction: visible on return, not synced (the log is the durability point). */
  private stateTxn<T>(subject: StorageSubject, verb: StorageVerb, body: () => T): T {
    let out: T | undefined;
    try {
      this.h.sm.env.transactionSync(() => {
        out = body();
      });
    } catch (err) {
      this.reload();
      throw StorageError.wrap(err, subject, verb);
    }
    this.h.sm.env.resetReadTxn();
    Atomics.add(this.h.sm.commitSeq, 0, 1);
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
    this.writes('log', 'truncate');
    this.logTxn('log', 'write', () => this.removeFrom(from));
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

  // ── the write batch: one per Ready ──

  /**
   * 1. The log (entries, hard state): one synced transaction, the durability point. 2. Apply: one state
   * transaction, not synced; every entry it applies is in the log already (committed entries were appended
   * by this batch or an earlier one). 3. Purge: a checkpoint of the state covers the purge point first, then
   * one synced log transaction.
   */
  write(batch: WriteBatch): WriteBatchResult {
    this.check('write');
    // Validate everything first: a rejected batch writes nothing.
    if (batch.entries.length > 0 || batch.hardState || batch.purgeTo) this.writes('log', 'append, hard state or purge');
    if (batch.apply.length > 0) this.writes('state', 'apply');
    validateAppend(batch.entries, this.last, this.lastPurged);
    if (batch.hardState) checkHardState(batch.hardState);
    checkApplyOrder(batch.apply, this.lastApplied?.index ?? 0);
    if (batch.purgeTo) {
      // A 'log' store sees the state's applied index only by reading it: the state is written by another thread.
      if (this.role === 'log') this.refreshApplied();
      const appliedTo = Math.max(this.lastApplied?.index ?? 0, batch.apply[batch.apply.length - 1]?.index ?? 0);
      checkPurge(batch.purgeTo, appliedTo);
    }
    const first = batch.entries[0];
    if (first || batch.hardState) {
      this.logTxn('log', 'write', () => {
        if (first) {
          // Truncate the conflicting suffix, then append (§5.3).
          const lastIndex = this.last?.index ?? 0;
          const newLast = batch.entries[batch.entries.length - 1]!;
          for (let i = newLast.index + 1; i <= lastIndex; i++) this.h.log.remove(logKey(i));
          for (const e of batch.entries) this.h.log.put(logKey(e.index), encodeLogRecord(e));
          this.last = { index: newLast.index, term: newLast.term };
        }
        if (batch.hardState) this.h.meta.put(META.hardState, encodeHardState(batch.hardState));
      });
    }
    const applied = batch.apply.length > 0 ? this.stateTxn('state-machine', 'apply', () => this.applyInTxn(batch.apply)) : [];
    if (batch.purgeTo) this.purgeBehindCheckpoint(batch.purgeTo);
    return { applied, appliedState: this.appliedState() };
  }

  /**
   * Never purge the log past the last checkpoint: a store that writes the state takes one first when the
   * purge point is beyond it; a 'log' store refuses (the state's writer must checkpoint first).
   */
  private purgeBehindCheckpoint(upTo: LogId): void {
    if (upTo.index <= (this.lastPurged?.index ?? 0)) return;
    if (this.role === 'log') {
      this.h.env.resetReadTxn();
      const c = this.h.meta.getBinary(META.checkpoint);
      this.checkpointed = c ? decodeLogId(c) : undefined;
    }
    if (upTo.index > (this.checkpointed?.index ?? 0)) {
      if (this.role === 'log') {
        throw new StorageError(StorageErrorCode.INVALID_RANGE, 'log', 'write', `cannot purge to ${upTo.index}: the last checkpoint of the state covers ${this.checkpointed?.index ?? 0}`);
      }
      this.checkpoint();
    }
    this.logTxn('log', 'write', () => this.doPurge(upTo));
  }

  private refreshApplied(): void {
    this.h.sm.env.resetReadTxn();
    const a = this.h.sm.meta.getBinary(STATE_META.applied);
    this.lastApplied = a ? decodeLogId(a) : undefined;
    this.h.sm.env.resetReadTxn();
  }

  /**
   * A checkpoint: the state environment copied as it is now (this thread is its only writer and no write
   * transaction is open, so the file's pages, in the page cache, hold exactly the last commit), synced, and
   * renamed into place; then what it covers is recorded in a synced log transaction. Returns that point.
   */
  checkpoint(): LogId {
    this.check('build');
    this.writes('state', 'checkpoint');
    if (this.checkpointed && (this.lastApplied?.index ?? 0) <= this.checkpointed.index) return { ...this.checkpointed };
    const dir = this.opts.dir;
    const gen = ++this.checkpointGen;
    const tmp = join(dir, `${CHECKPOINT_FILE}.${gen}.tmp`);
    try {
      copyDurably(join(dir, STATE_FILE), tmp);
    } catch (err) {
      removeIfExists(tmp);
      throw StorageError.wrap(err, 'snapshot', 'build');
    }
    const point = this.lastApplied ? { ...this.lastApplied } : { index: 0, term: 0 };
    this.putCheckpoint(tmp, point);
    return { ...point };
  }

  /**
   * The checkpoint without blocking this thread: LMDB's own hot copy (mdb_env_copy2, consistent from one
   * read transaction, in a libuv thread) while applies go on; then synced and renamed into place. The copy's
   * snapshot starts after this call, so it covers at least the applied index read now, which is what it
   * records. A checkpoint taken meanwhile (a snapshot install) supersedes it: this one is then dropped.
   */
  async checkpointAsync(): Promise<LogId> {
    this.check('build');
    this.writes('state', 'checkpoint');
    const point = this.lastApplied ? { ...this.lastApplied } : { index: 0, term: 0 };
    if (this.checkpointed && point.index <= this.checkpointed.index) return { ...this.checkpointed };
    const dir = this.opts.dir;
    const gen = ++this.checkpointGen;
    const tmp = join(dir, `${CHECKPOINT_FILE}.${gen}.tmp`);
    try {
      await this.h.sm.env.backup(tmp, false);
      const fh = await fsPromises.open(tmp, 'r+');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
    } catch (err) {
      removeIfExists(tmp);
      throw StorageError.wrap(err, 'snapshot', 'build');
    }
    if (this.closed || gen !== this.checkpointGen) {
      removeIfExists(tmp);
      return this.checkpointed ? { ...this.checkpointed } : point;
    }
    this.putCheckpoint(tmp, point);
    return { ...point };
  }

  /** Rename a synced copy into place and record, in a synced log transaction, what it covers. */
  private putCheckpoint(tmp: string, point: LogId): void {
    const dir = this.opts.dir;
    try {
      renameSync(tmp, join(dir, CHECKPOINT_FILE));
      fsyncDir(dir);
    } catch (err) {
      removeIfExists(tmp);
      throw StorageError.wrap(err, 'snapshot', 'build');
    }
    this.logTxn('snapshot', 'build', () => {
      this.h.meta.put(META.checkpoint, encodeLogId(point));
    });
    this.checkpointed = { ...point };
  }

  /**
   * The log restarts after `point` (a snapshot was installed in the state): every entry removed, the purge
   * point and checkpoint set, in ONE synced log transaction. What a 'state' store's install leaves to the log's writer.
   */
  resetLogTo(point: LogId, membership: Membership): void {
    this.check('install');
    this.writes('log', 'reset the log');
    this.logTxn('snapshot', 'install', () => this.resetLog(point, membership));
  }

  // ── state machine ──

  private kvAccess(): KvAccess {
    const kv = this.h.sm.kv[this.active];
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

  /** Inside a state transaction: apply, persist touched sessions and the applied index. */
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
    const sdb = this.h.sm.sessions[this.active];
    for (const c of this.sessions.dirty) sdb.put(c, encodeSession(this.sessions.get(c)!));
    for (const c of this.sessions.evicted) sdb.remove(c);
    this.sessions.clearChanges();
    if (advanced && this.lastApplied) this.h.sm.meta.put(STATE_META.applied, encodeLogId(this.lastApplied));
    return out;
  }

  apply(entries: Entry[]): CommandResult[][] {
    return this.write({ entries: [], apply: entries }).applied;
  }

  get(key: Key): Value | undefined {
    this.check('read');
    validateKey(key);
    const b = this.h.sm.kv[this.active].getBinary(key as Buffer);
    return b === undefined ? undefined : decodeValue(b);
  }

  /** The voters of the last installed snapshot, else those the store was created for. */
  private readMembership(): Membership {
    const s = this.h.sm.meta.getBinary(STATE_META.membership);
    if (s) return decodeMembership(s);
    const m = this.h.meta.getBinary(META.membership);
    return m ? decodeMembership(m) : this.opts.membership;
  }

  appliedState(): AppliedState {
    return { lastApplied: this.lastApplied, membership: this.membership };
  }

  initialState(): InitialState {
    this.check('read');
    const first = (this.lastPurged?.index ?? 0) + 1;
    const snapshot: SnapshotMeta | undefined = this.lastPurged ? { ...this.lastPurged, membership: this.membership } : undefined;
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
    const s = this.h.sm;
    const membership = this.membership;
    const transaction = s.env.useReadTransaction();
    let closed = false;
    const source: SnapshotSource = {
      meta: { index: 0, term: 0, membership },
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
      const slot = readActive(s, transaction);
      const a = stateMetaGet(s, STATE_META.applied, transaction);
      const applied = a ? decodeLogId(a) : { index: 0, term: 0 };
      const meta: SnapshotMeta = { index: applied.index, term: applied.term, membership };
      (source as { meta: SnapshotMeta }).meta = meta;
      const kv = s.kv[slot].getRange({ transaction });
      const sessions = s.sessions[slot].getRange({ transaction });
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

  /** The log restarts after `point`: every entry removed, the purge point and checkpoint set. Inside a log transaction. */
  private resetLog(point: LogId, membership: Membership): void {
    for (const { key } of this.h.log.getRange({})) this.h.log.remove(key);
    this.h.meta.put(META.lastPurged, encodeLogId(point));
    this.h.meta.put(META.checkpoint, encodeLogId(point));
    this.h.meta.put(META.membership, encodeMembership(membership));
    this.lastPurged = { ...point };
    this.last = { ...point };
    this.checkpointed = { ...point };
  }

  /**
   * Stage the received state in the inactive slot (the live state is untouched), then flip the active
   * pointer and set the applied index in ONE state transaction, take a checkpoint of it, and reset the log
   * in ONE synced log transaction. A crash before the flip leaves the old state (the stale staging is
   * cleared next time); a crash between the flip and the log reset is finished at the next open.
   */
  receiveSnapshot(): SnapshotSink {
    this.check('install');
    this.writes('state', 'receive a snapshot');
    const gen = ++this.receiveGen;
    const slot: Slot = this.active === 0 ? 1 : 0;
    const s = this.h.sm;
    try {
      s.kv[slot].clearSync();
      s.sessions[slot].clearSync();
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
        this.stateTxn('snapshot', 'install', () => {
          asm.accept(chunk, {
            putKv: (k, v) => {
              s.kv[slot].put(k as Buffer, v as Buffer);
            },
            putSession: (c, r) => {
              s.sessions[slot].put(c, r as Buffer);
            },
          });
        });
      },
      install: (meta) => {
        live();
        asm.finish(meta);
        const point = { index: meta.index, term: meta.term };
        this.stateTxn('snapshot', 'install', () => {
          s.meta.put(STATE_META.active, pack(slot));
          s.meta.put(STATE_META.applied, encodeLogId(point));
          s.meta.put(STATE_META.membership, encodeMembership(meta.membership));
        });
        this.receiveGen++;
        this.reload();
        this.checkpoint();
        // A 'state' store leaves the log to its writer (resetLogTo); until then the next open would finish it.
        if (this.role === 'all') this.logTxn('snapshot', 'install', () => this.resetLog(point, meta.membership));
        // The old slot is garbage now; clear it (not needed for safety: the next receive clears it too).
        const old: Slot = slot === 0 ? 1 : 0;
        try {
          s.kv[old].clearSync();
          s.sessions[old].clearSync();
        } catch {
          // left for the next receive
        }
      },
      abort: () => {
        if (gen === this.receiveGen) this.receiveGen++;
      },
    };
  }

  /** A clean close: the state is synced, and the next open need not distrust it whatever the boot. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const src of [...this.snapshotsOpen]) src.close();
    try {
      if (this.role !== 'log') (this.h.sm.env as unknown as { env: { sync(): void } }).env.sync();
      if (this.role !== 'log') {
        this.h.env.transactionSync(() => {
          this.h.meta.remove(META.stateOpen);
        });
      }
    } finally {
      try {
        this.h.sm.env.close();
        this.h.env.close();
      } finally {
        this.lock.release();
      }
    }
  }
}

/** Key encoding of the reader's dbs: the same bytes as the writer's binary keys, strings written as UTF-8 in place. */
const READER_KEYS = {
  writeKey(key: string | Uint8Array, target: Buffer, start: number): number {
    // Buffer#utf8Write (undocumented, what Buffer#write calls) skips write()'s argument parsing on this hot path.
    if (typeof key === 'string') return start + (target as Buffer & { utf8Write(s: string, offset: number): number }).utf8Write(key, start);
    target.set(key, start);
    return start + key.length;
  },
  readKey(target: Buffer, start: number, end: number): Uint8Array {
    return Uint8Array.prototype.slice.call(target, start, end);
  },
};

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
  /** The state machine's key/value dbs again, with READER_KEYS: string keys go in without a Buffer of their own. */
  private readonly kvFast: [Database<Buffer, string | Uint8Array>, Database<Buffer, string | Uint8Array>];

  private constructor(private readonly h: LmdbHandles, private readonly lock: DirLock) {
    const opts = { encoding: 'binary' as const, compression: false as const, keyEncoder: READER_KEYS };
    this.kvFast = [h.sm.env.openDB<Buffer, string | Uint8Array>({ name: 'kv0', ...opts }), h.sm.env.openDB<Buffer, string | Uint8Array>({ name: 'kv1', ...opts })];
  }

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
    const seq = Atomics.load(this.h.sm.commitSeq, 0);
    if (seq !== this.seen) {
      this.seen = seq;
      this.h.sm.env.resetReadTxn();
      this.active = readActive(this.h.sm);
    }
  }

  /**
   * A string key stands for its UTF-8 bytes (the caller checked its size). No allocation but the value:
   * getBinaryFast returns lmdb-js's shared buffer, decoded (copied) at once.
   */
  get(key: string | Uint8Array): Value | undefined {
    if (typeof key !== 'string') validateKey(key);
    this.refresh();
    const b = this.kvFast[this.active].getBinaryFast(key);
    return b === undefined ? undefined : decodeValueCopy(b);
  }

  appliedIndex(): number {
    this.refresh();
    const a = this.h.sm.meta.getBinary(STATE_META.applied);
    return a ? decodeLogId(a).index : 0;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.h.sm.env.close();
      this.h.env.close();
    } finally {
      this.lock.release();
    }
  }
}
