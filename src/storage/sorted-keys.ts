// The memory store's keys in order, so that a scan page costs its own keys rather than the whole store (it walked
// every record and sorted the matches: 85 ms a page of 100 in 200,000 keys, on the node's thread).
//
// A two-level B-tree: sorted leaves of at most MAX_LEAF strings, found by a binary search over the leaves' first
// keys. An add or delete costs two binary searches and a splice within one leaf; a full leaf splits in two, and a
// small one joins its right neighbour when both fit in one, so the leaves stay at least SMALL_LEAF long but for
// the few that have not met a neighbour yet. Keys are latin1 key strings: string order is the keys' byte order.

const MAX_LEAF = 512;
const SMALL_LEAF = MAX_LEAF / 8;

/** The first index in the sorted `a` whose string is not below `k`. */
function lowerBound(a: readonly string[], k: string): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < k) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class SortedKeys {
  private leaves: string[][] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** The leaf that holds `k` if present: the last whose first key is at or below it (0 when none is). */
  private leafOf(k: string): number {
    const ls = this.leaves;
    let lo = 0;
    let hi = ls.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ls[mid]![0]! <= k) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? 0 : lo - 1;
  }

  /** Add `k`; false when it was there. */
  add(k: string): boolean {
    if (this.leaves.length === 0) {
      this.leaves.push([k]);
      this.count = 1;
      return true;
    }
    const i = this.leafOf(k);
    const leaf = this.leaves[i]!;
    const j = lowerBound(leaf, k);
    if (leaf[j] === k) return false;
    leaf.splice(j, 0, k);
    this.count++;
    if (leaf.length > MAX_LEAF) this.leaves.splice(i + 1, 0, leaf.splice(leaf.length >>> 1));
    return true;
  }

  /** Remove `k`; false when it was not there. */
  delete(k: string): boolean {
    if (this.leaves.length === 0) return false;
    const i = this.leafOf(k);
    const leaf = this.leaves[i]!;
    const j = lowerBound(leaf, k);
    if (leaf[j] !== k) return false;
    leaf.splice(j, 1);
    this.count--;
    if (leaf.length === 0) {
      this.leaves.splice(i, 1);
    } else if (leaf.length < SMALL_LEAF && i + 1 < this.leaves.length && leaf.length + this.leaves[i + 1]!.length <= MAX_LEAF) {
      leaf.push(...this.leaves[i + 1]!);
      this.leaves.splice(i + 1, 1);
    }
    return true;
  }

  /** The key at index `i` in order (undefined past the end): a walk over the leaves' lengths. */
  at(i: number): string | undefined {
    for (const leaf of this.leaves) {
      if (i < leaf.length) return leaf[i];
      i -= leaf.length;
    }
    return undefined;
  }

  /**
   * Keys in order from `from`: ascending from the first at or above it, or descending (`reverse`) from the last at
   * or below it; every key when `from` is undefined. The set must not change while the walk runs.
   */
  *walk(from: string | undefined, reverse: boolean): Generator<string, void, undefined> {
    const ls = this.leaves;
    if (ls.length === 0) return;
    if (!reverse) {
      let i = from === undefined ? 0 : this.leafOf(from);
      let j = from === undefined ? 0 : lowerBound(ls[i]!, from);
      for (; i < ls.length; i++, j = 0) {
        const leaf = ls[i]!;
        for (; j < leaf.length; j++) yield leaf[j]!;
      }
    } else {
      let i = from === undefined ? ls.length - 1 : this.leafOf(from);
      let leaf = ls[i]!;
      let j = leaf.length - 1;
      if (from !== undefined) {
        const p = lowerBound(leaf, from); // the first key at or above `from`
        j = leaf[p] === from ? p : p - 1;
      }
      for (;;) {
        for (; j >= 0; j--) yield leaf[j]!;
        if (--i < 0) return;
        leaf = ls[i]!;
        j = leaf.length - 1;
      }
    }
  }
}
