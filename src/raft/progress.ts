// The leader's view of one follower (etcd's Progress + Inflights): where to send next and how much is in flight.
import { assert } from './assert.js';

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

/**
 * The pipelining window: AppendEntries sent in replicate state but not yet acknowledged,
 * bounded by count (maxInflightMsgs) and by entry bytes (maxInflightBytes).
 */
export class Inflights {
  private lastIndexes: number[] = [];
  private sizes: number[] = [];
  bytes = 0;

  constructor(
    readonly maxMsgs: number,
    readonly maxBytes: number,
  ) {}

  get count(): number {
    return this.lastIndexes.length;
  }

  full(): boolean {
    return this.count >= this.maxMsgs || this.bytes >= this.maxBytes;
  }

  add(lastIndex: number, bytes: number): void {
    assert(!this.full(), 'inflights: add while full');
    const prev = this.lastIndexes[this.lastIndexes.length - 1];
    assert(prev === undefined || lastIndex > prev, 'inflights: indexes must increase');
    this.lastIndexes.push(lastIndex);
    this.sizes.push(bytes);
    this.bytes += bytes;
  }

  /** An acknowledgement up to `index` frees every message that ended at or before it. */
  freeLE(index: number): void {
    while (this.lastIndexes.length > 0 && (this.lastIndexes[0] ?? Infinity) <= index) {
      this.lastIndexes.shift();
      this.bytes -= this.sizes.shift() ?? 0;
    }
  }

  /** A heartbeat response proves the follower is alive: free one slot so a lost append cannot stall the pipe forever. */
  freeFirstOne(): void {
    if (this.lastIndexes.length === 0) return;
    this.lastIndexes.shift();
    this.bytes -= this.sizes.shift() ?? 0;
  }

  reset(): void {
    this.lastIndexes = [];
    this.sizes = [];
    this.bytes = 0;
  }
}

export class Progress {
  /** Figure 2 matchIndex: the highest index known to be replicated (durably) on the follower. */
  match = 0;
  /** Figure 2 nextIndex. */
  next: number;
  state: ProgressState = 'probe';
  /** Probe state: one append is out; wait for its answer (or a heartbeat response) before the next. */
  probeSent = false;
  /** Snapshot state: the index of the snapshot sent. */
  pendingSnapshot = 0;
  /** Heard from since the last check-quorum round (thesis §6.2). */
  recentActive = false;
  /** The highest commit index sent to this follower (in an append or heartbeat). */
  commitSent = 0;
  /** The highest heartbeat round this follower answered in the current term (§6.4 ReadIndex, leases). */
  ackedRound = 0;
  readonly inflights: Inflights;

  constructor(next: number, maxInflightMsgs: number, maxInflightBytes: number) {
    this.next = next;
    this.inflights = new Inflights(maxInflightMsgs, maxInflightBytes);
  }

  becomeProbe(): void {
    // After a snapshot, resume right after it; otherwise right after what is known to match.
    this.next = this.state === 'snapshot' ? Math.max(this.match + 1, this.pendingSnapshot + 1) : this.match + 1;
    this.state = 'probe';
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.inflights.reset();
  }

  becomeReplicate(): void {
    this.state = 'replicate';
    this.next = this.match + 1;
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.inflights.reset();
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.state = 'snapshot';
    this.pendingSnapshot = snapshotIndex;
    this.probeSent = false;
    this.inflights.reset();
  }

  /** A successful append response for `index`. Returns whether match advanced. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      this.probeSent = false;
      updated = true;
    }
    this.next = Math.max(this.next, index + 1);
    return updated;
  }

  /**
   * A rejection of prevLogIndex `rejected`, with the leader's guess `hintNext` from the conflict hints.
   * Returns false when the rejection is stale (an answer to an older message).
   */
  maybeDecrTo(rejected: number, hintNext: number): boolean {
    if (this.state === 'snapshot') return false;
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.becomeProbe();
    } else if (this.next - 1 !== rejected) {
      return false;
    }
    this.next = Math.max(this.match + 1, Math.min(rejected, hintNext));
    this.probeSent = false;
    return true;
  }

  isPaused(): boolean {
    if (this.state === 'probe') return this.probeSent;
    if (this.state === 'replicate') return this.inflights.full();
    return true;
  }

  /** Record that an append carrying entries up to `lastIndex` (`bytes` of data) was sent. */
  sentEntries(lastIndex: number | undefined, bytes: number): void {
    if (this.state === 'replicate') {
      if (lastIndex === undefined) return;
      this.inflights.add(lastIndex, bytes);
      this.next = lastIndex + 1;
    } else if (this.state === 'probe') {
      this.probeSent = true;
    }
  }
}
