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

/** One write's stages and its total, in ms (test-only, see keepSamplesForTest). */
export interface WriteSample {
  stagesMs: Record<Stage, number>;
  totalMs: number;
}

export class WriteProfile {
  readonly stages: Record<Stage, LatencyHistogram>;
  readonly total = new LatencyHistogram();
  profiled = 0;
  private samples: WriteSample[] | undefined;
  private maxSamples = 0;

  constructor() {
    this.stages = Object.fromEntries(STAGES.map((s) => [s, new LatencyHistogram()])) as Record<Stage, LatencyHistogram>;
  }

  record(enqueued: number, sent: number, t: StageTimes, reply: number): void {
    const ms: Record<Stage, number> = {
      queue: sent - enqueued,
      toLeader: t.received - sent,
      leaderQueue: t.persistStart - t.received,
      leaderFsync: t.persistEnd - t.persistStart,
      replication: t.committed - t.persistEnd,
      apply: t.applied - t.committed,
      reply: reply - t.applied,
    };
    for (const s of STAGES) this.stages[s].recordMs(ms[s]);
    this.total.recordMs(reply - enqueued);
    this.profiled++;
    if (this.samples !== undefined && this.samples.length < this.maxSamples) this.samples.push({ stagesMs: ms, totalMs: reply - enqueued });
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
  }
}
