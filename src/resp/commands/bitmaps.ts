// Bitmap commands (Redis 7.0's, on string values): SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO.
// Bit 0 is the most significant bit of the first byte. SETBIT, BITOP and a BITFIELD that writes are the state
// machine's setbit, bitop and bitfield ops; the others read the value and count here (a BITFIELD of GETs with
// src/storage/bitfield.ts, as the op does). Arguments are checked in Redis 7.0's order: BITCOUNT and BITPOS look
// the key up first, so an absent key answers 0 (BITPOS 1: -1) whatever its range arguments are.
import { parseInt64, parseInteger, keyError, keysError, keyword } from '../args.js';
import { type BitField, type Overflow, OVERFLOWS, runFields } from '../../storage/bitfield.js';
import { command, keySpec, type CommandSpec } from '../command.js';
import type { Ctx } from '../context.js';
import { NOT_INTEGER, opError, SYNTAX } from '../errors.js';
import { bytesOf, indexRange } from './strings.js';
import { KeysPlan, WritePlan } from '../plan.js';
import { ErrorReply, integerReply, type Reply } from '../reply.js';
import { BIT_OPS } from '../../storage/command.js';

const BIT_OFFSET = new ErrorReply('ERR bit offset is not an integer or out of range');
const BIT_VALUE = new ErrorReply('ERR bit is not an integer or out of range');
const BITPOS_BIT = new ErrorReply('ERR The bit argument must be 1 or 0.');

/**
 * A bit offset as Redis's getBitOffsetFromArgument takes it: 0 up to the bits of proto-max-bulk-len. BITFIELD
 * passes its field's `bits`, for the `#n` form: the n-th field of that width (n * bits, in 64 bits as Redis's).
 */
function bitOffset(ctx: Ctx, b: Buffer, bits?: number): number | ErrorReply {
  const hash = bits !== undefined && b[0] === 0x23;
  let n = parseInt64(hash ? b.subarray(1) : b);
  if (n !== null && hash) n = BigInt.asIntN(64, n * BigInt(bits));
  if (n === null || n < 0n || n >> 3n >= BigInt(ctx.server.options.maxBulkBytes)) return BIT_OFFSET;
  return Number(n);
}

function setbit(ctx: Ctx, args: Buffer[]): Reply | WritePlan {
  const [, key, at, value] = args as [Buffer, Buffer, Buffer, Buffer];
  const offset = bitOffset(ctx, at);
  if (offset instanceof ErrorReply) return offset;
  const bit = value.length === 1 && (value[0] === 0x30 || value[0] === 0x31) ? value[0] - 0x30 : undefined;
  if (bit === undefined) return BIT_VALUE;
  return keyError(key) ?? new WritePlan([{ type: 'setbit', key, offset, bit: bit as 0 | 1 }], (rs) => {
    const r = rs[0];
    if (r?.error !== undefined) return opError(r.error);
    return r?.n ?? new ErrorReply('ERR INTERNAL setbit returned no bit');
  });
}

function getbit(ctx: Ctx, args: Buffer[]): Reply | KeysPlan {
  const key = args[1]!;
  const offset = bitOffset(ctx, args[2]!);
  if (offset instanceof ErrorReply) return offset;
  return keyError(key) ?? new KeysPlan([key], (vs) => {
    const bytes = bytesOf(vs[0]);
    return offset < bytes.length * 8 ? bitAt(bytes, offset) : 0;
  });
}

/** Set bits of a byte. */
function popcount(b: number): number {
  b -= (b >> 1) & 0x55;
  b = (b & 0x33) + ((b >> 2) & 0x33);
  return (b + (b >> 4)) & 0x0f;
}

/** The bit at `i` of `bytes` (bit 0: the first byte's most significant). */
function bitAt(bytes: Buffer, i: number): number {
  return (bytes[i >> 3]! >> (7 - (i & 7))) & 1;
}

/** BITCOUNT key [start end [BYTE|BIT]]. */
function bitcount(_ctx: Ctx, args: Buffer[]): Reply | KeysPlan {
  const key = args[1]!;
  return keyError(key) ?? new KeysPlan([key], (vs) => {
    if (vs[0] === undefined) return 0;
    const bytes = bytesOf(vs[0]);
    if (args.length === 2) return countBits(bytes, 0, bytes.length * 8 - 1);
    if (args.length !== 4 && args.length !== 5) return SYNTAX;
    const s = parseInt64(args[2]!);
    const e = parseInt64(args[3]!);
    if (s === null || e === null) return NOT_INTEGER;
    if (s < 0n && e < 0n && s > e) return 0; // Redis 7.0 answers this before it reads BYTE|BIT
    let bits = false;
    if (args.length === 5) {
      if (keyword(args[4], 'BIT')) bits = true;
      else if (!keyword(args[4], 'BYTE')) return SYNTAX;
    }
    const r = indexRange(s, e, bits ? bytes.length * 8 : bytes.length); // in bits or bytes
    if (r.start > r.end) return 0;
    return bits ? countBits(bytes, r.start, r.end) : countBits(bytes, r.start * 8, r.end * 8 + 7);
  });
}

/** Set bits from bit `first` to bit `last`, both included. */
function countBits(bytes: Buffer, first: number, last: number): number {
  let n = 0;
  let i = first;
  for (; i <= last && (i & 7) !== 0; i++) n += bitAt(bytes, i);
  for (; i + 7 <= last; i += 8) n += popcount(bytes[i >> 3]!);
  for (; i <= last; i++) n += bitAt(bytes, i);
  return n;
}

/** BITPOS key bit [start [end [BYTE|BIT]]]: the first bit set to `bit` in the range, or -1. */
function bitpos(_ctx: Ctx, args: Buffer[]): Reply | KeysPlan {
  const key = args[1]!;
  const b = parseInt64(args[2]!);
  if (b === null) return NOT_INTEGER;
  if (b !== 0n && b !== 1n) return BITPOS_BIT;
  const bit = Number(b);
  return keyError(key) ?? new KeysPlan([key], (vs) => {
    if (vs[0] === undefined) return bit ? -1 : 0; // an endless run of zeros
    const bytes = bytesOf(vs[0]);
    if (args.length > 6) return SYNTAX;
    let bits = false;
    let start = 0n;
    let end: bigint | undefined;
    if (args.length >= 4) {
      const s = parseInt64(args[3]!);
      if (s === null) return NOT_INTEGER;
      start = s;
      if (args.length === 6) {
        if (keyword(args[5], 'BIT')) bits = true;
        else if (!keyword(args[5], 'BYTE')) return SYNTAX;
      }
      if (args.length >= 5) {
        const e = parseInt64(args[4]!);
        if (e === null) return NOT_INTEGER;
        end = e;
      }
    }
    const total = bits ? bytes.length * 8 : bytes.length;
    const r = indexRange(start, end ?? BigInt(total) - 1n, total);
    if (r.start > r.end) return -1;
    const first = bits ? r.start : r.start * 8;
    const last = bits ? r.end : r.end * 8 + 7;
    const skip = bit ? 0x00 : 0xff; // a whole byte without the bit sought
    for (let i = first; i <= last; i++) {
      if ((i & 7) === 0 && i + 7 <= last && bytes[i >> 3] === skip) i += 7;
      else if (bitAt(bytes, i) === bit) return i;
    }
    // No clear bit up to the end of the value: without an explicit end, the zeros past it count (Redis): the first
    // bit after the value.
    if (bit === 0 && end === undefined) return last + 1;
    return -1;
  });
}

/** BITOP AND|OR|XOR|NOT destkey key [key ...]: the new length of destkey. */
function bitop(_ctx: Ctx, args: Buffer[]): Reply | WritePlan {
  const operation = BIT_OPS.find((o) => keyword(args[1], o.toUpperCase()));
  if (operation === undefined) return SYNTAX;
  if (operation === 'not' && args.length !== 4) return new ErrorReply('ERR BITOP NOT must be called with a single source key.');
  const key = args[2]!;
  const keys = args.slice(3);
  return keyError(key) ?? keysError(keys) ?? new WritePlan([{ type: 'bitop', key, operation, keys }], (rs) => {
    const r = rs[0];
    if (r?.error !== undefined) return opError(r.error);
    return r?.n ?? new ErrorReply('ERR INTERNAL bitop returned no length');
  });
}

const FIELD_TYPE = new ErrorReply('ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.');
const OVERFLOW_TYPE = new ErrorReply('ERR Invalid OVERFLOW type specified');

/** BITFIELD's subcommands from index 2, as Redis 7.0 parses them (each checked in turn: type, offset, value). */
function bitFields(ctx: Ctx, args: Buffer[]): BitField[] | ErrorReply {
  const fields: BitField[] = [];
  let overflow: Overflow = 'wrap';
  for (let j = 2; j < args.length; j++) {
    const left = args.length - j - 1;
    const sub = args[j];
    let op: BitField['op'];
    if (keyword(sub, 'GET') && left >= 2) op = 'get';
    else if (keyword(sub, 'SET') && left >= 3) op = 'set';
    else if (keyword(sub, 'INCRBY') && left >= 3) op = 'incrby';
    else if (keyword(sub, 'OVERFLOW') && left >= 1) {
      const o = args[++j];
      const named = OVERFLOWS.find((name) => keyword(o, name.toUpperCase()));
      if (named === undefined) return OVERFLOW_TYPE;
      overflow = named;
      continue;
    } else return SYNTAX;
    // The type: i1..i64 or u1..u63, lower case, the width in Redis's integer syntax.
    const t = args[j + 1]!;
    const signed = t[0] === 0x69;
    const bits = (signed || t[0] === 0x75) && t.length > 1 ? parseInteger(t.subarray(1)) : null;
    if (bits === null || bits < 1 || bits > (signed ? 64 : 63)) return FIELD_TYPE;
    const offset = bitOffset(ctx, args[j + 2]!, bits);
    if (offset instanceof ErrorReply) return offset;
    const field: BitField = { op, signed, bits, offset };
    if (op !== 'get') {
      const v = parseInt64(args[j + 3]!);
      if (v === null) return NOT_INTEGER;
      field.value = String(v);
      if (overflow !== 'wrap') field.overflow = overflow;
    }
    fields.push(field);
    j += op === 'get' ? 2 : 3;
  }
  return fields;
}

/** BITFIELD's replies: integers, or nil for a write that overflowed under FAIL. */
function fieldsReply(values: Array<string | null>): Reply {
  return values.map((v) => (v === null ? null : integerReply(v)));
}

/** BITFIELD key [GET type offset] [SET type offset value] [INCRBY type offset increment] [OVERFLOW WRAP|SAT|FAIL] ... */
function bitfield(readonly: boolean) {
  return (ctx: Ctx, args: Buffer[]): Reply | KeysPlan | WritePlan => {
    const key = args[1]!;
    const fields = bitFields(ctx, args);
    if (fields instanceof ErrorReply) return fields;
    const writes = fields.some((f) => f.op !== 'get');
    if (writes && readonly) return new ErrorReply('ERR BITFIELD_RO only supports the GET subcommand');
    const bad = keyError(key);
    if (bad) return bad;
    if (!writes) return new KeysPlan([key], (vs) => fieldsReply(runFields(bytesOf(vs[0]), fields)));
    return new WritePlan([{ type: 'bitfield', key, fields }], (rs) => {
      const r = rs[0];
      if (r?.error !== undefined) return opError(r.error);
      return r?.values === undefined ? new ErrorReply('ERR INTERNAL bitfield returned no values') : fieldsReply(r.values);
    });
  };
}

/**
 * BITFIELD's key flags for COMMAND GETKEYSANDFLAGS, as Redis's bitfieldGetKeys reads the arguments: read-only while
 * they are whole GETs and OVERFLOWs; read and written from a SET or INCRBY, or anything it cannot parse.
 */
function bitfieldKeyFlags(argv: Buffer[]): string[] {
  for (let i = 2; i < argv.length; i++) {
    const more = argv.length - i - 1;
    if (keyword(argv[i], 'GET') && more >= 2) i += 2;
    else if (keyword(argv[i], 'OVERFLOW') && more >= 1) i += 1;
    else return ['RW', 'access', 'update'];
  }
  return ['RO', 'access'];
}

export const BITMAP_COMMANDS: CommandSpec[] = [
  command('setbit', 4, ['write', 'denyoom'], 'bitmap', 'Sets or clears the bit at offset of the string value. Creates the key if it doesn\'t exist.', setbit, { keys: [keySpec('RW access update', 1)], since: '2.2.0' }),
  command('getbit', 3, ['readonly', 'fast'], 'bitmap', 'Returns a bit value by offset.', getbit, { keys: [keySpec('RO access', 1)], since: '2.2.0' }),
  command('bitcount', -2, ['readonly'], 'bitmap', 'Counts the number of set bits (population counting) in a string.', bitcount, { keys: [keySpec('RO access', 1)], since: '2.6.0' }),
  command('bitpos', -3, ['readonly'], 'bitmap', 'Finds the first set (1) or clear (0) bit in a string.', bitpos, { keys: [keySpec('RO access', 1)], since: '2.8.7' }),
  command('bitfield', -2, ['write', 'denyoom'], 'bitmap', 'Performs arbitrary bitfield integer operations on strings.', bitfield(false), { keys: [keySpec('RW access update variable_flags', 1, 0, 1, 'This command allows both access and modification of the key')], keyFlags: bitfieldKeyFlags, since: '3.2.0' }),
  command('bitfield_ro', -2, ['readonly', 'fast'], 'bitmap', 'Performs arbitrary read-only bitfield integer operations on strings.', bitfield(true), { keys: [keySpec('RO access', 1)], since: '6.0.0' }),
  command('bitop', -4, ['write', 'denyoom'], 'bitmap', 'Performs bitwise operations on multiple strings, and stores the result.', bitop, { keys: [keySpec('OW update', 2), keySpec('RO access', 3, -1)], since: '2.6.0' }),
];
