// Node configuration: what the coordinator passes to each node worker.
import type { NodeId } from '../raft/types.js';

/** Timing in ticks of `tickMs`. Elections draw a timeout in [min, max) ticks. */
export interface Timing {
  tickMs: number;
  heartbeatTicks: number;
  electionTimeoutMinTicks: number;
  electionTimeoutMaxTicks: number;
}

/**
 * `fast` (default): fit for one process, where a "network" hop is a thread hop of ~0.1 ms:
 * heartbeat 100 ms, election timeout 500–1000 ms.
 * `seed`: the seed guide's values: heartbeat 500 ms, election timeout 1500–3000 ms.
 */
export const TIMING_PRESETS = {
  fast: { tickMs: 10, heartbeatTicks: 10, electionTimeoutMinTicks: 50, electionTimeoutMaxTicks: 100 },
  seed: { tickMs: 50, heartbeatTicks: 10, electionTimeoutMinTicks: 30, electionTimeoutMaxTicks: 60 },
} as const satisfies Record<string, Timing>;
export type TimingPreset = keyof typeof TIMING_PRESETS;

export type LogLevel = 'silent' | 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

export interface NodeOptions {
  id: NodeId;
  /** The bootstrap configuration (a stored snapshot or ConfChange entries in the log win over it). */
  voters: NodeId[];
  /** ...and its learners: a node added as a learner starts with the configuration that adds it. */
  learners?: NodeId[];
  /** The node's own directory (its LMDB environment). */
  dir: string;
  /** LMDB: the node's store was created before (a restart, a reopened cluster): see StoreOptions.existing. */
  existing?: boolean;
  /** The whole cluster is starting (Cluster.start): RaftConfig.coldStart. Never set for a node restarted alone. */
  coldStart?: boolean;
  storage: 'lmdb' | 'memory';
  pool: 'piscina' | 'inline';
  /** Synced writes. false is UNSAFE for durability (acknowledged writes may be lost on a machine crash). */
  sync: boolean;
  timing: Timing;
  /** Take a snapshot point every this many applied entries; the log behind the previous point is purged. */
  snapshotEveryEntries: number;
  /** ...or every this many bytes of applied entry data, whichever comes first (bounds the in-memory log). */
  snapshotEveryBytes: number;
  snapshotChunkBytes: number;
  snapshotInstallTimeoutMs: number;
  maxInflightMsgs: number;
  maxInflightBytes: number;
  maxMsgBytes: number;
  maxApplyBytes: number;
  /** Readies whose storage writes may be in flight at once (asynchronous storage writes; 1 = the classic loop). */
  maxOutstandingReadies: number;
  maxValueBytes: number;
  /** Record per-stage timestamps of the write path (small cost; see docs/profiling.md). */
  instrument: boolean;
  logLevel: LogLevel;
  /** A file path for logs; stderr when absent. */
  logFile?: string;
  /** Seed of the node's random source (election timeouts). */
  seed: number;
  /** Cache bounds of the state machine (least recently written keys evicted in apply); unbounded when absent. */
  maxKeys?: number;
  maxBytes?: number;
}

export const NODE_DEFAULTS = {
  snapshotEveryEntries: 10_000,
  snapshotEveryBytes: 64 * 1024 * 1024,
  snapshotChunkBytes: 1024 * 1024,
  snapshotInstallTimeoutMs: 30_000,
  maxInflightMsgs: 64,
  maxInflightBytes: 16 * 1024 * 1024,
  maxMsgBytes: 1024 * 1024,
  maxApplyBytes: 8 * 1024 * 1024,
  maxOutstandingReadies: 4,
  maxValueBytes: 1024 * 1024,
} as const;
