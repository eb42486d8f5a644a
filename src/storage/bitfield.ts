// Redis BITFIELD's arithmetic, shared by the state machine (the bitfield op) and the RESP front end (BITFIELD with
// only GETs, BITFIELD_RO: a read). Integers of 1 to 64 bits (unsigned: 1 to 63) at any bit offset of a value, bit 0
// being the first byte's most significant; SET and INCRBY with Redis's overflow rules (WRAP, SAT, FAIL), quirks
// included: they are its 64-bit C arithmetic, emulated with bigints (BigInt.asIntN / asUintN).

export type Overflow = 'wrap' | 'sat' | 'fail';
export const OVERFLOWS: readonly Overflow[] = ['wrap', 'sat', 'fail'];

/** One subcommand: GET, SET `value` or INCRBY `value` (a 64-bit integer's decimal text), with the overflow rule in force. */
export interface BitField {
  op: 'get' | 'set' | 'incrby';
  signed: boolean;
  /** 1 to 64 signed, 1 to 63 unsigned. */
  bits: number;
  /** In bits. */
  offset: number;
  value?: string;
  overflow?: Overflow;
}

/** What a field adds to its log entry at most (msgpack: an incrby of an i64 at a large offset with FAIL is 80 bytes). */
export const FIELD_BYTES = 80;

/** A field's shape is valid: what the op's checks and the RESP parser agree on. */
export function fieldProblem(f: BitField): boolean {
  if (typeof f !== 'object' || f === null) return true;
  if (f.op !== 'get' && f.op !== 'set' && f.op !== 'incrby') return true;
  if (typeof f.signed !== 'boolean' || !Number.isInteger(f.bits) || f.bits < 1 || f.bits > (f.signed ? 64 : 63)) return true;
  if (!Number.isSafeInteger(f.offset) || f.offset < 0) return true;
  if (f.overflow !== undefined && !OVERFLOWS.includes(f.overflow)) return true;
  return f.op !== 'get' && (typeof f.value !== 'string' || !/^(0|-?[1-9][0-9]{0,18})$/.test(f.value) || BigInt.asIntN(64, BigInt(f.value)) !== BigInt(f.value));
}

/** The bytes a value must have for `fields`' writes: past the highest bit any SET or INCRBY writes (0: none writes). */
export function bytesWritten(fields: readonly BitField[]): number {
  let n = 0;
  for (const f of fields) if (f.op !== 'get') n = Math.max(n, Math.floor((f.offset + f.bits - 1) / 8) + 1);
  return n;
}

/** The field's bits as an unsigned integer; bits past the value's end read as zeros. */
function readBits(bytes: Uint8Array, offset: number, bits: number): bigint {
  const first = offset >> 3;
  const last = (offset + bits - 1) >> 3; // at most 9 bytes hold a field
  let v = 0n;
  for (let i = first; i <= last; i++) v = (v << 8n) | BigInt(i < bytes.length ? bytes[i]! : 0);
  return (v >> BigInt((last + 1) * 8 - offset - bits)) & ((1n << BigInt(bits)) - 1n);
}

function read(bytes: Uint8Array, f: BitField): bigint {
  const v = readBits(bytes, f.offset, f.bits);
  return f.signed ? BigInt.asIntN(f.bits, v) : v;
}

/** Writes the low `bits` of `v` (two's complement); `bytes` holds them (bytesWritten). */
function writeBits(bytes: Uint8Array, offset: number, bits: number, v: bigint): void {
  const u = BigInt.asUintN(bits, v);
  for (let j = 0; j < bits; j++) {
    const i = offset + j;
    const mask = 0x80 >> (i & 7);
    if ((u >> BigInt(bits - 1 - j)) & 1n) bytes[i >> 3]! |= mask;
    else bytes[i >> 3]! &= ~mask;
  }
}

const i64 = (x: bigint): bigint => BigInt.asIntN(64, x);
const u64 = (x: bigint): bigint => BigInt.asUintN(64, x);

/**
 * Redis's checkUnsignedBitfieldOverflow / checkSignedBitfieldOverflow: undefined while `value + incr` stays in the
 * field's range; else what is written instead (WRAP: the low bits, sign-extended for a signed field; SAT: the bound
 * passed), or null under FAIL. `value` of an unsigned field is read as uint64 (a negative SET value is past its
 * maximum).
 */
function overflow(value: bigint, incr: bigint, f: BitField): bigint | null | undefined {
  const bits = BigInt(f.bits);
  const ow = f.overflow ?? 'wrap';
  let max: bigint;
  let min: bigint;
  let dir = 0;
  if (!f.signed) {
    max = (1n << bits) - 1n;
    min = 0n;
    if (value > max || (incr > 0n && incr > i64(max - value))) dir = 1;
    else if (incr < 0n && incr < i64(-value)) dir = -1;
  } else {
    max = f.bits === 64 ? (1n << 63n) - 1n : (1n << (bits - 1n)) - 1n;
    min = -max - 1n;
    const maxincr = i64(max - value);
    const minincr = i64(min - value);
    if (value > max || (f.bits !== 64 && incr > maxincr) || (value >= 0n && incr > 0n && incr > maxincr)) dir = 1;
    else if (value < min || (f.bits !== 64 && incr < minincr) || (value < 0n && incr < 0n && incr < minincr)) dir = -1;
  }
  if (dir === 0) return undefined;
  if (ow === 'fail') return null;
  if (ow === 'sat') return dir > 0 ? max : min;
  const low = u64(value + incr);
  return f.signed ? BigInt.asIntN(f.bits, low) : BigInt.asUintN(f.bits, low);
}

/**
 * Runs the fields in order over `bytes` (at least bytesWritten long when any field writes), as Redis's
 * bitfieldGeneric: per field its reply, a 64-bit integer's text, or null for a SET or INCRBY that overflowed
 * under FAIL (and wrote nothing). `change.changed` is set when a field written changed the value as Redis counts it
 * (`change.dirty`: the value is new or grew).
 */
export function runFields(bytes: Uint8Array, fields: readonly BitField[], change?: { dirty: boolean; changed: boolean }): Array<string | null> {
  const out: Array<string | null> = [];
  for (const f of fields) {
    const old = read(bytes, f);
    if (f.op === 'get') {
      out.push(String(old));
      continue;
    }
    const v = BigInt(f.value!);
    const o = f.op === 'incrby' ? overflow(old, v, f) : overflow(f.signed ? v : u64(v), 0n, f);
    if (o === null) {
      out.push(null); // FAIL: nothing written
      continue;
    }
    const next = o ?? (f.op === 'incrby' ? old + v : v);
    const reply = f.op === 'incrby' ? next : old;
    writeBits(bytes, f.offset, f.bits, next);
    // Redis's "changes": a field written (not refused by FAIL) to a new or grown value, or with other bits than it had.
    if (change && (change.dirty || read(bytes, f) !== old)) change.changed = true;
    out.push(String(reply));
  }
  return out;
}
