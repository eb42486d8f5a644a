// Argument checks and conversions of the cache calls (issue 13): options objects, time-to-live, read
// options, scan ranges and cursors. Each failure is INVALID_ARGUMENT, raised before anything is queued.
import { isUtf8 } from 'node:buffer';
import type { NodeId } from '../raft/types.js';
import type { Key, OpResult, Value } from '../storage/command.js';
import { valueBytes } from '../storage/codec.js';
import { LIMITS } from '../storage/command.js';
import { ClusterError, ErrorCode } from '../errors.js';
import type { ScanRange } from '../node/queries.js';
import type { Consistency } from './reads.js';
import { oneOf, positiveInt, toKey, toPrefix, type KeyInput } from './validate.js';

/** The longest time-to-live: 100 years (an expiry stays an exact integer of ms since the epoch). */
export const MAX_TTL_MS = 100 * 365 * 24 * 3600 * 1000;
/** Items of one scan page: 100 unless `limit` says otherwise, at most 10 000. */
export const SCAN_DEFAULT_LIMIT = 100;
export const SCAN_MAX_LIMIT = 10_000;

export interface ReadOptions {
  /** Default 'linearizable' (ReadIndex through the leader). 'lease': the leader's lease, no round trip. 'stale': a node's state machine as it is. */
  consistency?: Consistency;
  /** For 'stale' reads: the node to read from (default: the leader if known, else any live node). */
  node?: NodeId;
}

export interface PutOptions {
  /** Expire the key this many ms (an integer, 1 ms to 100 years) after the write is proposed. */
  ttlMs?: number;
  /** Keep the key's current expiry (without either option a write clears it). Not with `ttlMs`. */
  keepTtl?: boolean;
}

export interface ScanOptions extends ReadOptions {
  /** Items per page: default 100, at most 10 000. */
  limit?: number;
  /** Descending byte order. */
  reverse?: boolean;
  /** The `cursor` of the previous page: continue after its last key. */
  cursor?: string;
}

export type ScanRangeInput = { prefix: KeyInput } | { start?: KeyInput; end?: KeyInput };

function invalid(message: string): ClusterError {
  return new ClusterError(ErrorCode.INVALID_ARGUMENT, message);
}

/** An options object (undefined: {}) whose keys are all in `known`. */
export function optionsObject<T extends object>(call: string, v: unknown, known: readonly string[]): T {
  if (v === undefined) return {} as T;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw invalid(`${call} options must be an object`);
  const unknown = unknownKey(v, known);
  if (unknown !== undefined) throw invalid(`${call}: unknown option ${unknown}`);
  return v as T;
}

/** The first own key of `v` that is not in `known` (an unknown option or field, a misspelling), if any. */
export function unknownKey(v: object, known: readonly string[]): string | undefined {
  for (const k in v) if (Object.hasOwn(v, k) && !known.includes(k)) return k; // Object.keys' keys, without its array
  return undefined;
}

export function ttlMs(v: unknown): number {
  return positiveInt('ttlMs', v, 1, MAX_TTL_MS);
}

export const READ_OPTION_KEYS: readonly string[] = ['consistency', 'node'];

/** A read's `consistency` option: one of the three, default 'linearizable'. */
export function consistencyOption(v: unknown, name = 'consistency'): Consistency {
  return v === undefined ? 'linearizable' : oneOf(name, v, ['linearizable', 'lease', 'stale'] as const);
}

/** Consistency and node of a read; `node` only with 'stale'. */
export function readOptions(call: string, v: unknown, extra: readonly string[] = []): { consistency: Consistency; node: NodeId | undefined } {
  const o = optionsObject<ReadOptions>(call, v, [...READ_OPTION_KEYS, ...extra]);
  const consistency = consistencyOption(o.consistency);
  if (o.node !== undefined && consistency !== 'stale') {
    throw invalid(`${call}: node applies to consistency 'stale' only (a ${consistency} read goes through the leader)`);
  }
  return { consistency, node: o.node };
}

const PUT_OPTIONS = ['ttlMs', 'keepTtl'] as const;

/** ttlMs and keepTtl of a put or cas, as the op carries them. */
export function putOptions(call: string, v: unknown): { ttlMs?: number; keepTtl?: boolean } {
  const o = optionsObject<PutOptions>(call, v, PUT_OPTIONS);
  if (o.keepTtl !== undefined && typeof o.keepTtl !== 'boolean') throw invalid(`${call}: keepTtl must be a boolean`);
  if (o.ttlMs !== undefined && o.keepTtl === true) throw invalid(`${call}: ttlMs and keepTtl together: a write either sets an expiry or keeps the current one`);
  const out: { ttlMs?: number; keepTtl?: boolean } = {};
  if (o.ttlMs !== undefined) out.ttlMs = ttlMs(o.ttlMs);
  if (o.keepTtl === true) out.keepTtl = true;
  return out;
}

export function scanRange(v: unknown): ScanRange {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw invalid('scan range must be { prefix } or { start?, end? }');
  const r = v as Record<string, unknown>;
  const keys = Object.keys(r).filter((k) => r[k] !== undefined);
  if (keys.includes('prefix')) {
    if (keys.length > 1) throw invalid('scan range: prefix goes alone, without start or end');
    return { prefix: toPrefix(r.prefix) };
  }
  for (const k of keys) if (k !== 'start' && k !== 'end') throw invalid(`scan range: unknown field ${k}`);
  const out: { start?: Key; end?: Key } = {};
  if (r.start !== undefined) out.start = toKey(r.start);
  if (r.end !== undefined) out.end = toKey(r.end);
  return out;
}

const CURSOR_PREFIX = 'k1.';

/** An opaque cursor naming the last key of a page. */
export function encodeCursor(key: Key): string {
  return CURSOR_PREFIX + Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('base64url');
}

export function decodeCursor(v: unknown): Key {
  if (typeof v !== 'string' || !v.startsWith(CURSOR_PREFIX)) throw invalid('scan: cursor must be a cursor returned by scan()');
  const key = Buffer.from(v.slice(CURSOR_PREFIX.length), 'base64url');
  if (key.length === 0 || key.length > LIMITS.maxKeyBytes) throw invalid('scan: cursor must be a cursor returned by scan()');
  return key;
}

export function scanOptions(v: unknown): { limit: number; reverse: boolean; after?: Key; consistency: Consistency; node: NodeId | undefined } {
  const known = ['limit', 'reverse', 'cursor'] as const;
  const { consistency, node } = readOptions('scan', v, known);
  const o = optionsObject<ScanOptions>('scan', v, ['consistency', 'node', ...known]);
  if (o.reverse !== undefined && typeof o.reverse !== 'boolean') throw invalid('scan: reverse must be a boolean');
  const out: { limit: number; reverse: boolean; after?: Key; consistency: Consistency; node: NodeId | undefined } = {
    limit: o.limit === undefined ? SCAN_DEFAULT_LIMIT : positiveInt('scan limit', o.limit, 1, SCAN_MAX_LIMIT),
    reverse: o.reverse === true,
    consistency,
    node,
  };
  if (o.cursor !== undefined) out.after = decodeCursor(o.cursor);
  return out;
}

/** The bytes of a scan page's keys and values, as the store counts them against its maxBytes. */
export function pairBytes(pairs: Array<[Key, Value]>): number {
  let n = 0;
  for (const [k, v] of pairs) n += k.length + valueBytes(v);
  return n;
}

/** A key as the API returns it: a string when its bytes are UTF-8, else the bytes (a Buffer). */
export function keyOut(key: Key): string | Buffer {
  const b = Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  return isUtf8(b) ? b.toString('utf8') : Buffer.from(b);
}

/**
 * The result of one op, or its refusal by the state machine as a ClusterError: NOT_INTEGER for an incr of a
 * value that is not an integer, NOT_FLOAT and NOT_FINITE for an incrByFloat; INVALID_ARGUMENT for a result over
 * the value bounds (an incrByFloat's sum longer than maxValueBytes: the coordinator cannot know its length first)
 * and for the others (the coordinator checks arguments first, so those mean a state machine that does not know the
 * op: one without the cache storage).
 */
export function opResult(call: string, r: OpResult | undefined): OpResult {
  if (r === undefined) throw new ClusterError(ErrorCode.STORAGE, `${call}: the state machine returned no result`);
  if (r.error === undefined) return r;
  if (r.error === ErrorCode.NOT_INTEGER) throw new ClusterError(ErrorCode.NOT_INTEGER, `${call}: the value is not an integer (or the result is not a safe integer)`);
  if (r.error === ErrorCode.NOT_FLOAT) throw new ClusterError(ErrorCode.NOT_FLOAT, `${call}: the value is not a float`);
  if (r.error === ErrorCode.NOT_FINITE) throw new ClusterError(ErrorCode.NOT_FINITE, `${call}: the result would be infinite`);
  if (r.error === 'VALUE_TOO_LARGE') throw new ClusterError(ErrorCode.INVALID_ARGUMENT, `${call}: the result would be longer than maxValueBytes (or than maxBytes with its key); nothing was written`);
  throw new ClusterError(ErrorCode.INVALID_ARGUMENT, `${call}: the state machine refused the operation (${r.error})`);
}
