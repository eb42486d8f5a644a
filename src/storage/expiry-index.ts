// The expiry index of a state machine: which keys expire when. Both stores keep it in memory, on the thread that
// applies (the LMDB store rebuilds it from the records' headers when it loads its state), because a B-tree index
// cost two extra LMDB writes per put with a TTL (docs/benchmarks.md, "What a TTL costs").
//
// Keys are grouped by their exact expiry (ms on the log clock): a Map from expiry to its key (one key, the usual
// case: no allocation) or keys, and a min-heap of expiries. A write moves a key from one expiry to another; a
// purge takes the earliest expiries. An expiry whose keys were all rewritten leaves the Map at once and its heap
// item stays behind, skipped when it surfaces; the heap is rebuilt when such items outnumber the live ones, so
// memory stays bounded under TTL churn.

import { MinHeap } from '../util/heap.js';

const earlier = (a: number, b: number): boolean => a < b;

export class ExpiryIndex {
  /**
   * By expiry, as an offset from `base` (the first expiry added): offsets within ±12 days are small integers,
   * which V8's Map hashes faster than the doubles that epoch milliseconds are.
   */
  private readonly byTime = new Map<number, string | string[]>();
  private base: number | undefined;
  private heap = new MinHeap<number>(earlier);
  private keys = 0;

  /** Keys with an expiry. */
  get size(): number {
    return this.keys;
  }

  /** `key` (a latin1 key string: string order is byte order) expires at `at`; it must not be in the index already. */
  add(key: string, expiresAt: number): void {
    this.base ??= expiresAt;
    const at = expiresAt - this.base;
    const cur = this.byTime.get(at);
    if (cur === undefined) {
      this.byTime.set(at, key);
      this.heap.push(at); // there may be a stale item for `at` already: the first to surface takes the keys
    } else if (typeof cur === 'string') {
      this.byTime.set(at, [cur, key]);
    } else {
      cur.push(key);
    }
    this.keys++;
  }

  /** `key`, which expired at `at`, is rewritten or removed. */
  remove(key: string, expiresAt: number): void {
    if (this.base === undefined) return;
    const at = expiresAt - this.base;
    const cur = this.byTime.get(at);
    if (cur === undefined) return;
    if (typeof cur === 'string') {
      if (cur !== key) return;
      this.byTime.delete(at);
      if (this.heap.size > 2 * this.byTime.size + 1024) this.compact();
    } else {
      const i = cur.indexOf(key);
      if (i < 0) return;
      cur[i] = cur[cur.length - 1]!;
      cur.pop();
      if (cur.length === 1) this.byTime.set(at, cur[0]!);
    }
    this.keys--;
  }

  /**
   * Take up to `limit` keys whose expiry is <= `time` out of the index, in (expiry, key bytes) order: the same
   * on every replica. The caller removes their records.
   */
  take(now: number, limit: number): string[] {
    const out: string[] = [];
    if (this.base === undefined) return out;
    const time = now - this.base;
    for (let at = this.heap.peek(); at !== undefined && at <= time && out.length < limit; at = this.heap.peek()) {
      const cur = this.byTime.get(at);
      if (cur === undefined) {
        this.heap.pop(); // stale: its keys were rewritten
        continue;
      }
      if (typeof cur === 'string') {
        out.push(cur);
        this.keys--;
        this.byTime.delete(at);
        this.heap.pop();
        continue;
      }
      cur.sort();
      const n = Math.min(cur.length, limit - out.length);
      for (let i = 0; i < n; i++) out.push(cur[i]!);
      this.keys -= n;
      if (n === cur.length) {
        this.byTime.delete(at);
        this.heap.pop();
      } else {
        cur.splice(0, n);
      }
    }
    return out;
  }

  /** Keys whose expiry is <= `time` (not yet purged). */
  countExpired(now: number): number {
    if (this.base === undefined) return 0;
    const time = now - this.base;
    let n = 0;
    for (const [at, cur] of this.byTime) if (at <= time) n += typeof cur === 'string' ? 1 : cur.length;
    return n;
  }

  clear(): void {
    this.byTime.clear();
    this.heap = new MinHeap<number>(earlier);
    this.keys = 0;
    this.base = undefined;
  }

  /** Drop the stale heap items: one item per expiry held. */
  private compact(): void {
    this.heap = new MinHeap<number>(earlier);
    for (const at of this.byTime.keys()) this.heap.push(at);
  }
}
