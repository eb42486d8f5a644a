// The LMDB store: two environments per node directory.
// - data.mdb, the LOG environment: the Raft log, the hard state, the voters, the last purge point, the state
//   machine's last checkpoint. Every transaction here is ONE `transactionSync` with a block body, synced
//   (durable on return) unless the store is opened with sync: false (UNSAFE for durability).
// - state.mdb, the STATE MACHINE environment: two key/value slots + client sessions, the active slot and the
//   applied index. Written WITHOUT fsync (MDB_NOSYNC): the log is the durability point, as in etcd (a WAL and
//   batched backend commits). A process crash keeps every committed state transaction (the page cache
//   survives) and a restart re-applies the log after the applied index; after a crash of the machine the
//   state is rebuilt from its last checkpoint, a synced copy, and the log after it. See docs/storage.md.
import { closeSync, existsSync, fsyncSync, linkSync, mkdirSync, openSync, promises as fsPromises, readdirSync, readFileSync, readSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { open, type Database, type RootDatabase, type Transaction } from 'lmdb';
import type { Entry, HardState, InitialState, LogId, Membership, SnapshotMeta } from '../raft/types.js';
import type { ChangeEvent, CommandResult, Key, ReplicaDigest, Value } from './command.js';
import { DigestQueue, type DigestRequest, type RecordCursor } from './digest.js';
import { LIMITS } from './command.js';
import {
  type ApplyContext, applyEntry, type CacheBounds, cacheBounds, emptyMachine, inScan, isBounded, type KvAccess, liveRevision, type MachineState, readTime,
  type RecordMeta, remainingTtl, absoluteExpiry, type ScanBounds, scanBounds, SessionTable, prefixEnd,
} from './apply.js';
import {
  decodeHardState, decodeLogId, decodeLogRecord, decodeMembership, decodeRecord, decodeSession, decodeValueCopy, encodeHardState,
  encodeLogId, encodeLogRecord, encodeMembership, encodeRecord, encodeSession, isExpired, logKey, logKeyIndex, pack, type RecordHeader, recordHeader,
  type StoredRecord, keyFromString, keyString, unpack,
} from './codec.js';
import { isStorageError, StorageError, StorageErrorCode, type StorageSubject, type StorageVerb } from './errors.js';
import { envHeaderProblem } from './env-header.js';
import { fsyncDir } from '../util/fsync.js';
import { ExpiryIndex } from './expiry-index.js';
import { acquireDirLock, type DirLock } from './lock.js';
import { SpaceGuard } from './space.js';
import { membershipAfter } from './membership.js';
import { checkApplyOrder, checkHardState, checkPurge, type StoreRole, type StoreTuning } from './memory.js';
import { DEFAULT_CHUNK_BYTES, SnapshotAssembler, snapshotChunks } from './snapshot-format.js';
import type { SnapshotSink, SnapshotSource, SyncStore } from './store.js';
import type { AppliedState, KeyRecord, LogState, ScanOptions, ScanRange, StoreOptions, StoreStats, WriteBatch, WriteBatchResult } from './types.js';
import { validateAppend, validateKey, validateRange } from './validate.js';

/** The on-disk format this code reads and writes; any other → FORMAT_VERSION. 2: the state machine has an environment of its own. */
export const FORMAT_VERSION = 2;
export const DATA_FILE = 'data.mdb';
export const STATE_FILE = 'state.mdb';
/**
 * What a transaction with only a purge point removes toward the goal at most (the entries up to it when fewer): the
 * log writes that follow remove the rest, a little more than each appends (docs/storage.md, "Purging the log").
 */
export const PURGE_ALONE_BYTES = 1 << 20;

/** The last checkpoint of the state machine: a copy of state.mdb, synced, then renamed into place. */
export const CHECKPOINT_FILE = 'state.checkpoint.mdb';

/** Keys of the log environment's `meta` db. */
export const META = {
  format: 'format',
  hardState: 'hardState',
  lastPurged: 'lastPurged',
  membership: 'membership',
  /**
   * The voters the store was created for (its bootstrap configuration), which checkMembership holds it to. Apart
   * from `membership`, which an installed snapshot replaces: a node that installed a snapshot after a membership
   * change must still reopen with the bootstrap configuration the cluster's manifest lists for it.
   */
  createdFor: 'createdFor',
  /** The LogId the last checkpoint covers: the log is never purged past it. */
  checkpoint: 'checkpoint',
  /** Where the log is being purged to (a checkpoint covers it): each log transaction removes some (doPurge). */
  purgeGoal: 'purgeGoal',
  /** The boot id of the machine while the state environment is open for writing; removed at a clean close. */
  stateOpen: 'stateOpen',
  /** The first log index whose record must carry a checksum: 1 for a store created with them (codec.ts). */
  checksumsFrom: 'checksumsFrom',
} as const;

/** Keys of the state environment's `meta` db: written in the same transaction as the data they describe. */
export const STATE_META = {
  applied: 'applied',
  active: 'active',
  /** The voters of the last installed snapshot. */
  membership: 'membership',
  /** [clock, writeSeq, keys, bytes, evictions, expirations]: MachineState, with the applied index it goes with. */
  machine: 'machine',
  /** The cache bounds the state was created with ([maxKeys, maxBytes], null for none); absent: unbounded. */
  bounds: 'bounds',
} as const;

type Slot = 0 | 1;

export interface StateHandles {
  env: RootDatabase;
  meta: Database<Buffer, string>;
  kv: [Database<Buffer, Buffer>, Database<Buffer, Buffer>];
  sessions: [Database<Buffer, number>, Database<Buffer, number>];
  /** Per slot, the write order (eviction) index: orderedKey(rev, key) → empty. */
  lru: [Database<Buffer, Buffer>, Database<Buffer, Buffer>];
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
  refuseDamaged(dir, DATA_FILE, 'log');
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
 * crash, not across a machine crash, hence the checkpoints) and MDB_WRITEMAP (a transaction writes its pages in
 * the shared map, not in copies written out at commit: about a fifth less CPU per write in a 3-node cluster,
 * docs/benchmarks.md; what it costs: a full disk is a SIGBUS there, hence SpaceGuard). Nested transactions do not
 * exist with WRITEMAP; none is used. THREADRAFT_STATE_WRITEMAP=0 turns it off, for the power-loss tool, which
 * cannot roll back writes made through a map. Every opener in the process uses the same flags.
 */
function openStateEnv(dir: string): StateHandles {
  const useWritemap = process.env['THREADRAFT_STATE_WRITEMAP'] !== '0';
  refuseDamaged(dir, STATE_FILE, 'state-machine');
  const env = open({ path: join(dir, STATE_FILE), maxDbs: 16, noSync: true, useWritemap, overlappingSync: false, compression: false, encoding: 'binary' });
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
    lru: [
      env.openDB<Buffer, Buffer>({ name: 'lru0', keyEncoding: 'binary', ...binary }),
      env.openDB<Buffer, Buffer>({ name: 'lru1', keyEncoding: 'binary', ...binary }),
    ],
    commitSeq: new Int32Array(1),
  };
  const shared = (s.meta as unknown as { getUserSharedBuffer(k: string, b: ArrayBuffer): ArrayBuffer }).getUserSharedBuffer('commit-seq', new ArrayBuffer(4));
  s.commitSeq = new Int32Array(shared);
  return s;
}

/**
 * CORRUPT when LMDB would refuse the file (env-header.ts): lmdb-js would take the process down with it. The log
 * environment, the durability point, is never rebuilt from anything; the state's writer rebuilds a damaged state
 * environment before it gets here (recoverStateEnv).
 */
function refuseDamaged(dir: string, file: string, subject: StorageSubject): void {
  const problem = envHeaderProblem(join(dir, file));
  if (problem !== undefined) throw new StorageError(StorageErrorCode.CORRUPT, subject, 'open', `${join(dir, file)} is damaged: ${problem}`);
}

/** Whether `dir` holds a log environment with something in it (LMDB writes its meta pages at creation). */
export function hasLog(dir: string): boolean {
  try {
    return statSync(join(dir, DATA_FILE)).size > 0;
  } catch {
    return false;
  }
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
  const created = h.meta.getBinary(META.createdFor);
  // A store from before `createdFor`: its `membership` record, unless a snapshot replaced it since.
  const b = created ?? h.meta.getBinary(META.membership);
  if (b === undefined) {
    h.env.transactionSync(() => {
      h.meta.put(META.membership, encodeMembership({ voters: wanted }));
      h.meta.put(META.createdFor, encodeMembership({ voters: wanted }));
    });
    return;
  }
  const stored = [...decodeMembership(b).voters].sort((x, y) => x - y);
  if (stored.length !== wanted.length || stored.some((v, i) => v !== wanted[i])) {
    throw new StorageError(StorageErrorCode.MEMBERSHIP_MISMATCH, 'store', 'open', `the store was created for voters [${stored.join(', ')}], opened for [${wanted.join(', ')}]`);
  }
  if (created === undefined) {
    h.env.transactionSync(() => {
      h.meta.put(META.createdFor, encodeMembership({ voters: wanted }));
    });
  }
}

/**
 * The first log index whose record must carry a checksum (decodeLogRecord): recorded at the first open by code that
 * writes them, as the index after the log's last record (1 in a new store); records before it may have none.
 */
function checksumsFrom(h: Pick<LmdbHandles, 'env' | 'meta' | 'log'>): number {
  const read = (): number | undefined => {
    const b = h.meta.getBinary(META.checksumsFrom);
    return b === undefined ? undefined : unpack<number>(b);
  };
  const known = read();
  if (known !== undefined) return known;
  return h.env.transactionSync(() => {
    const now = read(); // the directory's other store may have recorded it since
    if (now !== undefined) return now;
    let from = 1;
    for (const { key } of h.log.getRange({ reverse: true, limit: 1 })) from = logKeyIndex(key) + 1;
    h.meta.put(META.checksumsFrom, pack(from));
    return from;
  });
}

/** A state meta record, optionally from an explicit read transaction (lmdb-js copies binary values on get). */
function stateMetaGet(s: StateHandles, key: string, transaction?: Transaction): Buffer | undefined {
  return transaction ? s.meta.get(key, { transaction }) : s.meta.getBinary(key);
}

export function readActive(s: StateHandles, transaction?: Transaction): Slot {
  const b = stateMetaGet(s, STATE_META.active, transaction);
  return b === undefined ? 0 : (unpack<number>(b) === 1 ? 1 : 0);
}

type MachineRecord = [clock: number, writeSeq: number, keys: number, bytes: number, evictions: number, expirations: number];

/** The machine's scalars, or undefined in a state written before they existed. */
function readMachine(s: StateHandles, transaction?: Transaction): MachineState | undefined {
  const b = stateMetaGet(s, STATE_META.machine, transaction);
  if (b === undefined) return undefined;
  const [clock, writeSeq, keys, bytes, evictions, expirations] = unpack<MachineRecord>(b);
  return { clock, writeSeq, keys, bytes, evictions, expirations };
}

function encodeMachine(m: MachineState): Buffer {
  const rec: MachineRecord = [m.clock, m.writeSeq, m.keys, m.bytes, m.evictions, m.expirations];
  return pack(rec);
}

/**
 * Index keys: a non-negative number as a float64 big-endian (for non-negative doubles byte order is numeric
 * order), then the key bytes: the write order index orders by (rev, key).
 */
function orderedKey(n: number, key: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(8 + key.byteLength);
  b.writeDoubleBE(n, 0);
  b.set(key, 8);
  return b;
}

const EMPTY = Buffer.alloc(0);

/**
 * The records of one slot and their indexes, kept exact inside the apply transaction. The write-order index exists
 * only in a bounded store (`ordered`): eviction is its one reader, and keeping it costs two B-tree writes per put
 * (measured: write-256 fell from about 62k to 37k puts/s with it always on).
 */
class LmdbKv implements KvAccess {
  constructor(
    private readonly s: StateHandles,
    private readonly slot: Slot,
    private readonly ordered: boolean,
    /**
     * The slot's expiry index, in memory (see ExpiryIndex; rebuilt from the records when the store loads its state).
     * None for a snapshot being staged: the slot is indexed once it is active.
     */
    private readonly expiries: ExpiryIndex | undefined,
  ) {}

  get(key: Key): StoredRecord | undefined {
    const b = this.s.kv[this.slot].getBinary(key as Buffer);
    return b === undefined ? undefined : decodeRecord(b);
  }

  /** The header only, from lmdb-js's reused buffer (getBinaryFast): no copy, no value decoded. */
  meta(key: Key): RecordMeta | undefined {
    const b = this.s.kv[this.slot].getBinaryFast(key as Buffer);
    if (b === undefined) return undefined;
    const h = recordHeader(b);
    return { expiresAt: h.expiresAt, rev: h.rev, valueBytes: b.length - h.offset }; // length: lmdb-js reuses one large buffer (byteLength is its size)
  }

  put(key: Key, rec: StoredRecord, old: RecordMeta | undefined, ks: string | undefined): void {
    if (this.ordered && old) this.s.lru[this.slot].remove(orderedKey(old.rev, key));
    this.s.kv[this.slot].put(key as Buffer, encodeRecord(rec));
    if (this.ordered) this.s.lru[this.slot].put(orderedKey(rec.rev, key), EMPTY);
    // The expiry moves in one lookup of the index (as in putBlind), only when an expiry goes or comes.
    if (rec.expiresAt !== undefined || old?.expiresAt !== undefined) this.expiries?.set(ks ?? keyString(key), rec.expiresAt);
  }

  del(key: Key, old: RecordMeta): void {
    this.s.kv[this.slot].remove(key as Buffer);
    this.unindex(key, old);
  }

  /** A record not indexed yet (an older state's, a staged snapshot's). */
  index(key: Uint8Array, h: { expiresAt: number | undefined; rev: number }): void {
    if (this.ordered) this.s.lru[this.slot].put(orderedKey(h.rev, key), EMPTY);
    if (h.expiresAt !== undefined) this.expiries?.add(keyString(key), h.expiresAt);
  }

  private unindex(key: Key, old: RecordMeta): void {
    if (this.ordered) this.s.lru[this.slot].remove(orderedKey(old.rev, key));
    if (old.expiresAt !== undefined) this.expiries?.remove(keyString(key), old.expiresAt);
  }

  each(fn: (key: Key, rec: StoredRecord) => void): void {
    for (const { key, value } of this.s.kv[this.slot].getRange({})) fn(key, decodeRecord(value));
  }

  clear(each?: (key: Key, rec: StoredRecord) => void): void {
    if (each) this.each(each);
    clearSlotData(this.s, this.slot);
    this.expiries?.clear();
  }

  keysUnder(prefix: Key): Key[] {
    const end = prefixEnd(prefix);
    return Array.from(this.s.kv[this.slot].getKeys(end === undefined ? { start: prefix as Buffer } : { start: prefix as Buffer, end }));
  }

  takeExpired(time: number, limit: number): Key[] {
    return this.expiries?.take(time, limit).map(keyFromString) ?? [];
  }

  /**
   * Write over a record without reading it: unbounded (no write-order index, no bytes counted) and the expiry index
   * knows the old record's expiry. Not when the old record has expired: its end is counted and reported first.
   */
  putBlind(key: Key, rec: StoredRecord, ks: string | undefined, clock: number): boolean {
    const expiries = this.expiries;
    if (this.ordered || expiries === undefined) return false;
    // The index first (a put that throws fails the transaction, and a failed transaction indexes the records again).
    if ((expiries.size > 0 || rec.expiresAt !== undefined) && !expiries.set(ks ?? keyString(key), rec.expiresAt, clock)) return false;
    this.s.kv[this.slot].put(key as Buffer, encodeRecord(rec));
    return true;
  }

  /** Records held: LMDB's own count, which includes this transaction's writes. */
  count(): number {
    return (this.s.kv[this.slot].getStats() as { entryCount: number }).entryCount;
  }

  live(time: number): number {
    return this.count() - (this.expiries?.countExpired(time) ?? 0);
  }

  oldest(): Key | undefined {
    for (const { key } of this.s.lru[this.slot].getRange({ limit: 1 })) return key.subarray(8);
    return undefined;
  }
}

/** A slot's expiry index, from its records' headers (one pass over the records: at open, install, or after a failed transaction). */
function indexExpiries(s: StateHandles, slot: Slot): ExpiryIndex {
  const index = new ExpiryIndex();
  const db = s.kv[slot];
  // Keys only, each record's header read from lmdb-js's reused buffer: a range with values would copy every value.
  for (const key of db.getKeys({})) {
    const b = db.getBinaryFast(key);
    const at = b === undefined ? undefined : recordHeader(b).expiresAt;
    if (at !== undefined) index.add(keyString(key), at);
  }
  return index;
}

/** Empty a slot's records and indexes (inside a state transaction, or as transactions of their own outside one). */
function clearSlotData(s: StateHandles, slot: Slot): void {
  s.kv[slot].clearSync();
  s.lru[slot].clearSync();
}

// ── reads shared by the store and the main thread's reader ──

/** The header of `key`'s record when it is live at `time` (as MemoryStore's live()); undefined when absent or expired. */
function slotLive(s: StateHandles, slot: Slot, key: Key, time: number): RecordHeader | undefined {
  const b = s.kv[slot].getBinary(key as Buffer);
  if (b === undefined) return undefined;
  const h = recordHeader(b);
  return isExpired(h.expiresAt, time) ? undefined : h;
}

function slotTtl(s: StateHandles, slot: Slot, key: Key, time: number): number | undefined {
  const h = slotLive(s, slot, key, time);
  return h && remainingTtl(h.expiresAt, time);
}

function slotExpiresAt(s: StateHandles, slot: Slot, key: Key, time: number): number | undefined {
  const h = slotLive(s, slot, key, time);
  return h && absoluteExpiry(h.expiresAt);
}

function slotRecord(s: StateHandles, slot: Slot, key: Key, time: number): KeyRecord | undefined {
  const b = s.kv[slot].getBinaryFast(key as Buffer);
  if (b === undefined) return undefined;
  const h = recordHeader(b);
  return isExpired(h.expiresAt, time) ? undefined : { value: decodeValueCopy(b, h), revision: liveRevision(h, time), expiresAt: h.expiresAt };
}

function slotRevision(s: StateHandles, slot: Slot, key: Key, time: number): number {
  const b = s.kv[slot].getBinaryFast(key as Buffer);
  return liveRevision(b === undefined ? undefined : recordHeader(b), time);
}

/** The lowest key there can be (keys are 1 to 1,024 bytes). */
const LOWEST_KEY = Buffer.from([0]);

/** Live pairs in the bounds: lmdb-js's range, with the bounds it cannot express (reverse lower bound, after) checked here. */
function slotScan(s: StateHandles, slot: Slot, b: ScanBounds, time: number): Array<[Key, Value]> {
  const out: Array<[Key, Value]> = [];
  if (b.limit === 0) return out;
  const later = (x: Buffer | undefined, y: Buffer | undefined): Buffer | undefined => (x && y ? (Buffer.compare(x, y) > 0 ? x : y) : (x ?? y));
  const earlier = (x: Buffer | undefined, y: Buffer | undefined): Buffer | undefined => (x && y ? (Buffer.compare(x, y) < 0 ? x : y) : (x ?? y));
  // lmdb-js: forward, start inclusive and end exclusive; reverse, from `start` (inclusive) down to `end`, which a
  // reverse range must name, inclusive: its default end is the one-byte key 0x00, exclusive, so the key 0x00 was
  // never in a descending scan.
  const start = b.reverse ? earlier(b.hi, b.after) : later(b.lo, b.after);
  const range: { start?: Buffer; end?: Buffer; reverse?: boolean; inclusiveEnd?: boolean } = b.reverse
    ? { reverse: true, end: b.lo ?? LOWEST_KEY, inclusiveEnd: true }
    : {};
  if (start) range.start = start;
  if (!b.reverse && b.hi) range.end = b.hi;
  let bytes = 0;
  for (const { key, value } of s.kv[slot].getRange(range)) {
    if (!inScan(b, key)) continue;
    const h = recordHeader(value);
    if (isExpired(h.expiresAt, time)) continue;
    out.push([key, decodeValueCopy(value, h)]);
    bytes += key.length + value.length - h.offset;
    if (out.length >= b.limit || bytes >= b.maxBytes) break;
  }
  return out;
}

/** SyncStore.randomKey on slot `slot`: lmdb-js positions its cursor at the index (`offset`) in native code. */
function slotRandomKey(s: StateHandles, slot: Slot, r: number, time: number): Key | undefined {
  const db = s.kv[slot];
  const count = (db.getStats() as { entryCount: number }).entryCount;
  if (count === 0) return undefined;
  const at = Math.min(count - 1, Math.floor(r * count));
  const live = (range: { offset: number } | { limit: number }): Key | undefined => {
    for (const { key, value } of db.getRange(range)) if (!isExpired(recordHeader(value).expiresAt, time)) return key as Buffer;
    return undefined;
  };
  return live({ offset: at }) ?? (at > 0 ? live({ limit: at }) : undefined);
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

/**
 * Copies of the state that a crash cut short (`state.checkpoint.mdb.<n>.tmp`): the state's writer numbers its
 * copies from 1 again after a restart, and LMDB's copy refuses a file that exists (O_EXCL), so a copy left
 * behind failed that checkpoint and stopped the node ("IO: File exists"). And replaced checkpoints a crash kept
 * (`<n>.old`, putCheckpoint). Removed when the state's writer opens.
 */
function removeCheckpointCopies(dir: string): void {
  for (const f of readdirSync(dir)) if (f.startsWith(`${CHECKPOINT_FILE}.`) && (f.endsWith('.tmp') || f.endsWith('.old'))) removeIfExists(join(dir, f));
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
 * The same when its meta pages are damaged (env-header.ts), whatever did it: the state is rebuilt from what
 * is durable, as after a machine crash. After a crash of the process alone, the page cache held every commit:
 * the state is kept as it is.
 */
function recoverStateEnv(dir: string, log: Pick<LmdbHandles, 'env' | 'meta'>): boolean {
  const b = log.meta.getBinary(META.stateOpen);
  const openedOnBoot = b === undefined ? undefined : unpack<string>(b);
  const boot = bootId();
  const rebuild = (openedOnBoot !== undefined && (openedOnBoot !== boot || boot === 'unknown')) || envHeaderProblem(join(dir, STATE_FILE)) !== undefined;
  if (rebuild) {
    const state = join(dir, STATE_FILE);
    const checkpoint = join(dir, CHECKPOINT_FILE);
    removeIfExists(`${state}-lock`);
    const damaged = envHeaderProblem(checkpoint);
    if (damaged !== undefined) throw new StorageError(StorageErrorCode.CORRUPT, 'state-machine', 'open', `the state must be rebuilt and its checkpoint ${checkpoint} is damaged: ${damaged}`);
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
  /** META.purgeGoal's mirror: log transactions purge toward it until lastPurged reaches it. */
  private purgeGoal: LogId | undefined;
  private lastApplied: LogId | undefined;
  private checkpointed: LogId | undefined;
  private readonly sessions: SessionTable;
  private readonly maxValueBytes: number;
  private readonly chunkBytes: number;
  private receiveGen = 0;
  private closed = false;
  private readonly snapshotsOpen = new Set<SnapshotSource>();
  /** Digests (Op 'digest') being taken from read snapshots, each of the state after its entry. */
  private readonly digestQueue = new DigestQueue();
  /** Whether the state was rebuilt from a checkpoint at open (tests and logs). */
  readonly rebuiltAtOpen: boolean;
  private checkpointGen = 0;
  /** Which environment this store writes (StoreRole): the log, the state, or both. */
  private readonly role: StoreRole;
  /** The voters (of the last installed snapshot, else those the store was created for), read at reload. */
  private membership: Membership;
  /** The machine's scalars as of the applied index (reloaded with it after a failed transaction). */
  private machine: MachineState = emptyMachine();
  private readonly bounds: CacheBounds;
  /** Bounded: the write-order index is kept (see LmdbKv). */
  private readonly ordered: boolean;
  /** The active slot's expiry index (a state writer's only: rebuilt from the records' headers by reload()). */
  private expiries = new ExpiryIndex();
  private recording = false;
  /** Before each state transaction: a full disk must be an error here, not a SIGBUS in the map (space.ts). */
  private readonly space: SpaceGuard;

  private constructor(
    private readonly h: LmdbHandles,
    private readonly lock: DirLock,
    private readonly opts: StoreOptions & StoreTuning & { dir: string },
    rebuilt: boolean,
    /** The first log index whose record must carry a checksum (META.checksumsFrom). */
    private readonly checksumsFrom: number,
  ) {
    this.maxValueBytes = opts.maxValueBytes ?? LIMITS.defaultMaxValueBytes;
    this.chunkBytes = opts.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    this.sessions = new SessionTable(opts.maxSessions);
    this.active = 0;
    this.rebuiltAtOpen = rebuilt;
    this.role = opts.role ?? 'all';
    this.space = new SpaceGuard(opts.dir, opts.freeBytes);
    this.membership = opts.membership;
    this.bounds = cacheBounds(opts);
    this.ordered = isBounded(this.bounds);
    this.reload();
    // The state's writer recovers: a 'log' store is opened after it (NodeHost opens the state first).
    if (this.role !== 'log') {
      const fresh = !readMachine(this.h.sm);
      this.checkBounds(fresh);
      this.repairInterruptedInstall();
      if (fresh) this.indexOlderState();
    }
  }

  /**
   * The bounds are fixed when the state is created: every replica must evict the same keys, and a store created
   * unbounded keeps no write-order index to evict by. A store with no machine record yet (new, or from before
   * bounds existed) takes the bounds it is opened with; otherwise different bounds are refused (BOUNDS_MISMATCH).
   */
  private checkBounds(fresh: boolean): void {
    const s = this.h.sm;
    const finite = (v: number): number | null => (v === Infinity ? null : v);
    const wanted: [number | null, number | null] = [finite(this.bounds.maxKeys), finite(this.bounds.maxBytes)];
    const b = s.meta.getBinary(STATE_META.bounds);
    const stored = b === undefined ? ([null, null] as [number | null, number | null]) : unpack<[number | null, number | null]>(b);
    if (fresh) {
      if (this.role === 'log') return;
      this.stateTxn('state-machine', 'open', () => s.meta.put(STATE_META.bounds, pack(wanted)));
      return;
    }
    if (stored[0] !== wanted[0] || stored[1] !== wanted[1]) {
      const show = (x: [number | null, number | null]): string => `maxKeys ${x[0] ?? 'none'}, maxBytes ${x[1] ?? 'none'}`;
      throw new StorageError(StorageErrorCode.BOUNDS_MISMATCH, 'store', 'open', `the state was created with ${show(stored)}, opened with ${show(wanted)}: bounds are fixed when a directory is created`);
    }
  }

  /**
   * A state written before expiries and bounds has records of tags 0/1 and no indexes: index them (write
   * revision 0: they are the least recently written) and count them, once, in one state transaction.
   */
  private indexOlderState(): void {
    const s = this.h.sm;
    const m = emptyMachine();
    this.stateTxn('state-machine', 'open', () => {
      const kv = new LmdbKv(s, this.active, this.ordered, this.expiries);
      for (const { key, value } of s.kv[this.active].getRange({})) {
        const h = recordHeader(value);
        kv.index(key, h);
        m.keys++;
        if (isBounded(this.bounds)) m.bytes += key.byteLength + value.byteLength - h.offset;
      }
      s.meta.put(STATE_META.machine, encodeMachine(m));
    });
    this.machine = m;
  }

  private writes(env: 'log' | 'state', what: string): void {
    if (this.role === 'all' || this.role === env) return;
    throw new StorageError(StorageErrorCode.IO, env === 'log' ? 'log' : 'state-machine', 'write', `${what}: this store writes the ${this.role} environment only`);
  }

  static open(opts: StoreOptions & StoreTuning): LmdbStore {
    const dir = opts.dir;
    if (!dir) throw new StorageError(StorageErrorCode.IO, 'store', 'open', 'an LMDB store needs `dir`');
    const logThere = hasLog(dir);
    if (opts.existing === true && !logThere) {
      throw new StorageError(StorageErrorCode.CORRUPT, 'log', 'open', `${join(dir, DATA_FILE)} is missing or empty, and this store was created before: a node that forgot its votes could vote twice in a term`);
    }
    mkdirSync(dir, { recursive: true });
    const lock = acquireDirLock(dir);
    try {
      // A new log: a state (and checkpoint) left beside it belongs to a log that is gone (a first start cut short
      // before its log was synced): it goes too, or it would stand applied past an empty log.
      if (opts.role !== 'log' && !logThere) for (const f of [STATE_FILE, `${STATE_FILE}-lock`, CHECKPOINT_FILE]) removeIfExists(join(dir, f));
      if (opts.role !== 'log') removeCheckpointCopies(dir);
      const log = openLogEnv(dir, opts.sync ?? true);
      let sm: StateHandles;
      let rebuilt: boolean;
      let checksums: number;
      const openedBefore = log.meta.getBinary(META.stateOpen);
      try {
        checkMembership(log, opts.membership);
        checksums = checksumsFrom(log);
        rebuilt = opts.role === 'log' ? false : recoverStateEnv(dir, log);
        sm = openStateEnv(dir);
      } catch (err) {
        log.env.close();
        throw err;
      }
      try {
        return new LmdbStore({ ...log, sm }, lock, { ...opts, dir }, rebuilt, checksums);
      } catch (err) {
        // Refused before writing the state (other bounds): the state was not opened for writing after all, so its
        // "opened on this boot" mark goes back to what it was (else a reboot would rebuild it for nothing).
        if (isStorageError(err, StorageErrorCode.BOUNDS_MISMATCH) && opts.role !== 'log') {
          log.env.transactionSync(() => {
            // A block, not an expression: a callback that returns the put's promise-like never ends.
            if (openedBefore === undefined) log.meta.remove(META.stateOpen);
            else log.meta.put(META.stateOpen, openedBefore);
          });
        }
        sm.env.close();
        log.env.close();
        throw err;
      }
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
    this.readLogMirrors();
    const a = h.sm.meta.getBinary(STATE_META.applied);
    this.lastApplied = a ? decodeLogId(a) : undefined;
    this.machine = readMachine(h.sm) ?? emptyMachine();
    const sessions: Array<[number, ReturnType<typeof decodeSession>]> = [];
    for (const { key, value } of h.sm.sessions[this.active].getRange({})) sessions.push([key, decodeSession(value)]);
    this.sessions.load(sessions);
    if (this.role !== 'log') this.expiries = indexExpiries(h.sm, this.active);
    this.releaseReads();
  }

  /** The log's mirrors (last entry, purge point, checkpoint) and the membership, from the current read snapshot. */
  private readLogMirrors(): void {
    const h = this.h;
    const p = h.meta.getBinary(META.lastPurged);
    this.lastPurged = p ? decodeLogId(p) : undefined;
    const c = h.meta.getBinary(META.checkpoint);
    this.checkpointed = c ? decodeLogId(c) : undefined;
    const g = h.meta.getBinary(META.purgeGoal);
    this.purgeGoal = g ? decodeLogId(g) : undefined;
    let last: LogId | undefined;
    for (const { key, value } of h.log.getRange({ reverse: true, limit: 1 })) {
      const index = logKeyIndex(key);
      last = { index, term: decodeLogRecord(index, value, this.checksumsFrom).term };
    }
    this.last = last ?? this.lastPurged;
    this.membership = this.readMembership();
  }

  /**
   * Release this thread's read snapshots of both environments now. lmdb-js releases them on a later
   * macrotask, which a pool thread waiting for its next task never runs: a snapshot held there keeps every
   * page written since from being reused, and the file grows without bound (seen: state.mdb at 900 MB in 8 s;
   * a follower's data.mdb at 5 GB in 3 minutes, pinned by the read of the pool thread's 'initial' task).
   */
  releaseReads(): void {
    if (this.closed) return;
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
    if (b !== undefined && decodeLogRecord(applied.index, b, this.checksumsFrom).term === applied.term) return;
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
    this.space.check(subject, verb);
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
        const index = logKeyIndex(key);
        // The log is contiguous in every snapshot (a purge takes a prefix, a truncation a suffix): a hole is records
        // that damaged pages hide. Only the ends may differ from the mirrors, which another store may have moved.
        const expected = out.length === 0 ? index : out[out.length - 1]!.index + 1;
        if (index !== expected) throw new StorageError(StorageErrorCode.CORRUPT, 'log', 'read', `log entries ${expected} to ${index - 1} are missing`);
        out.push(decodeLogRecord(index, value, this.checksumsFrom));
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
        this.last = b ? { index: prev, term: decodeLogRecord(prev, b, this.checksumsFrom).term } : this.lastPurged;
      }
    }
  }

  /** Purge the log up to `upTo` at once (a checkpoint first when none covers it). */
  purge(upTo: LogId): void {
    this.check('write');
    this.writes('log', 'purge');
    this.checkPurgePoint(upTo, 0);
    this.purgeBehindCheckpoint(upTo);
  }

  /** The log is never purged past the applied index: the state's, or `applying` (what the same batch applies). */
  private checkPurgePoint(upTo: LogId, applying: number): void {
    // A 'log' store sees the state's applied index only by reading it: the state is written by another thread.
    if (this.role === 'log') this.refreshApplied();
    checkPurge(upTo, Math.max(this.lastApplied?.index ?? 0, applying));
  }

  /**
   * Remove the log's entries up to `upTo`, oldest first, until their bytes reach `budget` (at least one entry;
   * Infinity: all of them). LMDB keeps the pages of removed entries on its free list, and lmdb-js's free list costs
   * every later commit time that grows with its length: a log transaction removes a little more than it appends,
   * so that appends take the pages back soon (docs/storage.md, "Purging the log").
   */
  private doPurge(upTo: LogId, budget: number): void {
    const purged = this.lastPurged?.index ?? 0;
    if (upTo.index <= purged) return;
    const end = Math.min(upTo.index, this.last?.index ?? 0);
    let point: LogId = upTo;
    for (let i = purged + 1; i <= end; i++) {
      const key = logKey(i);
      if (budget !== Infinity && i < end) {
        const b = this.h.log.getBinaryFast(key);
        budget -= b?.length ?? 0;
        if (budget <= 0 && b !== undefined) point = { index: i, term: decodeLogRecord(i, b, this.checksumsFrom).term }; // before lmdb-js reuses the buffer
      }
      this.h.log.remove(key);
      if (point !== upTo) break; // the budget is spent
    }
    this.lastPurged = { index: point.index, term: point.term };
    if (point.index >= (this.last?.index ?? 0)) this.last = this.lastPurged;
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
    if (batch.purgeTo) this.checkPurgePoint(batch.purgeTo, batch.apply[batch.apply.length - 1]?.index ?? 0);
    const first = batch.entries[0];
    // A purge point that a checkpoint covers becomes the log's goal; from then on every log transaction (of either
    // store of the directory: the goal is in the log's meta) removes entries toward it, a little more than it
    // appends (docs/storage.md, "Purging the log"). A point no checkpoint covers yet is purged at once, below.
    const purged = this.lastPurged?.index ?? 0;
    const point = batch.purgeTo !== undefined && batch.purgeTo.index > purged ? batch.purgeTo : undefined;
    const covered = point !== undefined && this.checkpointCovers(point);
    const newGoal = covered && point.index > (this.purgeGoal?.index ?? 0) ? point : undefined;
    const goal = newGoal ?? this.purgeGoal;
    // A purge point with nothing else to write: its own transaction, which removes up to PURGE_ALONE_BYTES.
    const alone = !first && !batch.hardState;
    if (!alone || covered) {
      this.logTxn('log', 'write', () => {
        let appended = 0;
        if (first) {
          // Truncate the conflicting suffix, then append (§5.3).
          const lastIndex = this.last?.index ?? 0;
          const newLast = batch.entries[batch.entries.length - 1]!;
          for (let i = newLast.index + 1; i <= lastIndex; i++) this.h.log.remove(logKey(i));
          for (const e of batch.entries) {
            const rec = encodeLogRecord(e);
            appended += rec.length;
            this.h.log.put(logKey(e.index), rec);
          }
          this.last = { index: newLast.index, term: newLast.term };
        }
        if (batch.hardState) this.h.meta.put(META.hardState, encodeHardState(batch.hardState));
        if (newGoal) {
          this.h.meta.put(META.purgeGoal, encodeLogId(newGoal));
          this.purgeGoal = { index: newGoal.index, term: newGoal.term };
        }
        if (goal !== undefined && goal.index > purged) this.doPurge(goal, alone ? PURGE_ALONE_BYTES : appended);
      });
    }
    const events = this.recording ? [] : undefined;
    const applied = this.applyAll(batch.apply, events);
    if (point && !covered) this.purgeBehindCheckpoint(point);
    const res: WriteBatchResult = { applied, appliedState: this.appliedState() };
    if (events) res.events = events;
    return res;
  }

  /**
   * Apply in one state transaction, or in one per entry with a digest op and one for the rest: a digest reads the
   * state as it stood after its entry, from a read snapshot taken right after the transaction that ends with it.
   */
  private applyAll(entries: Entry[], events: ChangeEvent[] | undefined): CommandResult[][] {
    if (entries.length === 0) return [];
    const hasConf = membershipAfter(entries, this.lastApplied?.index ?? 0) !== undefined; // a malformed one throws before anything is written
    let applied: CommandResult[][] | undefined;
    for (let from = 0; from < entries.length;) {
      const rest = from === 0 ? entries : entries.slice(from);
      const a = this.stateTxn('state-machine', 'apply', () => this.applyInTxn(rest, events, hasConf));
      applied = applied === undefined ? a.applied : applied.concat(a.applied);
      from += a.applied.length;
      if (a.conf) this.membership = a.conf;
      for (const req of a.digests ?? []) this.digestQueue.start(req, this.recordCursor());
    }
    return applied!;
  }

  /** The active slot's records from a read snapshot of the last state transaction, opened now. */
  private recordCursor(): RecordCursor {
    const it = this.h.sm.kv[this.active].getRange({})[Symbol.iterator]();
    let next: IteratorResult<{ key: Key; value: Buffer }> | undefined = it.next(); // the first read opens the snapshot
    return {
      next: () => {
        const r = next ?? it.next();
        next = undefined;
        if (r.done) return undefined;
        const { key, value } = r.value;
        const h = recordHeader(value);
        return { key, expiresAt: h.expiresAt, bytes: h.bytes, value: value.subarray(h.offset) }; // a string's UTF-8 as stored
      },
      close: () => void it.return?.(),
    };
  }

  get digestsPending(): number {
    return this.digestQueue.pending;
  }

  digestStep(maxRecords: number): ReplicaDigest[] {
    this.check('read');
    return this.digestQueue.step(maxRecords);
  }

  /**
   * Never purge the log past the last checkpoint: a store that writes the state takes one first when the
   * purge point is beyond it; a 'log' store refuses (the state's writer must checkpoint first).
   */
  private purgeBehindCheckpoint(upTo: LogId): void {
    if (upTo.index <= (this.lastPurged?.index ?? 0)) return;
    if (!this.checkpointCovers(upTo)) {
      if (this.role === 'log') {
        throw new StorageError(StorageErrorCode.INVALID_RANGE, 'log', 'write', `cannot purge to ${upTo.index}: the last checkpoint of the state covers ${this.checkpointed?.index ?? 0}`);
      }
      this.checkpoint();
    }
    this.logTxn('log', 'write', () => this.doPurge(upTo, Infinity));
  }

  /** Whether the last checkpoint of the state covers `point` (a 'log' store reads it again: the state's writer takes it). */
  private checkpointCovers(point: LogId): boolean {
    if (point.index <= (this.checkpointed?.index ?? 0)) return true;
    if (this.role !== 'log') return false;
    this.h.env.resetReadTxn();
    const c = this.h.meta.getBinary(META.checkpoint);
    this.checkpointed = c ? decodeLogId(c) : undefined;
    return point.index <= (this.checkpointed?.index ?? 0);
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

  checkpointBytes(): number {
    this.check('read');
    // mdb_env_copy2 (without compaction) copies every page up to the last one in use.
    const st = this.h.sm.env.getStats() as { pageSize: number; lastPageNumber: number };
    return (st.lastPageNumber + 1) * st.pageSize;
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

  /**
   * Rename a synced copy into place and record, in a synced log transaction, what it covers. The checkpoint it
   * replaces keeps a second name until then: a rename over the last link of a large file frees its blocks on this
   * thread (about 300 ms a GB here, at every snapshot point), an unlink in a libuv thread frees them instead.
   */
  private putCheckpoint(tmp: string, point: LogId): void {
    const dir = this.opts.dir;
    const target = join(dir, CHECKPOINT_FILE);
    const replaced = tmp.replace(/\.tmp$/, '.old');
    let linked = false;
    try {
      try {
        linkSync(target, replaced);
        linked = true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; // no checkpoint yet
      }
      renameSync(tmp, target);
      fsyncDir(dir);
    } catch (err) {
      removeIfExists(tmp);
      if (linked) removeIfExists(replaced);
      throw StorageError.wrap(err, 'snapshot', 'build');
    }
    if (linked) fsPromises.unlink(replaced).catch(() => undefined); // left behind, it goes at the next open
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

  /** Inside a state transaction: apply, persist touched sessions, the applied index and the machine's scalars. */
  private applyInTxn(entries: Entry[], events: ChangeEvent[] | undefined, hasConf: boolean): { applied: CommandResult[][]; conf: Membership | undefined; digests: DigestRequest[] | undefined } {
    const kv = new LmdbKv(this.h.sm, this.active, this.ordered, this.expiries);
    const ctx: ApplyContext = { kv, sessions: this.sessions, machine: this.machine, maxValueBytes: this.maxValueBytes, bounds: this.bounds, events };
    const out: CommandResult[][] = [];
    const before = this.lastApplied?.index ?? 0;
    let advanced = false;
    for (const e of entries) {
      if (e.index <= (this.lastApplied?.index ?? 0)) {
        out.push([]); // idempotent replay after a restart
        continue;
      }
      out.push(applyEntry(e, ctx));
      this.lastApplied = { index: e.index, term: e.term };
      advanced = true;
      if (ctx.digests) break; // the transaction ends with a digest's entry (applyAll)
    }
    const conf = hasConf ? membershipAfter(out.length === entries.length ? entries : entries.slice(0, out.length), before) : undefined;
    if (ctx.keysUncounted) this.machine.keys = kv.count();
    const sdb = this.h.sm.sessions[this.active];
    for (const c of this.sessions.dirty) sdb.put(c, encodeSession(this.sessions.get(c)!));
    for (const c of this.sessions.evicted) sdb.remove(c);
    this.sessions.clearChanges();
    if (advanced && this.lastApplied) {
      this.h.sm.meta.put(STATE_META.applied, encodeLogId(this.lastApplied));
      this.h.sm.meta.put(STATE_META.machine, encodeMachine(this.machine));
    }
    // The configuration at the applied index (membership.ts), atomically with it.
    if (conf) this.h.sm.meta.put(STATE_META.membership, encodeMembership(conf));
    return { applied: out, conf, digests: ctx.digests };
  }

  /** The log was written by this directory's other store (another thread): read its mirrors again (SyncStore). */
  refreshLog(): void {
    this.check('read');
    this.h.env.resetReadTxn();
    this.h.sm.env.resetReadTxn();
    this.readLogMirrors();
    this.releaseReads();
  }

  maintain(): void {
    this.expiries.settle();
  }

  nextExpiry(): number {
    return this.expiries.earliest();
  }

  recordEvents(on: boolean): void {
    this.recording = on;
  }

  apply(entries: Entry[]): CommandResult[][] {
    return this.write({ entries: [], apply: entries }).applied;
  }

  get(key: Key, now?: number): Value | undefined {
    this.check('read');
    validateKey(key);
    const b = this.h.sm.kv[this.active].getBinary(key as Buffer);
    if (b === undefined) return undefined;
    const rec = decodeRecord(b);
    return isExpired(rec.expiresAt, readTime(this.machine.clock, now)) ? undefined : rec.value;
  }

  ttl(key: Key, now?: number): number | undefined {
    this.check('read');
    validateKey(key);
    return slotTtl(this.h.sm, this.active, key, readTime(this.machine.clock, now));
  }

  expiresAt(key: Key, now?: number): number | undefined {
    this.check('read');
    validateKey(key);
    return slotExpiresAt(this.h.sm, this.active, key, readTime(this.machine.clock, now));
  }

  scan(range: ScanRange, opts?: ScanOptions, now?: number): Array<[Key, Value]> {
    this.check('read');
    return slotScan(this.h.sm, this.active, scanBounds(range, opts), readTime(this.machine.clock, now));
  }

  revision(key: Key, now?: number): number {
    this.check('read');
    validateKey(key);
    return slotRevision(this.h.sm, this.active, key, readTime(this.machine.clock, now));
  }

  record(key: Key, now?: number): KeyRecord | undefined {
    this.check('read');
    validateKey(key);
    return slotRecord(this.h.sm, this.active, key, readTime(this.machine.clock, now));
  }

  randomKey(r: number, now?: number): Key | undefined {
    this.check('read');
    return slotRandomKey(this.h.sm, this.active, r, readTime(this.machine.clock, now));
  }

  size(now?: number): number {
    this.check('read');
    return this.machine.keys - this.expiries.countExpired(readTime(this.machine.clock, now));
  }

  stats(): StoreStats {
    this.check('read');
    const m = this.machine;
    const x = this.expiries;
    return { keys: m.keys, bytes: m.bytes, evictions: m.evictions, expirations: m.expirations, clock: m.clock, expires: x.size, meanExpiresAt: x.meanExpiry() ?? 0 };
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
    const last = this.last?.index ?? 0;
    const entries = this.entries(first, last + 1);
    // At a start the mirrors are the disk's: the whole log between the purge point and the last record is there.
    if (entries.length !== Math.max(0, last + 1 - first)) {
      throw new StorageError(StorageErrorCode.CORRUPT, 'log', 'read', `the log holds ${entries.length} entries from ${first} to ${last}, not ${last + 1 - first}`);
    }
    return { hardState: this.loadHardState(), snapshot, entries, applied: this.lastApplied?.index ?? 0 };
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
      const machine = readMachine(s, transaction) ?? emptyMachine();
      const kv = s.kv[slot].getRange({ transaction });
      const sessions = s.sessions[slot].getRange({ transaction });
      gen = snapshotChunks(
        meta,
        (function* () { for (const { key, value } of kv) yield [key, value] as [Uint8Array, Uint8Array]; })(),
        (function* () { for (const { key, value } of sessions) yield [key, value] as [number, Uint8Array]; })(),
        this.chunkBytes,
        machine,
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
    this.h.meta.remove(META.purgeGoal);
    this.purgeGoal = undefined;
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
      clearSlotData(s, slot);
      s.sessions[slot].clearSync();
    } catch (err) {
      throw StorageError.wrap(err, 'snapshot', 'install');
    }
    const asm = new SnapshotAssembler();
    const staged = new LmdbKv(s, slot, this.ordered, undefined); // reload() indexes the slot once it is active
    let keys = 0;
    let bytes = 0;
    const live = (): void => {
      this.check('install');
      if (gen !== this.receiveGen || slot === this.active) {
        throw new StorageError(StorageErrorCode.SNAPSHOT_ABORTED, 'snapshot', 'install', 'snapshot receive was aborted or superseded');
      }
    };
    /** The stream is complete and is snapshot `meta` (install's first step, and the host's question before its core sees it). */
    const check = (meta: SnapshotMeta): void => {
      live();
      asm.finish(meta);
    };
    return {
      write: (chunk) => {
        live();
        this.stateTxn('snapshot', 'install', () => {
          asm.accept(chunk, {
            putKv: (k, v) => {
              s.kv[slot].put(k as Buffer, v as Buffer);
              const h = recordHeader(v);
              staged.index(k, h);
              keys++;
              if (isBounded(this.bounds)) bytes += k.byteLength + v.byteLength - h.offset;
            },
            putSession: (c, r) => {
              s.sessions[slot].put(c, r as Buffer);
            },
          });
        });
      },
      check,
      install: (meta) => {
        check(meta);
        const point = { index: meta.index, term: meta.term };
        // The clock and revision counter come with the data; evictions and expirations are this replica's own counts.
        const machine: MachineState = { ...this.machine, clock: asm.machine.clock, writeSeq: asm.machine.writeSeq, keys, bytes };
        this.stateTxn('snapshot', 'install', () => {
          s.meta.put(STATE_META.active, pack(slot));
          s.meta.put(STATE_META.applied, encodeLogId(point));
          s.meta.put(STATE_META.membership, encodeMembership(meta.membership));
          s.meta.put(STATE_META.machine, encodeMachine(machine));
        });
        this.receiveGen++;
        this.reload();
        this.checkpoint();
        // A 'state' store leaves the log to its writer (resetLogTo); until then the next open would finish it.
        if (this.role === 'all') this.logTxn('snapshot', 'install', () => this.resetLog(point, meta.membership));
        // The old slot is garbage now; clear it (not needed for safety: the next receive clears it too).
        const old: Slot = slot === 0 ? 1 : 0;
        try {
          clearSlotData(s, old);
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
    this.digestQueue.close();
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
 * whenever the counter moved (one Atomics.load per get otherwise). Inside view(), it renews it once, at the
 * start: every read of a multi-key read comes from one committed state.
 */
export class LmdbStateReader {
  private seen = -1;
  /** Inside view(): the read transaction stays as it was when view() began. */
  private pinned = false;
  private active: Slot = 0;
  private machine: MachineState = emptyMachine();
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

  /**
   * `read`'s reads all from one committed state, the latest when view() is called: a multi-key read (getMany, MGET,
   * records) must not see one key before an entry's commit and another after it, as it would when the read
   * transaction were renewed between two of its gets (a batch that writes both keys, applied meanwhile on a node's
   * thread).
   */
  view<T>(read: () => T): T {
    this.refresh();
    this.pinned = true;
    try {
      return read();
    } finally {
      this.pinned = false;
    }
  }

  private refresh(): void {
    if (this.closed) throw new StorageError(StorageErrorCode.CLOSED, 'state-machine', 'read', 'reader is closed');
    if (this.pinned) return;
    const seq = Atomics.load(this.h.sm.commitSeq, 0);
    if (seq !== this.seen) {
      this.seen = seq;
      this.h.sm.env.resetReadTxn();
      this.active = readActive(this.h.sm);
      this.machine = readMachine(this.h.sm) ?? emptyMachine();
    }
  }

  /**
   * A string key stands for its UTF-8 bytes (the caller checked its size). No allocation but the value:
   * getBinaryFast returns lmdb-js's shared buffer, decoded (copied) at once.
   */
  get(key: string | Uint8Array, now?: number): Value | undefined {
    if (typeof key !== 'string') validateKey(key);
    this.refresh();
    const b = this.kvFast[this.active].getBinaryFast(key);
    if (b === undefined) return undefined;
    const h = recordHeader(b);
    return isExpired(h.expiresAt, readTime(this.machine.clock, now)) ? undefined : decodeValueCopy(b, h);
  }

  ttl(key: Uint8Array, now?: number): number | undefined {
    validateKey(key);
    this.refresh();
    return slotTtl(this.h.sm, this.active, key, readTime(this.machine.clock, now));
  }

  expiresAt(key: Uint8Array, now?: number): number | undefined {
    validateKey(key);
    this.refresh();
    return slotExpiresAt(this.h.sm, this.active, key, readTime(this.machine.clock, now));
  }

  revision(key: Uint8Array, now?: number): number {
    validateKey(key);
    this.refresh();
    return slotRevision(this.h.sm, this.active, key, readTime(this.machine.clock, now));
  }

  record(key: Uint8Array, now?: number): KeyRecord | undefined {
    validateKey(key);
    this.refresh();
    return slotRecord(this.h.sm, this.active, key, readTime(this.machine.clock, now));
  }

  scan(range: ScanRange, opts?: ScanOptions, now?: number): Array<[Key, Value]> {
    this.refresh();
    return slotScan(this.h.sm, this.active, scanBounds(range, opts), readTime(this.machine.clock, now));
  }

  randomKey(r: number, now?: number): Key | undefined {
    this.refresh();
    return slotRandomKey(this.h.sm, this.active, r, readTime(this.machine.clock, now));
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
