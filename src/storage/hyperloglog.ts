// Redis's HyperLogLog (PFADD, PFCOUNT, PFMERGE), byte for byte: an HLL is a string value, so a value written here
// reads back, DUMPs and RESTOREs as Redis's does, and one GET from Redis is a valid HLL here. Learned from Redis's
// src/hyperloglog.c (the layout, the sparse opcodes and how an update splits and merges them, the promotion to the
// dense layout, Ertl's estimator); the code is ours.
//
// Layout: a 16-byte header ("HYLL", encoding 0 dense / 1 sparse, 3 unused bytes, the cached cardinality as 8 bytes
// little-endian, its last byte's top bit set when stale), then 16384 registers of 6 bits: dense, 12288 bytes packed
// from each byte's least significant bit; sparse, run-length opcodes ZERO (00xxxxxx: 1-64 zero registers), XZERO
// (01xxxxxx yyyyyyyy: 1-16384 zero registers) and VAL (1vvvvvxx: 1-4 registers of value 1-32). A sparse value is
// promoted to dense when a register needs a value above 32 or an update would make it longer than 3000 bytes
// (Redis's hll-sparse-max-bytes default). The sparse form depends on the order of the updates (a merge of equal
// neighbours looks only near the opcode changed), so it is produced here by the same steps as Redis's.

const HDR = 16;
const P = 14;
const REGISTERS = 1 << P;
const Q = 64 - P;
const DENSE_SIZE = HDR + (REGISTERS * 6) / 8; // 12304
const DENSE = 0;
const SPARSE = 1;
const VAL_MAX_VALUE = 32;
const VAL_MAX_LEN = 4;
const ZERO_MAX_LEN = 64;
const XZERO_MAX_LEN = 16384;
/** Redis's hll-sparse-max-bytes default: a sparse value (header included) never grows past it. */
export const HLL_SPARSE_MAX_BYTES = 3000;
const ALPHA_INF = 0.721347520444481703680; // 0.5 / ln(2)

/**
 * Why an HLL command refuses a value, as the state machine's op error: not an HLL at all (NOT_HLL, Redis's WRONGTYPE
 * reply), or a sparse one that is broken (INVALID_HLL, Redis's INVALIDOBJ).
 */
export type HllProblem = 'NOT_HLL' | 'INVALID_HLL';

/**
 * A PFCOUNT or PFMERGE refused: why, and the position of the value refused. Redis reads the keys in order and stops
 * there: the keys after it are not looked up (INFO's keyspace hits and misses, "keymiss" events).
 */
export interface HllRefusal {
  problem: HllProblem;
  at: number;
}

// ---------------------------------------------------------------------------------------------------------------
// The hash: MurmurHash64A with Redis's seed, on 64-bit words as two 32-bit halves.

const M_HI = 0xc6a4a793;
const M_LO = 0x5bd1e995;
const SEED = 0xadc83b19;
const TWO32 = 4294967296;

let hi = 0; // the result of the last mul64 (or the hash), high and low halves
let lo = 0;

/** (ah·2^32 + al) · (bh·2^32 + bl) mod 2^64 into (hi, lo): the low halves' full product from 16-bit pieces. */
function mul64(ah: number, al: number, bh: number, bl: number): void {
  const a0 = al & 0xffff;
  const a1 = al >>> 16;
  const b0 = bl & 0xffff;
  const b1 = bl >>> 16;
  const mid = a0 * b1 + a1 * b0; // < 2^33: exact
  const low = a0 * b0 + (mid % 65536) * 65536; // < 2^33: exact
  lo = low >>> 0;
  hi = (a1 * b1 + Math.floor(mid / 65536) + Math.floor(low / TWO32) + Math.imul(ah, bl) + Math.imul(al, bh)) >>> 0;
}

function word32(d: Uint8Array, i: number): number {
  return (d[i]! | (d[i + 1]! << 8) | (d[i + 2]! << 16) | (d[i + 3]! << 24)) >>> 0;
}

/** MurmurHash64A(ele, len, 0xadc83b19) into (hi, lo), little-endian words as Redis reads them on every machine. */
function murmur64a(d: Uint8Array): void {
  const len = d.length;
  mul64(0, len, M_HI, M_LO);
  let hh = hi;
  let hl = (lo ^ SEED) >>> 0;
  const end = len - (len & 7);
  for (let i = 0; i < end; i += 8) {
    mul64(word32(d, i + 4), word32(d, i), M_HI, M_LO);
    // k ^= k >> 47: the high half's top 17 bits into the low half
    mul64(hi, (lo ^ (hi >>> 15)) >>> 0, M_HI, M_LO);
    hh ^= hi;
    hl = (hl ^ lo) >>> 0;
    mul64(hh >>> 0, hl, M_HI, M_LO);
    hh = hi;
    hl = lo;
  }
  const rest = len & 7;
  if (rest > 0) {
    if (rest >= 7) hh ^= d[end + 6]! << 16;
    if (rest >= 6) hh ^= d[end + 5]! << 8;
    if (rest >= 5) hh ^= d[end + 4]!;
    if (rest >= 4) hl ^= d[end + 3]! << 24;
    if (rest >= 3) hl ^= d[end + 2]! << 16;
    if (rest >= 2) hl ^= d[end + 1]! << 8;
    hl ^= d[end]!;
    mul64(hh >>> 0, hl >>> 0, M_HI, M_LO);
    hh = hi;
    hl = lo;
  }
  hl = (hl ^ (hh >>> 15)) >>> 0; // h ^= h >> 47
  mul64(hh >>> 0, hl, M_HI, M_LO);
  hi = hi >>> 0;
  lo = (lo ^ (hi >>> 15)) >>> 0;
}

function ctz32(x: number): number {
  return 31 - Math.clz32(x & -x);
}

let patIndex = 0; // the register of the last patLen

/** Redis's hllPatLen: the register an element hashes to (into patIndex) and the length of its 0...01 pattern, 1 to Q+1. */
function patLen(ele: Uint8Array): number {
  murmur64a(ele);
  patIndex = lo & (REGISTERS - 1);
  const vLo = ((lo >>> P) | (hi << (32 - P))) >>> 0; // hash >> P
  const vHi = (hi >>> P) | (1 << (Q - 32)); // with bit Q set, so the count is at most Q+1
  return (vLo !== 0 ? ctz32(vLo) : 32 + ctz32(vHi)) + 1;
}

// ---------------------------------------------------------------------------------------------------------------
// The value being changed: its bytes and length (a sparse value grows in place as Redis's sds does).

interface Hll {
  b: Uint8Array;
  len: number;
}

function denseGet(b: Uint8Array, reg: number): number {
  const byte = HDR + ((reg * 6) >> 3);
  const fb = (reg * 6) & 7;
  return ((b[byte]! >> fb) | ((b[byte + 1] ?? 0) << (8 - fb))) & 63;
}

function denseSetRaw(b: Uint8Array, reg: number, val: number): void {
  const byte = HDR + ((reg * 6) >> 3);
  const fb = (reg * 6) & 7;
  b[byte] = (b[byte]! & ~(63 << fb)) | (val << fb);
  if (fb > 2) b[byte + 1] = (b[byte + 1]! & ~(63 >> (8 - fb))) | (val >> (8 - fb));
}

/** Redis's hllDenseSet: raise the register to `count`; whether it changed. */
function denseSet(b: Uint8Array, reg: number, count: number): boolean {
  if (count <= denseGet(b, reg)) return false;
  denseSetRaw(b, reg, count);
  return true;
}

/** A new HLL as Redis's createHLLObject: sparse, every register in XZERO runs, the cached cardinality 0 and valid. */
function create(): Hll {
  const b = new Uint8Array(HDR + 2);
  b.set([0x48, 0x59, 0x4c, 0x4c, SPARSE]); // "HYLL"
  b[HDR] = 0x40 | ((XZERO_MAX_LEN - 1) >> 8);
  b[HDR + 1] = (XZERO_MAX_LEN - 1) & 0xff;
  return { b, len: b.length };
}

/** Redis's isHLLObjectOrReply: a string with the magic, a known encoding, and a dense one exactly the dense size. */
export function isHll(v: Uint8Array): boolean {
  if (v.length < HDR || v[0] !== 0x48 || v[1] !== 0x59 || v[2] !== 0x4c || v[3] !== 0x4c) return false;
  return v[4]! <= SPARSE && (v[4] === SPARSE || v.length === DENSE_SIZE);
}

/**
 * Walk a sparse value's opcodes, `run(first, span, value)` for each VAL: whether they cover exactly every register.
 * An opcode past the last register makes the value broken wherever it is read, as in Redis 7.0.15 as Debian ships it
 * (with the fix for CVE-2025-32023: its hllMerge too refuses a VAL past the end, where the code before stopped there).
 */
function walkSparse(b: Uint8Array, len: number, run: (first: number, span: number, value: number) => void): boolean {
  let idx = 0;
  for (let p = HDR; p < len; p += opLength(b[p]!)) {
    const op = b[p]!;
    const span = spanAt(b, p);
    if (op & 0x80) {
      if (idx + span > REGISTERS) return false;
      run(idx, span, ((op >> 2) & 0x1f) + 1);
    }
    idx += span;
  }
  return idx === REGISTERS;
}

/** The bytes of the sparse opcode `op`: 2 for an XZERO, else 1. */
function opLength(op: number): number {
  return (op & 0xc0) === 0x40 ? 2 : 1;
}

/**
 * The registers the sparse opcode at `p` covers. An XZERO cut short by the end of a broken value reads the next byte of
 * the buffer (0 past it), as the comparisons with redis-server require: reading 0 at the value's end made seed 109 of
 * test/resp/hyperloglog.test.ts differ.
 */
function spanAt(b: Uint8Array, p: number): number {
  const op = b[p]!;
  if ((op & 0xc0) === 0) return (op & 0x3f) + 1;
  if (op & 0x80) return (op & 3) + 1;
  return (((op & 0x3f) << 8) | (b[p + 1] ?? 0)) + 1;
}

let runFirst = 0; // of the last locate(): the first register of the opcode found, its span, and the opcode before it (-1: none)
let runSpan = 0;
let runPrev = -1;

/** The position of the sparse opcode covering register `reg` (its run in runFirst, runSpan, runPrev), or -1 when none does (a broken value). */
function locate(b: Uint8Array, len: number, reg: number): number {
  let first = 0;
  let prev = -1;
  for (let p = HDR; p < len; p += opLength(b[p]!)) {
    const span = spanAt(b, p);
    if (reg < first + span) {
      runFirst = first;
      runSpan = span;
      runPrev = prev;
      return p;
    }
    prev = p;
    first += span;
  }
  return -1;
}

/** Redis's hllSparseToDense: the same registers and header (its cached cardinality too), dense; false when broken. */
function toDense(h: Hll): boolean {
  if (h.b[4] === DENSE) return true;
  const d = new Uint8Array(DENSE_SIZE);
  d.set(h.b.subarray(0, HDR));
  d[4] = DENSE;
  const ok = walkSparse(h.b, h.len, (first, span, value) => {
    for (let r = first; r < first + span; r++) denseSetRaw(d, r, value);
  });
  if (!ok) return false;
  h.b = d;
  h.len = DENSE_SIZE;
  return true;
}

function zeroOps(seq: number[], len: number): void {
  if (len > ZERO_MAX_LEN) seq.push(0x40 | ((len - 1) >> 8), (len - 1) & 0xff);
  else seq.push(len - 1);
}

function valOp(value: number, len: number): number {
  return 0x80 | ((value - 1) << 2) | (len - 1);
}

/**
 * Redis's hllSparseSet: raise register `reg` of a sparse value to `count`, splitting the opcode that covers it and
 * merging equal VAL neighbours as Redis does, or promoting the value to dense. 1 changed, 0 not, -1 broken.
 */
function sparseSet(h: Hll, reg: number, count: number): number {
  if (count <= VAL_MAX_VALUE) {
    if (h.b.length < h.len + 3) {
      const grown = new Uint8Array(h.len + 3 + Math.min(h.len + 3, 300));
      grown.set(h.b.subarray(0, h.len));
      h.b = grown;
    }
    const b = h.b;
    let end = h.len;
    let p = locate(b, end, reg);
    if (p < 0) return -1;
    const first = runFirst;
    const span = runSpan;
    const prev = runPrev;
    const op = b[p]!;
    const oplen = opLength(op);
    const isVal = (op & 0x80) !== 0;
    const isXzero = (op & 0xc0) === 0x40;
    const runlen = span;
    let updated = false;
    if (isVal) {
      const old = ((op >> 2) & 0x1f) + 1;
      if (old >= count) return 0;
      if (runlen === 1) {
        b[p] = valOp(count, 1);
        updated = true;
      }
    } else if (!isXzero && runlen === 1) {
      b[p] = valOp(count, 1);
      updated = true;
    }
    if (!updated) {
      // Split the opcode into what lies before the register, the register, and what lies after.
      const seq: number[] = [];
      const last = first + span - 1;
      if (isVal) {
        const cur = ((op >> 2) & 0x1f) + 1;
        if (reg !== first) seq.push(valOp(cur, reg - first));
        seq.push(valOp(count, 1));
        if (reg !== last) seq.push(valOp(cur, last - reg));
      } else {
        if (reg !== first) zeroOps(seq, reg - first);
        seq.push(valOp(count, 1));
        if (reg !== last) zeroOps(seq, last - reg);
      }
      const delta = seq.length - oplen;
      if (delta > 0 && h.len + delta > HLL_SPARSE_MAX_BYTES) return promote(h, reg, count);
      const next = p + oplen;
      if (delta !== 0 && next < end) b.copyWithin(next + delta, next, end);
      b.set(seq, p);
      end += delta;
    }
    // Merge adjacent VAL opcodes of one value, up to 5 opcodes from the one before the change.
    p = prev >= 0 ? prev : HDR;
    let scan = 5;
    while (p < end && scan-- > 0) {
      const o = b[p]!;
      if ((o & 0xc0) === 0x40) {
        p += 2;
        continue;
      }
      if ((o & 0xc0) === 0) {
        p++;
        continue;
      }
      if (p + 1 < end && (b[p + 1]! & 0x80) !== 0) {
        const v1 = ((o >> 2) & 0x1f) + 1;
        const n = b[p + 1]!;
        if (v1 === ((n >> 2) & 0x1f) + 1) {
          const len = (o & 3) + 1 + (n & 3) + 1;
          if (len <= VAL_MAX_LEN) {
            b[p + 1] = valOp(v1, len);
            b.copyWithin(p, p + 1, end);
            end--;
            continue;
          }
        }
      }
      p++;
    }
    h.len = end;
    invalidate(h.b);
    return 1;
  }
  return promote(h, reg, count);
}

/** A register of a sparse value: its value (0 in a zero run), or -1 when no opcode covers it (a broken value). */
function sparseGet(b: Uint8Array, reg: number): number {
  const p = locate(b, b.length, reg);
  return p < 0 ? -1 : b[p]! & 0x80 ? ((b[p]! >> 2) & 0x1f) + 1 : 0;
}

function promote(h: Hll, reg: number, count: number): number {
  if (!toDense(h)) return -1;
  denseSet(h.b, reg, count);
  return 1;
}

function invalidate(b: Uint8Array): void {
  b[15] = b[15]! | 0x80;
}

/** Raise register `reg` to `count`: 1 when it rose, 0 when not, -1 for a broken sparse value. */
function raise(h: Hll, reg: number, count: number): number {
  return h.b[4] === DENSE ? (denseSet(h.b, reg, count) ? 1 : 0) : sparseSet(h, reg, count);
}

/** The registers of a checked value raised into `max` (Redis's hllMerge); false for a broken sparse value. */
function mergeInto(max: Uint8Array, v: Uint8Array): boolean {
  if (v[4] === DENSE) {
    for (let r = 0; r < REGISTERS; r++) {
      const x = denseGet(v, r);
      if (x > max[r]!) max[r] = x;
    }
    return true;
  }
  return walkSparse(v, v.length, (first, span, value) => {
    for (let r = first; r < first + span; r++) if (value > max[r]!) max[r] = value;
  });
}

/** Merge the registers of `values`, in order, into `max`: the refusal of the first that is not an HLL or is broken. */
function mergeAll(max: Uint8Array, values: Array<Uint8Array | undefined>): HllRefusal | undefined {
  for (let at = 0; at < values.length; at++) {
    const v = values[at];
    if (v === undefined) continue;
    if (!isHll(v)) return { problem: 'NOT_HLL', at };
    if (!mergeInto(max, v)) return { problem: 'INVALID_HLL', at };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// The estimate: Ertl's improved estimator over the histogram of register values, as Redis's hllCount.

function sigma(x: number): number {
  if (x === 1) return Infinity;
  let y = 1;
  let z = x;
  let zPrev: number;
  do {
    x *= x;
    zPrev = z;
    z += x * y;
    y += y;
  } while (zPrev !== z);
  return z;
}

function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let y = 1;
  let z = 1 - x;
  let zPrev: number;
  do {
    x = Math.sqrt(x);
    zPrev = z;
    y *= 0.5;
    z -= (1 - x) * (1 - x) * y; // C's pow(1 - x, 2): the square, rounded once
  } while (zPrev !== z);
  return z / 3;
}

function estimate(histo: Float64Array): number {
  const m = REGISTERS;
  let z = m * tau((m - histo[Q + 1]!) / m);
  for (let j = Q; j >= 1; j--) {
    z += histo[j]!;
    z *= 0.5;
  }
  z += m * sigma(histo[0]! / m);
  return Math.round((ALPHA_INF * m * m) / z);
}

/** The cardinality of one checked value's registers; undefined for a broken sparse value. */
function count(v: Uint8Array): number | undefined {
  const histo = new Float64Array(64);
  if (v[4] === DENSE) {
    for (let r = 0; r < REGISTERS; r++) histo[denseGet(v, r)]!++;
    return estimate(histo);
  }
  let zeros = REGISTERS;
  const ok = walkSparse(v, v.length, (_first, span, value) => {
    histo[value]! += span;
    zeros -= span;
  });
  histo[0] = zeros;
  return ok ? estimate(histo) : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// The commands, over values (undefined: the key is absent).

/**
 * PFADD's outcome: the value after adding the elements and whether PFADD answers 1 (created, or a register rose).
 * `broken`: it met a broken part of a sparse value (Redis's INVALIDOBJ reply); `value` holds the registers the
 * elements before set, as Redis's value then does (it changes the value in place), and `changed` says whether any did.
 */
export interface HllAdded {
  value: Uint8Array;
  changed: boolean;
  broken?: true;
}

/**
 * PFADD: `elements` added to the HLL `v` (a new one when absent). The value is copied only from the first element
 * that raises a register (or meets a broken part): most PFADDs to an HLL that has seen many elements change nothing.
 */
export function pfadd(v: Uint8Array | undefined, elements: Uint8Array[]): HllAdded | 'NOT_HLL' {
  let h: Hll;
  let changed = false;
  let from = 0;
  let count = 0; // of elements[from], hashed already (its register in patIndex), when v is given
  if (v === undefined) {
    h = create();
    changed = true;
  } else {
    if (!isHll(v)) return 'NOT_HLL';
    for (; from < elements.length; from++) {
      count = patLen(elements[from]!);
      const cur = v[4] === DENSE ? denseGet(v, patIndex) : sparseGet(v, patIndex);
      if (cur < 0 || count > cur) break;
    }
    if (from === elements.length) return { value: v, changed: false };
    h = { b: v.slice(), len: v.length };
  }
  for (let i = from; i < elements.length; i++) {
    if (i > from || v === undefined) count = patLen(elements[i]!);
    const r = raise(h, patIndex, count);
    if (r < 0) return { value: h.b.subarray(0, h.len), changed, broken: true };
    if (r > 0) changed = true;
  }
  if (changed) invalidate(h.b);
  return { value: h.b.subarray(0, h.len), changed };
}

/**
 * PFCOUNT: the cardinality of the union of the values (absent ones empty). Of one value, its cached cardinality when
 * valid; else it is computed and `value` is the value with it cached (Redis writes it back, and replicates that).
 */
export function pfcount(values: Array<Uint8Array | undefined>): { card: number; value?: Uint8Array } | HllRefusal {
  if (values.length === 1) {
    const v = values[0];
    if (v === undefined) return { card: 0 };
    if (!isHll(v)) return { problem: 'NOT_HLL', at: 0 };
    if ((v[15]! & 0x80) === 0) {
      let card = 0;
      for (let i = 7; i >= 0; i--) card = card * 256 + v[8 + i]!;
      return { card };
    }
    const card = count(v);
    if (card === undefined) return { problem: 'INVALID_HLL', at: 0 };
    const value = v.slice();
    let c = card;
    for (let i = 0; i < 8; i++) {
      value[8 + i] = c % 256;
      c = Math.floor(c / 256);
    }
    return { card, value };
  }
  const max = new Uint8Array(REGISTERS);
  const refused = mergeAll(max, values);
  if (refused !== undefined) return refused;
  const histo = new Float64Array(64);
  for (let r = 0; r < REGISTERS; r++) histo[max[r]!]!++;
  return { card: estimate(histo) };
}

/**
 * PFMERGE: the destination's value after merging every source into it (`sources` includes the destination's own
 * value first, as Redis reads it). Dense when any source was; the cached cardinality made stale.
 */
export function pfmerge(dest: Uint8Array | undefined, sources: Array<Uint8Array | undefined>): Uint8Array | HllRefusal {
  const max = new Uint8Array(REGISTERS);
  const refused = mergeAll(max, sources);
  if (refused !== undefined) return refused;
  const h = dest === undefined ? create() : { b: dest.slice(), len: dest.length };
  // Dense when any source is (the destination, merged already, is not broken).
  if (sources.some((v) => v !== undefined && v[4] === DENSE)) toDense(h);
  for (let r = 0; r < REGISTERS; r++) {
    if (max[r] === 0) continue;
    if (h.b[4] === DENSE) denseSet(h.b, r, max[r]!);
    else sparseSet(h, r, max[r]!);
  }
  invalidate(h.b);
  return h.b.subarray(0, h.len);
}

// ---------------------------------------------------------------------------------------------------------------
// PFDEBUG: Redis's internal commands to look into an HLL value (each takes a value isHll() accepts).

/** PFDEBUG TODENSE and GETREG: the value dense (the same registers and header), itself when dense; undefined when broken. */
export function hllToDense(v: Uint8Array): Uint8Array | undefined {
  const h = { b: v, len: v.length };
  return toDense(h) ? h.b : undefined;
}

/** PFDEBUG GETREG: the 16384 registers of a dense value. */
export function hllRegisters(v: Uint8Array): number[] {
  const out = new Array<number>(REGISTERS);
  for (let r = 0; r < REGISTERS; r++) out[r] = denseGet(v, r);
  return out;
}

/** PFDEBUG ENCODING. */
export function hllEncoding(v: Uint8Array): 'dense' | 'sparse' {
  return v[4] === DENSE ? 'dense' : 'sparse';
}

/**
 * PFDEBUG DECODE: a sparse value's opcodes as Redis prints them, "z:<run>" (ZERO), "Z:<run>" (XZERO) and
 * "v:<value>,<run>" (VAL), separated by spaces; every byte is decoded, a broken value's too.
 */
export function hllDecode(v: Uint8Array): string {
  const out: string[] = [];
  for (let p = HDR; p < v.length; p += opLength(v[p]!)) {
    const op = v[p]!;
    const span = spanAt(v, p);
    out.push((op & 0xc0) === 0 ? `z:${span}` : op & 0x80 ? `v:${((op >> 2) & 0x1f) + 1},${span}` : `Z:${span}`);
  }
  return out.join(' ');
}
