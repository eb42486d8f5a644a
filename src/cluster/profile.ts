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

export class WriteProfile {
  readonly stages: Record<Stage, LatencyHistogram>;
  readonly total = new LatencyHistogram();
  profiled = 0;

  constructor() {
    this.stages = Object.fromEntries(STAGES.map((s) => [s, new LatencyHistogram()])) as Record<Stage, LatencyHistogram>;
  }

  record(enqueued: number, sent: number, t: StageTimes, reply: number): void {
    const s = this.stages;
    s.queue.recordMs(sent - enqueued);
    s.toLeader.recordMs(t.received - sent);
    s.leaderQueue.recordMs(t.persistStart - t.received);
    s.leaderFsync.recordMs(t.persistEnd - t.persistStart);
    s.replication.recordMs(t.committed - t.persistEnd);
    s.apply.recordMs(t.applied - t.committed);
    s.reply.recordMs(reply - t.applied);
    this.total.recordMs(reply - enqueued);
    this.profiled++;
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
