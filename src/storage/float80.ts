// Redis's INCRBYFLOAT arithmetic, exactly. Redis reads the value and the increment with strtold, adds them as
// `long double` and writes the sum with "%.17Lf", trailing zeros removed. On x86-64 Linux a long double is the x87
// 80-bit extended format: a 64-bit significand. JavaScript's doubles would answer differently (0.1 + 0.2 is
// 0.30000000000000004 there, "0.3" in Redis), so this emulates that format with BigInt, rounding to nearest, ties to
// even, at each step as the hardware and glibc do. Every replica computes the same bytes, on any machine.
//
// A finite value is m * 2^e with 0 <= m < 2^64 and MIN_EXP <= e <= MAX_EXP (m < 2^63 only at e = MIN_EXP: the
// subnormals). Nothing here is on the hot path of puts: only an INCRBYFLOAT pays for it.
import { scaledHalfEven } from '../util/printf.js';

const TWO_63 = 1n << 63n;
const TWO_64 = 1n << 64n;
/** The exponent of the smallest subnormal, 2^-16445. */
const MIN_EXP = -16445;
/** The exponent of the largest finite value, (2^64 - 1) * 2^16320. */
const MAX_EXP = 16320;
/** Redis's string2ld refuses a text of MAX_LONG_DOUBLE_CHARS (5 * 1024) bytes or more. */
export const MAX_FLOAT_TEXT = 5 * 1024 - 1;
/** Printed fraction digits ("%.17Lf"). */
const FRACTION_DIGITS = 17;

interface Finite {
  neg: boolean;
  m: bigint;
  e: number;
}
type Float80 = Finite | { neg: boolean; inf: true };

const DECIMAL = /^([+-]?)(?:([0-9]+)\.?([0-9]*)|\.([0-9]+))(?:[eE]([+-]?[0-9]+))?$/;
const HEX = /^([+-]?)0[xX](?:([0-9a-fA-F]+)\.?([0-9a-fA-F]*)|\.([0-9a-fA-F]+))(?:[pP]([+-]?[0-9]+))?$/;
const INFINITY = /^([+-]?)(?:inf|infinity)$/i;

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/**
 * The value nearest to (n / d) * 2^e (n >= 0, d > 0), ties to even; 'overflow' past the largest finite value. A
 * nonzero value too small for the smallest subnormal rounds to zero (m = 0).
 */
function round(neg: boolean, n: bigint, d: bigint, e: number): Finite | 'overflow' {
  if (n === 0n) return { neg, m: 0n, e: 0 };
  // Scale by 2^-s so that the quotient has 64 bits: n / d in [2^(k-1), 2^(k+1)) for k = bitLength(n) - bitLength(d).
  let s = bitLength(n) - bitLength(d) - 64;
  let q = 0n;
  let num = 0n;
  let den = 0n;
  const divide = (): void => {
    num = s >= 0 ? n : n << BigInt(-s);
    den = s >= 0 ? d << BigInt(s) : d;
    q = num / den;
  };
  divide();
  if (q >= TWO_64) {
    s++;
    divide();
  } else if (q < TWO_63) {
    s--;
    divide();
  }
  if (e + s < MIN_EXP) {
    s = MIN_EXP - e; // subnormal: fewer significant bits
    divide();
  }
  const r2 = (num - q * den) * 2n;
  if (r2 > den || (r2 === den && (q & 1n) === 1n)) q++;
  let exp = e + s;
  if (q === TWO_64) {
    q = TWO_63;
    exp++;
  }
  if (exp > MAX_EXP) return 'overflow';
  return { neg, m: q, e: exp };
}

/** The exponent digits as a number, clamped far past any that could matter (texts are at most MAX_FLOAT_TEXT long). */
function exponent(text: string | undefined): number {
  if (text === undefined) return 0;
  const n = Number(text);
  return Math.max(-1e7, Math.min(1e7, n));
}

/**
 * A text as Redis's string2ld reads it (glibc strtold, the whole text consumed): decimal or hexadecimal, with an
 * optional sign and exponent, or inf / infinity. Undefined for anything else, NaN, a value too large (overflow) and
 * a nonzero value so small it reads as zero (underflow), as Redis refuses them.
 */
function parse(text: string): Float80 | undefined {
  if (text.length === 0 || text.length > MAX_FLOAT_TEXT) return undefined;
  let m = DECIMAL.exec(text);
  if (m !== null) {
    const neg = m[1] === '-';
    const fraction = m[4] ?? m[3]!;
    const digits = ((m[2] ?? '') + fraction).replace(/^0+/, '');
    if (digits === '') return { neg, m: 0n, e: 0 };
    const e10 = exponent(m[5]) - fraction.length;
    // 10^(magnitude - 1) <= |value| < 10^magnitude: decide the far cases without powers of ten of any size.
    const magnitude = digits.length + e10;
    if (magnitude > 4934) return undefined; // >= 10^4933, past the largest finite (about 1.19e4932)
    if (magnitude < -4952) return undefined; // < 10^-4952, under half the smallest subnormal (about 3.6e-4951)
    const d = BigInt(digits);
    const r = e10 >= 0 ? round(neg, d * 10n ** BigInt(e10), 1n, 0) : round(neg, d, 10n ** BigInt(-e10), 0);
    return r === 'overflow' || r.m === 0n ? undefined : r;
  }
  m = HEX.exec(text);
  if (m !== null) {
    const neg = m[1] === '-';
    const fraction = m[4] ?? m[3]!;
    const digits = ((m[2] ?? '') + fraction).replace(/^0+/, '');
    if (digits === '') return { neg, m: 0n, e: 0 };
    const e2 = exponent(m[5]) - 4 * fraction.length;
    const magnitude = 4 * digits.length + e2; // 2^(magnitude - 4) <= |value| < 2^magnitude
    if (magnitude > MAX_EXP + 64 + 4) return undefined;
    if (magnitude < MIN_EXP - 4) return undefined;
    const r = round(neg, BigInt('0x' + digits), 1n, e2);
    return r === 'overflow' || r.m === 0n ? undefined : r;
  }
  m = INFINITY.exec(text);
  return m === null ? undefined : { neg: m[1] === '-', inf: true };
}

/** a + b rounded to the format; undefined when the sum is NaN or infinite. */
function add(a: Float80, b: Float80): Finite | undefined {
  if ('inf' in a || 'inf' in b) return undefined; // inf + x is infinite, inf - inf NaN: Redis refuses both
  const e = Math.min(a.e, b.e);
  const x = (a.neg ? -a.m : a.m) << BigInt(a.e - e);
  const y = (b.neg ? -b.m : b.m) << BigInt(b.e - e);
  const sum = x + y;
  const r = round(sum < 0n, sum < 0n ? -sum : sum, 1n, e);
  return r === 'overflow' ? undefined : r;
}

/** "%.17Lf" of the exact value (ties to even), trailing fraction zeros and a bare point removed, "-0" as "0". */
function format(v: Finite): string {
  const q = scaledHalfEven(v.m, v.e, FRACTION_DIGITS);
  if (q === 0n) return '0';
  const digits = q.toString().padStart(FRACTION_DIGITS + 1, '0');
  const whole = digits.slice(0, -FRACTION_DIGITS);
  const fraction = digits.slice(-FRACTION_DIGITS).replace(/0+$/, '');
  return (v.neg ? '-' : '') + whole + (fraction === '' ? '' : '.' + fraction);
}

/**
 * Redis's string2d (strtod over the whole text, as CONFIG reads a float parameter): the double nearest `text`, or
 * undefined for what it refuses: not a float (NaN, a space, characters after it), a value past the largest double,
 * or a nonzero one that rounds to zero. Decimal text is read by Number, rounded once as strtod rounds it; hexadecimal
 * through the long double reader above, whose 64 bits are rounded again to 53 (the two can differ at a tie only,
 * of a text of more than 13 hexadecimal digits).
 */
export function string2d(text: string): number | undefined {
  const v = parse(text);
  if (v === undefined) return undefined;
  if ('inf' in v) return v.neg ? -Infinity : Infinity;
  const d = DECIMAL.test(text) ? Number(text) : (v.neg ? -1 : 1) * Number(v.m) * 2 ** v.e;
  return Number.isFinite(d) && (d !== 0 || v.m === 0n) ? d : undefined;
}

/** Whether `text` is a float Redis's INCRBYFLOAT accepts as an increment (inf included: the sum is then refused). */
export function isFloatText(text: string): boolean {
  return parse(text) !== undefined;
}

/**
 * Redis INCRBYFLOAT: `current` (undefined: an absent key, 0) plus `by`, as Redis writes it. NOT_FLOAT when either
 * is not a float Redis reads; NOT_FINITE when the sum is infinite or NaN ("increment would produce NaN or
 * Infinity").
 */
export function incrByFloat(current: string | undefined, by: string): { value: string } | { error: 'NOT_FLOAT' | 'NOT_FINITE' } {
  const a = current === undefined ? { neg: false, m: 0n, e: 0 } : parse(current);
  const b = parse(by);
  if (a === undefined || b === undefined) return { error: 'NOT_FLOAT' };
  const sum = add(a, b);
  return sum === undefined ? { error: 'NOT_FINITE' } : { value: format(sum) };
}
