// Public errors. Every error a user can see has a stable `code`. Errors cross thread boundaries as
// plain data (`toJSON`) and are rebuilt with `fromJSON`: Node 20 turns custom error classes sent
// through a MessagePort into plain Errors, losing code and fields.

export const ErrorCode = {
  /** The node asked is not the leader; `leader` carries the leader it knows (0 = unknown). */
  NOT_LEADER: 'NOT_LEADER',
  /** The operation did not complete in time. Its outcome is unknown: it may still take effect. */
  TIMEOUT: 'TIMEOUT',
  /** No leader with a quorum could be reached before the deadline. Its outcome is unknown as for TIMEOUT. */
  NO_QUORUM: 'NO_QUORUM',
  /** A storage failure (see `cause`). */
  STORAGE: 'STORAGE',
  /** The call's arguments are invalid; nothing was written. */
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  /** The cluster was stopped (or is stopping); nothing was written by this call. */
  CLUSTER_STOPPED: 'CLUSTER_STOPPED',
  /** Too many operations are queued; nothing was written by this call. Retry later. */
  BUSY: 'BUSY',
  /** The node named is crashed or unknown. */
  NODE_UNAVAILABLE: 'NODE_UNAVAILABLE',
  /** start(): `dir` holds a cluster created with another `nodes` (its node folders or the voters its stores recorded differ). Nothing was changed. */
  MEMBERSHIP_MISMATCH: 'MEMBERSHIP_MISMATCH',
  /** start(): the directory's stores were created with other cache bounds (maxKeys, maxBytes), which are fixed at creation. */
  BOUNDS_MISMATCH: 'BOUNDS_MISMATCH',
  /** start(): the directory was created with another `codec`, whose values this one would misread or write unreadable. Nothing was changed. */
  CODEC_MISMATCH: 'CODEC_MISMATCH',
  /** start(): `dir` is in use by another running cluster, of this process or another one. */
  DIR_LOCKED: 'DIR_LOCKED',
  /** incr()/decr(): the key's value is not a decimal integer, or the result would not be a safe integer. Nothing was written. */
  NOT_INTEGER: 'NOT_INTEGER',
  /** incrByFloat(): the key's value is not a float (as Redis's INCRBYFLOAT reads one). Nothing was written. */
  NOT_FLOAT: 'NOT_FLOAT',
  /** incrByFloat(): the sum would be infinite (Redis's "increment would produce NaN or Infinity"). Nothing was written. */
  NOT_FINITE: 'NOT_FINITE',
  /** pfCount(), a batch pfadd or pfmerge: a value is not a HyperLogLog (Redis's WRONGTYPE reply). Nothing was written. */
  NOT_HLL: 'NOT_HLL',
  /** pfCount(), a batch pfadd or pfmerge: a value is a HyperLogLog whose registers are broken (Redis's INVALIDOBJ). Nothing was written. */
  INVALID_HLL: 'INVALID_HLL',
  /**
   * A stored value the cluster's codec cannot decode (a value written raw through batch(), or an append, under the
   * `'json'` or `'msgpack'` codec): the read, or the watch that met it, fails with this code; nothing was changed.
   */
  NOT_DECODABLE: 'NOT_DECODABLE',
  /** watch(): `fromRevision` is older than the oldest revision the nodes retain (etcd's ErrCompacted). */
  WATCH_COMPACTED: 'WATCH_COMPACTED',
  /** watch(): the watcher's buffer was full (a slow consumer); resume from its `nextRevision`. */
  WATCH_OVERFLOW: 'WATCH_OVERFLOW',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface ClusterErrorData {
  name: 'ClusterError';
  code: ErrorCode;
  message: string;
  leader?: number;
  cause?: unknown;
}

export class ClusterError extends Error {
  override readonly name = 'ClusterError';
  readonly code: ErrorCode;
  readonly leader: number | undefined;

  constructor(code: ErrorCode, message: string, extra: { leader?: number; cause?: unknown } = {}) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.code = code;
    this.leader = extra.leader;
  }

  toJSON(): ClusterErrorData {
    return errorData(this.code, this.message, { leader: this.leader, cause: this.cause });
  }

  static fromJSON(data: ClusterErrorData): ClusterError {
    const extra: { leader?: number; cause?: unknown } = {};
    if (data.leader !== undefined) extra.leader = data.leader;
    if (data.cause !== undefined) extra.cause = data.cause;
    return new ClusterError(data.code, data.message, extra);
  }
}

/**
 * An error's wire form without making the error (internal: not exported by the package). A node host answers this
 * way every proposal or read it cannot serve; an Error would capture a stack trace only to drop it.
 */
export function errorData(code: ErrorCode, message: string, extra: { leader?: number | undefined; cause?: unknown } = {}): ClusterErrorData {
  const data: ClusterErrorData = { name: 'ClusterError', code, message };
  if (extra.leader !== undefined) data.leader = extra.leader;
  if (extra.cause !== undefined) data.cause = extra.cause;
  return data;
}

export function isClusterError(e: unknown, code?: ErrorCode): e is ClusterError {
  return e instanceof ClusterError && (code === undefined || e.code === code);
}
