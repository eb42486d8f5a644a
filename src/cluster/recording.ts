// A client that records every operation it makes as a history (../shared/HISTORY-FORMAT.md), for
// linearizability checking. One RecordingClient is one `process`: at most one operation outstanding.
import type { HistoryRecorder } from '../history/recorder.js';
import { ClusterError, ErrorCode } from '../errors.js';
import type { Cluster, Consistency } from './cluster.js';

/** Errors raised before anything was queued: the operation certainly did not take effect. */
const CERTAIN_FAILURES = new Set<string>([ErrorCode.INVALID_ARGUMENT, ErrorCode.BUSY]);

export class RecordingClient {
  constructor(
    private readonly cluster: Cluster,
    private readonly recorder: HistoryRecorder,
    readonly process: number,
  ) {}

  async write(key: string, value: string): Promise<void> {
    const op = this.recorder.invoke(this.process, 'write', key, value);
    try {
      await this.cluster.put(key, value);
      op.ok();
    } catch (err) {
      this.uncertain(op, err);
      throw err;
    }
  }

  async delete(key: string): Promise<boolean> {
    const op = this.recorder.invoke(this.process, 'delete', key, null);
    try {
      const existed = await this.cluster.delete(key);
      op.ok();
      return existed;
    } catch (err) {
      this.uncertain(op, err);
      throw err;
    }
  }

  /** A cas that did not match did not take effect: recorded as `fail`. */
  async cas(key: string, expected: string | null, value: string | null): Promise<boolean> {
    const op = this.recorder.invoke(this.process, 'cas', key, [expected, value]);
    try {
      const r = await this.cluster.cas(key, expected, value);
      if (r.ok) op.ok();
      else op.fail();
      return r.ok;
    } catch (err) {
      this.uncertain(op, err);
      throw err;
    }
  }

  /** Reads of any consistency are recorded; a checker should only hold linearizable ones to linearizability. */
  async read(key: string, consistency: Consistency = 'linearizable'): Promise<string | null> {
    const op = this.recorder.invoke(this.process, 'read', key, null);
    try {
      const v = await this.cluster.get(key, { consistency });
      const seen = v === undefined ? null : typeof v === 'string' ? v : Buffer.from(v).toString('utf8');
      op.ok(seen);
      return seen;
    } catch (err) {
      op.fail(); // a read has no effect: a failed read constrains nothing
      throw err;
    }
  }

  private uncertain(op: { fail(): void; info(): void }, err: unknown): void {
    if (err instanceof ClusterError && CERTAIN_FAILURES.has(err.code)) op.fail();
    else op.info(); // TIMEOUT, NO_QUORUM, CLUSTER_STOPPED in flight: it may still take effect
  }
}
