// Redis glob patterns (KEYS, SCAN MATCH), on bytes, as Redis's stringmatchlen: `*` any run, `?` one byte,
// `[abc]` a set, `[^a]` its complement, `[a-z]` a range, `\x` the byte x literally.

const STAR = 0x2a;
const QUESTION = 0x3f;
const OPEN = 0x5b;
const CLOSE = 0x5d;
const BACKSLASH = 0x5c;
const CARET = 0x5e;
const DASH = 0x2d;

/**
 * Whether `s` matches `p`. Iterative with one backtrack point per `*` (the classic two-pointer scheme), so a
 * hostile pattern such as `*a*a*a*a*b` costs O(|p|·|s|), not the exponential time of naive recursion.
 */
export function globMatch(p: Uint8Array, s: Uint8Array): boolean {
  let pi = 0;
  let si = 0;
  let starP = -1;
  let starS = 0;
  while (si < s.length) {
    if (pi < p.length) {
      const c = p[pi]!;
      if (c === STAR) {
        starP = pi++;
        starS = si;
        continue;
      }
      const step = matchOne(p, pi, s[si]!);
      if (step > 0) {
        pi += step;
        si++;
        continue;
      }
    }
    if (starP < 0) return false;
    pi = starP + 1;
    si = ++starS;
  }
  while (pi < p.length && p[pi] === STAR) pi++;
  return pi === p.length;
}

/** If the pattern element at `pi` matches byte `b`: its length in the pattern; else 0. */
function matchOne(p: Uint8Array, pi: number, b: number): number {
  const c = p[pi]!;
  if (c === QUESTION) return 1;
  if (c === BACKSLASH && pi + 1 < p.length) return p[pi + 1] === b ? 2 : 0;
  if (c !== OPEN) return c === b ? 1 : 0;
  return matchClass(p, pi, b);
}

/** A `[...]` class at `pi`: its length when it matches `b`, else 0. An unclosed class runs to the end (as Redis). */
function matchClass(p: Uint8Array, pi: number, b: number): number {
  let i = pi + 1;
  const negate = p[i] === CARET;
  if (negate) i++;
  let hit = false;
  while (i < p.length && p[i] !== CLOSE) {
    if (p[i] === BACKSLASH && i + 1 < p.length) {
      if (p[i + 1] === b) hit = true;
      i += 2;
    } else if (i + 2 < p.length && p[i + 1] === DASH) { // `[a-]` is the range ] to a, as Redis reads it
      let lo = p[i]!;
      let hi = p[i + 2]!;
      if (lo > hi) [lo, hi] = [hi, lo];
      if (b >= lo && b <= hi) hit = true;
      i += 3;
    } else {
      if (p[i] === b) hit = true;
      i++;
    }
  }
  const len = (i < p.length ? i + 1 : i) - pi;
  return hit !== negate ? len : 0;
}

/** The literal bytes a pattern's matches all start with (up to its first special character): a scan prefix. */
export function literalPrefix(p: Uint8Array): Buffer {
  const out: number[] = [];
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === STAR || c === QUESTION || c === OPEN) break;
    if (c === BACKSLASH) {
      if (i + 1 >= p.length) break;
      out.push(p[++i]!);
      continue;
    }
    out.push(c);
  }
  return Buffer.from(out);
}
