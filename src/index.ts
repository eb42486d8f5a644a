// threadraft's public API. Everything not exported here is internal and may change.
export { Cluster } from './cluster/cluster.js';
export type {
  BatchOp, BatchResult, CasResult, ClusterMetrics, Consistency, GetOptions, NodeStatus, CoordinatorCounters,
  PutOptions, ReadOptions, ScanOptions, ScanRangeInput, ScanPage, IncrOptions, GetOrSetOptions,
} from './cluster/cluster.js';
export type { CodecName } from './cluster/codec.js';
export type { ClusterOptions } from './cluster/options.js';
export type { MembershipOptions } from './cluster/membership.js';
export type { ReplicaCheck, ReplicaReport } from './cluster/replica-check.js';
export type { Watch, WatchEvent, WatchOptions, WatchTarget } from './cluster/watch.js';
export { ClusterError, ErrorCode, isClusterError } from './errors.js';
export type { ClusterErrorData } from './errors.js';
export { TIMING_PRESETS } from './node/config.js';
export type { Timing, TimingPreset, LogLevel } from './node/config.js';
export type { Value, OpResult } from './storage/command.js';
export type { KeyRecord } from './storage/types.js';
export type { KeyInput } from './cluster/validate.js';
export type { NodeId } from './raft/types.js';
export { STAGES } from './cluster/profile.js';
export type { Stage } from './cluster/profile.js';
export type { LatencySummaryMs } from './util/histogram.js';
export { RecordingClient } from './cluster/recording.js';
export { HistoryRecorder, readHistory, parseHistory } from './history/recorder.js';
export { checkLinearizable } from './history/checker.js';
export type { HistoryEvent } from './history/types.js';
export { HistoryError, HistoryErrorCode } from './history/types.js';
