// Argument checks of the public API: each failure is a ClusterError INVALID_ARGUMENT, raised before
// anything is queued, so an invalid call never writes.
import { ClusterError, ErrorCode } from '../errors.js';
import { LIMITS, type Value } from '../storage/command.js';

export type KeyInput = string | Uint8Array;

function invalid(message: string): ClusterError {
  return new ClusterError(ErrorCode.INVALID_ARGUMENT, message);
}

/** Keys: non-empty strings (UTF-8 encoded) or bytes, at most LIMITS.maxKeyBytes bytes. */
export function toKey(key: unknown): Uint8Array {
  let bytes: Uint8Array;
  if (typeof key === 'string') bytes = Buffer.from(key, 'utf8');
  else if (key instanceof Uint8Array) bytes = key;
  else throw invalid(`key must be a string or a Uint8Array, got ${describe(key)}`);
  if (bytes.length === 0) throw invalid('key must not be empty');
  if (bytes.length > LIMITS.maxKeyBytes) throw invalid(`key is ${bytes.length} bytes; the limit is ${LIMITS.maxKeyBytes}`);
  return bytes;
}

/** Values: strings or bytes, at most maxValueBytes bytes (strings count their UTF-8 length). */
export function toValue(value: unknown, maxValueBytes: number, nullable: false): Value;
export function toValue(value: unknown, maxValueBytes: number, nullable: true): Value | null;
export function toValue(value: unknown, maxValueBytes: number, nullable: boolean): Value | null {
  if (value === null && nullable) return null;
  let size: number;
  if (typeof value === 'string') size = Buffer.byteLength(value, 'utf8');
  else if (value instanceof Uint8Array) size = value.length;
  else throw invalid(`value must be a string or a Uint8Array${nullable ? ' or null' : ''}, got ${describe(value)}`);
  if (size > maxValueBytes) throw invalid(`value is ${size} bytes; the limit is ${maxValueBytes}`);
  return value;
}

export function valueBytes(v: Value | null): number {
  return v === null ? 0 : typeof v === 'string' ? v.length * 3 : v.length;
}

/** A value for an error message; never throws (String() does on objects with a broken toString). */
function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' || v === undefined) return String(v);
  return describe(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v;
}

export function positiveInt(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw invalid(`${name} must be an integer in [${min}, ${max}], got ${show(v)}`);
  }
  return v;
}

export function oneOf<T extends string>(name: string, v: unknown, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw invalid(`${name} must be one of ${allowed.join(', ')}, got ${show(v)}`);
  }
  return v as T;
}
