// Encodings shared by the stores, the snapshot format and the pool bridge (msgpackr).
import type { Entry, EntryType, HardState, LogId, Membership } from '../raft/types.js';
import type { OpResult, Value } from './command.js';
import { packr, unpackBytes } from '../util/pack.js';

export { packr, packCopy } from '../util/pack.js';

export function pack(v: unknown): Buffer {
  return packr.pack(v);
}

export function unpack<T>(b: Uint8Array): T {
  return unpackBytes<T>(b);
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

// ── log records: [term, type, data]; the index is the key ──

export function encodeLogRecord(e: Entry): Buffer {
  return packr.pack([e.term, e.type, e.data]);
}

export function decodeLogRecord(index: number, rec: Uint8Array): Entry {
  const [term, type, data] = packr.unpack(rec) as [number, EntryType, Uint8Array];
  return { index, term, type, data };
}

// ── values keep their type: one tag byte, then the UTF-8 string or the raw bytes ──

const TAG_STRING = 0;
const TAG_BYTES = 1;

export function encodeValue(v: Value): Buffer {
  if (typeof v === 'string') {
    const len = Buffer.byteLength(v, 'utf8');
    const b = Buffer.allocUnsafe(len + 1);
    b[0] = TAG_STRING;
    b.write(v, 1, 'utf8');
    return b;
  }
  const b = Buffer.allocUnsafe(v.byteLength + 1);
  b[0] = TAG_BYTES;
  b.set(v, 1);
  return b;
}

/** Decode a stored value; bytes come back as a view of `b` (no copy). */
export function decodeValue(b: Uint8Array): Value {
  const buf = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  if (buf[0] === TAG_STRING) return buf.toString('utf8', 1);
  if (buf[0] === TAG_BYTES) return buf.subarray(1);
  throw new Error(`unknown value tag ${String(buf[0])}`);
}

/** decodeValue for a buffer lmdb-js reuses (getBinaryFast): the result never aliases it. */
export function decodeValueCopy(b: Buffer): Value {
  if (b[0] === TAG_STRING) return b.toString('utf8', 1);
  if (b[0] === TAG_BYTES) return Buffer.from(b.subarray(1));
  throw new Error(`unknown value tag ${String(b[0])}`);
}

export function valuesEqual(a: Value | undefined | null, b: Value | undefined | null): boolean {
  if (a === undefined || a === null) return b === undefined || b === null;
  if (b === undefined || b === null) return false;
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

/** Keys of JS Maps: the key bytes as a latin1 string (one char per byte, reversible). */
export function keyString(k: Uint8Array): string {
  return Buffer.from(k.buffer, k.byteOffset, k.byteLength).toString('latin1');
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

export function encodeMembership(m: Membership): Buffer {
  return packr.pack(m.voters);
}

export function decodeMembership(b: Uint8Array): Membership {
  return { voters: packr.unpack(b) as number[] };
}
