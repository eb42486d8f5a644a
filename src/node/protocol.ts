// The data plane between the coordinator (main thread) and a node worker: raw postMessage records.
// The control plane (status, metrics, faults, snapshot, transfer) goes through comlink (src/node/control.ts).
import type { NodeId, Role } from '../raft/types.js';
import type { QueryResult, ReadQuery } from './queries.js';
import type { ChangeEvent, Key, ReplicaDigest, Value } from '../storage/command.js';
import type { ClusterErrorData } from '../errors.js';

/** Milestones of one proposal on the leader, in ms on the shared clock (performance.timeOrigin + now()). */
export interface StageTimes {
  /** Coordinator batch id. */
  id: number;
  received: number;
  persistStart: number;
  persistEnd: number;
  committed: number; // start of the write that applies it (commit known)
  applied: number;
}

export type ToNode =
  /** One coordinator batch = one raft entry (data is an encoded Command[]). `sentAt` for stage timing. */
  | { t: 'propose'; id: number; data: Uint8Array; sentAt: number }
  /**
   * A read barrier: answered once applied >= read index. With `queries`, the node answers them itself
   * (memory storage, whose state only the node's thread can see), at the coordinator's wall clock `now`.
   * 'stale' answers at once from local state.
   */
  | { t: 'read'; id: number; mode: 'linearizable' | 'lease' | 'stale'; queries: ReadQuery[] | null; now?: number; wall?: number }
  /** A new port to a peer (after that peer restarted). */
  | { t: 'peer'; id: NodeId; port: import('node:worker_threads').MessagePort }
  /** Watch (src/node/watch.ts): keep a ring of recent change events (on), or stop and forget it (off). */
  | { t: 'watch-retain'; on: boolean }
  /** Send the events of keys in `keys` or under `prefixes` from revision `from` (null: after what the node applied). */
  | { t: 'watch-sub'; sub: number; from: number | null; keys: Key[]; prefixes: Key[] }
  | { t: 'watch-unsub'; sub: number }
  | { t: 'stop' };

export type FromNode =
  | { t: 'ready'; id: NodeId }
  | { t: 'proposal-failed'; id: number; error: ClusterErrorData }
  /** Apply results of one Ready on the leader, packed by src/node/applied.ts. */
  | { t: 'applied'; bytes: Uint8Array }
  /** `bound` (values null): the latest real time the coordinator may judge the read's expiries at (host readBound). */
  | { t: 'read-ok'; id: number; index: number; values: QueryResult[] | null; bound?: number }
  | { t: 'read-failed'; id: number; error: ClusterErrorData }
  | { t: 'state'; id: NodeId; role: Role; leader: NodeId; term: number }
  /** A subscription's events (the first message answers 'watch-sub', possibly empty); the node has applied up to `upTo`. */
  /** `at`: when the node sent them (ms on the shared clock, nowMs()): for the apply → delivery latency in metrics(). */
  | { t: 'watch-events'; sub: number; events: ChangeEvent[]; upTo: number; at: number }
  /** The node no longer holds the subscription's revisions: it retains from `oldest`. The subscription is over. */
  | { t: 'watch-compacted'; sub: number; oldest: number }
  /** The digest ops this node applied (Cluster.checkReplicas). */
  | { t: 'digest'; digests: ReplicaDigest[] }
  | { t: 'fatal'; id: NodeId; error: { message: string; code?: string; stack?: string } }
  | { t: 'stopped'; id: NodeId };

export type { LinkFaults } from '../transport/types.js';
