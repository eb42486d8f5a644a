// The node's side of watch (docs/api.md, "Watch"): a bounded ring of the change events this node applied, and
// the coordinator's subscriptions to them. Every replica applies the same entries, so every replica has the same
// events at the same revisions (log indexes): the coordinator may read them from any node, and move to another
// node at any revision that node still retains.
import { nowMs } from '../util/histogram.js';
import type { ChangeEvent, Key } from '../storage/command.js';
import { hasPrefix } from '../storage/codec.js';
import { assert } from '../raft/assert.js';
import type { FromNode } from './protocol.js';

/** Bounds of a node's ring: the oldest revisions are dropped whole beyond either. */
export const WATCH_RING = { maxEvents: 10_000, maxBytes: 8 * 1024 * 1024 } as const;
export type WatchRingLimits = { maxEvents: number; maxBytes: number };

/** Which keys a subscription carries: any key equal to one of `keys` or starting with one of `prefixes`. */
export interface WatchFilter {
  keys: Key[];
  prefixes: Key[];
}

interface Subscription {
  id: number;
  /** The first revision it carries. */
  from: number;
  filter: WatchFilter;
}

/** Memory an event holds in the ring (strings are UTF-16 in memory), with a fixed overhead per event. */
function eventBytes(e: ChangeEvent): number {
  const v = e.value;
  return 64 + e.key.length + (v === undefined ? 0 : typeof v === 'string' ? 2 * v.length : v.length);
}

export function filterMatches(f: WatchFilter, key: Key): boolean {
  for (const k of f.keys) if (k.length === key.length && hasPrefix(key, k)) return true;
  for (const p of f.prefixes) if (hasPrefix(key, p)) return true;
  return false;
}

export class WatchFeed {
  /** The ring: events[head..] in apply order (revisions non-decreasing). */
  private events: ChangeEvent[] = [];
  private head = 0;
  private bytes = 0;
  private retaining = false;
  /** Every event of a revision in [retainedFrom, applied] is in the ring (valid while retaining). */
  private retainedFrom = 0;
  private readonly subs = new Map<number, Subscription>();

  constructor(
    /** Turns the state machine's event recording on or off. */
    private readonly record: (on: boolean) => void,
    private readonly toMain: (msg: FromNode) => void,
    private readonly limits: WatchRingLimits = WATCH_RING,
  ) {}

  /** Whether applies must hand their events in: the host checks this before anything else, so an unwatched apply costs one branch. */
  get recording(): boolean {
    return this.retaining;
  }

  /** Start or stop keeping events (the coordinator keeps every live node retaining while anyone watches). */
  retain(on: boolean, applied: number): void {
    if (on === this.retaining) return;
    this.retaining = on;
    this.record(on);
    this.clear(applied);
    if (!on) this.subs.clear();
  }

  /**
   * A subscription from revision `from` (null: after what this node applied). Answered with one 'watch-events'
   * holding the retained events from `from` (possibly none) and `upTo` = applied, then one per apply with matching
   * events; or with 'watch-compacted' when the ring no longer holds `from`.
   */
  subscribe(id: number, from: number | null, filter: WatchFilter, applied: number): void {
    this.retain(true, applied);
    const start = from ?? applied + 1;
    if (start < this.retainedFrom) {
      this.toMain({ t: 'watch-compacted', sub: id, oldest: this.retainedFrom });
      return;
    }
    const sub: Subscription = { id, from: start, filter };
    this.subs.set(id, sub);
    const history = this.select(sub, this.events, this.firstAtOrAfter(start));
    this.toMain({ t: 'watch-events', sub: id, events: history, upTo: applied, at: nowMs() });
  }

  unsubscribe(id: number): void {
    this.subs.delete(id);
  }

  /** Events of one apply (entries up to `upTo`), in apply order. */
  onApplied(events: readonly ChangeEvent[], upTo: number): void {
    if (!this.retaining) return;
    for (const e of events) {
      const last = this.events[this.events.length - 1]?.revision ?? 0;
      assert(e.revision >= last && e.revision <= upTo, () => `event revision ${e.revision} out of order (last ${last}, applied ${upTo})`);
      this.events.push(e);
      this.bytes += eventBytes(e);
    }
    this.evict();
    if (events.length === 0) return;
    for (const sub of this.subs.values()) {
      const matched = this.select(sub, events, 0);
      if (matched.length > 0) this.toMain({ t: 'watch-events', sub: sub.id, events: matched, upTo, at: nowMs() });
    }
  }

  /**
   * A snapshot was installed: the state jumped to `index` without events, so nothing before it can be served
   * continuously. Subscriptions end as compacted; the coordinator moves to another node.
   */
  onReset(index: number): void {
    if (!this.retaining) return;
    this.clear(index);
    for (const id of this.subs.keys()) this.toMain({ t: 'watch-compacted', sub: id, oldest: this.retainedFrom });
    this.subs.clear();
  }

  /** Test and status view: the oldest revision retained and the ring's size. */
  stats(): { retaining: boolean; retainedFrom: number; events: number; bytes: number; subscriptions: number } {
    return { retaining: this.retaining, retainedFrom: this.retainedFrom, events: this.events.length - this.head, bytes: this.bytes, subscriptions: this.subs.size };
  }

  private clear(applied: number): void {
    this.events = [];
    this.head = 0;
    this.bytes = 0;
    this.retainedFrom = applied + 1;
  }

  /** Drop the oldest revisions, whole, while over a bound (a resume must never find half a revision). */
  private evict(): void {
    const { maxEvents, maxBytes } = this.limits;
    while (this.head < this.events.length && (this.events.length - this.head > maxEvents || this.bytes > maxBytes)) {
      const revision = this.events[this.head]!.revision;
      while (this.head < this.events.length && this.events[this.head]!.revision === revision) {
        this.bytes -= eventBytes(this.events[this.head]!);
        this.head++;
      }
      this.retainedFrom = revision + 1;
    }
    if (this.head > 1024 && this.head * 2 > this.events.length) {
      this.events = this.events.slice(this.head);
      this.head = 0;
    }
  }

  /** The position of the first retained event at or after `revision` (binary search: revisions are sorted). */
  private firstAtOrAfter(revision: number): number {
    let lo = this.head;
    let hi = this.events.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.events[mid]!.revision < revision) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private select(sub: Subscription, events: readonly ChangeEvent[], start: number): ChangeEvent[] {
    const out: ChangeEvent[] = [];
    for (let i = start; i < events.length; i++) {
      const e = events[i]!;
      if (e.revision >= sub.from && filterMatches(sub.filter, e.key)) out.push(e);
    }
    return out;
  }
}
