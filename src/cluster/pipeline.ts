// What the coordinator's write and read pipelines share: the nodes, the options, the counters, one flush
// per event-loop turn, and one bound on the calls pending in both.
import type { NodeId } from '../raft/types.js';
import { ClusterError, ErrorCode } from '../errors.js';
import type { NodeSet } from './nodes.js';
import type { ResolvedOptions } from './options.js';

export interface CoordinatorCounters {
  writes: number;
  reads: number;
  batchesSent: number;
  readRoundsSent: number;
  retries: number;
  /** Writes sent again (each send after a write's first): after a refusal, a leader change, or a loss. */
  resends: number;
  timeouts: number;
  busy: number;
  leaderChanges: number;
}

export interface PipelineContext {
  readonly opts: ResolvedOptions;
  readonly nodes: NodeSet;
  readonly counters: CoordinatorCounters;
  /** Two election timeouts: a read round unanswered this long is sent again, and a write its node stopped resolving (WritePipeline.sendAgain). */
  readonly retryAfterMs: number;
  /** One flush (writes, then reads) in the next turn. */
  scheduleFlush(): void;
  /** Writes unresolved plus reads queued or out: new calls get BUSY at maxPendingOps. */
  pendingOps(): number;
}

/** A message sent to one node for many calls: a write batch or a read round. */
export interface SentGroup<T> {
  node: NodeId;
  items: T[];
  sentAt: number;
}

/** BUSY when maxPendingOps calls are pending (counted); `what` describes them for the message. */
export function checkBusy(ctx: PipelineContext, what: () => string): ClusterError | undefined {
  if (ctx.pendingOps() < ctx.opts.maxPendingOps) return undefined;
  ctx.counters.busy++;
  return new ClusterError(ErrorCode.BUSY, what());
}
