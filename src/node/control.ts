// The control plane of a node (comlink): status, metrics, faults, snapshot, leadership transfer.
import type { ConfChangeResult, NodeId } from '../raft/types.js';
import type { ConfChange } from '../raft/membership.js';
import type { LinkFaults } from './protocol.js';
import type { Value } from '../storage/command.js';
import type { ClusterErrorData } from '../errors.js';
import type { NodeHistograms, NodeMetricsCounters } from './host.js';
import type { LatencySummaryMs } from '../util/histogram.js';

export interface NodeControl {
  status(): Record<string, unknown>;
  metrics(): Promise<{ counters: NodeMetricsCounters; histograms: Record<keyof NodeHistograms, LatencySummaryMs> }>;
  resetMetrics(): Promise<void>;
  /** Stage timing on or off from now on (NodeOptions.instrument). */
  setInstrument(on: boolean): void;
  setFaults(faults: LinkFaults): void;
  transferLeadership(to: NodeId): boolean;
  campaign(): void;
  /** Propose a one-server configuration change (the leader only; others answer NOT_LEADER). */
  proposeConfChange(change: ConfChange): ConfChangeResult;
  /** Take a snapshot point (compact the log up to the applied index) after the next Ready. */
  requestSnapshot(): void;
  /** Test-only: deliver raw frames as if they came from peer `from` (fuzzing). Returns the node's bad-frame count. */
  inject(from: NodeId, frames: unknown[]): number;
  /** Test-only: block the node's thread for `ms` (a synchronous wait); what arrives meanwhile waits behind it. */
  stallForTest(ms: number): void;
  /** Test-only: a lease read of `key` on this node itself, whatever the coordinator believes about leadership. */
  leaseReadForTest(key: Uint8Array): Promise<LeaseReadForTest>;
  stop(): Promise<void>;
}

/** What a node answered to leaseReadForTest: the value it read, or its error (NOT_LEADER, ...). */
export type LeaseReadForTest = { ok: true; value: Value | undefined } | { ok: false; error: ClusterErrorData };
