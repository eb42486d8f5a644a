// DUMP's payload, Redis's serialization of a value (as in an RDB file): the type (0: a string), the string as RDB
// writes one, then the RDB version (2 bytes, little-endian) and a CRC-64 of everything before it (Jones polynomial,
// reflected, as Redis's crc64.c; 8 bytes, little-endian). Strings only: the values threadraft keeps.
//
// Written as Redis 7.0 writes one (RDB version 10) but never compressed: an integer's text of at most 11 characters
// as an 8, 16 or 32-bit integer, any other string as its length and bytes. Redis compresses a string of more than 20
// bytes with LZF when that saves more than 4 bytes: RESTORE reads both forms, and Redis reads ours.

/** The RDB version written: Redis 7.0's. */
export const RDB_VERSION = 10;
/** The newest read: Redis 7.4's (a string is written the same in 10, 11 and 12). */
export const RDB_VERSION_READ = 12;

// CRC-64/Jones as Redis computes it: reflected, polynomial 0xad93d23594c935a9 (reflected 0x95ac9329ac4bc9b5), init 0,
// no final xor; crc64("123456789") = 0xe9c6d914c4b8d9ca. Two 32-bit halves per table entry.
const LO = new Uint32Array(256);
const HI = new Uint32Array(256);
for (let i = 0; i < 256; i++) {
  let lo = i;
  let hi = 0;
  for (let k = 0; k < 8; k++) {
    const carry = lo & 1;
    lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
    hi >>>= 1;
    if (carry) {
      lo = (lo ^ 0xac4bc9b5) >>> 0;
      hi = (hi ^ 0x95ac9329) >>> 0;
    }
  }
  LO[i] = lo;
  HI[i] = hi;
}

/** Redis's crc64(0, bytes) as 8 little-endian bytes. */
export function crc64(bytes: Uint8Array): Buffer {
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < bytes.length; i++) {
    const t = (lo ^ bytes[i]!) & 0xff;
    lo = (((lo >>> 8) | (hi << 24)) ^ LO[t]!) >>> 0;
    hi = ((hi >>> 8) ^ HI[t]!) >>> 0;
  }
  const out = Buffer.alloc(8);
  out.writeUInt32LE(lo, 0);
  out.writeUInt32LE(hi, 4);
  return out;
}

/** RDB's length encoding: 6 bits, 14 bits, or a 32 or 64-bit big-endian length after a marker byte. */
function encodeLength(n: number): Buffer {
  if (n < 1 << 6) return Buffer.from([n]);
  if (n < 1 << 14) return Buffer.from([0x40 | (n >> 8), n & 0xff]);
  if (n <= 0xffffffff) {
    const b = Buffer.alloc(5);
    b[0] = 0x80;
    b.writeUInt32BE(n, 1);
    return b;
  }
  const b = Buffer.alloc(9);
  b[0] = 0x81;
  b.writeBigUInt64BE(BigInt(n), 1);
  return b;
}

/** A string as Redis's rdbSaveRawString writes one without compression (rdbTryIntegerEncoding first). */
function encodeString(s: Buffer): Buffer {
  if (s.length <= 11 && /^(0|-?[1-9][0-9]*)$/.test(s.toString('latin1'))) {
    const v = Number(s.toString('latin1')); // at most 11 characters: exact
    if (v >= -128 && v <= 127) return Buffer.from([0xc0, v & 0xff]);
    if (v >= -32768 && v <= 32767) {
      const b = Buffer.alloc(3);
      b[0] = 0xc1;
      b.writeInt16LE(v, 1);
      return b;
    }
    if (v >= -2147483648 && v <= 2147483647) {
      const b = Buffer.alloc(5);
      b[0] = 0xc2;
      b.writeInt32LE(v, 1);
      return b;
    }
  }
  return Buffer.concat([encodeLength(s.length), s]);
}

/** DUMP's payload of a string value. */
export function dumpString(value: Buffer): Buffer {
  return stringPayload(encodeString(value));
}

/**
 * A payload of RDB type 0 (a string) around `encoded`, the string as the RDB encodes it (or any bytes: the tests'
 * payloads Redis must refuse), then `version` and the CRC-64 of everything before it.
 */
export function stringPayload(encoded: Uint8Array, version = RDB_VERSION): Buffer {
  const body = Buffer.concat([Buffer.from([0]), encoded, Buffer.from([version & 0xff, version >> 8])]);
  return Buffer.concat([body, crc64(body)]);
}

/** Why a payload cannot be restored: Redis's two errors, a string past the value limit, a type other than a string. */
export type PayloadProblem = 'version-or-checksum' | 'format' | 'too-large' | { type: number };

/** Redis's verifyDumpPayload: at least the footer, a version this reads, a matching CRC. */
function verify(p: Buffer): boolean {
  if (p.length < 10) return false;
  const version = p[p.length - 10]! | (p[p.length - 9]! << 8);
  if (version > RDB_VERSION_READ) return false;
  return crc64(p.subarray(0, p.length - 8)).equals(p.subarray(p.length - 8));
}

/** Redis's lzf_decompress: literal runs and back references; null when the data is not `len` bytes of LZF. */
function lzfDecompress(src: Buffer, len: number): Buffer | null {
  const out = Buffer.alloc(len);
  let ip = 0;
  let op = 0;
  while (ip < src.length) {
    const ctrl = src[ip++]!;
    if (ctrl < 32) {
      const run = ctrl + 1;
      if (op + run > len || ip + run > src.length) return null;
      src.copy(out, op, ip, ip + run);
      ip += run;
      op += run;
      continue;
    }
    let n = ctrl >> 5;
    if (n === 7) {
      if (ip >= src.length) return null;
      n += src[ip++]!;
    }
    if (ip >= src.length) return null;
    const ref = op - ((ctrl & 0x1f) << 8) - 1 - src[ip++]!;
    n += 2;
    if (ref < 0 || op + n > len) return null;
    for (let k = 0; k < n; k++) out[op++] = out[ref + k]!; // may overlap what it writes
  }
  return op === len ? out : null;
}

/** The string value of a DUMP payload (Redis's RESTORE), or why not. `maxBytes` bounds a length before anything is allocated. */
export function restoreString(p: Buffer, maxBytes: number): Buffer | PayloadProblem {
  if (!verify(p)) return 'version-or-checksum';
  // Redis reads the value from the whole payload, its footer too (rioInitWithBuffer over all of it): a length that
  // runs into the footer takes footer bytes, and bytes left before the footer are ignored. So does this.
  const end = p.length;
  if (p[0] !== 0) return end > 10 ? { type: p[0]! } : 'format';
  let i = 1;
  const length = (): number | null => {
    if (i >= end) return null;
    const b = p[i]!;
    const kind = b >> 6;
    if (kind === 0) {
      i += 1;
      return b & 0x3f;
    }
    if (kind === 1) {
      if (i + 2 > end) return null;
      i += 2;
      return ((b & 0x3f) << 8) | p[i - 1]!;
    }
    if (b === 0x80 && i + 5 <= end) {
      i += 5;
      return p.readUInt32BE(i - 4);
    }
    if (b === 0x81 && i + 9 <= end) {
      i += 9;
      const n = p.readBigUInt64BE(i - 8);
      return n > BigInt(Number.MAX_SAFE_INTEGER) ? null : Number(n);
    }
    return null;
  };
  let value: Buffer | null = null;
  const b = p[i];
  if (b !== undefined && b >> 6 === 3) {
    // A special encoding: an 8, 16 or 32-bit integer (little-endian), or LZF (compressed length, length, data).
    i++;
    const enc = b & 0x3f;
    const width = enc === 0 ? 1 : enc === 1 ? 2 : enc === 2 ? 4 : 0;
    if (width > 0 && i + width <= end) {
      value = Buffer.from(String(p.readIntLE(i, width)), 'latin1');
    } else if (enc === 3) {
      const clen = length();
      const len = length();
      if (clen === null || len === null || i + clen > end) return 'format';
      if (len > maxBytes) return 'too-large'; // before its buffer is allocated
      value = lzfDecompress(p.subarray(i, i + clen), len);
    }
  } else {
    const len = length();
    // A length past the payload is Redis's format error, whatever it is; one the payload holds may be too large.
    if (len !== null && i + len <= end) {
      if (len > maxBytes) return 'too-large';
      value = p.subarray(i, i + len);
    }
  }
  return value === null ? 'format' : value;
}
