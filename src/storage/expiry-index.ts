// The expiry index of a state machine: which keys expire when. Both stores keep it in memory, on the thread that
// applies (the LMDB store rebuilds it from the records' headers when it loads its state), because a B-tree index
// cost two extra LMDB writes per put with a TTL (docs/benchmarks.md, "What a TTL costs").
//
// Each key with an expiry has a place: a small record of its key and expiry, found by key in a Map. A Map from
// expiry (ms on the log clock) to the places due then (one place, the usual case: no array), and a min-heap of
// those expiries, give the keys due at a time. The place answers what a key's expiry is without reading its record
// (an unbounded LMDB store writes over a record without reading it: docs/storage.md), and a rewrite costs one Map
// lookup: the place's expiry changes in place, and the place joins its new expiry's group.
//
// A rewrite or removal does not look for the key in its old group (that cost a scan of the group, and a group is
// often a whole entry's keys: the leader stamps one time on an entry, so its puts with one TTL share one expiry).
// The place is left there, stale: its expiry is no longer the group's, and take() drops it when the group
// surfaces. When the places held in groups pass REBUILD_AT (4 per live key, plus 4,096), settle() builds the groups
// again from the Map, so memory stays bounded under TTL churn: a stale place costs its group a pointer (the place
// itself is the live one's), and short TTLs drop theirs before that (their groups surface first).
//
// Moves are journaled, not made, by the writes: the node makes them with settle() while its next log write syncs
// (the CPUs are idle then), not in the apply that the leader's clients wait for, where each replica's apply shares
// two cores with the others'. Every read of the groups settles first, so what it answers is the same as if each
// move had been made at once: the journal is replayed in order. A key's expiry (expiryOf) is known at once.

import { MinHeap } from '../util/heap.js';

const earlier = (a: number, b: number): boolean => a < b;

/** A key's place in the index: its expiry, NaN once it has none (removed, or taken). */
interface Place {
  readonly key: string;
  at: number;
}

const byKeyBytes = (a: Place, b: Place): number => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/** Places held in groups (live or stale) before settle() builds the groups again: per live key, and beyond that. */
export const REBUILD_AT = { perKey: 4, plus: 4096 } as const;

/** Moves journaled at most before a write makes them itself. */
export const MAX_JOURNAL = 8192;

export class ExpiryIndex {
  /** Each key's place (latin1 key strings: string order is byte order). */
  private readonly byKey = new Map<string, Place>();
  /**
   * By expiry, as an offset from `base` (the first expiry added): offsets within ±12 days are small integers,
   * which V8's Map hashes faster than the doubles that epoch milliseconds are. A place may be in a group stale.
   */
  private readonly byTime = new Map<number, Place | Place[]>();
  private base: number | undefined;
  private heap = new MinHeap<number>(earlier);
  /** Places held in byTime and in the journal, live or stale. */
  private held = 0;
  /** Moves not made yet, in order: the place and the expiry it joins. */
  private journalPlaces: Place[] = [];
  private journalTimes: number[] = [];
  /** The earliest expiry journaled (Infinity when none). */
  private journalEarliest = Infinity;
  /**
   * The keys' expiries as offsets from `origin` (the first one added while the index was empty), summed: their mean
   * (INFO's avg_ttl) without a walk. Whole ms, so exact while the sum stays a safe integer.
   */
  private sum = 0;
  private origin = 0;

  /** Keys with an expiry. */
  get size(): number {
    return this.byKey.size;
  }

  /** The mean expiry of the keys with one (ms since the epoch; expired ones not purged yet included), undefined when none. */
  meanExpiry(): number | undefined {
    return this.byKey.size === 0 ? undefined : this.origin + this.sum / this.byKey.size;
  }

  /** The expiry of `key` (a latin1 key string), or undefined when it has none or is absent. */
  expiryOf(key: string): number | undefined {
    return this.byKey.get(key)?.at;
  }

  /** The earliest expiry indexed or journaled (Infinity when none); a stale place can make it earlier than any live one. */
  earliest(): number {
    const heaped = this.base === undefined ? Infinity : (this.heap.peek() ?? Infinity) + this.base;
    return Math.min(heaped, this.journalEarliest);
  }

  /** Moves journaled and not made yet. */
  get unsettled(): number {
    return this.journalPlaces.length;
  }

  /** `key` expires at `expiresAt`; it must not be in the index already. */
  add(key: string, expiresAt: number): void {
    const place: Place = { key, at: expiresAt };
    if (this.byKey.size === 0) {
      this.origin = expiresAt;
      this.sum = 0;
    }
    this.byKey.set(key, place);
    this.sum += expiresAt - this.origin;
    this.journal(place, expiresAt);
  }

  /** `key`, which expired at `expiresAt`, is rewritten or removed. */
  remove(key: string, expiresAt: number): void {
    const place = this.byKey.get(key);
    if (place !== undefined && place.at === expiresAt) this.forget(place);
  }

  /** `place`'s key leaves the index: the place, wherever a group still holds it, is stale from now on. */
  private forget(place: Place): void {
    this.sum -= place.at - this.origin;
    place.at = NaN;
    this.byKey.delete(place.key);
  }

  /**
   * `key`'s expiry becomes `to` (undefined: none), unless `now` is given and the one it has now passed at `now`:
   * then nothing changes and it returns false (the LMDB store's blind put reads the expired record instead). One Map
   * lookup for a key already indexed.
   */
  set(key: string, to: number | undefined, now?: number): boolean {
    const place = this.byKey.get(key);
    if (place === undefined) {
      if (to !== undefined) this.add(key, to);
      return true;
    }
    if (now !== undefined && place.at <= now) return false;
    if (to === undefined) {
      this.forget(place);
    } else if (to !== place.at) {
      this.sum += to - place.at;
      place.at = to; // stale in its old group
      this.journal(place, to);
    }
    return true;
  }

  /** Make the journaled moves, in order, or build the groups again when stale places outnumber the live ones. */
  settle(): void {
    if (this.held > REBUILD_AT.perKey * this.byKey.size + REBUILD_AT.plus) return this.rebuild();
    const n = this.journalPlaces.length;
    if (n === 0) return;
    const places = this.journalPlaces;
    const times = this.journalTimes;
    for (let i = 0; i < n; i++) this.addNow(places[i]!, times[i]!);
    this.dropJournal();
  }

  private dropJournal(): void {
    this.journalPlaces.length = 0;
    this.journalTimes.length = 0;
    this.journalEarliest = Infinity;
  }

  private journal(place: Place, expiresAt: number): void {
    if (this.journalPlaces.length >= MAX_JOURNAL) this.settle(); // bounded even if no one settles
    this.journalPlaces.push(place);
    this.journalTimes.push(expiresAt);
    this.held++;
    if (expiresAt < this.journalEarliest) this.journalEarliest = expiresAt;
  }

  private addNow(place: Place, expiresAt: number): void {
    this.base ??= expiresAt;
    const at = expiresAt - this.base;
    const cur = this.byTime.get(at);
    if (cur === undefined) {
      this.byTime.set(at, place);
      this.heap.push(at);
    } else if (Array.isArray(cur)) {
      cur.push(place);
    } else {
      this.byTime.set(at, [cur, place]);
    }
  }

  /** The groups and the heap again from the live places only (the journaled moves included: they are made). */
  private rebuild(): void {
    this.dropJournal();
    this.byTime.clear();
    this.heap = new MinHeap<number>(earlier);
    this.held = this.byKey.size;
    for (const place of this.byKey.values()) this.addNow(place, place.at);
  }

  /**
   * Take up to `limit` keys whose expiry is <= `now` out of the index, in (expiry, key bytes) order: the same
   * on every replica. The caller removes their records.
   */
  take(now: number, limit: number): string[] {
    const out: string[] = [];
    // Nothing can be due (the usual case, once per entry): neither a key journaled since the last settle nor one
    // before it (the heap's least item; a group of stale places only makes it earlier).
    if (this.journalEarliest > now && (this.base === undefined || (this.heap.peek() ?? Infinity) > now - this.base)) return out;
    this.settle();
    if (this.base === undefined) return out;
    const time = now - this.base;
    for (let at = this.heap.peek(); at !== undefined && at <= time && out.length < limit; at = this.heap.peek()) {
      const cur = this.byTime.get(at)!;
      const expiresAt = at + this.base;
      if (!Array.isArray(cur)) {
        this.takeIfLive(cur, expiresAt, out);
        this.byTime.delete(at);
        this.heap.pop();
        continue;
      }
      // A place may be there twice (moved away and back): the first passes takeIfLive, which marks it taken.
      cur.sort(byKeyBytes);
      let i = 0;
      while (i < cur.length && out.length < limit) this.takeIfLive(cur[i++]!, expiresAt, out);
      if (i === cur.length) {
        this.byTime.delete(at);
        this.heap.pop();
      } else {
        cur.splice(0, i);
      }
    }
    return out;
  }

  /** A place leaves its group: its key is taken out of the index when the group's expiry is still its own. */
  private takeIfLive(place: Place, expiresAt: number, out: string[]): void {
    this.held--;
    if (place.at !== expiresAt) return; // stale: rewritten, removed, or taken already
    this.forget(place);
    out.push(place.key);
  }

  /** Keys whose expiry is <= `now` (not yet purged). */
  countExpired(now: number): number {
    if (this.earliest() > now) return 0; // the usual case: purges keep up (a walk of every key with an expiry)
    let due = 0;
    for (const place of this.byKey.values()) if (place.at <= now) due++;
    return due;
  }

  clear(): void {
    this.dropJournal();
    this.byTime.clear();
    this.byKey.clear();
    this.sum = 0;
    this.held = 0;
    this.heap = new MinHeap<number>(earlier);
    this.base = undefined;
  }
}
