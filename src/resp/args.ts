// Argument helpers: Redis's strict integer syntax, case-insensitive keywords, key checks.
import { ErrorReply } from './reply.js';
import { INT64_MAX_TEXT, parseInt64 as int64 } from '../storage/command.js';
import { asBuffer } from '../storage/codec.js';

/**
 * A decimal integer as Redis's string2ll reads it (optional '-', no '+', no leading zeros, no spaces), or null.
 * Limited to JavaScript's safe integers (±2^53-1), where Redis allows 64 bits: larger numbers get the
 * not-an-integer error (docs/resp.md); parseInt64 reads all 64 bits.
 */
export function parseInteger(b: Buffer): number | null {
  const n = b.length;
  if (n === 0 || n > 17) return null;
  let i = 0;
  const neg = b[0] === 0x2d;
  if (neg) {
    if (n === 1) return null;
    i = 1;
  }
  if (b[i] === 0x30 && n > i + 1) return null; // leading zero
  let v = 0;
  for (; i < n; i++) {
    const d = b[i]! - 0x30;
    if (d < 0 || d > 9) return null;
    v = v * 10 + d;
  }
  if (neg && v === 0) return null; // "-0"
  if (!Number.isSafeInteger(v)) return null;
  return neg ? -v : v;
}

export { INT64_MAX, INT64_MIN } from '../storage/command.js';

/**
 * A decimal integer of Redis's syntax (as parseInteger) within 64 bits, as a bigint, or null: INCRBY's step, and
 * the error paths that tell a 64-bit integer past the safe ones (Redis's "invalid expire time") from a non-integer.
 */
export function parseInt64(b: Buffer): bigint | null {
  return b.length > INT64_MAX_TEXT ? null : (int64(b.toString('latin1')) ?? null);
}

/** A 64-bit argument as a number within [min, max] (by default the safe integers), clamped where it lies past them. */
export function clampInt64(v: bigint, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
  return v < BigInt(min) ? min : v > BigInt(max) ? max : Number(v);
}

/** Whether `b` is the ASCII keyword `upper` in any case. */
export function keyword(b: Buffer | undefined, upper: string): boolean {
  if (b === undefined || b.length !== upper.length) return false;
  for (let i = 0; i < upper.length; i++) {
    let c = b[i]!;
    if (c >= 0x61 && c <= 0x7a) c -= 0x20;
    if (c !== upper.charCodeAt(i)) return false;
  }
  return true;
}

/** The argument as an upper-case ASCII string (command names, option keywords). */
export function upper(b: Buffer): string {
  return b.toString('latin1').toUpperCase();
}

/** Keys the cluster refuses: empty ones (Redis allows them) and ones over 1024 bytes. */
/** A key the cluster gives back (a string when its bytes are UTF-8, else bytes) as the bytes it is. */
export function keyBytes(k: string | Uint8Array): Buffer {
  return typeof k === 'string' ? Buffer.from(k, 'utf8') : asBuffer(k);
}

export const MAX_KEY_BYTES = 1024;

export function keyError(key: Buffer): ErrorReply | undefined {
  if (key.length === 0) return new ErrorReply('ERR INVALID_ARGUMENT key must not be empty (threadraft keys are 1 to 1024 bytes)');
  if (key.length > MAX_KEY_BYTES) return new ErrorReply(`ERR INVALID_ARGUMENT key is ${key.length} bytes; the limit is ${MAX_KEY_BYTES}`);
  return undefined;
}

/** The first key error among `keys`, if any. */
export function keysError(keys: Buffer[]): ErrorReply | undefined {
  for (const k of keys) {
    const e = keyError(k);
    if (e) return e;
  }
  return undefined;
}

export function valueError(value: Buffer, maxValueBytes: number): ErrorReply | undefined {
  if (value.length > maxValueBytes) return new ErrorReply(`ERR INVALID_ARGUMENT value is ${value.length} bytes; the limit is ${maxValueBytes}`);
  return undefined;
}
