// Argument checks of the public API: each failure is a ClusterError INVALID_ARGUMENT, raised before
// anything is queued, so an invalid call never writes.
import { ClusterError, ErrorCode } from '../errors.js';
import { LIMITS, parseInt64, type Value } from '../storage/command.js';
import { isFloatText } from '../storage/float80.js';
import type { NodeId } from '../raft/types.js';

export type KeyInput = string | Uint8Array;

function invalid(message: string): ClusterError {
  return new ClusterError(ErrorCode.INVALID_ARGUMENT, message);
}

/**
 * Whether a string is well-formed UTF-16 (no lone surrogate). A lone surrogate becomes U+FFFD in UTF-8, so two keys
 * that differ only there would be one key, and a value would read back changed: both are refused instead.
 */
function wellFormed(s: string): boolean {
  return (s as string & { isWellFormed(): boolean }).isWellFormed();
}

function notWellFormed(what: 'key' | 'value', s: string): ClusterError {
  return invalid(`${what} ${show(s)} holds a lone surrogate (not well-formed UTF-16): UTF-8 cannot hold it`);
}

/** Keys: non-empty strings (UTF-8 encoded, well-formed) or bytes, at most LIMITS.maxKeyBytes bytes. */
export function toKey(key: unknown): Uint8Array {
  let bytes: Uint8Array;
  if (typeof key === 'string') {
    if (!wellFormed(key)) throw notWellFormed('key', key);
    bytes = Buffer.from(key, 'utf8');
  } else if (key instanceof Uint8Array) bytes = key;
  else throw invalid(`key must be a string or a Uint8Array, got ${describe(key)}`);
  if (bytes.length === 0) throw invalid('key must not be empty');
  if (bytes.length > LIMITS.maxKeyBytes) throw invalid(`key is ${bytes.length} bytes; the limit is ${LIMITS.maxKeyBytes}`);
  return bytes;
}

/** A scan or watch prefix: a key's rules, but it may be empty (every key). */
export function toPrefix(prefix: unknown): Uint8Array {
  if ((typeof prefix === 'string' && prefix.length === 0) || (prefix instanceof Uint8Array && prefix.length === 0)) return new Uint8Array(0);
  return toKey(prefix);
}

/** Values: strings or bytes, at most maxValueBytes bytes (strings count their UTF-8 length). */
export function toValue(value: unknown, maxValueBytes: number, nullable: false): Value;
export function toValue(value: unknown, maxValueBytes: number, nullable: true): Value | null;
export function toValue(value: unknown, maxValueBytes: number, nullable: boolean): Value | null {
  if (value === null && nullable) return null;
  let size: number;
  if (typeof value === 'string') {
    if (!wellFormed(value)) throw notWellFormed('value', value);
    if (value.length * 3 <= maxValueBytes) return value; // a UTF-16 unit is at most 3 UTF-8 bytes: no need to count
    size = Buffer.byteLength(value, 'utf8');
  } else if (value instanceof Uint8Array) size = value.length;
  else throw invalid(`value must be a string or a Uint8Array${nullable ? ' or null' : ''}, got ${describe(value)}`);
  if (size > maxValueBytes) throw invalid(`value is ${size} bytes; the limit is ${maxValueBytes}`);
  return value;
}

/** Bytes of a value for the batch bounds: strings estimated at 3 bytes per UTF-16 unit (no pass over them) unless `exact`. */
export function valueBytes(v: Value | null, exact = false): number {
  if (v === null) return 0;
  if (typeof v !== 'string') return v.length;
  return exact ? Buffer.byteLength(v, 'utf8') : v.length * 3;
}

/** A value for an error message; never throws (String() does on objects with a broken toString). */
export function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' || v === undefined) return String(v);
  return describe(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) {
    // Object.prototype.toString reads the built-in tag (Uint16Array, Float32Array, DataView, ...): never user code.
    const kind = Object.prototype.toString.call(v).slice(8, -1);
    return `a ${kind}: only Uint8Array (or Buffer) bytes are accepted; pass new Uint8Array(x.buffer, x.byteOffset, x.byteLength) to store its bytes`;
  }
  return typeof v;
}

/** A node id given to a call: a positive 32-bit integer, else INVALID_ARGUMENT (an unknown one is the caller's NODE_UNAVAILABLE). */
export function checkNodeId(id: unknown): asserts id is NodeId {
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id <= 0 || id > 0xffffffff) {
    throw invalid(`node id must be a positive integer, got ${show(id)}`);
  }
}

/** The longest timeout any call takes (requestTimeoutMs, the membership calls, waitReplicas, ...): one hour. */
export const MAX_TIMEOUT_MS = 3_600_000;

export function positiveInt(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw invalid(`${name} must be an integer in [${min}, ${max}], got ${show(v)}`);
  }
  return v;
}

/**
 * An INCRBYFLOAT increment as the text the state machine reads: a number's shortest decimal form, or a text Redis's
 * INCRBYFLOAT accepts (decimal or hexadecimal, an exponent, inf; at most 5 119 characters).
 */
export function floatText(name: string, v: unknown): string {
  const text = typeof v === 'number' ? String(v) : v;
  if (typeof text !== 'string' || !isFloatText(text)) throw invalid(`${name}: by must be a number or a float's text, got ${show(v)}`);
  return text;
}

/** A 64-bit integer's decimal text as Redis writes one (`0`, `-?[1-9][0-9]*`): an incr's `by` with Redis's range. */
export function int64Text(name: string, v: string): string {
  if (parseInt64(v) === undefined) throw invalid(`${name} must be a safe integer or a 64-bit integer's decimal text, got ${show(v)}`);
  return v;
}

export function oneOf<T extends string>(name: string, v: unknown, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw invalid(`${name} must be one of ${allowed.join(', ')}, got ${show(v)}`);
  }
  return v as T;
}

/**
 * A key for the read fast path (peek, stale get): the same rules as toKey, but a string is checked without
 * being encoded (its UTF-8 bytes are written straight into LMDB's key buffer by the reader).
 */
export function checkKey(key: unknown): string | Uint8Array {
  if (typeof key === 'string') {
    if (key.length === 0) throw invalid('key must not be empty');
    if (!wellFormed(key)) throw notWellFormed('key', key);
    if (key.length * 3 > LIMITS.maxKeyBytes && Buffer.byteLength(key, 'utf8') > LIMITS.maxKeyBytes) return toKey(key);
    return key;
  }
  return toKey(key);
}
