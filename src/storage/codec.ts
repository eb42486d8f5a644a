// Encodings shared by the stores, the snapshot format and the pool bridge (msgpackr).
import type { Entry, EntryType, HardState, LogId, Membership } from '../raft/types.js';
import type { Command, Op, OpResult, Value } from './command.js';
import { crc32 } from 'node:zlib';
import { packCopy, packr, unpackBytes } from '../util/pack.js';
import { StorageError, StorageErrorCode } from './errors.js';

export { packr, packCopy } from '../util/pack.js';

export function pack(v: unknown): Buffer {
  return packr.pack(v);
}

export function unpack<T>(b: Uint8Array): T {
  return unpackBytes<T>(b);
}

// ── commands: what a Normal entry holds after its stamp (entryPayload) ──

/**
 * One coordinator batch: its commands share the client and the floor, so it goes as one msgpack array
 * `[client, floor, seq, ops, seq, ops, ...]`. In `ops`, a put with no option but a time-to-live (most writes) is
 * the array `[key, value]` or `[key, value, ttlMs]`, every other op its map: no field names to write, read and
 * intern on every replica for each write (about half the encoding and decoding time of maps, a quarter fewer
 * bytes). Returns bytes of their own (safe to transfer).
 */
export function encodeBatch(client: number, floor: number, writes: ReadonlyArray<{ seq: number; ops: Op[] }>): Uint8Array {
  const out: unknown[] = [client, floor];
  for (const w of writes) out.push(w.seq, w.ops.map(shortPut));
  return packCopy(out);
}

function shortPut(op: Op): unknown {
  if (op.t !== 'put' || op.cond !== undefined || op.keepTtl !== undefined || op.atMs !== undefined) return op;
  if (op.ttlMs === undefined) return [op.key, op.value];
  return typeof op.ttlMs === 'number' ? [op.key, op.value, op.ttlMs] : op;
}

/**
 * The commands of an entry's payload, or undefined when it is not a batch (the entry is then INVALID_COMMAND on
 * every replica alike). Entries written before 2026-12-02 hold an array of Command maps: they decode too. A short
 * put of the wrong length is left as it is, and fails validation as any malformed op does.
 */
export function decodeCommands(payload: Uint8Array): Command[] | undefined {
  let v: unknown;
  try {
    v = unpackBytes(payload);
  } catch {
    return undefined;
  }
  if (!Array.isArray(v)) return undefined;
  if (typeof v[0] !== 'number') return v.every(isCommandMap) ? (v as Command[]) : undefined;
  const client = v[0] as number;
  const floor = v[1] as unknown;
  if (!Number.isSafeInteger(client) || !Number.isSafeInteger(floor) || v.length % 2 !== 0) return undefined;
  const out: Command[] = [];
  for (let i = 2; i < v.length; i += 2) {
    const seq = v[i] as unknown;
    const ops = v[i + 1] as unknown;
    if (!Number.isSafeInteger(seq) || !Array.isArray(ops)) return undefined;
    for (let j = 0; j < ops.length; j++) {
      const o = ops[j] as unknown;
      if (!Array.isArray(o)) continue;
      if (o.length === 2) ops[j] = { t: 'put', key: o[0], value: o[1] };
      else if (o.length === 3) ops[j] = { t: 'put', key: o[0], value: o[1], ttlMs: o[2] };
    }
    out.push({ client, seq: seq as number, floor: floor as number, ops: ops as Op[] });
  }
  return out;
}

function isCommandMap(c: unknown): c is Command {
  if (typeof c !== 'object' || c === null) return false;
  const x = c as Record<string, unknown>;
  return Number.isSafeInteger(x.client) && Number.isSafeInteger(x.seq) && Number.isSafeInteger(x.floor) && Array.isArray(x.ops);
}

// ── log keys: big-endian u64 indexes, so LMDB's byte order is index order ──

export function logKey(index: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeUInt32BE(Math.floor(index / 0x1_0000_0000), 0);
  b.writeUInt32BE(index >>> 0, 4);
  return b;
}

export function logKeyIndex(key: Uint8Array): number {
  const v = new DataView(key.buffer, key.byteOffset, 8);
  return v.getUint32(0) * 0x1_0000_0000 + v.getUint32(4);
}

// ── log records: [term, type, data, checksum]; the index is the key ──
// LMDB checks nothing inside its pages: a byte flipped on disk in a command would be applied as another write, on
// this replica alone. The checksum (CRC-32, as etcd's WAL records carry) covers the index, the term, the type and
// the data, so a record damaged or found under another index is refused (CORRUPT) wherever it is read: a node
// reads its whole log at every start (initialState). Records from before checksums ([term, type, data]) are
// accepted below the store's `checksumsFrom` index only.

const recordHead = Buffer.alloc(20);

/** CRC-32 of a log record's index, term, type and data. */
export function logRecordChecksum(index: number, term: number, type: number, data: Uint8Array): number {
  recordHead.writeUInt32BE(Math.floor(index / 0x1_0000_0000), 0);
  recordHead.writeUInt32BE(index >>> 0, 4);
  recordHead.writeUInt32BE(Math.floor(term / 0x1_0000_0000), 8);
  recordHead.writeUInt32BE(term >>> 0, 12);
  recordHead.writeUInt32BE(type, 16);
  const head = crc32(recordHead);
  // Node 20's crc32 of an empty view over an empty ArrayBuffer (a structured clone's) is 0, whatever the start value.
  return data.byteLength === 0 ? head : crc32(data, head);
}

export function encodeLogRecord(e: Entry): Buffer {
  return packr.pack([e.term, e.type, e.data, logRecordChecksum(e.index, e.term, e.type, e.data)]);
}

/** A log record read back, its checksum checked (required from index `checksumsFrom` on); CORRUPT if damaged. */
export function decodeLogRecord(index: number, rec: Uint8Array, checksumsFrom: number): Entry {
  let r: unknown;
  try {
    r = packr.unpack(rec);
  } catch (err) {
    throw damagedRecord(index, `not a record (${(err as Error).message})`);
  }
  if (!Array.isArray(r) || r.length < 3 || r.length > 4) throw damagedRecord(index, 'not a record');
  const [term, type, data, sum] = r as [unknown, unknown, unknown, unknown];
  if (!Number.isSafeInteger(term) || !Number.isInteger(type) || (type as number) < 0 || !(data instanceof Uint8Array)) {
    throw damagedRecord(index, 'not a record');
  }
  if (sum === undefined ? index >= checksumsFrom : sum !== logRecordChecksum(index, term as number, type as number, data)) {
    throw damagedRecord(index, sum === undefined ? 'no checksum' : 'checksum mismatch');
  }
  return { index, term: term as number, type: type as EntryType, data };
}

function damagedRecord(index: number, what: string): StorageError {
  return new StorageError(StorageErrorCode.CORRUPT, 'log', 'read', `log entry ${index} is damaged: ${what}`);
}

// ── stored records: one tag byte, then the expiry and write revision when present, then the value ──
// Tag bits: 1 = bytes (else a UTF-8 string), 2 = a float64 expiresAt follows, 4 = a float64 write revision
// follows. Tags 0 and 1 (a bare string or bytes) are what stores wrote before expiries: they still decode.

const TAG_BYTES = 1;
const TAG_EXPIRY = 2;
const TAG_REV = 4;

/** A key's record: its value, its expiry on the log clock (ms since the epoch; undefined: none), its write revision (eviction order). */
export interface StoredRecord {
  value: Value;
  expiresAt: number | undefined;
  rev: number;
}

/** What a record holds besides the value, read without decoding the value. */
export interface RecordHeader {
  expiresAt: number | undefined;
  rev: number;
  /** Where the value's bytes start. */
  offset: number;
  bytes: boolean;
}

/** Buffer's reader works on any Uint8Array (it indexes `this`), without a DataView per record. */
const readDoubleBE = Buffer.prototype.readDoubleBE as (this: Uint8Array, offset: number) => number;

export function recordHeader(b: Uint8Array): RecordHeader {
  const tag = b[0];
  if (tag === undefined || tag > 7) throw new Error(`unknown value tag ${String(tag)}`);
  let offset = 1;
  let expiresAt: number | undefined;
  let rev = 0;
  if (tag & TAG_EXPIRY) {
    expiresAt = readDoubleBE.call(b, offset);
    offset += 8;
  }
  if (tag & TAG_REV) {
    rev = readDoubleBE.call(b, offset);
    offset += 8;
  }
  return { expiresAt, rev, offset, bytes: (tag & TAG_BYTES) !== 0 };
}

export function encodeRecord(r: StoredRecord): Buffer {
  const isString = typeof r.value === 'string';
  const len = isString ? Buffer.byteLength(r.value as string, 'utf8') : (r.value as Uint8Array).byteLength;
  const head = 1 + (r.expiresAt === undefined ? 0 : 8) + 8;
  const b = Buffer.allocUnsafe(head + len);
  b[0] = (isString ? 0 : TAG_BYTES) | (r.expiresAt === undefined ? 0 : TAG_EXPIRY) | TAG_REV;
  let offset = 1;
  if (r.expiresAt !== undefined) offset = b.writeDoubleBE(r.expiresAt, offset);
  offset = b.writeDoubleBE(r.rev, offset);
  if (isString) b.write(r.value as string, offset, 'utf8');
  else b.set(r.value as Uint8Array, offset);
  return b;
}

/** `b` as a Buffer: itself when it is one, else a view of its bytes (no copy). */
export function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** Decode a stored record; bytes come back as a view of `b` (no copy). */
export function decodeRecord(b: Uint8Array): StoredRecord {
  const h = recordHeader(b);
  const buf = asBuffer(b);
  return { value: h.bytes ? buf.subarray(h.offset) : buf.toString('utf8', h.offset), expiresAt: h.expiresAt, rev: h.rev };
}

/** The value of a stored record; bytes come back as a view of `b` (no copy). */
export function decodeValue(b: Uint8Array): Value {
  return decodeRecord(b).value;
}

/** The value of a record in a buffer lmdb-js reuses (getBinaryFast): the result never aliases it. */
export function decodeValueCopy(b: Buffer, h: RecordHeader = recordHeader(b)): Value {
  return h.bytes ? Buffer.from(b.subarray(h.offset)) : b.toString('utf8', h.offset);
}

/** The bytes a value counts for in `maxBytes` (its UTF-8 or raw length). */
export function valueBytes(v: Value): number {
  return typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : v.byteLength;
}

/** A key / record's expiry has passed at `time`. */
export function isExpired(expiresAt: number | undefined, time: number): boolean {
  return expiresAt !== undefined && expiresAt <= time;
}

export function valuesEqual(a: Value | undefined | null, b: Value | undefined | null): boolean {
  if (a === undefined || a === null) return b === undefined || b === null;
  if (b === undefined || b === null) return false;
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

/** Whether `key`'s bytes start with `prefix`'s (a prefix clear's keys, a watch's prefix). */
export function hasPrefix(key: Uint8Array, prefix: Uint8Array): boolean {
  if (key.byteLength < prefix.byteLength) return false;
  for (let i = 0; i < prefix.byteLength; i++) if (key[i] !== prefix[i]) return false;
  return true;
}

/** Keys of JS Maps: the key bytes as a latin1 string (one char per byte, reversible). */
export function keyString(k: Uint8Array): string {
  // A Buffer (what msgpackr and lmdb-js hand out) converts in place; a plain Uint8Array needs a Buffer view first.
  return (Buffer.isBuffer(k) ? k : Buffer.from(k.buffer, k.byteOffset, k.byteLength)).toString('latin1');
}

export function keyFromString(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}

// ── sessions (thesis §6.3) ──

export interface Session {
  /** The client promises never to retry a seq below floor: results below it are dropped. */
  floor: number;
  /** Remembered results of seqs >= floor. */
  results: Map<number, OpResult[]>;
  /** Deterministic LRU order: the apply counter when last touched (same on every replica). */
  used: number;
}

type SessionRecord = [floor: number, used: number, results: Array<[number, OpResult[]]>];

export function encodeSession(s: Session): Buffer {
  const rec: SessionRecord = [s.floor, s.used, [...s.results]];
  return packr.pack(rec);
}

export function decodeSession(b: Uint8Array): Session {
  const [floor, used, results] = packr.unpack(b) as SessionRecord;
  return { floor, used, results: new Map(results) };
}

// ── small metadata records ──

export function encodeLogId(id: LogId): Buffer {
  return packr.pack([id.index, id.term]);
}

export function decodeLogId(b: Uint8Array): LogId {
  const [index, term] = packr.unpack(b) as [number, number];
  return { index, term };
}

export function encodeHardState(hs: HardState): Buffer {
  return packr.pack([hs.term, hs.vote, hs.commit]);
}

export function decodeHardState(b: Uint8Array): HardState {
  const [term, vote, commit] = packr.unpack(b) as [number, number, number];
  return { term, vote, commit };
}

/** The voters alone (the record of stores written before learners existed, and of configurations without any), or [voters, learners]. */
export function encodeMembership(m: Membership): Buffer {
  const learners = m.learners ?? [];
  return packr.pack(learners.length === 0 ? m.voters : [m.voters, learners]);
}

export function decodeMembership(b: Uint8Array): Membership {
  const v = packr.unpack(b) as number[] | [number[], number[]];
  if (Array.isArray(v[0])) return { voters: v[0], learners: (v as [number[], number[]])[1] };
  return { voters: v as number[] };
}
