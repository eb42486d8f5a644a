// The write path, stage by stage, as histograms on the coordinator. Milestones come from the
// coordinator (enqueued, sent, reply) and from the leader (received, persist start/end, committed,
// applied), all on one clock (performance.timeOrigin + now()), so consecutive stages sum to the total.
import { LatencyHistogram, type LatencySummaryMs } from '../util/histogram.js';
import type { StageTimes } from '../node/protocol.js';

export const STAGES = [
  'queue', // enqueued at the coordinator → batch posted to the leader
  'toLeader', // posted → received by the leader's thread
  'leaderQueue', // received → the Ready carrying it starts persisting (behind the previous fsync)
  'leaderFsync', // the leader's storage transaction (append + hard state), fsync included
  'replication', // leader persisted → commit known (follower round trips and follower fsyncs)
  'apply', // commit known → applied (the next storage transaction)
  'reply', // applied → the result reached the caller's promise
] as const;
export type Stage = (typeof STAGES)[number];

/** The stages a batch's writes share (all but the queue, which is each write's own). */
const BATCH_STAGES = STAGES.filter((s) => s !== 'queue');

/** Told a stage's time, in ms (WriteProfile.watchStages). */
export type StageWatcher = (stage: Stage, ms: number) => void;

/** One write's stages and its total, in ms (test-only, see keepSamplesForTest). */
export interface WriteSample {
  stagesMs: Record<Stage, number>;
  totalMs: number;
}

/**
 * One write's milestones on the shared clock (ms): enqueued, sent, received, persistStart, persistEnd,
 * committed, applied, reply. Kept for the slowest writes (tail attribution) and for trace samples.
 */
export type WriteTimes = readonly [number, number, number, number, number, number, number, number];

/** The stages of one write from its milestones (consecutive differences). */
export function stagesOf(t: WriteTimes): Record<Stage, number> {
  return { queue: t[1] - t[0], toLeader: t[2] - t[1], leaderQueue: t[3] - t[2], leaderFsync: t[4] - t[3], replication: t[5] - t[4], apply: t[6] - t[5], reply: t[7] - t[6] };
}

/** A write's milestones from the coordinator's three and the leader's stage times. */
function milestones(enqueued: number, sent: number, t: StageTimes, reply: number): WriteTimes {
  return [enqueued, sent, t.received, t.persistStart, t.persistEnd, t.committed, t.applied, reply];
}

/** Bounds of what the opt-in keepers hold: memory stays fixed however long a run is. */
export const MAX_SLOWEST = 16_384;
export const MAX_TRACE = 2_000;

export class WriteProfile {
  readonly stages: Record<Stage, LatencyHistogram>;
  readonly total = new LatencyHistogram();
  profiled = 0;
  private samples: WriteSample[] | undefined;
  private maxSamples = 0;
  /**
   * Opt-in (keepSlowest): candidates for the slowest writes, unordered, between `slowMax` and 2 × `slowMax` of them;
   * a write at or below `slowFloor` (the slowest kept's minimum at the last prune) cannot be among them.
   */
  private slow: WriteTimes[] | undefined;
  private slowMax = 0;
  private slowFloor = -Infinity;
  /** Opt-in (keepTrace): writes that do not overlap in time, at least `traceGapMs` apart. */
  private trace: WriteTimes[] | undefined;
  private traceGapMs = 0;
  private traceNext = 0;
  /** Opt-in (watchStages): told every stage time as it is recorded (the RESP server's latency monitor). */
  private readonly watchers = new Set<StageWatcher>();

  constructor() {
    this.stages = Object.fromEntries(STAGES.map((s) => [s, new LatencyHistogram()])) as Record<Stage, LatencyHistogram>;
  }

  /**
   * The stages every write of one batch shares (one proposal: from its posting to the leader to the reply),
   * recorded once with the count of its writes: the writes of a batch differ only in their queue time (see
   * record()), so this costs the same whatever the batch's size.
   */
  recordBatch(sent: number, t: StageTimes, reply: number, writes: number): void {
    if (this.watchers.size > 0) {
      const s = stagesOf(milestones(0, sent, t, reply));
      for (const w of this.watchers) for (const stage of BATCH_STAGES) w(stage, s[stage]);
    }
    this.stages.toLeader.recordMs(t.received - sent, writes);
    this.stages.leaderQueue.recordMs(t.persistStart - t.received, writes);
    this.stages.leaderFsync.recordMs(t.persistEnd - t.persistStart, writes);
    this.stages.replication.recordMs(t.committed - t.persistEnd, writes);
    this.stages.apply.recordMs(t.applied - t.committed, writes);
    this.stages.reply.recordMs(reply - t.applied, writes);
  }

  /** One write of a batch: its queue time and total (its batch's shared stages go to recordBatch, once). */
  record(enqueued: number, sent: number, t: StageTimes, reply: number): void {
    if (this.watchers.size > 0) for (const w of this.watchers) w('queue', sent - enqueued);
    this.stages.queue.recordMs(sent - enqueued);
    this.total.recordMs(reply - enqueued);
    this.profiled++;
    if (this.samples !== undefined && this.samples.length < this.maxSamples) {
      this.samples.push({ stagesMs: stagesOf(milestones(enqueued, sent, t, reply)), totalMs: reply - enqueued });
    }
    if (this.slow !== undefined) this.keepIfSlow(reply - enqueued, enqueued, sent, t, reply);
    if (this.trace !== undefined && enqueued >= this.traceNext && this.trace.length < MAX_TRACE) {
      this.trace.push(milestones(enqueued, sent, t, reply));
      this.traceNext = reply + this.traceGapMs; // the next sample starts after this one ended: no overlap on any thread
    }
  }

  /**
   * Tell `watcher` every stage time from now on, in ms, as it is recorded: each write's queue stage, and once per
   * batch the stages its writes share (as recordBatch records them). Returns how to stop. Costs nothing while none
   * watches.
   */
  watchStages(watcher: StageWatcher): () => void {
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }

  /** Keep the milestones of the `max` slowest writes from now on (bounded by MAX_SLOWEST); cleared by reset(). */
  keepSlowest(max: number): void {
    if (!(max >= 1 && max <= MAX_SLOWEST)) throw new RangeError(`keepSlowest: max must be in [1, ${MAX_SLOWEST}], got ${max}`);
    this.slow = [];
    this.slowMax = max;
    this.slowFloor = -Infinity;
  }

  /** The slowest writes kept (at most keepSlowest's `max`), slowest first. */
  slowest(): WriteTimes[] {
    return [...(this.slow ?? [])].sort((a, b) => totalOf(b) - totalOf(a)).slice(0, this.slowMax);
  }

  /** Keep a trace sample from now on: writes that do not overlap, `gapMs` apart, at most MAX_TRACE; cleared by reset(). */
  keepTrace(gapMs: number): void {
    this.trace = [];
    this.traceGapMs = gapMs;
    this.traceNext = 0;
  }

  traceSample(): readonly WriteTimes[] {
    return this.trace ?? [];
  }

  /**
   * The common case is one comparison with the floor. A candidate is appended; when there are 2 × max of them, the
   * slowest max are kept (a linear-time selection) and the floor rises to their minimum: amortized O(1) a write.
   * (Until session 6 this was a min-heap of max (16,384) entries: in a short run a third of all writes entered it,
   * each sifting through 14 levels, about 5 % of the main thread's time.)
   */
  private keepIfSlow(totalMs: number, enqueued: number, sent: number, t: StageTimes, reply: number): void {
    if (totalMs <= this.slowFloor) return;
    const kept = this.slow!;
    kept.push(milestones(enqueued, sent, t, reply));
    if (kept.length >= 2 * this.slowMax) this.slowFloor = keepLargest(kept, this.slowMax);
  }

  /**
   * Test-only: keep the unrounded breakdown of the next `max` profiled writes (the histograms clamp and
   * round, which would hide a negative stage or stages that do not add up to the total).
   */
  keepSamplesForTest(max: number): void {
    this.samples = [];
    this.maxSamples = max;
  }

  /** Test-only: the writes kept since keepSamplesForTest(). */
  samplesForTest(): readonly WriteSample[] {
    return this.samples ?? [];
  }

  summary(): { stages: Record<Stage, LatencySummaryMs>; total: LatencySummaryMs; stageSumP50Ms: number } {
    const stages = Object.fromEntries(STAGES.map((s) => [s, this.stages[s].summary()])) as Record<Stage, LatencySummaryMs>;
    const stageSumP50Ms = STAGES.reduce((acc, s) => acc + stages[s].p50, 0);
    return { stages, total: this.total.summary(), stageSumP50Ms };
  }

  reset(): void {
    for (const s of STAGES) this.stages[s].reset();
    this.total.reset();
    this.profiled = 0;
    if (this.slow !== undefined) {
      this.slow = [];
      this.slowFloor = -Infinity;
    }
    if (this.trace !== undefined) {
      this.trace = [];
      this.traceNext = 0;
    }
  }
}

const totalOf = (w: WriteTimes): number => w[7] - w[0];

/**
 * Keep in `a` only its `k` largest by total (in no order; Hoare's selection, iterative) and return the smallest total
 * kept.
 */
export function keepLargest(a: WriteTimes[], k: number): number {
  // Partition descending: after the loop a[0..k) holds the k largest.
  let lo = 0;
  let hi = a.length - 1;
  while (a.length > k && lo < hi) {
    const pivot = totalOf(a[(lo + hi) >>> 1]!);
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (totalOf(a[i]!) > pivot) i++;
      while (totalOf(a[j]!) < pivot) j--;
      if (i <= j) {
        const x = a[i]!;
        a[i] = a[j]!;
        a[j] = x;
        i++;
        j--;
      }
    }
    if (k - 1 <= j) hi = j;
    else if (k - 1 >= i) lo = i;
    else break;
  }
  if (a.length > k) a.length = k;
  let min = Infinity;
  for (const w of a) min = Math.min(min, totalOf(w));
  return min;
}
