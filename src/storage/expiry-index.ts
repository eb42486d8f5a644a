// The expiry index of a state machine: which keys expire when. Both stores keep it in memory, on the thread that
// applies (the LMDB store rebuilds it from the records' headers when it loads its state), because a B-tree index
// cost two extra LMDB writes per put with a TTL (docs/benchmarks.md, "What a TTL costs").
//
// Keys are grouped by their exact expiry (ms on the log clock): a Map from expiry to its key (one key, the usual
// case: no allocation) or keys, and a min-heap of expiries. A Map from key to expiry answers what a key's expiry is
// without reading its record: an unbounded LMDB store writes over a record without reading it (docs/storage.md).
// A write moves a key from one expiry to another; a purge takes the earliest expiries. An expiry whose keys were
// all rewritten leaves the Map at once and its heap item stays behind, skipped when it surfaces; the heap is rebuilt
// when such items outnumber the live ones, so memory stays bounded under TTL churn.
//
// Moves are journaled, not made, by add() and remove(): the node makes them with settle() while its next log write
// syncs (the CPUs are idle then), not in the apply that the leader's clients wait for, where each replica's apply
// shares two cores with the others'. Every read of the index settles first, so what it answers is the same as if
// each move had been made at once: the journal is replayed in order.
//
// The key → expiry Map is kept only when asked for (`{ byKey: true }`, the LMDB store): the memory store reads a
// key's expiry from its record, which it holds anyway.

import { MinHeap } from '../util/heap.js';

const earlier = (a: number, b: number): boolean => a < b;

/** Moves journaled at most before add() or remove() makes them itself. */
export const MAX_JOURNAL = 8192;

export class ExpiryIndex {
  /**
   * By expiry, as an offset from `base` (the first expiry added): offsets within ±12 days are small integers,
   * which V8's Map hashes faster than the doubles that epoch milliseconds are.
   */
  private readonly byTime = new Map<number, string | string[]>();
  private base: number | undefined;
  private heap = new MinHeap<number>(earlier);
  /** Each key's expiry, kept at once (not journaled): what byTime holds once settled. Only with `byKey: true`. */
  private readonly byKey: Map<string, number> | undefined;
  /** Moves not made yet, in order: the key, its expiry, and 1 to add or 0 to remove. */
  private journalKeys: string[] = [];
  private journalTimes: number[] = [];
  private journalAdds: number[] = [];
  /** The earliest expiry journaled to be added (Infinity when none). */
  private journalEarliest = Infinity;

  constructor(options: { byKey?: boolean } = {}) {
    this.byKey = options.byKey === true ? new Map() : undefined;
  }

  /** Keys with an expiry (an index kept with `byKey: true`). */
  get size(): number {
    return this.keyed().size;
  }

  /** The expiry of `key` (a latin1 key string), or undefined when it has none or is absent (with `byKey: true`). */
  expiryOf(key: string): number | undefined {
    return this.keyed().get(key);
  }

  private keyed(): Map<string, number> {
    if (this.byKey === undefined) throw new Error('ExpiryIndex: key lookups need { byKey: true }');
    return this.byKey;
  }

  /** Moves journaled and not made yet. */
  get unsettled(): number {
    return this.journalKeys.length;
  }

  /** `key` (a latin1 key string: string order is byte order) expires at `at`; it must not be in the index already. */
  add(key: string, expiresAt: number): void {
    this.byKey?.set(key, expiresAt);
    this.journal(key, expiresAt, 1);
  }

  /** `key`, which expired at `at`, is rewritten or removed. */
  remove(key: string, expiresAt: number): void {
    if (this.byKey?.get(key) === expiresAt) this.byKey.delete(key);
    this.journal(key, expiresAt, 0);
  }

  /** Make the journaled moves, in order. */
  settle(): void {
    const n = this.journalKeys.length;
    if (n === 0) return;
    const keys = this.journalKeys;
    const times = this.journalTimes;
    const adds = this.journalAdds;
    for (let i = 0; i < n; i++) {
      if (adds[i] === 1) this.addNow(keys[i]!, times[i]!);
      else this.removeNow(keys[i]!, times[i]!);
    }
    keys.length = 0;
    times.length = 0;
    adds.length = 0;
    this.journalEarliest = Infinity;
  }

  private journal(key: string, expiresAt: number, add: number): void {
    if (this.journalKeys.length >= MAX_JOURNAL) this.settle(); // bounded even if no one settles
    this.journalKeys.push(key);
    this.journalTimes.push(expiresAt);
    this.journalAdds.push(add);
    if (add === 1 && expiresAt < this.journalEarliest) this.journalEarliest = expiresAt;
  }

  private addNow(key: string, expiresAt: number): void {
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
  }

  private removeNow(key: string, expiresAt: number): void {
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
  }

  /**
   * Take up to `limit` keys whose expiry is <= `time` out of the index, in (expiry, key bytes) order: the same
   * on every replica. The caller removes their records.
   */
  take(now: number, limit: number): string[] {
    const out: string[] = [];
    // Nothing can be due (the usual case, once per entry): neither a key added since the last settle nor one before
    // it (the heap's least item; a stale one only makes it earlier). A journaled removal only removes: leave it.
    if (this.journalEarliest > now && (this.base === undefined || (this.heap.peek() ?? Infinity) > now - this.base)) return out;
    this.settle();
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
        this.byKey?.delete(cur);
        this.byTime.delete(at);
        this.heap.pop();
        continue;
      }
      cur.sort();
      const n = Math.min(cur.length, limit - out.length);
      for (let i = 0; i < n; i++) {
        out.push(cur[i]!);
        this.byKey?.delete(cur[i]!);
      }
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
    this.settle();
    if (this.base === undefined) return 0;
    const time = now - this.base;
    let n = 0;
    for (const [at, cur] of this.byTime) if (at <= time) n += typeof cur === 'string' ? 1 : cur.length;
    return n;
  }

  clear(): void {
    this.journalKeys.length = 0;
    this.journalTimes.length = 0;
    this.journalAdds.length = 0;
    this.journalEarliest = Infinity;
    this.byTime.clear();
    this.byKey?.clear();
    this.heap = new MinHeap<number>(earlier);
    this.base = undefined;
  }

  /** Drop the stale heap items: one item per expiry held. */
  private compact(): void {
    this.heap = new MinHeap<number>(earlier);
    for (const at of this.byTime.keys()) this.heap.push(at);
  }
}
