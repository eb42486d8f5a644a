// The state machine's apply rules, shared by the LMDB and the in-memory store so both behave the same:
// decode Command[] per Normal entry, apply each command's ops atomically (a failed cas → none apply),
// exactly-once per (client, seq) with a bounded LRU of client sessions (thesis §6.3); the log clock, key
// expiry, the bounded purge of expired keys, and eviction of the least recently written keys (issue 13).
import { isUtf8 } from 'node:buffer';
import type { Entry } from '../raft/types.js';
import { EntryType } from '../raft/types.js';
import type { ChangeEvent, Command, CommandResult, Key, Op, OpResult, Value } from './command.js';
import { BIT_OPS, type BitOp, entryPayload, entryTime, EXPIRE_CONDS, INT64_MAX, INT64_MAX_TEXT, INT64_MIN, parseInt64 } from './command.js';
import { decodeCommands, hasPrefix, isExpired, keyString, type Session, type StoredRecord, valueBytes, valuesEqual } from './codec.js';
import type { DigestRequest } from './digest.js';
import { StorageError, StorageErrorCode } from './errors.js';
import type { KeyRecord, ScanOptions, ScanRange } from './types.js';
import { keyProblem, valueProblem } from './validate.js';
import { incrByFloat, MAX_FLOAT_TEXT } from './float80.js';
import { type BitField, bytesWritten, fieldProblem, runFields } from './bitfield.js';
import { type HllAdded, hllToDense, isHll, pfadd, pfmerge } from './hyperloglog.js';

export const SESSION_DEFAULTS = {
  /** Sessions beyond this are evicted, least recently used first (deterministically: same order on every replica). */
  maxSessions: 4096,
  /** Remembered results per session beyond this drop the oldest seq; the coordinator's SESSION_WINDOW keeps it from happening. */
  maxResultsPerSession: 1024,
} as const;

/**
 * The session window, one constant for both sides: the coordinator sends a write only if its
 * seq < floor + SESSION_WINDOW (floor: its lowest unresolved seq). Every seq a state machine applied
 * was sent with some floor f <= the session's floor F (the highest seen), so the results kept, all at
 * seqs >= F, span fewer than SESSION_WINDOW seqs and none is dropped by size; and every seq the
 * coordinator may still retry is >= its floor >= F, so its result is found and it applies once.
 */
export const SESSION_WINDOW = SESSION_DEFAULTS.maxResultsPerSession;

/**
 * Client sessions in LRU order (a Map iterates in insertion order: touching re-inserts at the end).
 * `dirty` / `evicted` tell a persistent store which records to rewrite or delete in the same transaction.
 */
export class SessionTable {
  readonly map = new Map<number, Session>();
  counter = 0;
  readonly dirty = new Set<number>();
  readonly evicted = new Set<number>();
  /** The client touched last, which is therefore last in `map`: touching it again moves nothing. */
  private last: number | undefined;

  constructor(
    readonly maxSessions: number = SESSION_DEFAULTS.maxSessions,
    readonly maxResults: number = SESSION_DEFAULTS.maxResultsPerSession,
  ) {}

  /** Load sessions (any order); restores the LRU order from `used`. */
  load(sessions: Iterable<[number, Session]>): void {
    this.map.clear();
    this.dirty.clear();
    this.evicted.clear();
    this.last = undefined;
    const all = [...sessions].sort((a, b) => a[1].used - b[1].used);
    for (const [client, s] of all) this.map.set(client, s);
    this.counter = all.length > 0 ? all[all.length - 1]![1].used : 0;
  }

  get(client: number): Session | undefined {
    return this.map.get(client);
  }

  private touch(client: number, s: Session): void {
    s.used = ++this.counter;
    if (this.last !== client) {
      // Re-inserted at the end (a Map keeps insertion order). A writer of one session, the coordinator, touches the
      // same client command after command: then it is at the end already.
      this.map.delete(client);
      this.map.set(client, s);
      this.last = client;
    }
    this.dirty.add(client);
    this.evicted.delete(client);
  }

  remember(client: number, seq: number, floor: number, results: OpResult[]): void {
    let s = this.map.get(client);
    if (!s) s = { floor: 0, results: new Map(), used: 0 };
    if (floor > s.floor) {
      s.floor = floor;
      for (const k of s.results.keys()) if (k < floor) s.results.delete(k);
    }
    s.results.set(seq, results);
    while (s.results.size > this.maxResults) {
      const oldest = Math.min(...s.results.keys());
      s.results.delete(oldest);
    }
    this.touch(client, s);
    while (this.map.size > this.maxSessions) {
      const first = this.map.keys().next().value as number;
      if (first === this.last) this.last = undefined;
      this.map.delete(first);
      this.dirty.delete(first);
      this.evicted.add(first);
    }
  }

  /** A duplicate also counts as use (deterministic on every replica). */
  touchDuplicate(client: number): void {
    const s = this.map.get(client);
    if (s) this.touch(client, s);
  }

  clearChanges(): void {
    this.dirty.clear();
    this.evicted.clear();
  }
}

/** Cache rules (docs/storage.md, "The state machine"). */
export const CACHE_LIMITS = {
  /** Expired keys removed per applied entry at most: an entry's apply cost stays bounded; the rest stay absent by rule and go with the next entries. */
  maxPurgePerEntry: 256,
  /** scan() returns at most this many pairs when no limit is given (page on with `after`). */
  scanLimit: 1000,
} as const;

/**
 * The state machine's scalars, persisted with the applied index (same transaction) and, for the first two,
 * sent in snapshots: every replica has the same values after the same entries.
 */
export interface MachineState {
  /** The log clock: the latest entry time applied (ms since the epoch, whole ms); 0 before any stamped entry. */
  clock: number;
  /** Write revisions handed out: a record carries the one of its last write, so eviction order is the same everywhere. */
  writeSeq: number;
  /**
   * Records held (expired ones not yet purged included) and, in a bounded store, their key + value bytes: what the
   * bounds count. An unbounded store counts no bytes (0): its puts do not read the records they replace (isBounded).
   */
  keys: number;
  bytes: number;
  /** Counted by this replica (not sent in snapshots). */
  evictions: number;
  expirations: number;
}

export function emptyMachine(): MachineState {
  return { clock: 0, writeSeq: 0, keys: 0, bytes: 0, evictions: 0, expirations: 0 };
}

export interface CacheBounds {
  maxKeys: number;
  maxBytes: number;
}

/** Whether the store has a bound: only then does it count bytes and keep an index of its records' write order. */
export function isBounded(b: CacheBounds): boolean {
  return b.maxKeys !== Infinity || b.maxBytes !== Infinity;
}

/** maxKeys / maxBytes from the store options: positive safe integers, unbounded when absent. */
export function cacheBounds(opts: { maxKeys?: number; maxBytes?: number }): CacheBounds {
  const check = (name: string, v: number | undefined): number => {
    if (v === undefined) return Infinity;
    if (!Number.isSafeInteger(v) || v < 1) throw new StorageError(StorageErrorCode.IO, 'store', 'open', `${name} must be a positive integer, got ${String(v)}`);
    return v;
  };
  return { maxKeys: check('maxKeys', opts.maxKeys), maxBytes: check('maxBytes', opts.maxBytes) };
}

/** What the apply rules need from a store: the active records, and the two indexes over them. */
export interface KvAccess {
  /** The record as stored, expired or not. */
  get(key: Key): StoredRecord | undefined;
  /** What the record holds besides its value (expired or not): what a write or a removal needs, without decoding the value. */
  meta(key: Key): RecordMeta | undefined;
  /** Store `rec` (a new write revision); `old` is what meta returned, for the store to update its indexes; `ks` is keyString(key) when the caller has it. */
  put(key: Key, rec: StoredRecord, old: RecordMeta | undefined, ks: string | undefined): void;
  del(key: Key, old: RecordMeta): void;
  /** Remove every record; `each` (when given) sees each one first, in key byte order. */
  clear(each?: (key: Key, rec: StoredRecord) => void): void;
  /** The keys of the records (expired or not) whose bytes start with `prefix`, in key byte order: a copy, so the caller may remove them. */
  keysUnder(prefix: Key): Key[];
  /** Every record, expired or not, in key byte order. */
  each(fn: (key: Key, rec: StoredRecord) => void): void;
  /** Take up to `limit` keys whose expiry is <= `time` out of the expiry index, in (expiresAt, key bytes) order. The caller removes each one's record. */
  takeExpired(time: number, limit: number): Key[];
  /** Records not expired at `time`, this transaction's writes included. */
  live(time: number): number;
  /** The least recently written key (lowest write revision, then key bytes), or undefined when empty. */
  oldest(): Key | undefined;
  /**
   * Store `rec` without reading the record it replaces, when that record would only be read to be counted or taken
   * out of an index: an unbounded store (no write-order index, no bytes counted) whose expiry index knows the old
   * record's expiry, not expired at `clock`. False, and nothing written, otherwise. After a true, `keysUncounted`
   * is set and the store counts its records itself once the apply is done.
   */
  putBlind(key: Key, rec: StoredRecord, ks: string | undefined, clock: number): boolean;
}

export interface ApplyContext {
  kv: KvAccess;
  sessions: SessionTable;
  machine: MachineState;
  maxValueBytes: number;
  bounds: CacheBounds;
  /** The batch's change events while recording (recordEvents), else undefined: nothing is allocated per op. */
  events: ChangeEvent[] | undefined;
  /** Set by a put that did not read the record it replaced (KvAccess.putBlind): machine.keys must be counted again. */
  keysUncounted?: boolean;
  /** The digest ops applied (Op 'digest'), created by the first: the store ends its transaction after their entry. */
  digests?: DigestRequest[];
}

/** A record's expiry, write revision and value size: enough to write over it or remove it. */
export interface RecordMeta {
  expiresAt: number | undefined;
  rev: number;
  valueBytes: number;
}

function recordBytes(key: Key, rec: StoredRecord): number {
  return key.byteLength + valueBytes(rec.value);
}

/** A time-to-live is a positive safe integer of ms; absent (undefined or null) is allowed where optional. */
function ttlProblem(ttlMs: unknown, required: boolean): boolean {
  if (ttlMs === undefined || ttlMs === null) return required;
  return !Number.isSafeInteger(ttlMs) || (ttlMs as number) <= 0;
}

/** put/cas: `ttlMs` sets an expiry, `keepTtl` keeps the current one; both at once is contradictory. */
function ttlOptionsProblem(o: Record<string, unknown>): boolean {
  if (ttlProblem(o.ttlMs, false)) return true;
  if (o.keepTtl !== undefined && o.keepTtl !== null && typeof o.keepTtl !== 'boolean') return true;
  return o.keepTtl === true && o.ttlMs !== undefined && o.ttlMs !== null;
}

/** put's `atMs`: absent, or a safe integer >= 0 without `ttlMs` or `keepTtl`. */
function atProblem(o: Record<string, unknown>): boolean {
  if (o.atMs === undefined || o.atMs === null) return false;
  if (!Number.isSafeInteger(o.atMs) || (o.atMs as number) < 0) return true;
  return (o.ttlMs !== undefined && o.ttlMs !== null) || o.keepTtl === true;
}

const PUT_CONDS = ['nx', 'xx'] as const;

/** An optional condition: absent, or one of `allowed`. */
function condProblem(cond: unknown, allowed: readonly string[]): boolean {
  return cond !== undefined && cond !== null && !allowed.includes(cond as string);
}

/** expire: exactly one of `ttlMs` (any safe integer: <= 0 deletes) and `atMs` (a safe integer >= 0). */
function expireProblem(o: Record<string, unknown>): boolean {
  const has = (v: unknown): boolean => v !== undefined && v !== null;
  if (has(o.ttlMs) === has(o.atMs)) return true;
  if (has(o.ttlMs) && !Number.isSafeInteger(o.ttlMs)) return true;
  if (has(o.atMs) && (!Number.isSafeInteger(o.atMs) || (o.atMs as number) < 0)) return true;
  return condProblem(o.cond, EXPIRE_CONDS);
}

/** A value's error code, if it is not a value within the limit. */
function valueCode(v: unknown, maxValueBytes: number): string | undefined {
  return valueProblem(v, maxValueBytes)?.code;
}

/** Shape and limits of one op; returns an error code or undefined. */
function opProblem(op: unknown, maxValueBytes: number): string | undefined {
  if (typeof op !== 'object' || op === null) return 'INVALID_COMMAND';
  const o = op as Record<string, unknown>;
  if (o.t === 'clear' || o.t === 'size') return undefined;
  if (o.t === 'clearprefix') return keyProblem(o.prefix) ? 'INVALID_KEY' : undefined;
  if (o.t === 'digest') return Number.isSafeInteger(o.id) ? undefined : 'INVALID_COMMAND';
  if (o.t === 'msetnx') return pairsProblem(o.pairs, maxValueBytes);
  if (keyProblem(o.key)) return 'INVALID_KEY';
  switch (o.t) {
    case 'put':
      return valueCode(o.value, maxValueBytes) ?? (ttlOptionsProblem(o) || atProblem(o) || condProblem(o.cond, PUT_CONDS) ? 'INVALID_COMMAND' : undefined);
    case 'del':
    case 'persist':
    case 'get':
    case 'ttl':
      return undefined;
    case 'append':
      return valueCode(o.value, maxValueBytes);
    case 'setrange':
      return valueCode(o.value, maxValueBytes) ?? (Number.isSafeInteger(o.offset) && (o.offset as number) >= 0 ? undefined : 'INVALID_COMMAND');
    case 'setbit':
      return Number.isSafeInteger(o.offset) && (o.offset as number) >= 0 && (o.bit === 0 || o.bit === 1) ? undefined : 'INVALID_COMMAND';
    case 'bitop': {
      if (!BIT_OPS.includes(o.op as BitOp) || !Array.isArray(o.from) || o.from.length === 0 || (o.op === 'not' && o.from.length !== 1)) return 'INVALID_COMMAND';
      return o.from.some((k) => keyProblem(k)) ? 'INVALID_KEY' : undefined;
    }
    case 'bitfield':
      return Array.isArray(o.fields) && o.fields.length > 0 && !o.fields.some((f) => fieldProblem(f as BitField)) ? undefined : 'INVALID_COMMAND';
    case 'pfadd':
      if (!Array.isArray(o.elements)) return 'INVALID_COMMAND';
      for (const e of o.elements) {
        const code = valueCode(e, maxValueBytes);
        if (code) return code;
      }
      return undefined;
    case 'pfmerge':
      if (!Array.isArray(o.from)) return 'INVALID_COMMAND';
      return o.from.some((k) => keyProblem(k)) ? 'INVALID_KEY' : undefined;
    case 'pftodense':
      return undefined;
    case 'rename':
    case 'copy': {
      if (keyProblem(o.to)) return 'INVALID_KEY';
      const flag = o.t === 'rename' ? o.nx : o.replace;
      if (flag !== undefined && flag !== null && typeof flag !== 'boolean') return 'INVALID_COMMAND';
      return o.t === 'copy' && valuesEqual(o.key as Key, o.to as Key) ? 'INVALID_COMMAND' : undefined; // a copy onto itself
    }
    case 'check':
      return Number.isSafeInteger(o.rev) && (o.rev as number) >= 0 ? undefined : 'INVALID_COMMAND';
    case 'cas':
      return (o.expected === null ? undefined : valueCode(o.expected, maxValueBytes)) ?? (o.value === null ? undefined : valueCode(o.value, maxValueBytes)) ?? (ttlOptionsProblem(o) ? 'INVALID_COMMAND' : undefined);
    case 'expire':
      return expireProblem(o) ? 'INVALID_COMMAND' : undefined;
    case 'incr':
      return !(Number.isSafeInteger(o.by) || (typeof o.by === 'string' && parseInt64(o.by) !== undefined)) || ttlProblem(o.ttlMs, false) ? 'INVALID_COMMAND' : undefined;
    case 'incrbyfloat':
      return typeof o.by !== 'string' || ttlProblem(o.ttlMs, false) ? 'INVALID_COMMAND' : undefined;
    default:
      return 'INVALID_COMMAND';
  }
}

/** msetnx's pairs: a non-empty array of [key, value]. */
function pairsProblem(pairs: unknown, maxValueBytes: number): string | undefined {
  if (!Array.isArray(pairs) || pairs.length === 0) return 'INVALID_COMMAND';
  for (const p of pairs) {
    if (!Array.isArray(p) || p.length !== 2) return 'INVALID_COMMAND';
    if (keyProblem(p[0])) return 'INVALID_KEY';
    const code = valueCode(p[1], maxValueBytes);
    if (code) return code;
  }
  return undefined;
}

type Live = { value: Value; expiresAt: number | undefined };

/**
 * A key's revision as clients see it (a check op, the revision read): 0 when absent or expired, else one more
 * than the record's write revision (records written before revisions existed have revision 0: they read as 1).
 * Every write of the key changes it, an expiry or a persist included.
 */
export function liveRevision(meta: { expiresAt: number | undefined; rev: number } | undefined, time: number): number {
  return meta === undefined || isExpired(meta.expiresAt, time) ? 0 : meta.rev + 1;
}

/** What an overlay reads of a store. */
type OverlayStore = Pick<KvAccess, 'get' | 'meta' | 'live' | 'keysUnder'>;

/** A command's view: its own writes over the store's live records (expired records are absent). */
class Overlay {
  readonly writes = new Map<string, { key: Key; rec: Live | null }>();
  /** A clear of every key ran: the store's records are gone for the command (its writes after it stay). */
  cleared = false;
  /** The prefixes a clear removed (none inside another), while no clear of every key ran. */
  prefixes: Key[] = [];
  /** keysUnder()'s walks, by prefix (latin1). */
  private readonly walked = new Map<string, Key[]>();

  constructor(private readonly kv: OverlayStore, private readonly clock: number) {}

  /** Whether the store's record of `key` is gone for the command (a clear removed it). */
  private gone(key: Key): boolean {
    return this.cleared || this.prefixes.some((p) => hasPrefix(key, p));
  }

  read(key: Key): Live | undefined {
    const o = this.writes.get(keyString(key));
    if (o) return o.rec ?? undefined;
    if (this.gone(key)) return undefined;
    const r = this.kv.get(key);
    return r && !isExpired(r.expiresAt, this.clock) ? r : undefined;
  }

  set(key: Key, rec: Live | null): void {
    this.writes.set(keyString(key), { key, rec });
  }

  /** The key's revision before this command (liveRevision); -1 after a write of it in this command (not assigned yet). */
  revision(key: Key): number {
    const o = this.writes.get(keyString(key));
    if (o) return o.rec === null ? 0 : -1;
    if (this.gone(key)) return 0;
    return liveRevision(this.kv.meta(key), this.clock);
  }

  /** Remove every key, or those starting with `prefix`: how many were live as the command saw them. */
  clear(prefix: Key | undefined): number {
    const n = this.count(prefix);
    if (prefix === undefined) {
      this.writes.clear();
      this.cleared = true;
      this.prefixes = [];
      return n;
    }
    for (const [ks, w] of this.writes) if (hasPrefix(w.key, prefix)) this.writes.delete(ks);
    if (!this.gone(prefix)) this.prefixes = [...this.prefixes.filter((p) => !hasPrefix(p, prefix)), prefix];
    return n;
  }

  /** Live keys as the command sees them: the store's, less those it deleted or cleared, plus those it wrote. */
  size(): number {
    return this.count(undefined);
  }

  /** Live keys as the command sees them, of every key or of those starting with `prefix`. */
  private count(prefix: Key | undefined): number {
    let n = 0;
    if (!this.cleared && (prefix === undefined || !this.gone(prefix))) {
      n = prefix === undefined ? this.kv.live(this.clock) : this.liveUnder(prefix);
      for (const p of this.prefixes) if (prefix === undefined || hasPrefix(p, prefix)) n -= this.liveUnder(p);
    }
    for (const { key, rec } of this.writes.values()) {
      if (prefix !== undefined && !hasPrefix(key, prefix)) continue;
      const before = !this.gone(key) && liveRevision(this.kv.meta(key), this.clock) > 0;
      n += (rec === null ? 0 : 1) - (before ? 1 : 0);
    }
    return n;
  }

  /** The store's live records under `prefix`. */
  private liveUnder(prefix: Key): number {
    let n = 0;
    for (const key of this.keysUnder(prefix)) if (liveRevision(this.kv.meta(key), this.clock) > 0) n++;
    return n;
  }

  /** The keys of the store's records under `prefix`, walked once per command (the store is not written before its end). */
  keysUnder(prefix: Key): Key[] {
    const ks = keyString(prefix);
    let keys = this.walked.get(ks);
    if (keys === undefined) this.walked.set(ks, (keys = this.kv.keysUnder(prefix)));
    return keys;
  }
}

/** Redis's integer strings: an optional minus, no leading zeros or spaces, and a safe integer; as a string or as its ASCII bytes. */
function parseInteger(value: Value): number | undefined {
  const v = typeof value === 'string' ? value : value.byteLength <= 17 ? Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('latin1') : '';
  if (!/^(0|-?[1-9][0-9]{0,15})$/.test(v)) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** A failed cas or check rejects its whole command: `result` is the failing op's. */
interface Rejection {
  reject: OpResult;
}

/** A write's expiry: `ttlMs` from the clock, or the current one kept (`keepTtl`), or none. */
function expiry(o: { ttlMs?: number; keepTtl?: boolean }, cur: Live | undefined, clock: number): number | undefined {
  return o.ttlMs !== undefined && o.ttlMs !== null ? clock + o.ttlMs : o.keepTtl ? cur?.expiresAt : undefined;
}

/** Evaluate one op against the overlay; the clock gives new expiries. */
function evalOp(op: Op, ov: Overlay, clock: number, maxValueBytes: number, maxBytes: number): OpResult | Rejection {
  switch (op.t) {
    case 'put': {
      const cur = op.keepTtl || op.cond ? ov.read(op.key) : undefined;
      if (op.cond && (op.cond === 'nx') === (cur !== undefined)) return { ok: false };
      if (op.atMs !== undefined && op.atMs !== null) {
        ov.set(op.key, op.atMs <= clock ? null : { value: op.value, expiresAt: op.atMs }); // a time already past deletes (Redis)
        return { ok: true };
      }
      ov.set(op.key, { value: op.value, expiresAt: expiry(op, cur, clock) });
      return { ok: true };
    }
    case 'msetnx': {
      if (op.pairs.some(([key]) => ov.read(key) !== undefined)) return { ok: false };
      for (const [key, value] of op.pairs) ov.set(key, { value, expiresAt: undefined });
      return { ok: true };
    }
    case 'del': {
      const existed = ov.read(op.key) !== undefined;
      ov.set(op.key, null); // also drops a record that expired but was not purged yet
      return { ok: true, existed };
    }
    case 'cas': {
      const cur = ov.read(op.key);
      if (!valuesEqual(cur?.value, op.expected)) return { reject: { ok: false, current: cur?.value ?? null } };
      ov.set(op.key, op.value === null ? null : { value: op.value, expiresAt: expiry(op, cur, clock) });
      return { ok: true };
    }
    case 'expire':
      return evalExpire(op, ov, clock);
    case 'persist': {
      const cur = ov.read(op.key);
      if (!cur || cur.expiresAt === undefined) return { ok: false };
      ov.set(op.key, { value: cur.value, expiresAt: undefined });
      return { ok: true };
    }
    case 'incr':
      return evalIncr(op, ov, clock);
    case 'incrbyfloat':
      return evalIncrByFloat(op, ov, clock, maxValueBytes, maxBytes);
    case 'append':
      return evalAppend(op, ov, maxValueBytes, maxBytes);
    case 'setrange':
      return evalSetRange(op, ov, maxValueBytes, maxBytes);
    case 'setbit':
      return evalSetBit(op, ov, maxValueBytes, maxBytes);
    case 'bitop':
      return evalBitOp(op, ov, maxBytes);
    case 'bitfield':
      return evalBitField(op, ov, maxValueBytes, maxBytes);
    case 'pfadd':
    case 'pfmerge':
      return evalHll(op, ov, maxValueBytes, maxBytes);
    case 'pftodense':
      return evalToDense(op, ov, maxValueBytes, maxBytes);
    case 'rename':
    case 'copy':
      return evalMove(op, ov, maxBytes);
    case 'get': {
      const cur = ov.read(op.key);
      return { ok: cur !== undefined, current: cur?.value ?? null };
    }
    case 'ttl': {
      const cur = ov.read(op.key);
      return cur === undefined ? { ok: false } : { ok: true, ttlMs: remainingTtl(cur.expiresAt, clock), expiresAt: absoluteExpiry(cur.expiresAt) };
    }
    case 'check':
      return ov.revision(op.key) === op.rev ? { ok: true } : { reject: { ok: false } };
    case 'clear':
      return { ok: true, n: ov.clear(undefined) };
    case 'clearprefix':
      return { ok: true, n: ov.clear(op.prefix) };
    case 'size':
      return { ok: true, n: ov.size() };
    case 'digest':
      return { ok: false, error: 'INVALID_COMMAND' }; // runOps answers it: alone in its command, never here
  }
}

/** Redis EXPIRE / PEXPIREAT with NX, XX, GT, LT and XX LT: a key without expiry counts as expiring never. */
function evalExpire(op: Extract<Op, { t: 'expire' }>, ov: Overlay, clock: number): OpResult {
  const cur = ov.read(op.key);
  if (!cur) return { ok: false };
  const at = op.atMs ?? clock + op.ttlMs!;
  const has = cur.expiresAt !== undefined;
  if (op.cond === 'nx' && has) return { ok: false };
  if (op.cond === 'xx' && !has) return { ok: false };
  if (op.cond === 'gt' && (!has || at <= cur.expiresAt!)) return { ok: false };
  if (op.cond === 'lt' && has && at >= cur.expiresAt!) return { ok: false };
  if (op.cond === 'xx-lt' && (!has || at >= cur.expiresAt!)) return { ok: false };
  if (at <= clock) {
    ov.set(op.key, null); // an expiry already passed deletes
    return { ok: true, deleted: true };
  }
  ov.set(op.key, { value: cur.value, expiresAt: at });
  return { ok: true };
}

/** Redis APPEND: strings stay strings; bytes on either side give bytes. VALUE_TOO_LARGE past the bounds (tooLarge). */
function evalAppend(op: Extract<Op, { t: 'append' }>, ov: Overlay, maxValueBytes: number, maxBytes: number): OpResult {
  const cur = ov.read(op.key);
  let value: Value;
  if (cur === undefined) value = op.value;
  else if (typeof cur.value === 'string' && typeof op.value === 'string') value = cur.value + op.value;
  else value = Buffer.concat([asBytes(cur.value), asBytes(op.value)]);
  const n = valueBytes(value);
  if (tooLarge(op.key, n, maxValueBytes, maxBytes)) return { ok: false, error: 'VALUE_TOO_LARGE' };
  ov.set(op.key, { value, expiresAt: cur?.expiresAt });
  return { ok: true, n };
}

/**
 * Whether a value of `n` bytes grown by an op (append, setrange, incrbyfloat) passes maxValueBytes, or with its key
 * maxBytes in a bounded store: a record the bounds cannot hold would evict every other key, then itself.
 */
function tooLarge(key: Key, n: number, maxValueBytes: number, maxBytes: number): boolean {
  return n > maxValueBytes || key.byteLength + n > maxBytes;
}

/** Redis SETRANGE: the value's bytes at `offset`, zeros filling a gap; an empty value writes nothing. Limits as append's. */
function evalSetRange(op: Extract<Op, { t: 'setrange' }>, ov: Overlay, maxValueBytes: number, maxBytes: number): OpResult {
  const cur = ov.read(op.key);
  const add = asBytes(op.value);
  const old = cur === undefined ? EMPTY : asBytes(cur.value);
  if (add.byteLength === 0) return { ok: true, n: old.byteLength };
  const bytes = grown(op.key, old, op.offset + add.byteLength, maxValueBytes, maxBytes);
  if (bytes === undefined) return { ok: false, error: 'VALUE_TOO_LARGE' };
  bytes.set(add, op.offset);
  ov.set(op.key, { value: textIfUtf8(bytes, typeof op.value === 'string' && (cur === undefined || typeof cur.value === 'string')), expiresAt: cur?.expiresAt });
  return { ok: true, n: bytes.byteLength };
}

/**
 * A copy of a value's bytes to write into, grown with zero bytes to `need` bytes when shorter (setrange, setbit,
 * bitfield); undefined when that passes the bounds (tooLarge).
 */
function grown(key: Key, old: Uint8Array, need: number, maxValueBytes: number, maxBytes: number): Buffer | undefined {
  const n = Math.max(old.byteLength, need);
  if (tooLarge(key, n, maxValueBytes, maxBytes)) return undefined;
  const bytes = Buffer.alloc(n); // zero-filled: the gap, if any
  bytes.set(old, 0);
  return bytes;
}

/** Bytes an op computed, as a string when what it combined were strings (`text`) and they are valid UTF-8. */
function textIfUtf8(bytes: Buffer, text: boolean): Value {
  return text && isUtf8(bytes) ? bytes.toString('utf8') : bytes;
}

/** Redis SETBIT: bit `offset` counts from the most significant bit of the first byte; limits as append's. */
function evalSetBit(op: Extract<Op, { t: 'setbit' }>, ov: Overlay, maxValueBytes: number, maxBytes: number): OpResult {
  const cur = ov.read(op.key);
  const old = cur === undefined ? EMPTY : asBytes(cur.value);
  const byte = Math.floor(op.offset / 8);
  const mask = 0x80 >> op.offset % 8;
  const bytes = grown(op.key, old, byte + 1, maxValueBytes, maxBytes);
  if (bytes === undefined) return { ok: false, error: 'VALUE_TOO_LARGE' };
  const before = bytes[byte]! & mask ? 1 : 0;
  bytes[byte] = op.bit ? bytes[byte]! | mask : bytes[byte]! & ~mask;
  ov.set(op.key, { value: textIfUtf8(bytes, cur === undefined || typeof cur.value === 'string'), expiresAt: cur?.expiresAt });
  // As Redis's "dirty": the key is new, its value grew, or the bit flipped (what a keyspace "setbit" event reports).
  return { ok: true, n: before, changed: cur === undefined || bytes.byteLength > old.byteLength || before !== op.bit };
}

/** Redis BITFIELD (./bitfield.ts): only GETs read; otherwise the value is grown to every field written first. */
function evalBitField(op: Extract<Op, { t: 'bitfield' }>, ov: Overlay, maxValueBytes: number, maxBytes: number): OpResult {
  const cur = ov.read(op.key);
  const old = cur === undefined ? EMPTY : asBytes(cur.value);
  const written = bytesWritten(op.fields);
  if (written === 0) return { ok: true, values: runFields(old, op.fields) };
  const bytes = grown(op.key, old, written, maxValueBytes, maxBytes);
  if (bytes === undefined) return { ok: false, error: 'VALUE_TOO_LARGE' };
  // As Redis's "changes" (keyspace "setbit"): a field written to a new or grown value, or to other bits.
  const change = { dirty: cur === undefined || bytes.byteLength > old.byteLength, changed: false };
  const values = runFields(bytes, op.fields, change);
  ov.set(op.key, { value: textIfUtf8(bytes, cur === undefined || typeof cur.value === 'string'), expiresAt: cur?.expiresAt });
  return { ok: true, values, changed: change.changed };
}

/** Redis PFADD and PFMERGE (./hyperloglog.ts): the HLL written back with the key's expiry, unless PFADD changed nothing. */
function evalHll(op: Extract<Op, { t: 'pfadd' | 'pfmerge' }>, ov: Overlay, maxValueBytes: number, maxBytes: number): OpResult {
  const cur = ov.read(op.key);
  const bytes = (v: Live | undefined): Uint8Array | undefined => (v === undefined ? undefined : asBytes(v.value));
  let r: HllAdded;
  let read: { n: number; absent?: number[] } | undefined; // pfmerge: the keys read (of the key and `from`), and the absent ones
  if (op.t === 'pfadd') {
    const added = pfadd(bytes(cur), op.elements.map(asBytes));
    if (added === 'NOT_HLL') return { ok: false, error: added };
    r = added;
  } else {
    const values = [cur, ...op.from.map((k) => ov.read(k))];
    const merged = pfmerge(bytes(cur), values.map(bytes));
    const n = merged instanceof Uint8Array ? values.length : merged.at + 1;
    const missing = values.slice(0, n).flatMap((v, j) => (v === undefined ? [j] : []));
    read = missing.length > 0 ? { n, absent: missing } : { n };
    if (!(merged instanceof Uint8Array)) return { ok: false, error: merged.problem, ...read };
    r = { value: merged, changed: true };
  }
  if (r.changed && tooLarge(op.key, r.value.byteLength, maxValueBytes, maxBytes)) return { ok: false, error: 'VALUE_TOO_LARGE', ...read };
  // A broken HLL keeps the registers set before the broken part was met, as Redis's does: INVALID_HLL all the same.
  if (r.changed) ov.set(op.key, { value: Buffer.from(r.value), expiresAt: cur?.expiresAt });
  if (r.broken) return { ok: false, error: 'INVALID_HLL' };
  return r.changed ? { ok: true, changed: true, ...read } : { ok: true, changed: false };
}

/** Redis PFDEBUG TODENSE: the HLL written back dense with the key's expiry, when it was sparse. */
function evalToDense(op: Extract<Op, { t: 'pftodense' }>, ov: Overlay, maxValueBytes: number, maxBytes: number): OpResult {
  const cur = ov.read(op.key);
  if (cur === undefined) return { ok: false };
  const v = asBytes(cur.value);
  if (!isHll(v)) return { ok: false, error: 'NOT_HLL' };
  const dense = hllToDense(v);
  if (dense === undefined) return { ok: false, error: 'INVALID_HLL' };
  if (dense === v) return { ok: true, changed: false, current: cur.value };
  if (tooLarge(op.key, dense.byteLength, maxValueBytes, maxBytes)) return { ok: false, error: 'VALUE_TOO_LARGE' };
  const value = Buffer.from(dense);
  ov.set(op.key, { value, expiresAt: cur.expiresAt });
  return { ok: true, changed: true, current: value };
}

/** Redis BITOP: byte by byte over the longest value, the shorter ones read as zeros; nothing to combine deletes. */
function evalBitOp(op: Extract<Op, { t: 'bitop' }>, ov: Overlay, maxBytes: number): OpResult {
  const values = op.from.map((k) => ov.read(k)?.value);
  const sources = values.map((v) => (v === undefined ? EMPTY : asBytes(v)));
  // The sources that are absent (Redis's key misses), when some are.
  const missing = values.flatMap((v, j) => (v === undefined ? [j] : []));
  const absent = missing.length > 0 ? { absent: missing } : undefined;
  let n = 0;
  for (const b of sources) n = Math.max(n, b.byteLength);
  if (n === 0) {
    const deleted = ov.read(op.key) !== undefined;
    ov.set(op.key, null);
    return { ok: true, n: 0, ...(deleted ? { deleted } : undefined), ...absent };
  }
  if (tooLarge(op.key, n, Infinity, maxBytes)) return { ok: false, error: 'VALUE_TOO_LARGE', ...absent }; // each value is within maxValueBytes
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) {
    let b = sources[0]![i] ?? 0;
    if (op.op === 'not') b = ~b & 0xff;
    for (let j = 1; j < sources.length; j++) {
      const x = sources[j]![i] ?? 0;
      b = op.op === 'and' ? b & x : op.op === 'or' ? b | x : b ^ x;
    }
    out[i] = b;
  }
  ov.set(op.key, { value: textIfUtf8(out, values.every((v) => v === undefined || typeof v === 'string')), expiresAt: undefined });
  return { ok: true, n, ...absent };
}

const EMPTY = new Uint8Array(0);

/** Redis RENAME / RENAMENX / COPY: the value and its expiry go to `to`; the source stays for a copy. */
function evalMove(op: Extract<Op, { t: 'rename' | 'copy' }>, ov: Overlay, maxBytes: number): OpResult {
  const cur = ov.read(op.key);
  if (cur === undefined) return { ok: false, existed: false };
  if (op.t === 'rename' && valuesEqual(op.key, op.to)) return { ok: !op.nx, existed: true }; // onto itself: nothing to do
  const overwrite = op.t === 'rename' ? !op.nx : op.replace === true;
  if (!overwrite && ov.read(op.to) !== undefined) return { ok: false, existed: true };
  // Under a longer key the record may not fit maxBytes: evicted after the entry, it would take every other key first.
  if (tooLarge(op.to, valueBytes(cur.value), Infinity, maxBytes)) return { ok: false, existed: true, error: 'VALUE_TOO_LARGE' };
  ov.set(op.to, { value: cur.value, expiresAt: cur.expiresAt });
  if (op.t === 'rename') ov.set(op.key, null);
  return { ok: true, existed: true };
}

function asBytes(v: Value): Uint8Array {
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
}

/** Redis INCRBY: the expiry of an existing key is kept; `ttlMs` applies only to a key it creates. */
function evalIncr(op: Extract<Op, { t: 'incr' }>, ov: Overlay, clock: number): OpResult {
  const cur = ov.read(op.key);
  if (typeof op.by === 'string') return evalIncr64(op, op.by, cur, ov, clock);
  const n = cur ? parseInteger(cur.value) : 0;
  const next = n === undefined ? undefined : n + op.by;
  if (next === undefined || !Number.isSafeInteger(next)) return { ok: false, error: 'NOT_INTEGER' };
  return writeCounter(op, cur, String(next), ov, clock);
}

/** Redis's INCRBY exactly: 64-bit signed integers (`by` checked by opProblem). */
function evalIncr64(op: Extract<Op, { t: 'incr' }>, by: string, cur: Live | undefined, ov: Overlay, clock: number): OpResult {
  const n = cur ? parseInt64(numberText(cur.value, INT64_MAX_TEXT)) : 0n;
  if (n === undefined) return { ok: false, error: 'NOT_INTEGER' };
  const next = n + BigInt(by);
  if (next < INT64_MIN || next > INT64_MAX) return { ok: false, error: 'OVERFLOW' };
  return writeCounter(op, cur, String(next), ov, clock);
}

/** Redis INCRBYFLOAT: as evalIncr, with Redis's long double arithmetic; the result is bounded as append's. */
function evalIncrByFloat(op: Extract<Op, { t: 'incrbyfloat' }>, ov: Overlay, clock: number, maxValueBytes: number, maxBytes: number): OpResult {
  const cur = ov.read(op.key);
  const r = incrByFloat(cur === undefined ? undefined : numberText(cur.value, MAX_FLOAT_TEXT), op.by);
  if ('error' in r) return { ok: false, error: r.error };
  const n = r.value.length; // ASCII
  if (tooLarge(op.key, n, maxValueBytes, maxBytes)) return { ok: false, error: 'VALUE_TOO_LARGE' };
  return writeCounter(op, cur, r.value, ov, clock);
}

/** A counter's new value: an existing key keeps its expiry, one created gets the op's `ttlMs`. */
function writeCounter(op: { key: Key; ttlMs?: number }, cur: Live | undefined, value: string, ov: Overlay, clock: number): OpResult {
  const expiresAt = cur ? cur.expiresAt : op.ttlMs !== undefined && op.ttlMs !== null ? clock + op.ttlMs : undefined;
  ov.set(op.key, { value, expiresAt });
  return { ok: true, value };
}

/**
 * A value as one character per byte (Redis reads bytes), for a number's parser; a string as it is (only its ASCII
 * ones can be numbers). Longer than `max`: '' (no number), without copying a large value to find that out.
 */
function numberText(v: Value, max: number): string {
  if (typeof v === 'string') return v.length > max ? '' : v;
  return v.byteLength > max ? '' : Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('latin1');
}

/** Remove one record, counting it and telling watchers why. */
function removeRecord(ctx: ApplyContext, key: Key, old: RecordMeta, why: 'delete' | 'expire' | 'evict', revision: number): void {
  ctx.kv.del(key, old);
  ctx.machine.keys--;
  if (isBounded(ctx.bounds)) ctx.machine.bytes -= key.byteLength + old.valueBytes;
  if (why === 'expire') ctx.machine.expirations++;
  else if (why === 'evict') ctx.machine.evictions++;
  ctx.events?.push({ type: why, key, revision });
}

function writeRecord(ctx: ApplyContext, key: Key, ks: string | undefined, rec: Live, revision: number): void {
  const m = ctx.machine;
  const stored: StoredRecord = { value: rec.value, expiresAt: rec.expiresAt, rev: m.writeSeq + 1 };
  if (ctx.kv.putBlind(key, stored, ks, m.clock)) {
    // The old record would only be read to be counted: one B-tree descent less per put (docs/storage.md).
    ctx.keysUncounted = true;
  } else {
    let old = ctx.kv.meta(key);
    if (old && isExpired(old.expiresAt, m.clock)) {
      removeRecord(ctx, key, old, 'expire', revision); // it ended before this write: watchers see both
      old = undefined;
    }
    ctx.kv.put(key, stored, old, ks);
    m.keys += old ? 0 : 1;
    if (isBounded(ctx.bounds)) m.bytes += recordBytes(key, stored) - (old ? key.byteLength + old.valueBytes : 0);
  }
  m.writeSeq = stored.rev;
  ctx.events?.push({ type: 'put', key, value: rec.value, revision });
}

function deleteRecord(ctx: ApplyContext, key: Key, revision: number): void {
  const old = ctx.kv.meta(key);
  if (old) removeRecord(ctx, key, old, isExpired(old.expiresAt, ctx.machine.clock) ? 'expire' : 'delete', revision);
}

/** clear: one `delete` event per live key while recording; records already expired go silently. */
function clearRecords(ctx: ApplyContext, revision: number): void {
  const { events, machine } = ctx;
  ctx.kv.clear(events ? (key, rec) => {
    if (!isExpired(rec.expiresAt, machine.clock)) events.push({ type: 'delete', key, revision });
  } : undefined);
  machine.keys = 0;
  machine.bytes = 0;
}

/** The results of a command of one op that succeeded plainly: one shared array (nothing holding results changes them). */
const PUT_OK: OpResult[] = Object.freeze([Object.freeze({ ok: true })]) as unknown as OpResult[];

/** A put that reads nothing first: no condition, no kept expiry, no absolute time (most writes). */
function isPlainPut(op: Op): op is Extract<Op, { t: 'put' }> {
  return op.t === 'put' && !op.cond && !op.keepTtl && (op.atMs === undefined || op.atMs === null);
}

/** Run a command's ops all or nothing: evaluate against an overlay, write the overlay only if every op succeeded. */
export function runOps(ops: Op[], ctx: ApplyContext, revision: number): OpResult[] {
  // A command of one plain put, as the general path below would run it, without its overlay and its per-op objects.
  const op = ops[0];
  if (ops.length === 1 && typeof op === 'object' && op !== null && isPlainPut(op)) {
    const error = opProblem(op, ctx.maxValueBytes);
    if (error) return [{ ok: false, error }];
    writeRecord(ctx, op.key, undefined, { value: op.value, expiresAt: expiry(op, undefined, ctx.machine.clock) }, revision);
    return PUT_OK;
  }
  return runOpsOverlay(ops, ctx, revision);
}

/**
 * The digest op notes its request: the store ends its state transaction after this entry and digests the state as
 * it stands then, from a read view, while the writes that follow go on (src/storage/digest.ts).
 */
function requestDigest(op: Extract<Op, { t: 'digest' }>, ctx: ApplyContext, revision: number): OpResult {
  (ctx.digests ??= []).push({ id: op.id, index: revision, clock: ctx.machine.clock });
  return { ok: true };
}

/** runOps' general path, for any command (exported for the test that holds the plain-put path to it). */
export function runOpsOverlay(ops: Op[], ctx: ApplyContext, revision: number): OpResult[] {
  const invalid = refusedWhole(ops, ctx.maxValueBytes);
  if (invalid) return invalid;
  const first = ops[0];
  if (first?.t === 'digest') return [requestDigest(first, ctx, revision)]; // alone in its command (checked above)
  const ov = new Overlay(ctx.kv, ctx.machine.clock);
  const { results, rejected } = evalOps(ops, ov, ctx.machine.clock, ctx.maxValueBytes, ctx.bounds.maxBytes);
  if (rejected) return results;
  if (ov.cleared) clearRecords(ctx, revision);
  // A prefix: each record under it removed as a delete is (an expired one: its expiry, as a delete of it reports).
  for (const p of ov.prefixes) for (const key of ov.keysUnder(p)) deleteRecord(ctx, key, revision);
  for (const [ks, { key, rec }] of ov.writes) {
    if (rec === null) deleteRecord(ctx, key, revision);
    else writeRecord(ctx, key, ks, rec, revision);
  }
  return results;
}

/** A command refused whole before it runs (an invalid op, a digest not alone): every op's result; undefined when valid. */
function refusedWhole(ops: Op[], maxValueBytes: number): OpResult[] | undefined {
  for (const op of ops) {
    const error = opProblem(op, maxValueBytes) ?? (op.t === 'digest' && ops.length > 1 ? 'INVALID_COMMAND' : undefined);
    if (error) return ops.map(() => ({ ok: false, error }));
  }
  return undefined;
}

/**
 * A command's ops evaluated in order over `ov`: their results; or, when a cas or check fails, the command rejected
 * as a whole (`rejected`: nothing of the overlay applies; the failing op's result says why, the others ok: false).
 */
function evalOps(ops: Op[], ov: Overlay, clock: number, maxValueBytes: number, maxBytes: number): { results: OpResult[]; rejected: boolean } {
  const results: OpResult[] = [];
  for (let i = 0; i < ops.length; i++) {
    const r = evalOp(ops[i]!, ov, clock, maxValueBytes, maxBytes);
    if ('reject' in r) return { results: ops.map((_, j) => (j === i ? r.reject : { ok: false })), rejected: true };
    results.push(r);
  }
  return { results, rejected: false };
}

/**
 * Ops run away from the state machine, over the records of the keys they touch read before: a Lua script's calls on
 * the coordinator (src/resp/scripting/). Each call's ops run as a command's do at apply, all or nothing, each seeing
 * the writes before it; the writes stay here. The caller then sends the ops to the log behind a `check` of each
 * record's revision, where, the records unchanged, they apply to the same results (the clock aside: an expiry is
 * counted from the entry's time there).
 */
export class LocalState {
  private readonly records = new Map<string, StoredRecord | undefined>();

  constructor(private readonly clock: number, private readonly maxValueBytes: number, private readonly maxBytes: number) {}

  /** A key as it was read (undefined: absent). */
  add(key: Key, rec: KeyRecord | undefined): void {
    this.records.set(keyString(key), rec && { value: rec.value, expiresAt: rec.expiresAt, rev: rec.revision - 1 });
  }

  /** The keys `op` touches that were not read; 'all' for an op over every key or a prefix's (clear, size), which cannot run here. */
  missing(op: Op): Key[] | 'all' {
    if (op.t === 'clear' || op.t === 'clearprefix' || op.t === 'size' || op.t === 'digest') return 'all';
    const keys: Key[] = op.t === 'msetnx' ? op.pairs.map(([k]) => k) : [op.key];
    if (op.t === 'rename' || op.t === 'copy') keys.push(op.to);
    else if (op.t === 'bitop' || op.t === 'pfmerge') keys.push(...op.from);
    return keys.filter((k) => !this.records.has(keyString(k)));
  }

  /** Run one call's ops (every key among those added: missing() says): their results, as at apply. */
  run(ops: Op[]): OpResult[] {
    const invalid = refusedWhole(ops, this.maxValueBytes);
    if (invalid) return invalid;
    const ov = new Overlay(this.view, this.clock);
    const { results, rejected } = evalOps(ops, ov, this.clock, this.maxValueBytes, this.maxBytes);
    if (rejected) return results;
    for (const [ks, { rec }] of ov.writes) this.records.set(ks, rec === null ? undefined : { value: rec.value, expiresAt: rec.expiresAt, rev: -1 });
    return results;
  }

  /** The records as the overlay reads a store (an op over every key, which would count them, never gets here). */
  private readonly view: OverlayStore = {
    get: (key) => this.records.get(keyString(key)),
    meta: (key) => {
      const r = this.records.get(keyString(key));
      return r && { expiresAt: r.expiresAt, rev: r.rev, valueBytes: valueBytes(r.value) };
    },
    live: () => {
      throw new Error('LocalState: no count of every key');
    },
    keysUnder: () => {
      throw new Error('LocalState: no walk over keys');
    },
  };
}

export function applyCommand(cmd: Command, ctx: ApplyContext, revision: number): CommandResult {
  const sessions = ctx.sessions;
  const s = sessions.get(cmd.client);
  if (s) {
    const remembered = s.results.get(cmd.seq);
    if (remembered) {
      sessions.touchDuplicate(cmd.client);
      return { client: cmd.client, seq: cmd.seq, results: remembered, duplicate: true };
    }
    if (cmd.seq < s.floor) {
      // The client promised never to retry below its floor: the outcome is forgotten, never re-applied.
      sessions.touchDuplicate(cmd.client);
      return { client: cmd.client, seq: cmd.seq, results: [], duplicate: true, error: 'SESSION_STALE' };
    }
  }
  const results = runOps(cmd.ops, ctx, revision);
  sessions.remember(cmd.client, cmd.seq, cmd.floor, results);
  return { client: cmd.client, seq: cmd.seq, results, duplicate: false };
}

/** The log clock only moves forward: a leader whose wall clock is behind an earlier one's cannot move it back. */
function advanceClock(m: MachineState, data: Uint8Array): void {
  const t = entryTime(data);
  if (t !== undefined && t > m.clock) m.clock = Math.floor(t);
}

/** Remove keys expired at the clock, at most maxPurgePerEntry: the rest are absent by rule and go with the next entries. */
function purgeExpired(ctx: ApplyContext, revision: number): void {
  for (const key of ctx.kv.takeExpired(ctx.machine.clock, CACHE_LIMITS.maxPurgePerEntry)) {
    const old = ctx.kv.meta(key);
    if (old) removeRecord(ctx, key, old, 'expire', revision);
  }
}

/**
 * Evict least recently written keys until within the bounds. Keys already expired go first, beyond the per-entry
 * purge: a live key is never evicted while an expired one is still counted (an expired one found on the way counts
 * as expired too).
 */
function evictToBounds(ctx: ApplyContext, revision: number): void {
  const m = ctx.machine;
  while (m.keys > ctx.bounds.maxKeys || m.bytes > ctx.bounds.maxBytes) {
    const [dead] = ctx.kv.takeExpired(m.clock, 1);
    if (dead !== undefined) {
      const rec = ctx.kv.meta(dead);
      if (rec) removeRecord(ctx, dead, rec, 'expire', revision);
      continue;
    }
    const key = ctx.kv.oldest();
    const old = key && ctx.kv.meta(key);
    if (!key || !old) throw new Error(`eviction found no record with ${m.keys} keys counted`); // the counts are wrong: stop loudly
    removeRecord(ctx, key, old, isExpired(old.expiresAt, m.clock) ? 'expire' : 'evict', revision);
  }
}

/**
 * Apply one entry: move the log clock to its time, purge keys expired at it, run its commands (a Normal entry:
 * one result per command; a Noop, or a stamp alone, which an idle leader proposes to purge: []), then evict to the
 * bounds. Never throws on bad data (deterministic rejection).
 */
export function applyEntry(e: Entry, ctx: ApplyContext): CommandResult[] {
  advanceClock(ctx.machine, e.data);
  purgeExpired(ctx, e.index);
  const results = e.type === EntryType.Normal && entryPayload(e.data).byteLength > 0 ? applyCommands(e, ctx) : [];
  evictToBounds(ctx, e.index);
  return results;
}

function applyCommands(e: Entry, ctx: ApplyContext): CommandResult[] {
  const cmds = decodeCommands(entryPayload(e.data));
  if (!cmds) return [{ client: 0, seq: 0, results: [], duplicate: false, error: 'INVALID_COMMAND' }];
  return cmds.map((c) => applyCommand(c, ctx, e.index));
}

// ── reads ──

/** A read's time: never before the log clock, so a follower whose clock lags never returns what expired on the leader. */
export function readTime(clock: number, now: number | undefined): number {
  return Math.max(clock, now ?? Date.now());
}

/** ttl(): the remaining ms, -1 for a key without expiry, undefined when absent (or expired). */
export function remainingTtl(expiresAt: number | undefined, time: number): number {
  return expiresAt === undefined ? -1 : expiresAt - time;
}

/** A live key's expiry as reads answer it (expiresAt): ms since the epoch, -1 when it has none (as remainingTtl). */
export function absoluteExpiry(expiresAt: number | undefined): number {
  return expiresAt ?? -1;
}

/** A scan as byte bounds: keys k with lo <= k < hi (either open), past `after`, at most `limit`. */
export interface ScanBounds {
  lo: Buffer | undefined;
  hi: Buffer | undefined;
  after: Buffer | undefined;
  reverse: boolean;
  limit: number;
  maxBytes: number;
}

const asBuf = (k: Uint8Array): Buffer => Buffer.from(k.buffer, k.byteOffset, k.byteLength);

/** The first key after every key starting with `prefix` (undefined: none, the prefix is all 0xff). */
export function prefixEnd(prefix: Uint8Array): Buffer | undefined {
  const b = Buffer.from(prefix);
  for (let i = b.length - 1; i >= 0; i--) {
    if (b[i]! < 0xff) {
      b[i]!++;
      return b.subarray(0, i + 1);
    }
  }
  return undefined;
}

function badScan(message: string): StorageError {
  return new StorageError(StorageErrorCode.INVALID_RANGE, 'state-machine', 'read', message);
}

export function scanBounds(range: ScanRange, opts: ScanOptions = {}): ScanBounds {
  const limit = opts.limit ?? CACHE_LIMITS.scanLimit;
  if (!Number.isSafeInteger(limit) || limit < 0) throw badScan(`scan limit must be a non-negative integer, got ${String(limit)}`);
  const maxBytes = opts.maxBytes ?? Number.POSITIVE_INFINITY;
  if (!(maxBytes > 0)) throw badScan(`scan maxBytes must be positive, got ${String(opts.maxBytes)}`);
  const bytes = (k: unknown, what: string): Buffer | undefined => {
    if (k === undefined) return undefined;
    if (!(k instanceof Uint8Array)) throw badScan(`scan ${what} must be a Uint8Array`);
    return asBuf(k);
  };
  const after = bytes(opts.after, 'after');
  if ('prefix' in range) {
    const prefix = bytes(range.prefix, 'prefix');
    return { lo: prefix, hi: prefix && prefixEnd(prefix), after, reverse: opts.reverse === true, limit, maxBytes };
  }
  return { lo: bytes(range.start, 'start'), hi: bytes(range.end, 'end'), after, reverse: opts.reverse === true, limit, maxBytes };
}

/** Whether `key` is inside the bounds (ignoring the limit). */
export function inScan(b: ScanBounds, key: Uint8Array): boolean {
  const k = asBuf(key);
  if (b.lo && Buffer.compare(k, b.lo) < 0) return false;
  if (b.hi && Buffer.compare(k, b.hi) >= 0) return false;
  if (b.after && Buffer.compare(k, b.after) * (b.reverse ? -1 : 1) <= 0) return false;
  return true;
}
