// Small statistics for the benchmark: median, a bootstrap confidence interval of the median, and the
// sign test. Deterministic (seeded), so a report can be reproduced from its results.json.
import { mulberry32 } from '../src/util/random.js';

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Percentile bootstrap interval of the median: `resamples` medians of resamples with replacement. */
export function bootstrapMedianCi(xs: readonly number[], level = 0.95, resamples = 2000, seed = 1): [number, number] {
  if (xs.length === 0) return [NaN, NaN];
  const rand = mulberry32(seed);
  const meds: number[] = [];
  const sample = new Array<number>(xs.length);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < xs.length; i++) sample[i] = xs[Math.floor(rand() * xs.length)]!;
    meds.push(median(sample));
  }
  meds.sort((a, b) => a - b);
  const lo = meds[Math.floor(((1 - level) / 2) * resamples)]!;
  const hi = meds[Math.min(resamples - 1, Math.ceil(((1 + level) / 2) * resamples) - 1)]!;
  return [lo, hi];
}

/** Two-sided sign test: the probability of a split at least as uneven as `positive` of `n` if both signs were equally likely. */
export function signTestP(positive: number, n: number): number {
  if (n === 0) return 1;
  const k = Math.max(positive, n - positive);
  let tail = 0;
  let c = 1; // C(n, 0)
  for (let i = 0; i <= n; i++) {
    if (i >= k) tail += c;
    c = (c * (n - i)) / (i + 1);
  }
  return Math.min(1, (2 * tail) / 2 ** n);
}
