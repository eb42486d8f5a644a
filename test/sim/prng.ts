// A small seeded PRNG (mulberry32) for the deterministic simulation: same seed, same run; and the seed ranges
// that the simulation, the storage model and the RESP differential test take from their command line or environment.

/** Seeds are 32-bit: the largest one a range may name. */
export const MAX_SEED = 0xffffffff;

/** "a" or "a-b" with 0 <= a <= b <= MAX_SEED: the inclusive range [a, b]; undefined for anything else. */
export function parseSeedRange(text: string): [number, number] | undefined {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text.trim());
  if (!m) return undefined;
  const from = Number(m[1]);
  const to = Number(m[2] ?? m[1]);
  return from <= to && to <= MAX_SEED ? [from, to] : undefined;
}

export class Prng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T | undefined {
    return items.length === 0 ? undefined : items[this.int(items.length)];
  }

  /** A new independent stream derived from this one's seed and a label (e.g. node id × incarnation). */
  static derive(seed: number, label: number): Prng {
    let h = (seed ^ Math.imul(label + 1, 0x9e3779b1)) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
    return new Prng((h ^ (h >>> 16)) >>> 0);
  }
}
