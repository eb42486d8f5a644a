// The in-memory store: the same semantics as the LMDB store (shared validation and apply rules), for
// tests and for the cache use case. State lives on the thread that created it.
import type { Entry, HardState, InitialState, LogId, Membership, SnapshotMeta } from '../raft/types.js';
import type { ChangeEvent, CommandResult, Key, ReplicaDigest, Value } from './command.js';
import { LIMITS } from './command.js';
import {
  type ApplyContext, applyEntry, type CacheBounds, cacheBounds, emptyMachine, isBounded, type KvAccess, type MachineState, readTime,
  absoluteExpiry, liveRevision, type RecordMeta, remainingTtl, scanBounds, SessionTable,
} from './apply.js';
import { decodeRecord, decodeSession, encodeRecord, encodeSession, isExpired, keyFromString, keyString, type StoredRecord, valueBytes } from './codec.js';
import { StorageError, StorageErrorCode } from './errors.js';
import { DigestQueue, type RecordCursor } from './digest.js';
import { ExpiryIndex } from './expiry-index.js';
import { SortedKeys } from './sorted-keys.js';
import { membershipAfter } from './membership.js';
import { DEFAULT_CHUNK_BYTES, SnapshotAssembler, snapshotChunks } from './snapshot-format.js';
import type { SnapshotSink, SnapshotSource, SyncStore } from './store.js';
import type { AppliedState, KeyRecord, LogState, ScanOptions, ScanRange, StoreOptions, StoreStats, WriteBatch, WriteBatchResult } from './types.js';
import type { FreeBytes } from './space.js';
import { validateAppend, validateKey, validateRange } from './validate.js';

export interface StoreTuning {
  maxSessions?: number;
  /**
   * Which environment an LMDB store writes (LMDB only; default 'all'). A node with a storage pool opens two
   * stores on its directory: 'log' in the pool thread (the synced log while the node leads: what blocks) and
   * 'all' on the node thread (applying, snapshots, checkpoints, and the log while the node follows). The log has
   * one writer at a time (NodeHost.writeLog; refreshLog when it changes). 'state' writes the state only.
   */
  role?: StoreRole;
  /** LMDB only, for tests: the free bytes of the state's file system (default: statfs). */
  freeBytes?: FreeBytes;
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

/** A record in memory: what the apply rules read of it (RecordMeta) besides the record. */
interface MemRecord extends StoredRecord, RecordMeta {}

/** Records in write order (a Map iterates in insertion order: a write re-inserts at the end), their keys in order, and the expiry index. */
class MemoryKv implements KvAccess {
  records = new Map<string, MemRecord>();
  order = new SortedKeys();
  readonly expiries = new ExpiryIndex();

  get(key: Key): MemRecord | undefined {
    return this.records.get(keyString(key));
  }

  meta(key: Key): RecordMeta | undefined {
    return this.records.get(keyString(key));
  }

  put(key: Key, rec: StoredRecord, _old: RecordMeta | undefined, ks: string | undefined): void {
    this.set(ks ?? keyString(key), rec);
  }

  /** Store a record last in write order; values are copied (the caller's may be views of an entry's buffer). */
  set(ks: string, rec: StoredRecord): void {
    const old = this.records.get(ks);
    if (old !== undefined) this.records.delete(ks);
    else this.order.add(ks);
    if (old?.expiresAt !== undefined || rec.expiresAt !== undefined) this.expiries.set(ks, rec.expiresAt);
    this.records.set(ks, { value: copyValue(rec.value), expiresAt: rec.expiresAt, rev: rec.rev, valueBytes: valueBytes(rec.value) });
  }

  del(key: Key): void {
    const ks = keyString(key);
    const old = this.records.get(ks);
    if (old === undefined) return;
    this.records.delete(ks);
    this.order.delete(ks);
    if (old.expiresAt !== undefined) this.expiries.remove(ks, old.expiresAt);
  }

  each(fn: (key: Key, rec: StoredRecord) => void): void {
    // In key byte order, as the LMDB store walks its records: the same events on every replica.
    for (const ks of this.order.walk(undefined, false)) fn(keyFromString(ks), this.records.get(ks)!);
  }

  /**
   * The records as they are now (a write replaces a record object, never changes one), in key byte order as the
   * LMDB store's. Two flat arrays now (about 10 ms for 200,000 records here; pairs cost five times that), sorted at
   * the first read, a step of the digest rather than the apply.
   */
  cursor(): RecordCursor {
    let keys: string[] | undefined = Array.from(this.records.keys());
    const recs = Array.from(this.records.values());
    let order: number[] | undefined;
    let i = 0;
    return {
      next: () => {
        if (keys === undefined) return undefined;
        const ks = keys;
        order ??= Array.from(ks, (_, j) => j).sort((a, b) => (ks[a]! < ks[b]! ? -1 : ks[a]! > ks[b]! ? 1 : 0));
        if (i >= order.length) return undefined;
        const j = order[i++]!;
        const { value, expiresAt } = recs[j]!;
        const bytes = typeof value !== 'string';
        return { key: keyFromString(ks[j]!), expiresAt, bytes, value: bytes ? value : Buffer.from(value, 'utf8') };
      },
      close: () => {
        keys = undefined;
      },
    };
  }

  clear(each?: (key: Key, rec: StoredRecord) => void): void {
    if (each) this.each(each);
    this.records = new Map();
    this.order = new SortedKeys();
    this.expiries.clear();
  }

  keysUnder(prefix: Key): Key[] {
    const from = keyString(prefix);
    const keys: Key[] = [];
    for (const ks of this.order.walk(from, false)) {
      if (!ks.startsWith(from)) break;
      keys.push(keyFromString(ks));
    }
    return keys;
  }

  takeExpired(time: number, limit: number): Key[] {
    return this.expiries.take(time, limit).map(keyFromString);
  }

  oldest(): Key | undefined {
    const first = this.records.keys().next();
    return first.done ? undefined : keyFromString(first.value);
  }

  /** Reading a record here costs a Map lookup: every put reads the one it replaces and the count stays exact. */
  putBlind(): boolean {
    return false;
  }

  live(time: number): number {
    return this.records.size - this.expiries.countExpired(time);
  }
}

export class MemoryStore implements SyncStore {
  readonly kind = 'memory' as const;
  private log: Entry[] = [];
  private lastPurged: LogId | undefined;
  private hardState: HardState = { term: 0, vote: 0, commit: 0 };
  private kv = new MemoryKv();
  private machine: MachineState = emptyMachine();
  private readonly bounds: CacheBounds;
  private recording = false;
  /** Digests (Op 'digest') being taken, each from the records as they stood after its entry. */
  private readonly digestQueue = new DigestQueue();
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
    this.bounds = cacheBounds(opts);
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

  write(batch: WriteBatch): WriteBatchResult {
    this.check();
    // Validate everything first: a rejected batch changes nothing.
    validateAppend(batch.entries, this.lastId(), this.lastPurged);
    if (batch.hardState) checkHardState(batch.hardState);
    checkApplyOrder(batch.apply, this.lastApplied?.index ?? 0);
    const conf = membershipAfter(batch.apply, this.lastApplied?.index ?? 0);
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
    const events = this.recording ? [] : undefined;
    const applied = this.applyEntries(batch.apply, events);
    if (conf) this.membership = conf;
    if (batch.purgeTo) this.doPurge(batch.purgeTo);
    const res: WriteBatchResult = { applied, appliedState: this.appliedState() };
    if (events) res.events = events;
    return res;
  }

  private applyEntries(entries: Entry[], events: ChangeEvent[] | undefined): CommandResult[][] {
    const ctx: ApplyContext = { kv: this.kv, sessions: this.sessions, machine: this.machine, maxValueBytes: this.maxValueBytes, bounds: this.bounds, events };
    const out: CommandResult[][] = [];
    for (const e of entries) {
      if (e.index <= (this.lastApplied?.index ?? 0)) {
        out.push([]);
        continue;
      }
      out.push(applyEntry(e, ctx));
      this.lastApplied = { index: e.index, term: e.term };
      if (ctx.digests) {
        // The state after this entry, for its digests: the records as they are now (a write replaces a record, never changes it).
        for (const req of ctx.digests) this.digestQueue.start(req, this.kv.cursor());
        delete ctx.digests;
      }
    }
    this.sessions.clearChanges();
    return out;
  }

  get digestsPending(): number {
    return this.digestQueue.pending;
  }

  digestStep(maxRecords: number): ReplicaDigest[] {
    this.check();
    return this.digestQueue.step(maxRecords);
  }

  maintain(): void {
    this.kv.expiries.settle();
  }

  nextExpiry(): number {
    return this.kv.expiries.earliest();
  }

  recordEvents(on: boolean): void {
    this.recording = on;
  }

  apply(entries: Entry[]): CommandResult[][] {
    return this.write({ entries: [], apply: entries }).applied;
  }

  /** The record of `key` if it is live at the read time. */
  private live(key: Key, now: number | undefined): MemRecord | undefined {
    this.check();
    validateKey(key);
    const rec = this.kv.get(key);
    return rec && !isExpired(rec.expiresAt, readTime(this.machine.clock, now)) ? rec : undefined;
  }

  get(key: Key, now?: number): Value | undefined {
    return this.live(key, now)?.value;
  }

  ttl(key: Key, now?: number): number | undefined {
    const rec = this.live(key, now);
    return rec && remainingTtl(rec.expiresAt, readTime(this.machine.clock, now));
  }

  expiresAt(key: Key, now?: number): number | undefined {
    const rec = this.live(key, now);
    return rec && absoluteExpiry(rec.expiresAt);
  }

  /** Walks the keys in order from the page's first bound: a page costs its keys, and the expired ones among them. */
  scan(range: ScanRange, opts?: ScanOptions, now?: number): Array<[Key, Value]> {
    this.check();
    const b = scanBounds(range, opts);
    const time = readTime(this.machine.clock, now);
    const lo = b.lo && keyString(b.lo);
    const hi = b.hi && keyString(b.hi);
    const after = b.after && keyString(b.after);
    // Ascending: from the higher of lo and after, up to hi (excluded). Descending: from the lower of hi and after.
    let from = b.reverse ? hi : lo;
    if (after !== undefined && (from === undefined || (b.reverse ? after < from : after > from))) from = after;
    const out: Array<[Key, Value]> = [];
    let bytes = 0;
    for (const ks of this.kv.order.walk(from, b.reverse)) {
      if (out.length >= b.limit || bytes >= b.maxBytes) break;
      if (b.reverse ? lo !== undefined && ks < lo : hi !== undefined && ks >= hi) break;
      if (ks === after || (b.reverse && hi !== undefined && ks >= hi)) continue;
      const rec = this.kv.records.get(ks)!;
      if (isExpired(rec.expiresAt, time)) continue;
      const key = keyFromString(ks);
      out.push([key, rec.value]);
      bytes += key.length + valueBytes(rec.value);
    }
    return out;
  }

  randomKey(r: number, now?: number): Key | undefined {
    this.check();
    const order = this.kv.order;
    if (order.size === 0) return undefined;
    const time = readTime(this.machine.clock, now);
    const first = order.at(Math.min(order.size - 1, Math.floor(r * order.size)))!;
    const live = (ks: string): boolean => !isExpired(this.kv.records.get(ks)!.expiresAt, time);
    for (const ks of order.walk(first, false)) if (live(ks)) return keyFromString(ks);
    for (const ks of order.walk(undefined, false)) {
      if (ks >= first) break;
      if (live(ks)) return keyFromString(ks);
    }
    return undefined;
  }

  revision(key: Key, now?: number): number {
    this.check();
    validateKey(key);
    return liveRevision(this.kv.get(key), readTime(this.machine.clock, now));
  }

  record(key: Key, now?: number): KeyRecord | undefined {
    const rec = this.live(key, now);
    return rec && { value: rec.value, revision: liveRevision(rec, readTime(this.machine.clock, now)), expiresAt: rec.expiresAt };
  }

  size(now?: number): number {
    this.check();
    return this.kv.live(readTime(this.machine.clock, now));
  }

  stats(): StoreStats {
    this.check();
    const m = this.machine;
    const x = this.kv.expiries;
    return { keys: m.keys, bytes: m.bytes, evictions: m.evictions, expirations: m.expirations, clock: m.clock, expires: x.size, meanExpiresAt: x.meanExpiry() ?? 0 };
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
    // Records are replaced on write, never changed in place.
    const pairs = [...this.kv.records];
    const sessions = [...this.sessions.map].map(([c, s]) => [c, { ...s, results: new Map(s.results) }] as const);
    const meta: SnapshotMeta = { index: this.lastApplied?.index ?? 0, term: this.lastApplied?.term ?? 0, membership: this.membership };
    const gen = snapshotChunks(
      meta,
      (function* () { for (const [k, r] of pairs) yield [keyFromString(k), encodeRecord(r)] as [Uint8Array, Uint8Array]; })(),
      (function* () { for (const [c, s] of sessions) yield [c, encodeSession(s)] as [number, Uint8Array]; })(),
      this.chunkBytes,
      { clock: this.machine.clock, writeSeq: this.machine.writeSeq },
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
    const records: Array<[string, StoredRecord]> = [];
    const sessions: Array<[number, ReturnType<typeof decodeSession>]> = [];
    const asm = new SnapshotAssembler();
    const live = (): void => {
      if (gen !== this.receiveGen) throw new StorageError(StorageErrorCode.SNAPSHOT_ABORTED, 'snapshot', 'install', 'snapshot receive was aborted or superseded');
      this.check();
    };
    /** The stream is complete and is snapshot `meta` (install's first step, and the host's question before its core sees it). */
    const check = (meta: SnapshotMeta): void => {
      live();
      asm.finish(meta);
    };
    return {
      write: (chunk) => {
        live();
        asm.accept(chunk, {
          putKv: (k, v) => void records.push([keyString(k), decodeRecord(v)]),
          putSession: (c, r) => void sessions.push([c, decodeSession(r)]),
        });
      },
      check,
      install: (meta) => {
        check(meta);
        this.installRecords(records, asm.machine);
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

  /** A received state: records in write order (revision, then key bytes: the LMDB store's order), the machine's scalars. */
  private installRecords(records: Array<[string, StoredRecord]>, from: { clock: number; writeSeq: number }): void {
    records.sort((a, b) => a[1].rev - b[1].rev || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const kv = new MemoryKv();
    const m = this.machine;
    m.keys = 0;
    m.bytes = 0;
    m.writeSeq = from.writeSeq;
    m.clock = from.clock;
    for (const [ks, rec] of records) {
      kv.set(ks, rec);
      m.keys++;
      if (isBounded(this.bounds)) m.bytes += ks.length + valueBytes(rec.value);
      m.writeSeq = Math.max(m.writeSeq, rec.rev);
    }
    this.kv = kv;
  }

  /** Nothing to copy: the state lives in memory and nothing survives a crash. */
  checkpoint(): LogId {
    return this.lastApplied ? { ...this.lastApplied } : { index: 0, term: 0 };
  }

  checkpointAsync(): Promise<LogId> {
    return Promise.resolve(this.checkpoint());
  }

  checkpointBytes(): number {
    return 0;
  }

  refreshLog(): void {
    // One store per node: nothing else writes its log.
  }

  resetLogTo(point: LogId, membership: Membership): void {
    this.membership = membership;
    this.log = [];
    this.lastPurged = { ...point };
  }

  /** Nothing to release: reads take no snapshot. */
  releaseReads(): void {}

  close(): void {
    this.closed = true;
    this.digestQueue.close();
  }
}
