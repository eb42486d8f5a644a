// An LRU cache of log entries read through tryGetLogEntries (LogReaderAdaptor), bounded in entries and in
// bytes, kept coherent on truncate and purge. It is filled by reads only: a running node replicates from the
// raft core's own in-memory log (bounded by the snapshot interval), so filling it on every append cost a set
// per entry that no reader used (docs/storage.md).
import { LRUCache } from 'lru-cache';
import type { Entry } from '../raft/types.js';

export const CACHE_DEFAULTS = { entries: 1024, bytes: 16 * 1024 * 1024 } as const;

/** Approximate bytes an entry holds: its data plus the object. */
function entryBytes(e: Entry): number {
  return e.data.byteLength + 64;
}

export class LogCache {
  /** Made at the first fill: a store opened and closed without a read of its log (most, in the simulation) skips its allocation. */
  private lru: LRUCache<number, Entry> | undefined;
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private maxIndex = 0;
  /** Bumped on every change that removes entries: a read started before it must not fill the cache. */
  epoch = 0;

  constructor(maxEntries: number = CACHE_DEFAULTS.entries, maxBytes: number = CACHE_DEFAULTS.bytes) {
    if (!(maxEntries >= 1) || !(maxBytes >= 1)) throw new Error(`cache bounds must be >= 1 (entries ${maxEntries}, bytes ${maxBytes})`);
    this.maxEntries = maxEntries;
    this.maxBytes = maxBytes;
  }

  get size(): number {
    return this.lru?.size ?? 0;
  }

  get bytes(): number {
    return this.lru?.calculatedSize ?? 0;
  }

  /** Every entry of [start, end) or undefined (all or nothing). */
  range(start: number, end: number): Entry[] | undefined {
    if (this.lru === undefined || end - start > this.lru.size) return undefined;
    const out: Entry[] = [];
    for (let i = start; i < end; i++) {
      const e = this.lru.get(i);
      if (!e) return undefined;
      out.push(e);
    }
    return out;
  }

  /** Entries just appended: anything cached at or after the first is stale (a truncated suffix). Not cached. */
  appended(entries: Entry[]): void {
    const first = entries[0];
    if (!first || first.index > this.maxIndex) return;
    this.epoch++;
    for (let i = first.index; i <= this.maxIndex; i++) this.lru?.delete(i);
    this.maxIndex = first.index - 1;
  }

  /** Entries read from storage; skipped when the log changed since the read began. */
  filled(entries: Entry[], epochAtRead: number): void {
    if (epochAtRead === this.epoch) this.fill(entries);
  }

  private fill(entries: Entry[]): void {
    this.lru ??= new LRUCache<number, Entry>({ max: this.maxEntries, maxSize: this.maxBytes });
    for (const e of entries) {
      const size = entryBytes(e);
      if (size > this.lru.maxSize) continue;
      // The size given per set: measured about half the cost of a sizeCalculation callback.
      this.lru.set(e.index, e, { size });
      if (e.index > this.maxIndex) this.maxIndex = e.index;
    }
  }

  purged(upTo: number): void {
    this.epoch++;
    if (this.lru === undefined) return;
    for (const k of [...this.lru.keys()]) if (k <= upTo) this.lru.delete(k);
  }

  clear(): void {
    this.epoch++;
    this.lru?.clear();
    this.maxIndex = 0;
  }
}
