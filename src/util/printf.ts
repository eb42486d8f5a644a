/**
 * p/q with two decimals as C's printf("%.2f") writes it, p and q being non-negative integers (p below 2^53 / 100):
 * exact, so a half rounds to even as printf's does (1/8: 0.12) where toFixed would round it up.
 */
export function fixed2(p: number, q: number): string {
  let h = Math.floor((100 * p) / q);
  const r2 = 2 * (100 * p - h * q);
  if (r2 > q || (r2 === q && h % 2 === 1)) h++;
  return `${Math.floor(h / 100)}.${String(h % 100).padStart(2, '0')}`;
}

/**
 * m · 2^e · 10^digits (m >= 0) rounded to an integer, a half to even: the digits of C's printf("%.*f") of the exact
 * binary value m · 2^e, as glibc writes them.
 */
export function scaledHalfEven(m: bigint, e: number, digits: number): bigint {
  const scaled = m * 10n ** BigInt(digits);
  if (e >= 0) return scaled << BigInt(e);
  const shift = BigInt(-e);
  let q = scaled >> shift;
  const r2 = (scaled - (q << shift)) * 2n;
  const half = 1n << shift;
  if (r2 > half || (r2 === half && (q & 1n) === 1n)) q++;
  return q;
}

/**
 * `x` (finite) with `digits` decimals as C's printf("%.*f") writes it: from its exact binary value, a half rounded to
 * even as glibc's does (toFixed rounds it up), and -0 with its sign.
 */
export function fixedExact(x: number, digits: number): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(x));
  const bits = view.getBigUint64(0);
  const biased = Number(bits >> 52n);
  const fraction = bits & ((1n << 52n) - 1n);
  const m = biased === 0 ? fraction : fraction | (1n << 52n);
  const e = (biased === 0 ? 1 : biased) - 1075; // x = m · 2^e
  const text = scaledHalfEven(m, e, digits).toString().padStart(digits + 1, '0');
  const sign = x < 0 || Object.is(x, -0) ? '-' : '';
  return digits === 0 ? sign + text : `${sign}${text.slice(0, -digits)}.${text.slice(-digits)}`;
}
