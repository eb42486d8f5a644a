// The control plane of a node (comlink): status, metrics, faults, snapshot, leadership transfer.
import type { NodeId } from '../raft/types.js';
import type { LinkFaults } from './protocol.js';
import type { NodeCounters, NodeHistograms } from './host.js';

export interface NodeControl {
  status(): Record<string, unknown>;
  metrics(): { counters: NodeCounters; histograms: Record<keyof NodeHistograms, string> };
  resetMetrics(): void;
  setFaults(faults: LinkFaults): void;
  transferLeadership(to: NodeId): boolean;
  campaign(): void;
  stop(): Promise<void>;
}
