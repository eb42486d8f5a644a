// The coordinator's public face: the client API on the main thread. Writes go through the write pipeline
// (./writes.ts: one proposal per event-loop turn, exactly once), reads through the read pipeline (./reads.ts:
// one barrier round per turn, answered by the state reader of the storage kind); this file checks arguments,
// encodes values with the cluster's codec, and runs the control plane.
import { existsSync, mkdtempSync, mkdirSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NodeId, RaftStatus } from '../raft/types.js';
import { type BitField, fieldProblem } from '../storage/bitfield.js';
import { pfcount } from '../storage/hyperloglog.js';
import { BIT_OPS, type BitOp, EXPIRE_CONDS, type ExpireCond, type Op, type OpResult, type Value } from '../storage/command.js';
import type { FromNode } from '../node/protocol.js';
import { decodeApplied } from '../node/applied.js';
import type { KeyRecord, QueryResult, ReadQuery } from '../node/queries.js';
import { ClusterError, ErrorCode } from '../errors.js';
import { nowMs, type LatencySummaryMs } from '../util/histogram.js';
import { NodeSet, unlessDown, withTimeout, type NodeHandle } from './nodes.js';
import { nodeOptions, prepareDir, resolveOptions, type ClusterOptions, type ResolvedOptions } from './options.js';
import { acquireClusterLock, type DirLock } from '../storage/lock.js';
import { DATA_FILE, hasLog } from '../storage/lmdb.js';
import { asBuffer } from '../storage/codec.js';
import { isStorageError, StorageErrorCode } from '../storage/errors.js';
import { checkKey, floatText, int64Text, MAX_TIMEOUT_MS, toKey, toPrefix, toValue, oneOf, positiveInt, show, type KeyInput } from './validate.js';
import { WriteProfile, type Stage } from './profile.js';
import type { CoordinatorCounters, PipelineContext } from './pipeline.js';
import { WritePipeline } from './writes.js';
import { LmdbReaders, NodeReaders, ReadPipeline, type Consistency, type StateReaders } from './reads.js';
import { codecFor, type ValueCodec } from './codec.js';
import {
  consistencyOption, keyOut, MAX_TTL_MS, opResult, optionsObject, unknownKey, pairBytes, READ_OPTION_KEYS, putOptions, readOptions, scanOptions, scanRange, encodeCursor, ttlMs,
  type PutOptions, type ReadOptions, type ScanOptions, type ScanRangeInput,
} from './cache-args.js';
import { WatchHub, type Watch, type WatchOptions, type WatchTarget } from './watch.js';
import { MembershipControl, type ConfigStatus, type MembershipOptions } from './membership.js';
import { beginCreation, checkCodec, checkManifest, checkNodeFolders, creationCutShort, endCreation, nodeFolders, readManifest, type Manifest } from './manifest.js';
import { ReplicaChecks, replicaVerdict, type ReplicaCheck } from './replica-check.js';
import { memoryBytes, threadMemory, type ThreadMemory } from '../util/thread-health.js';

export type { Consistency } from './reads.js';
export type { CoordinatorCounters } from './pipeline.js';
export type { PutOptions, ReadOptions, ScanOptions, ScanRangeInput } from './cache-args.js';
export { inSessionWindow } from './writes.js';

/** get()'s options: those of every read. */
export type GetOptions = ReadOptions;

/**
 * One operation of batch(). A batch is one log entry, applied atomically; ops see the writes of the ops before
 * them. A failed `cas` or `check` rejects the whole batch (nothing applies, BatchResult.ok false); an op whose own
 * condition fails (put's `condition`, expire's, persist of a key without expiry, incr of a value that is not an
 * integer: NOT_INTEGER, or past 64 bits: OVERFLOW, incrbyfloat's NOT_FLOAT and NOT_FINITE, append past the value limit: VALUE_TOO_LARGE) has ok false, writes nothing, and the
 * others still apply, as in a Redis MULTI/EXEC.
 */
export type BatchOp =
  /** `condition`: write only if the key is 'absent' (Redis SET NX) or 'present' (SET XX). `atMs`: expire at that time (ms since the epoch; already past: the key is deleted), instead of `ttlMs`. */
  | { type: 'put'; key: KeyInput; value: Value; ttlMs?: number; atMs?: number; keepTtl?: boolean; condition?: 'absent' | 'present' }
  | { type: 'delete'; key: KeyInput }
  | { type: 'cas'; key: KeyInput; expected: Value | null; value: Value | null; ttlMs?: number; keepTtl?: boolean }
  /** Read the key as the batch sees it so far: `current` (null: absent), ok says whether it is present. */
  | { type: 'get'; key: KeyInput }
  /** Read the key's expiry as the batch sees it so far (Redis's TTL inside MULTI): ok says whether it is present; `ttlMs` the ms left at the batch's time and `expiresAt` the expiry (ms since the epoch), both -1 without one. */
  | { type: 'ttl'; key: KeyInput }
  /** Reject the batch unless the key's revision (revision()) before the batch is `revision` (0: absent). */
  | { type: 'check'; key: KeyInput; revision: number }
  /** Expire `ttlMs` after the write (<= 0: delete now) or at `atMs` (ms since the epoch; past: delete now); `condition`: Redis's NX, XX, GT, LT, and XX LT ('xx-lt'). */
  | { type: 'expire'; key: KeyInput; ttlMs?: number; atMs?: number; condition?: ExpireCond }
  | { type: 'persist'; key: KeyInput }
  /**
   * `value` of the result: the new integer as a decimal string. `by` a safe integer (default 1): the value and the
   * result must be safe integers (NOT_INTEGER); `by` a 64-bit integer's text: Redis's INCRBY, all 64 bits
   * (NOT_INTEGER for a value past them, OVERFLOW for a result past them).
   */
  | { type: 'incr'; key: KeyInput; by?: number | string }
  /** Redis INCRBYFLOAT (see incrByFloat()): `value` of the result is the new value as Redis writes it; NOT_FLOAT, NOT_FINITE as errors of the op. */
  | { type: 'incrbyfloat'; key: KeyInput; by: number | string }
  /** `n` of the result: the new length in bytes. */
  | { type: 'append'; key: KeyInput; value: Value }
  /** Write `value`'s bytes at byte `offset`, zeros filling a gap (Redis SETRANGE; the expiry stays). `n` of the result: the new length in bytes. */
  | { type: 'setrange'; key: KeyInput; offset: number; value: Value }
  /** Set bit `offset` to `bit` (Redis SETBIT: bit 0 is the first byte's most significant; zeros fill a gap; the expiry stays). `n` of the result: the bit before. */
  | { type: 'setbit'; key: KeyInput; offset: number; bit: 0 | 1 }
  /**
   * Write to `key` the bitwise `operation` of the values of `keys` (Redis BITOP: absent values are empty, shorter
   * ones padded with zero bytes; 'not' takes one key), without expiry; all empty: `key` is deleted. `n` of the
   * result: the new length in bytes.
   */
  | { type: 'bitop'; key: KeyInput; operation: BitOp; keys: KeyInput[] }
  /**
   * Redis BITFIELD: each field an integer of `bits` bits (signed: 1 to 64, else 1 to 63) at bit `offset`: 'get' it,
   * 'set' it to `value` or 'incrby' `value` (a safe integer or a 64-bit integer's text), with Redis's `overflow`
   * ('wrap' by default, 'sat', 'fail'). `values` of the result: per field its reply as decimal text, or null (an
   * overflow under 'fail'). A set or incrby grows the value with zero bytes to every field written; the expiry stays.
   */
  | { type: 'bitfield'; key: KeyInput; fields: Array<{ op: 'get' | 'set' | 'incrby'; signed: boolean; bits: number; offset: number; value?: number | string; overflow?: 'wrap' | 'sat' | 'fail' }> }
  /**
   * Redis PFADD: add `elements` to the HyperLogLog the key holds (absent: a new one), byte for byte as Redis's; the
   * expiry stays. `changed` of the result: whether PFADD answers 1 (the key is new or the estimate may have changed;
   * otherwise nothing is written). Errors of the op: NOT_HLL (the value is not an HLL), INVALID_HLL (a broken one).
   */
  | { type: 'pfadd'; key: KeyInput; elements: Value[] }
  /**
   * Redis PFMERGE: the union of the HyperLogLogs of the key and of `keys` (absent ones empty) written to the key; the
   * expiry stays. Errors of the op as pfadd's. (PFCOUNT: pfCount().)
   */
  | { type: 'pfmerge'; key: KeyInput; keys: KeyInput[] }
  /**
   * Redis PFDEBUG TODENSE: the HyperLogLog the key holds made dense (the same registers; 12,304 bytes), the expiry
   * kept. ok: false when the key is absent; `changed`: whether it was sparse (then written); `current`: the dense
   * value. Errors of the op as pfadd's.
   */
  | { type: 'pftodense'; key: KeyInput }
  /**
   * Move the key's value and expiry to `to`, replacing what it held (Redis RENAME; `condition: 'absent'`: RENAMENX,
   * only when `to` is absent). ok: false when the key is absent (`existed: false`) or the condition fails.
   */
  | { type: 'rename'; key: KeyInput; to: KeyInput; condition?: 'absent' }
  /** Copy the key's value and expiry to another key `to` (Redis COPY; `replace`: over what it holds). ok and `existed` as rename's. */
  | { type: 'copy'; key: KeyInput; to: KeyInput; replace?: boolean }
  /**
   * Redis MSETNX: write every `[key, value]` of `entries` (without expiry) only when none of their keys is present
   * as the batch sees it so far; ok says whether they were written. Each entry counts as an operation toward
   * maxBatchOps.
   */
  | { type: 'msetnx'; entries: Array<[KeyInput, Value]> }
  /**
   * Remove every key (Redis FLUSHDB inside MULTI), or every key starting with `prefix` (as scan's; '' is every key):
   * the ops after it see them absent. `n` of the result: the live keys it removed.
   */
  | { type: 'clear'; prefix?: KeyInput }
  /** Count the live keys as the batch sees them so far (Redis DBSIZE inside MULTI): `n` of the result. */
  | { type: 'size' };

export interface CasResult<V = Value> {
  /** Whether the value matched `expected` and was replaced. */
  ok: boolean;
  /** The value now (undefined: absent): `value` when ok, else the value found. */
  current: V | undefined;
}

export interface BatchResult {
  /** False when a cas did not match or a check failed: then no operation of the batch was applied. */
  ok: boolean;
  results: OpResult[];
}

export interface ScanPage<V = Value> {
  /** [key, value] in byte order of the keys (descending with `reverse`); a key is a string when its bytes are UTF-8, else a Buffer. */
  items: Array<[string | Uint8Array, V]>;
  /** Pass as `cursor` for the next page; absent on the last page. */
  cursor?: string;
}

export interface IncrOptions {
  /** The expiry of a key the increment creates; an existing key keeps its own (as Redis's INCR). */
  ttlMs?: number;
}

export interface GetOrSetOptions {
  /** The loaded value's time-to-live. */
  ttlMs?: number;
  /** Of the first read (default 'linearizable'). */
  consistency?: Consistency;
}

export interface NodeStatus {
  id: NodeId;
  alive: boolean;
  role: string;
  /** Its place in the configuration the leader holds: a voter, a learner, or (no leader known) unknown. */
  member: 'voter' | 'learner' | 'unknown';
  /** Entries it is behind the leader's last index, from the leader's progress (the leader: 0; unknown without a leader). */
  lag?: number;
  term: number;
  leader: NodeId;
  commit?: number;
  applied?: number;
  lastIndex?: number;
  snapshotIndex?: number;
  error?: string;
}

/** A node's place in the leader's configuration and its lag behind the leader's log (status(), metrics()). */
function memberOf(ls: ConfigStatus | undefined, id: NodeId): Pick<NodeStatus, 'member' | 'lag'> {
  if (ls === undefined) return { member: 'unknown' };
  const member = ls.membership.voters.includes(id) ? 'voter' : ls.membership.learners.includes(id) ? 'learner' : 'unknown';
  if (id === ls.id) return { member, lag: 0 };
  const match = ls.progress?.[id]?.match;
  return match === undefined ? { member } : { member, lag: Math.max(0, ls.lastIndex - match) };
}

/** A node's memory from its metrics counters: its thread's heap in use and external memory, and its pool thread's. */
export function nodeMemoryBytes(c: Record<string, number>): number {
  return (c.heapUsedBytes ?? 0) + (c.externalBytes ?? 0) + (c.poolHeapUsedBytes ?? 0) + (c.poolExternalBytes ?? 0);
}

const SWEEP_MS = 50;
/** How often waitReplicas() reads the leader's progress again. */
const WAIT_POLL_MS = 5;

/**
 * start(): the cluster lock's DIR_LOCKED, and a node store's MEMBERSHIP_MISMATCH or BOUNDS_MISMATCH (reported as STORAGE from
 * its thread), as the stable codes users can act on. (A node store's own lock held by another process
 * stays STORAGE: the cluster lock reports a directory in use first.)
 */
function startError(err: unknown): unknown {
  // The storage error's message begins with its code, which the ClusterError carries as its own.
  if (isStorageError(err, StorageErrorCode.DIR_LOCKED)) return new ClusterError(ErrorCode.DIR_LOCKED, err.message.replace(/^DIR_LOCKED: /, ''), { cause: err });
  const code = nodeErrorCode(err);
  if (code !== ErrorCode.MEMBERSHIP_MISMATCH && code !== ErrorCode.BOUNDS_MISMATCH && code !== ErrorCode.DIR_LOCKED) return err;
  return new ClusterError(code, (err as Error).message, { cause: err });
}

/** Remove `d` if it is an empty directory (a node folder a failed start made and no store was created in). */
function rmEmptyDir(d: string): void {
  try {
    rmdirSync(d);
  } catch {
    // not empty, or gone: left as it is
  }
}

/** The storage code of a node's failure (a ClusterError whose cause is the node's StorageError data), if any. */
function nodeErrorCode(err: unknown): unknown {
  return err instanceof ClusterError ? (err.cause as { code?: unknown } | undefined)?.code : undefined;
}

/**
 * Whether a start with these nodes failed goes on without them: only when each failed on a damaged store
 * (CORRUPT: its log cannot be trusted, and no restart will mend it) and the voters that started are a majority,
 * as a replicated store goes on without a replica whose disk failed. The damaged nodes stay down, their error in
 * status(); replaceNode() swaps one for a new node. Anything else (a format, a membership, bounds, an I/O error:
 * the directory or the options, not one replica) fails the start with that error (the lowest node's).
 */
function refuseFailedStart(failed: Map<NodeId, unknown>, voters: readonly NodeId[]): void {
  if (failed.size === 0) return;
  const damaged = [...failed.values()].every((e) => nodeErrorCode(e) === StorageErrorCode.CORRUPT);
  const up = voters.filter((id) => !failed.has(id)).length;
  if (damaged && up > voters.length / 2) return;
  // A failure of the directory or the options (not CORRUPT) says more than a damaged node: it first, by node id.
  const byId = [...failed].sort(([a], [b]) => a - b).map(([, e]) => e);
  throw byId.find((e) => nodeErrorCode(e) !== StorageErrorCode.CORRUPT) ?? byId[0];
}

/**
 * The fields each batch() op type takes besides `type`. Any other is refused, as every options object is: a
 * misspelt `ttl` or the state machine's `cond` would otherwise write without the expiry or the condition meant.
 */
const BATCH_OP_FIELDS: { readonly [T in BatchOp['type']]: readonly string[] } = {
  put: ['key', 'value', 'ttlMs', 'atMs', 'keepTtl', 'condition'],
  delete: ['key'],
  cas: ['key', 'expected', 'value', 'ttlMs', 'keepTtl'],
  get: ['key'],
  ttl: ['key'],
  check: ['key', 'revision'],
  expire: ['key', 'ttlMs', 'atMs', 'condition'],
  persist: ['key'],
  incr: ['key', 'by'],
  incrbyfloat: ['key', 'by'],
  append: ['key', 'value'],
  setrange: ['key', 'offset', 'value'],
  setbit: ['key', 'offset', 'bit'],
  bitop: ['key', 'operation', 'keys'],
  bitfield: ['key', 'fields'],
  pfadd: ['key', 'elements'],
  pfmerge: ['key', 'keys'],
  pftodense: ['key'],
  rename: ['key', 'to', 'condition'],
  copy: ['key', 'to', 'replace'],
  msetnx: ['entries'],
  clear: ['prefix'],
  size: [],
};
const BATCH_OP_TYPES = Object.keys(BATCH_OP_FIELDS) as Array<BatchOp['type']>;
/** What an op of each type may hold: `type` and its fields. */
const BATCH_OP_KEYS = new Map(BATCH_OP_TYPES.map((t) => [t, ['type', ...BATCH_OP_FIELDS[t]]]));
const BITFIELD_FIELDS: readonly string[] = ['op', 'signed', 'bits', 'offset', 'value', 'overflow'];

/** A clear's op: of every key, or of those starting with `prefix` when it is not empty. */
function clearOp(prefix: Uint8Array | undefined): Op {
  return prefix === undefined || prefix.length === 0 ? { t: 'clear' } : { t: 'clearprefix', prefix };
}

/** A batch() op as the state machine's Op, its arguments checked (INVALID_ARGUMENT). Internal: also the calls of a Lua script (src/resp/scripting.ts). */
export function batchOp(o: BatchOp, maxValueBytes: number): Op {
  if (o === null || typeof o !== 'object') throw new ClusterError(ErrorCode.INVALID_ARGUMENT, 'batch operations must be objects');
  const type = oneOf('batch op type', (o as { type?: unknown }).type, BATCH_OP_TYPES);
  const x = o as Record<string, unknown>;
  const known = BATCH_OP_KEYS.get(type)!;
  const unknown = unknownKey(x, known);
  if (unknown !== undefined) throw new ClusterError(ErrorCode.INVALID_ARGUMENT, `batch ${type}: unknown field ${unknown} (it takes ${known.join(', ')})`);
  if (type === 'size') return { t: type };
  if (type === 'clear') return clearOp(x.prefix === undefined ? undefined : toPrefix(x.prefix));
  if (type === 'msetnx') {
    if (!Array.isArray(x.entries) || x.entries.length === 0) throw new ClusterError(ErrorCode.INVALID_ARGUMENT, 'batch msetnx: entries must be a non-empty array of [key, value]');
    return {
      t: 'msetnx',
      pairs: x.entries.map((e: unknown, i) => {
        if (!Array.isArray(e) || e.length !== 2) throw new ClusterError(ErrorCode.INVALID_ARGUMENT, `batch msetnx: entry ${i} is not a [key, value] pair`);
        return [toKey(e[0]), toValue(e[1], maxValueBytes, false)];
      }),
    };
  }
  const key = toKey(x.key);
  // Expiry options of a put or cas: the same rules as put()'s options (ttlMs, keepTtl); an absent one is undefined to putOptions too.
  const expiry = (): ReturnType<typeof putOptions> => putOptions('batch', { ttlMs: x.ttlMs, keepTtl: x.keepTtl });
  switch (type) {
    case 'put': {
      const op: Op = { t: 'put', key, value: toValue(x.value, maxValueBytes, false), ...expiry() };
      if (x.atMs !== undefined) {
        if (op.ttlMs !== undefined || op.keepTtl) throw new ClusterError(ErrorCode.INVALID_ARGUMENT, 'batch put: atMs goes without ttlMs and keepTtl');
        op.atMs = positiveInt('put atMs', x.atMs, 0, Date.now() + MAX_TTL_MS);
      }
      if (x.condition !== undefined) op.cond = oneOf('put condition', x.condition, ['absent', 'present'] as const) === 'absent' ? 'nx' : 'xx';
      return op;
    }
    case 'delete':
      return { t: 'del', key };
    case 'cas':
      return { t: 'cas', key, expected: toValue(x.expected ?? null, maxValueBytes, true), value: toValue(x.value ?? null, maxValueBytes, true), ...expiry() };
    case 'get':
      return { t: 'get', key };
    case 'ttl':
      return { t: 'ttl', key };
    case 'check':
      return { t: 'check', key, rev: positiveInt('check revision', x.revision, 0, Number.MAX_SAFE_INTEGER) };
    case 'expire': {
      if ((x.ttlMs === undefined) === (x.atMs === undefined)) throw new ClusterError(ErrorCode.INVALID_ARGUMENT, 'batch expire: give ttlMs or atMs (one of them)');
      const op: Op = x.ttlMs !== undefined
        ? { t: 'expire', key, ttlMs: positiveInt('expire ttlMs', x.ttlMs, -MAX_TTL_MS, MAX_TTL_MS) }
        : { t: 'expire', key, atMs: positiveInt('expire atMs', x.atMs, 0, Date.now() + MAX_TTL_MS) };
      if (x.condition !== undefined) op.cond = oneOf('expire condition', x.condition, EXPIRE_CONDS);
      return op;
    }
    case 'persist':
      return { t: 'persist', key };
    case 'incr':
      return { t: 'incr', key, by: x.by === undefined ? 1 : typeof x.by === 'string' ? int64Text('batch incr by', x.by) : positiveInt('incr by', x.by, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER) };
    case 'incrbyfloat':
      return { t: 'incrbyfloat', key, by: floatText('batch incrbyfloat', x.by) };
    case 'append':
      return { t: 'append', key, value: toValue(x.value, maxValueBytes, false) };
    case 'setrange':
      return { t: 'setrange', key, offset: positiveInt('setrange offset', x.offset, 0, Number.MAX_SAFE_INTEGER), value: toValue(x.value, maxValueBytes, false) };
    case 'setbit': {
      if (x.bit !== 0 && x.bit !== 1) throw new ClusterError(ErrorCode.INVALID_ARGUMENT, `batch setbit: bit must be 0 or 1, got ${show(x.bit)}`);
      return { t: 'setbit', key, offset: positiveInt('setbit offset', x.offset, 0, Number.MAX_SAFE_INTEGER), bit: x.bit };
    }
    case 'bitop': {
      const op = oneOf('bitop operation', x.operation, BIT_OPS);
      if (!Array.isArray(x.keys) || x.keys.length === 0) throw new ClusterError(ErrorCode.INVALID_ARGUMENT, 'batch bitop: keys must be a non-empty array');
      if (op === 'not' && x.keys.length !== 1) throw new ClusterError(ErrorCode.INVALID_ARGUMENT, 'batch bitop: not takes one key');
      return { t: 'bitop', key, op, from: x.keys.map((k) => toKey(k)) };
    }
    case 'bitfield': {
      if (!Array.isArray(x.fields) || x.fields.length === 0) throw new ClusterError(ErrorCode.INVALID_ARGUMENT, 'batch bitfield: fields must be a non-empty array');
      return { t: 'bitfield', key, fields: x.fields.map((f: unknown, i) => bitField(f, i)) };
    }
    case 'pfadd':
      if (!Array.isArray(x.elements)) throw new ClusterError(ErrorCode.INVALID_ARGUMENT, 'batch pfadd: elements must be an array');
      return { t: 'pfadd', key, elements: x.elements.map((e) => toValue(e, maxValueBytes, false)) };
    case 'pfmerge':
      if (!Array.isArray(x.keys)) throw new ClusterError(ErrorCode.INVALID_ARGUMENT, 'batch pfmerge: keys must be an array');
      return { t: 'pfmerge', key, from: x.keys.map((k) => toKey(k)) };
    case 'pftodense':
      return { t: 'pftodense', key };
    case 'rename': {
      const op: Op = { t: 'rename', key, to: toKey(x.to) };
      if (x.condition !== undefined && oneOf('rename condition', x.condition, ['absent'] as const)) op.nx = true;
      return op;
    }
    case 'copy': {
      const op: Op = { t: 'copy', key, to: toKey(x.to) };
      if (asBuffer(op.to).equals(key)) throw new ClusterError(ErrorCode.INVALID_ARGUMENT, 'batch copy: key and to are the same key');
      if (x.replace !== undefined && typeof x.replace !== 'boolean') throw new ClusterError(ErrorCode.INVALID_ARGUMENT, 'batch copy: replace must be a boolean');
      if (x.replace === true) op.replace = true;
      return op;
    }
  }
}

/** A batch bitfield's field as the state machine's (INVALID_ARGUMENT naming field `i` when it is not one). */
function bitField(f: unknown, i: number): BitField {
  const x = (typeof f === 'object' && f !== null ? f : {}) as Record<string, unknown>;
  const unknown = unknownKey(x, BITFIELD_FIELDS);
  if (unknown !== undefined) throw new ClusterError(ErrorCode.INVALID_ARGUMENT, `batch bitfield: field ${i} has an unknown field ${unknown} (it takes ${BITFIELD_FIELDS.join(', ')})`);
  const value = typeof x.value === 'number' && Number.isSafeInteger(x.value) ? String(x.value) : x.value;
  const field = { op: x.op, signed: x.signed, bits: x.bits, offset: x.offset, ...(value === undefined ? {} : { value }), ...(x.overflow === undefined ? {} : { overflow: x.overflow }) } as BitField;
  if (fieldProblem(field) || (x.op === 'get' && value !== undefined)) {
    let got: string;
    try {
      got = JSON.stringify(f)?.slice(0, 200) ?? show(f);
    } catch {
      got = show(f);
    }
    throw new ClusterError(ErrorCode.INVALID_ARGUMENT, `batch bitfield: field ${i} must be {op: 'get'|'set'|'incrby', signed, bits (signed 1-64, unsigned 1-63), offset >= 0, value (set, incrby: a safe integer or a 64-bit integer's text), overflow?: 'wrap'|'sat'|'fail'}, got ${got}`);
  }
  return field;
}

/** A key's bytes as a map key (one string per byte sequence). */
function keyId(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
}

/**
 * A cluster whose values are `V`: strings and bytes with the 'raw' codec (the default), any value its codec
 * serialises with 'json' or 'msgpack'. Absence is `undefined` everywhere.
 */
export class Cluster<V = Value> {
  private readonly nodes: NodeSet;
  private readonly membership: MembershipControl;
  private readonly readers: StateReaders;
  private stopped = false;
  private stopping: Promise<void> | undefined;
  private flushScheduled = false;
  private readonly sweepTimer: NodeJS.Timeout;
  private readonly writes: WritePipeline;
  private readonly reads: ReadPipeline;
  private readonly codec: ValueCodec;
  /** getOrSet(): the loads in flight, by key; concurrent callers share one. */
  private readonly loading = new Map<string, { promise: Promise<Value | undefined>; abandon(err: ClusterError): void }>();
  /** LMDB: this cluster's hold on `dir` against other clusters (released by stop()). */
  private dirLock: DirLock | undefined;
  readonly profile = new WriteProfile();
  private readonly watches: WatchHub;
  private readonly replicaChecks = new ReplicaChecks();
  readonly counters: CoordinatorCounters = { writes: 0, reads: 0, batchesSent: 0, readRoundsSent: 0, retries: 0, resends: 0, timeouts: 0, busy: 0, leaderChanges: 0 };

  private constructor(
    private readonly opts: ResolvedOptions,
    readonly dir: string,
    private readonly ownDir: boolean,
  ) {
    this.nodes = new NodeSet({
      message: (id, msg) => this.onNodeMessage(id, msg),
      down: (id) => {
        this.reads.nodeDown(id);
        this.scheduleFlush();
        this.watches.nodeDown(id);
      },
      leaderChanged: () => {
        this.onLeaderChanged();
        this.watches.leaderChanged();
      },
    });
    this.membership = new MembershipControl(this.nodes, opts, dir, (id) => this.readers.forget(id));
    this.watches = new WatchHub({
      leader: () => this.nodes.leader,
      alive: () => this.nodes.alive().filter((h) => h.worker !== undefined).map((h) => h.id), // not one being crashed
      post: (id, msg) => this.nodes.post(id, msg),
      decode: (v) => this.codec.decode(v),
    });
    const t = opts.timing;
    const ctx: PipelineContext = {
      opts,
      nodes: this.nodes,
      counters: this.counters,
      retryAfterMs: 2 * t.electionTimeoutMaxTicks * t.tickMs,
      scheduleFlush: () => this.scheduleFlush(),
      pendingOps: () => this.pendingCalls,
    };
    this.writes = new WritePipeline(ctx, this.profile);
    this.readers = opts.storage === 'lmdb' ? new LmdbReaders((id) => this.nodes.get(id).options.dir) : new NodeReaders();
    this.reads = new ReadPipeline(ctx, this.readers);
    this.codec = codecFor(opts.codec);
    this.sweepTimer = setInterval(() => this.sweep(), SWEEP_MS);
    this.sweepTimer.unref();
  }

  /** Start a cluster: one worker thread per node, each with its own storage; resolves once a leader is elected. */
  static start(options?: ClusterOptions & { codec?: 'raw' }): Promise<Cluster<Value>>;
  static start<V = unknown>(options: ClusterOptions & { codec: 'json' | 'msgpack' }): Promise<Cluster<V>>;
  /** Options whose codec is known only at run time: `V` is the caller's word (default: the raw codec's values). */
  static start<V = Value>(options?: ClusterOptions): Promise<Cluster<V>>;
  static async start(options?: ClusterOptions): Promise<Cluster<unknown>> {
    const resolved = resolveOptions(options);
    if (resolved.storage === 'memory' && resolved.dir !== undefined && existsSync(resolved.dir) && statSync(resolved.dir).isDirectory() && nodeFolders(resolved.dir, DATA_FILE).length > 0) {
      // Memory storage keeps nothing on disk: started on an LMDB cluster's directory, its data would look gone.
      throw new ClusterError(ErrorCode.INVALID_ARGUMENT, `dir ${resolved.dir} holds an LMDB cluster, which storage: 'memory' would not open: start it with storage: 'lmdb'`);
    }
    const ownDir = resolved.dir === undefined;
    const dir = resolved.dir ?? mkdtempSync(join(tmpdir(), 'threadraft-'));
    // A reopen without `nodes` adopts the directory's membership; with `nodes`, it must match (MEMBERSHIP_MISMATCH).
    const explicitNodes = options?.nodes !== undefined;
    const held = resolved.storage === 'lmdb' ? Cluster.holdDir(dir, resolved.nodes, ownDir, explicitNodes, resolved.codec) : undefined;
    const o: ResolvedOptions = held?.manifest ? { ...resolved, nodes: held.manifest.voters.length } : { ...resolved, nodes: held?.nodes ?? resolved.nodes };
    const cluster = new Cluster<unknown>(o, dir, ownDir);
    cluster.dirLock = held?.lock;
    if (held?.manifest?.retired) cluster.membership.adoptRetired(held.manifest.retired);
    const made: string[] = []; // node folders this start made: removed again if it fails
    try {
      const nodeDir = (id: NodeId): string => {
        const d = join(dir, `node-${id}`);
        if (o.storage === 'lmdb' && mkdirSync(d, { recursive: true }) !== undefined) made.push(d);
        return d;
      };
      // A new cluster: marked as being created until every node has started on its store (manifest.ts).
      if (held?.create === true) beginCreation(dir, o.codec);
      const voters = Array.from({ length: o.nodes }, (_, i) => i + 1);
      const all = held?.manifest
        ? held.manifest.nodes.map((n) => ({ ...nodeOptions(o, n.id, n.voters, nodeDir(n.id)), ...(n.learners === undefined ? {} : { learners: n.learners }) }))
        : voters.map((id) => nodeOptions(o, id, voters, nodeDir(id)));
      // A directory where some node's log holds something was started before: every node's store must exist then.
      // (Where none does, no node ever synced a vote: a start cut short before any did begins again.)
      if (o.storage === 'lmdb' && all.some((n) => hasLog(n.dir))) for (const n of all) n.existing = true;
      const failed = await cluster.nodes.startAll(all);
      refuseFailedStart(failed, held?.manifest?.voters ?? voters);
      if (held?.create === true && failed.size === 0) endCreation(dir, all.map((n) => n.dir));
      await cluster.campaignAtStart();
      await cluster.waitForLeader(o.startTimeoutMs);
      const t = o.timing;
      await cluster.membership.refreshManifest(held?.manifest ?? { voters, learners: [] }, 2 * t.electionTimeoutMaxTicks * t.tickMs);
      return cluster;
    } catch (err) {
      await cluster.stop();
      for (const d of made) rmEmptyDir(d);
      throw startError(err);
    }
  }

  /**
   * Every node has just started and none has heard from a leader: one voter campaigns now instead of after its
   * randomized election timeout (0.5 to 1 s with the default timing), as Openraft's `initialize` starts an election
   * on the node it runs on. Campaigning is always safe in Raft; this only moves the first election earlier. The
   * voter with the longest log is asked (its votes are likeliest granted); with pre-vote it asks first, so a node
   * whose log is behind changes no term, and the election timeouts remain the fallback for anything that fails here.
   */
  private async campaignAtStart(): Promise<void> {
    let best: { h: NodeHandle; lastIndex: number } | undefined;
    for (const h of this.nodes.alive()) {
      try {
        const s = (await h.control!.status()) as unknown as RaftStatus;
        if (!s.membership.voters.includes(h.id)) continue;
        if (best === undefined || s.lastIndex > best.lastIndex) best = { h, lastIndex: s.lastIndex };
      } catch {
        // A node that cannot answer is left to the election timeouts.
      }
    }
    try {
      await best?.h.control!.campaign();
    } catch {
      // As above: the election timeouts elect a leader without it.
    }
  }

  /**
   * LMDB: check `dir` before anything is created in it, hold it against other clusters, check its node folders:
   * against its membership manifest once the membership changed (manifest.ts), else against nodes 1..`nodes`
   * (without an explicit `nodes`, the folders 1..k found are adopted); and a reopen against the codec it was created with.
   */
  private static holdDir(dir: string, nodes: number, ownDir: boolean, explicitNodes: boolean, codec: string): { lock: DirLock; manifest?: Manifest; nodes: number; create: boolean } {
    if (!ownDir) prepareDir(dir);
    let lock: DirLock;
    try {
      lock = acquireClusterLock(dir);
    } catch (err) {
      throw startError(err);
    }
    try {
      if (creationCutShort(dir)) return { lock, nodes, create: true }; // begun again from nothing (manifest.ts)
      const stored = readManifest(dir);
      if (stored) {
        const manifest = checkManifest(dir, stored, explicitNodes ? nodes : undefined, DATA_FILE);
        checkCodec(dir, codec);
        return { lock, manifest, nodes: manifest.voters.length, create: false };
      }
      const found = checkNodeFolders(dir, explicitNodes ? nodes : undefined, DATA_FILE);
      if (found !== undefined) checkCodec(dir, codec);
      return { lock, nodes: found ?? nodes, create: found === undefined };
    } catch (err) {
      lock.release();
      throw err;
    }
  }

  // ───────────────────────────── writes ─────────────────────────────

  /**
   * Write `value` under `key`, with an expiry `ttlMs` after the write (else none, unless `keepTtl` keeps the
   * current one). Resolves once the write is committed by a majority and applied on the leader.
   */
  async put(key: KeyInput, value: V, options?: PutOptions): Promise<void> {
    this.checkOpen();
    const o = options === undefined ? undefined : putOptions('put', options);
    const op: Extract<Op, { t: 'put' }> = { t: 'put', key: toKey(key), value: this.encode(value) };
    if (o?.ttlMs !== undefined) op.ttlMs = o.ttlMs;
    if (o?.keepTtl === true) op.keepTtl = true;
    const results = await this.writes.submit([op]);
    opResult('put', results[0]);
  }

  /** Delete `key`. Resolves to whether it existed. */
  async delete(key: KeyInput): Promise<boolean> {
    this.checkOpen();
    const [r] = await this.writes.submit([{ t: 'del', key: toKey(key) }]);
    return r?.existed === true;
  }

  /**
   * Compare-and-set: replace the value of `key` with `value` (undefined: delete) if it is `expected` (undefined:
   * absent). With the 'raw' codec `null` means absent too, as it did before `undefined` did.
   */
  async cas(key: KeyInput, expected: V | undefined | null, value: V | undefined | null, options?: PutOptions): Promise<CasResult<V>> {
    this.checkOpen();
    const r = await this.casOp('cas', { t: 'cas', key: toKey(key), expected: this.encodeOrAbsent(expected), value: this.encodeOrAbsent(value), ...putOptions('cas', options) });
    return { ok: r.ok, current: r.current === null ? undefined : (this.codec.decode(r.current) as V) };
  }

  /** One cas op (cas(), getOrSet()): whether it matched, and the value stored now as stored (null: absent). */
  private async casOp(call: string, op: Extract<Op, { t: 'cas' }>): Promise<{ ok: boolean; current: Value | null }> {
    const r = opResult(call, (await this.writes.submit([op]))[0]);
    return { ok: r.ok, current: r.ok ? op.value : (r.current ?? null) };
  }

  /** Many operations as one atomic unit (see BatchOp). Values are stored and returned as given (no codec). */
  async batch(ops: BatchOp[]): Promise<BatchResult> {
    this.checkOpen();
    if (!Array.isArray(ops) || ops.length === 0) throw new ClusterError(ErrorCode.INVALID_ARGUMENT, 'batch needs a non-empty array of operations');
    positiveInt('batch length', ops.length, 1, this.opts.maxBatchOps);
    const converted = ops.map((o) => batchOp(o, this.opts.maxValueBytes));
    let counted = 0;
    for (const op of converted) counted += op.t === 'msetnx' ? op.pairs.length : 1;
    if (counted > this.opts.maxBatchOps) throw new ClusterError(ErrorCode.INVALID_ARGUMENT, `batch has ${counted} operations (msetnx entries counted each): maxBatchOps is ${this.opts.maxBatchOps}`);
    const results = await this.writes.submit(converted, ops);
    // Bytes as a Buffer, as every read gives them (a node thread's answer arrives as plain Uint8Arrays).
    for (const r of results) {
      if (r.current instanceof Uint8Array) r.current = asBuffer(r.current);
      if (r.value instanceof Uint8Array) r.value = asBuffer(r.value);
    }
    // A cas or check fails only by rejecting the batch; any other op's ok: false is its own outcome.
    const rejected = results.some((r, i) => !r.ok && (converted[i]!.t === 'cas' || converted[i]!.t === 'check'));
    return { ok: !rejected, results };
  }

  /** Set `key` to expire `ttlMs` from now. Resolves to false when the key is absent (nothing is written). */
  async expire(key: KeyInput, ttl: number): Promise<boolean> {
    this.checkOpen();
    const [r] = await this.writes.submit([{ t: 'expire', key: toKey(key), ttlMs: ttlMs(ttl) }]);
    return opResult('expire', r).ok;
  }

  /** Remove `key`'s expiry. Resolves to whether it had one. */
  async persist(key: KeyInput): Promise<boolean> {
    this.checkOpen();
    const [r] = await this.writes.submit([{ t: 'persist', key: toKey(key) }]);
    return opResult('persist', r).ok;
  }

  /**
   * Add `by` (a safe integer, default 1) to the integer stored under `key` (absent counts as 0), atomically;
   * resolves to the new value. NOT_INTEGER when the value is not a decimal integer or the result not a safe
   * integer. `ttlMs` is the expiry of a key the increment creates; an existing key keeps its expiry (Redis INCR).
   */
  async incr(key: KeyInput, by = 1, options?: IncrOptions): Promise<number> {
    this.checkOpen();
    if (!Number.isSafeInteger(by)) throw new ClusterError(ErrorCode.INVALID_ARGUMENT, `incr: by must be a safe integer, got ${show(by)}`);
    const o = optionsObject<IncrOptions>('incr', options, ['ttlMs']);
    const op: Op = o.ttlMs === undefined ? { t: 'incr', key: toKey(key), by } : { t: 'incr', key: toKey(key), by, ttlMs: ttlMs(o.ttlMs) };
    const r = opResult('incr', (await this.writes.submit([op]))[0]);
    const n = Number(r.value);
    if (typeof r.value !== 'string' || !Number.isSafeInteger(n)) throw new ClusterError(ErrorCode.STORAGE, `incr: the state machine returned ${String(r.value)}`);
    return n;
  }

  /**
   * Redis INCRBYFLOAT: add `by` (a finite number, or a float's text as Redis reads one: `'0.1'`, `'1e3'`, `'0x1p-2'`)
   * to the number stored under `key` (absent counts as 0), atomically; resolves to the new value as Redis writes it
   * (a string: `'0.3'` after 0.1 and 0.2). The arithmetic is Redis's on x86-64, an 80-bit long double, so the text
   * is exactly what Redis would store. NOT_FLOAT when the value is not a float, NOT_FINITE when the sum would be
   * infinite; `ttlMs` as incr's.
   */
  async incrByFloat(key: KeyInput, by: number | string, options?: IncrOptions): Promise<string> {
    this.checkOpen();
    const text = floatText('incrByFloat', by);
    const o = optionsObject<IncrOptions>('incrByFloat', options, ['ttlMs']);
    const op: Op = o.ttlMs === undefined ? { t: 'incrbyfloat', key: toKey(key), by: text } : { t: 'incrbyfloat', key: toKey(key), by: text, ttlMs: ttlMs(o.ttlMs) };
    const r = opResult('incrByFloat', (await this.writes.submit([op]))[0]);
    if (typeof r.value !== 'string') throw new ClusterError(ErrorCode.STORAGE, `incrByFloat: the state machine returned ${String(r.value)}`);
    return r.value;
  }

  /** incr(key, -by). */
  async decr(key: KeyInput, by = 1, options?: IncrOptions): Promise<number> {
    if (!Number.isSafeInteger(by)) throw new ClusterError(ErrorCode.INVALID_ARGUMENT, `decr: by must be a safe integer, got ${show(by)}`);
    return this.incr(key, -by, options);
  }

  /**
   * @internal `listener` hears every write's ops as the cluster accepts it, before it is sent (the RESP server's
   * WATCH: src/resp/watches.ts). Returns the function that removes it.
   */
  onWriteAccepted(listener: (ops: readonly Op[]) => void): () => void {
    this.writes.listeners.add(listener);
    return () => this.writes.listeners.delete(listener);
  }

  /**
   * @internal `watcher` is told each barrier read round's time (ms, its slowest read's) as it completes, what the
   * readIndexRound metric records: the RESP server's latency monitor (src/resp/latency-monitor.ts). Returns the
   * function that stops it.
   */
  watchReadRounds(watcher: (ms: number) => void): () => void {
    return this.reads.watchRounds(watcher);
  }

  /**
   * @internal `listener` hears every write's ops and results once the leader applied it, before its caller is
   * answered, with the array of ops a batch() was given or clear()'s tag (`tag`; undefined for other calls): the RESP server's
   * client-side caching (src/resp/tracking.ts). Returns the function that removes it.
   */
  onWriteApplied(listener: (ops: readonly Op[], results: readonly OpResult[], tag: object | undefined) => void): () => void {
    this.writes.appliedListeners.add(listener);
    return () => this.writes.appliedListeners.delete(listener);
  }

  /**
   * Remove every key, or with `prefix` every key starting with it (a string's UTF-8 bytes or bytes, as scan's; ''
   * is every key), in one log entry: no read sees some of them removed and others not. Resolves to the number of
   * live keys removed. A prefix costs the apply of its entry a walk over its keys, on every replica.
   */
  async clear(options?: { prefix?: KeyInput }): Promise<number> {
    this.checkOpen();
    const o = optionsObject<{ prefix?: KeyInput }>('clear', options, ['prefix']);
    return this.clearTagged(undefined, o.prefix === undefined ? undefined : toPrefix(o.prefix));
  }

  /** @internal clear(), its write given `tag` for onWriteApplied listeners (the RESP server's FLUSHDB). */
  async clearTagged(tag: object | undefined, prefix?: Uint8Array): Promise<number> {
    this.checkOpen();
    const [r] = await this.writes.submit([clearOp(prefix)], tag);
    return opResult('clear', r).n ?? 0;
  }

  /**
   * Read-through: the value of `key`, else `loader()`'s, written with `ttlMs` unless the key was set meanwhile
   * (then the value found is returned). One load per key at a time in this process: concurrent callers share
   * it (and the options of the first). A loader resolving to undefined writes nothing; one that throws rejects
   * every caller sharing it, and the next call loads again.
   */
  async getOrSet<T extends V = V>(key: KeyInput, loader: () => T | undefined | Promise<T | undefined>, options?: GetOrSetOptions): Promise<T | undefined> {
    this.checkOpen();
    const k = toKey(key);
    if (typeof loader !== 'function') throw new ClusterError(ErrorCode.INVALID_ARGUMENT, 'getOrSet: loader must be a function');
    const o = optionsObject<GetOrSetOptions>('getOrSet', options, ['ttlMs', 'consistency']);
    const write: PutOptions = o.ttlMs === undefined ? {} : { ttlMs: ttlMs(o.ttlMs) };
    const read = readOptions('getOrSet', o.consistency === undefined ? {} : { consistency: o.consistency });
    const id = keyId(k);
    // The load resolves to the value as stored (encoded), and each caller decodes its own copy: what get() would
    // return, not the loader's object (which the codec may not round-trip: a Date under json), shared by none.
    const decoded = (p: Promise<Value | undefined>): Promise<T | undefined> => p.then((v) => this.decode(v) as T | undefined);
    const shared = this.loading.get(id);
    if (shared) return decoded(shared.promise);
    if (this.loading.size >= this.opts.maxPendingOps) throw new ClusterError(ErrorCode.BUSY, `${this.loading.size} loads in flight; retry later`);
    // The loader is the caller's code: it is given requestTimeoutMs (then TIMEOUT, nothing written), and stop()
    // rejects the load (CLUSTER_STOPPED), so that a loader that never settles holds neither its key's callers nor stop.
    let abandon!: (err: ClusterError) => void;
    const abandoned = new Promise<never>((_, reject) => (abandon = reject));
    abandoned.catch(() => undefined);
    const load = (async (): Promise<Value | undefined> => {
      const found = await Promise.race([this.reads.get(k, read.consistency, undefined), abandoned]);
      if (found !== undefined) return found;
      const ms = this.opts.requestTimeoutMs;
      const timer = setTimeout(() => abandon(new ClusterError(ErrorCode.TIMEOUT, `getOrSet: the loader did not settle within requestTimeoutMs (${ms} ms); nothing was written`)), ms);
      let loaded: T | undefined;
      try {
        loaded = await Promise.race([Promise.resolve().then(loader), abandoned]);
      } finally {
        clearTimeout(timer);
      }
      if (loaded === undefined) return undefined;
      // cas from absent: written unless the key was set meanwhile, whose value then wins.
      const value = this.encode(loaded);
      return (await this.casOp('getOrSet', { t: 'cas', key: k, expected: null, value, ...write })).current ?? value;
    })().finally(() => this.loading.delete(id));
    this.loading.set(id, { promise: load, abandon });
    return decoded(load);
  }

  /** getOrSet(). */
  fetch<T extends V = V>(key: KeyInput, loader: () => T | undefined | Promise<T | undefined>, options?: GetOrSetOptions): Promise<T | undefined> {
    return this.getOrSet(key, loader, options);
  }

  private encode(value: unknown): Value {
    return this.codec.encode(value, this.opts.maxValueBytes);
  }

  /** undefined (and with the raw codec null) is absence. */
  private encodeOrAbsent(value: unknown): Value | null {
    if (value === undefined || (value === null && this.codec.name === 'raw')) return null;
    return this.encode(value);
  }

  // ───────────────────────────── reads ─────────────────────────────

  /**
   * Read `key`. Resolves to the value (raw codec: a string if a string was written, a Buffer if
   * bytes were written) or undefined when absent (or expired).
   */
  async get<T extends V = V>(key: KeyInput, options: GetOptions = {}): Promise<T | undefined> {
    this.checkOpen();
    optionsObject('get', options, READ_OPTION_KEYS); // readOptions' check without its result object (the hot path of reads)
    const consistency = consistencyOption(options.consistency);
    if (options.node !== undefined && consistency !== 'stale') {
      throw new ClusterError(ErrorCode.INVALID_ARGUMENT, `get: node applies to consistency 'stale' only (a ${consistency} read goes through the leader)`);
    }
    // A string key goes as is to an LMDB reader (which writes it into LMDB's key buffer); the rest need bytes.
    const v = await this.reads.get(consistency === 'stale' ? checkKey(key) : toKey(key), consistency, options.node);
    return this.decode(v) as T | undefined;
  }

  /**
   * Redis PFCOUNT: the estimated number of distinct elements added (batch pfadd, pfmerge) to the HyperLogLog of one
   * key, or to the union of several (absent keys empty), read as getMany() reads. NOT_HLL when a value is not an HLL,
   * INVALID_HLL when one is broken. Unlike Redis's, it does not write the estimate back into the value's cache.
   */
  async pfCount(keys: KeyInput[], options?: ReadOptions): Promise<number> {
    this.checkOpen();
    if (!Array.isArray(keys) || keys.length === 0) throw new ClusterError(ErrorCode.INVALID_ARGUMENT, 'pfCount needs a non-empty array of keys');
    positiveInt('pfCount length', keys.length, 1, this.opts.maxBatchOps);
    const values = await this.query('pfCount', keys.map((k): ReadQuery => ({ q: 'get', key: toKey(k) })), options);
    const r = pfcount(values.map((v) => (v === undefined ? undefined : typeof v === 'string' ? Buffer.from(v) : (v as Uint8Array))));
    if ('problem' in r) {
      const key = show(keys[r.at]);
      if (r.problem === 'NOT_HLL') throw new ClusterError(ErrorCode.NOT_HLL, `pfCount: the value of ${key} is not a HyperLogLog`);
      throw new ClusterError(ErrorCode.INVALID_HLL, `pfCount: the HyperLogLog of ${key} is broken`);
    }
    return r.card;
  }

  /** Whether `key` is present (and not expired). */
  async has(key: KeyInput, options?: ReadOptions): Promise<boolean> {
    const [r] = await this.query('has', [{ q: 'has', key: toKey(key) }], options);
    return r === true;
  }

  /** The values of `keys` (at most maxBatchOps), read from one state: undefined where absent. */
  async getMany<T extends V = V>(keys: KeyInput[], options?: ReadOptions): Promise<Array<T | undefined>> {
    const values = await this.keyQueries('getMany', 'get', keys, options);
    return values.map((v) => this.decode(v as Value | undefined) as T | undefined);
  }

  /** One query `q` per key of `keys` (at most maxBatchOps, checked as `call`'s), read from one state. */
  private keyQueries(call: string, q: 'get' | 'record', keys: KeyInput[], options: ReadOptions | undefined): Promise<QueryResult[]> {
    this.checkOpen();
    if (!Array.isArray(keys)) throw new ClusterError(ErrorCode.INVALID_ARGUMENT, `${call} needs an array of keys`);
    positiveInt(`${call} length`, keys.length, 0, this.opts.maxBatchOps);
    if (keys.length === 0) {
      readOptions(call, options); // checked as for any other read
      return Promise.resolve([]);
    }
    return this.query(call, keys.map((k): ReadQuery => ({ q, key: toKey(k) })), options);
  }

  /**
   * Each key's value, revision (as revision()) and expiry (ms since the epoch; undefined: none), the three read
   * together from the key's record; undefined where absent. At most maxBatchOps keys. For an optimistic transaction
   * over several keys: read them here, compute, then batch() a `check` of each revision read before the writes
   * (nothing applies if one changed).
   */
  async records<T extends V = V>(keys: KeyInput[], options?: ReadOptions): Promise<Array<KeyRecord<T> | undefined>> {
    const found = await this.keyQueries('records', 'record', keys, options);
    return found.map((r) => {
      if (r === undefined) return undefined;
      const rec = r as KeyRecord;
      return { value: this.decode(rec.value) as T, revision: rec.revision, expiresAt: rec.expiresAt };
    });
  }

  /** Remaining time-to-live of `key` in ms; Infinity when it has no expiry; undefined when absent. */
  ttl(key: KeyInput, options?: ReadOptions): Promise<number | undefined> {
    return this.expiryQuery('ttl', key, options);
  }

  /**
   * When `key` expires, in ms since the epoch (the log clock's time base: the leader's wall clock when it proposed
   * the write); Infinity when it has no expiry; undefined when absent. Redis's PEXPIRETIME.
   */
  expiresAt(key: KeyInput, options?: ReadOptions): Promise<number | undefined> {
    return this.expiryQuery('expiresAt', key, options);
  }

  /** ttl() and expiresAt(): the state machine's -1 (no expiry) is Infinity, an absent key undefined. */
  private async expiryQuery(q: 'ttl' | 'expiresAt', key: KeyInput, options: ReadOptions | undefined): Promise<number | undefined> {
    const [r] = await this.query(q, [{ q, key: toKey(key) }], options);
    if (r === undefined) return undefined;
    if (typeof r !== 'number') throw new ClusterError(ErrorCode.STORAGE, `${q}: the state machine returned ${typeof r}`);
    return r < 0 ? Infinity : r;
  }

  /**
   * The revision of `key`: 0 when absent, else a number that every write of the key changes (an expire or
   * persist included) and no other key's write reuses. With a `check` op in batch() it makes optimistic
   * transactions (Redis's WATCH).
   */
  async revision(key: KeyInput, options?: ReadOptions): Promise<number> {
    const [r] = await this.query('revision', [{ q: 'rev', key: toKey(key) }], options);
    if (typeof r !== 'number') throw new ClusterError(ErrorCode.STORAGE, `revision: the state machine returned ${typeof r}`);
    return r;
  }

  /** Live keys (expired ones not counted). */
  async size(options?: ReadOptions): Promise<number> {
    const [r] = await this.query('size', [{ q: 'size' }], options);
    if (typeof r !== 'number') throw new ClusterError(ErrorCode.STORAGE, `size: the state machine returned ${typeof r}`);
    return r;
  }

  /**
   * A live key picked at random (Redis's RANDOMKEY), undefined when there is none: the first live key, in key order
   * and wrapping around, from a uniformly random index among the keys the state holds. Every key is as likely when
   * none has expired; a key right after expired ones not purged yet is likelier. A key is a string when its bytes
   * are UTF-8, else a Buffer (typed Uint8Array, as scan()'s keys, for consumers without Node's types).
   */
  async randomKey(options?: ReadOptions): Promise<string | Uint8Array | undefined> {
    const [k] = await this.query('randomKey', [{ q: 'random', r: Math.random() }], options);
    if (k === undefined) return undefined;
    if (!(k instanceof Uint8Array)) throw new ClusterError(ErrorCode.STORAGE, `randomKey: the state machine returned ${typeof k}`);
    return keyOut(k);
  }

  /**
   * One page of the keys in `range` ({ prefix } or { start?, end? }, end exclusive, byte order) with their
   * values: at most `limit` items and about maxBatchBytes bytes, then a `cursor` for the next page when there may be more.
   */
  async scan<T extends V = V>(range: ScanRangeInput, options?: ScanOptions): Promise<ScanPage<T>> {
    this.checkOpen();
    const r = scanRange(range);
    const o = scanOptions(options);
    // A page also ends once its keys and values come to maxBatchBytes (the pair that reaches it included): a page
    // of 10 000 values of 1 MiB would be 10 GB in one message. One more pair than the limit tells whether more follow.
    const maxBytes = this.opts.maxBatchBytes;
    const opts = { limit: o.limit + 1, reverse: o.reverse, maxBytes, ...(o.after === undefined ? {} : { after: o.after }) };
    const [found] = await this.query('scan', [{ q: 'scan', range: r, opts }], { consistency: o.consistency, ...(o.node === undefined ? {} : { node: o.node }) });
    if (!Array.isArray(found)) throw new ClusterError(ErrorCode.STORAGE, `scan: the state machine returned ${typeof found}`);
    const items = found.slice(0, o.limit);
    const page: ScanPage<T> = { items: items.map(([k, v]) => [keyOut(k), this.codec.decode(v) as T]) };
    const last = items[items.length - 1];
    const full = found.length > o.limit || pairBytes(found) >= maxBytes;
    if (full && last) page.cursor = encodeCursor(last[0]);
    return page;
  }

  private async query(call: string, queries: ReadQuery[], options: unknown): Promise<QueryResult[]> {
    this.checkOpen();
    const { consistency, node } = readOptions(call, options);
    this.counters.reads++;
    return this.reads.query(queries, consistency, node);
  }

  private decode(v: Value | undefined): V | undefined {
    return v === undefined ? undefined : (this.codec.decode(v) as V);
  }

  /**
   * A stale read, synchronously: `key` as node `node` (default: the leader) has applied it, read from its
   * LMDB environment on this thread with no round trip and no promise. For the in-process cache use; LMDB
   * storage only (memory storage lives in the node threads: use get(key, { consistency: 'stale' })).
   */
  peek<T extends V = V>(key: KeyInput, node?: NodeId): T | undefined {
    this.checkOpen();
    const k = checkKey(key);
    if (this.opts.storage !== 'lmdb') throw new ClusterError(ErrorCode.INVALID_ARGUMENT, "peek() needs storage 'lmdb'; use get(key, { consistency: 'stale' })");
    return this.decode(this.reads.get(k, 'stale', node) as Value | undefined) as T | undefined;
  }

  // ───────────────────────────── watch ─────────────────────────────

  /** Change events of a key or a prefix, as an async iterable (docs/api.md, "Watch"). */
  watch<T extends V = V>(target: WatchTarget, options?: WatchOptions): Watch<T> {
    this.checkOpen();
    return this.watches.watch<T>(target, options);
  }

  // ───────────────────────────── the flush: one message per leader per turn ─────────────────────────────

  private scheduleFlush(): void {
    if (this.flushScheduled || this.stopped) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.stopped) return;
    this.holdOpenWhilePending();
    const leader = this.nodes.leader;
    if (leader === undefined) return; // calls wait for a leader (or their deadline)
    this.writes.flush(leader);
    this.reads.flush(leader);
  }

  // ───────────────────────────── replies from nodes ─────────────────────────────

  private onNodeMessage(from: NodeId, msg: FromNode): void {
    switch (msg.t) {
      case 'applied':
        this.writes.onApplied(decodeApplied(msg.bytes));
        break;
      case 'proposal-failed':
        this.writes.onProposalFailed(from, msg.id, msg.error);
        break;
      case 'read-ok':
        this.reads.onReadOk(from, msg.id, msg.values, msg.bound);
        break;
      case 'watch-events':
      case 'watch-compacted':
        this.watches.onMessage(from, msg);
        break;
      case 'ready':
        this.watches.nodeReady(from);
        break;
      case 'read-failed':
        this.reads.onReadFailed(from, msg.id, msg.error);
        break;
      case 'digest':
        this.replicaChecks.report(from, msg.digests);
        break;
      default:
        break;
    }
  }

  private onLeaderChanged(): void {
    this.counters.leaderChanges++;
    const leader = this.nodes.leader;
    if (leader === undefined) return;
    this.writes.onLeaderChanged();
    this.reads.onLeaderChanged(leader);
    this.scheduleFlush();
  }

  /** Deadlines and retries: a bounded sweep every SWEEP_MS. */
  private sweep(): void {
    if (this.stopped) return;
    const now = nowMs();
    this.nodes.recoverLeader();
    const code = this.nodes.leader === undefined ? ErrorCode.NO_QUORUM : ErrorCode.TIMEOUT;
    this.writes.sweep(now, code);
    this.reads.sweep(now, code);
    this.holdOpenWhilePending();
  }

  /** Calls queued or in flight: writes and reads (what maxPendingOps bounds). */
  private get pendingCalls(): number {
    return this.writes.size + this.reads.size;
  }

  /**
   * Calls in flight keep the process alive until they settle (at their deadline at the latest). The node workers
   * hold it while they run; with every node down nothing else did, and a caller awaiting a write saw its process
   * end without an answer (found in session 29: every node stopped by a storage fault). Idle, the sweep holds nothing.
   */
  private holdOpenWhilePending(): void {
    if (this.pendingCalls > 0) this.sweepTimer.ref();
    else this.sweepTimer.unref();
  }

  // ───────────────────────────── leader, status, metrics ─────────────────────────────

  /** The leader the coordinator currently sends to, or undefined during an election and after stop(). */
  leader(): NodeId | undefined {
    return this.stopped ? undefined : this.nodes.leader;
  }

  /** Wait until a leader is known (rejects with NO_QUORUM after timeoutMs, a finite number >= 0). */
  async waitForLeader(timeoutMs = this.opts.startTimeoutMs): Promise<NodeId> {
    if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs < 0) {
      throw new ClusterError(ErrorCode.INVALID_ARGUMENT, 'waitForLeader: timeoutMs must be a finite number >= 0');
    }
    const deadline = Date.now() + timeoutMs;
    for (let first = true; first || Date.now() < deadline; first = false) {
      this.checkOpen();
      const l = this.nodes.leader;
      if (l !== undefined) return l;
      const failed = this.nodes.alive().length === 0 ? [...this.nodes.handles.values()].find((h) => h.fatal) : undefined;
      if (failed) throw new ClusterError(ErrorCode.STORAGE, `node ${failed.id} failed: ${failed.fatal}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new ClusterError(ErrorCode.NO_QUORUM, `no leader elected within ${timeoutMs} ms`);
  }

  /**
   * Redis's WAIT: the number of nodes besides the leader whose logs hold, persisted, every write acknowledged before
   * this call: each node's match index in the leader's progress against the leader's last index when first read (a
   * leader's log holds every committed entry, so that covers the acknowledged writes, and a few more at most).
   * Resolves as soon as at least `replicas` do, else once `timeoutMs` has passed, with the count then. An
   * acknowledged write is already on a majority, so with 3 voters the count is at least 1. A node's log holding a
   * write comes before its state machine applying it. `signal` aborted ends the wait as its timeout would (within
   * one poll: 5 ms): resolves with the count then (Redis's CLIENT UNBLOCK of a WAIT).
   */
  async waitReplicas(replicas: number, timeoutMs: number, options?: { signal?: AbortSignal }): Promise<number> {
    this.checkOpen();
    const { signal } = optionsObject<{ signal?: AbortSignal }>('waitReplicas', options, ['signal']);
    if (signal !== undefined && !(signal instanceof AbortSignal)) throw new ClusterError(ErrorCode.INVALID_ARGUMENT, 'waitReplicas: signal must be an AbortSignal');
    positiveInt('waitReplicas: replicas', replicas, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
    const deadline = Date.now() + positiveInt('waitReplicas: timeoutMs', timeoutMs, 0, MAX_TIMEOUT_MS);
    let target: number | undefined; // at or above the index of every write acknowledged before the call
    for (;;) {
      const ls = await this.membership.leaderStatus();
      if (ls !== undefined) target ??= ls.lastIndex;
      let held = 0;
      if (ls !== undefined && target !== undefined) {
        for (const [id, p] of Object.entries(ls.progress ?? {})) if (Number(id) !== ls.id && p.match >= target) held++;
      }
      if (held >= replicas || Date.now() >= deadline || signal?.aborted === true) return held;
      await new Promise((r) => setTimeout(r, Math.min(WAIT_POLL_MS, Math.max(0, deadline - Date.now()))));
      this.checkOpen();
    }
  }

  async status(): Promise<NodeStatus[]> {
    this.checkOpen();
    const ls = await this.membership.leaderStatus();
    return Promise.all(
      this.nodes.ids().map(async (id): Promise<NodeStatus> => {
        const h = this.nodes.get(id);
        const base: NodeStatus = { id, alive: h.alive, role: h.alive ? h.role : 'down', term: h.term, leader: h.leader, ...memberOf(ls, id) };
        if (h.fatal !== undefined) base.error = h.fatal;
        if (!h.alive || !h.control) return base;
        try {
          const s = (await this.answerWithin(h.id, h.control.status())) as Record<string, number>;
          return { ...base, term: s.term ?? h.term, commit: s.commit ?? 0, applied: s.applied ?? 0, lastIndex: s.lastIndex ?? 0, snapshotIndex: s.snapshotIndex ?? 0 };
        } catch (err) {
          return { ...base, error: String(err) };
        }
      }),
    );
  }

  /** Counters and latency summaries: the coordinator's write-path stages and every live node's own. */
  async metrics(): Promise<ClusterMetrics> {
    this.checkOpen();
    const prof = this.profile.summary();
    const ls = await this.membership.leaderStatus();
    const nodes = await Promise.all(
      this.nodes.alive().map(async (h) => {
        try {
          const m = await this.answerWithin(h.id, h.control!.metrics());
          return { id: h.id, role: h.role, term: h.term, ...memberOf(ls, h.id), counters: m.counters as unknown as Record<string, number>, histograms: m.histograms };
        } catch (err) {
          // A node that did not answer (it is stopping, or died meanwhile) is reported as such, not as zeros.
          return { id: h.id, role: h.role, term: h.term, ...memberOf(ls, h.id), counters: {}, histograms: {}, unavailable: err instanceof Error ? err.message : String(err) };
        }
      }),
    );
    const mainThread = threadMemory();
    const totalBytes = nodes.reduce((sum, n) => sum + nodeMemoryBytes(n.counters), memoryBytes(mainThread));
    return {
      leader: this.nodes.leader,
      coordinator: { ...this.counters, pending: this.pendingCalls },
      memory: { mainThread, totalBytes },
      writeStages: prof.stages,
      writeTotal: prof.total,
      stageSumP50Ms: prof.stageSumP50Ms,
      readIndexRound: this.reads.latency.summary(),
      watch: (({ watchers, delivered, deliveryMs }) => ({ watchers, delivered, deliveryMs }))(this.watches.stats()),
      nodes,
    };
  }

  /**
   * A node's answer to a control call of status() or metrics(), or TIMEOUT after requestTimeoutMs: a node whose
   * thread is stuck is reported so (`error`, `unavailable`) instead of holding the call, and INFO, forever.
   */
  private answerWithin<T>(id: NodeId, call: Promise<T>): Promise<T> {
    const ms = this.opts.requestTimeoutMs;
    return withTimeout(call, ms, () => new ClusterError(ErrorCode.TIMEOUT, `node ${id} did not answer within ${ms} ms`));
  }

  /**
   * Forget recorded latencies (e.g. after a warm-up), on the coordinator and every live node; a node that does not
   * answer within requestTimeoutMs (its thread is stuck) is not waited for, as in metrics().
   */
  async resetMetrics(): Promise<void> {
    this.checkOpen();
    this.profile.reset();
    this.reads.latency.reset();
    this.watches.resetStats();
    await Promise.all(this.nodes.alive().map((h) => (h.control ? this.answerWithin(h.id, h.control.resetMetrics()).catch(() => undefined) : undefined)));
  }

  /**
   * Stage timing (the `instrument` option) on or off from now on, on the coordinator and every node (nodes started
   * later follow it). Writes already under way when it changes may go unprofiled; nothing else changes.
   */
  async setInstrument(on: boolean): Promise<void> {
    this.checkOpen();
    if (typeof on !== 'boolean') throw new ClusterError(ErrorCode.INVALID_ARGUMENT, `setInstrument: expected a boolean, got ${typeof on}`);
    this.opts.instrument = on;
    for (const id of this.nodes.ids()) this.nodes.get(id).options.instrument = on;
    // A node that goes down meanwhile starts again with the option (set above).
    await Promise.all(this.nodes.alive().map((h) => (h.control ? unlessDown(h, h.control.setInstrument(on)) : undefined)));
  }

  // ───────────────────────────── control plane and faults ─────────────────────────────

  /** Ask the leader to hand leadership to `id` (§3.10). Resolves once `id` is the leader. */
  async transferLeadership(id: NodeId, timeoutMs = 5_000): Promise<void> {
    this.checkOpen();
    positiveInt('transferLeadership: timeoutMs', timeoutMs, 0, MAX_TIMEOUT_MS);
    const target = this.nodes.get(id);
    if (!target.alive) throw new ClusterError(ErrorCode.NODE_UNAVAILABLE, `node ${id} is down`);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      this.checkOpen();
      const leader = this.nodes.leader;
      if (leader === id) return;
      // A control call to a node that is busy may take long (one going down settles NODE_UNAVAILABLE): each is held to the deadline.
      const ask = leader !== undefined ? this.nodes.get(leader).control?.transferLeadership(id) : undefined;
      if (ask) await withTimeout(ask.catch(() => false), Math.max(0, deadline - Date.now()));
      await new Promise((r) => setTimeout(r, 20));
    }
    this.checkOpen();
    throw new ClusterError(ErrorCode.TIMEOUT, `leadership did not move to node ${id} within ${timeoutMs} ms`);
  }

  /**
   * Take a snapshot point on node `id` (default: every live node): its log is compacted and purged up to
   * what it has applied. Resolves with the node's new snapshot index.
   */
  async snapshot(id?: NodeId, timeoutMs = 5_000): Promise<Array<{ id: NodeId; snapshotIndex: number }>> {
    this.checkOpen();
    const targets = id === undefined ? this.nodes.alive() : [this.nodes.get(id)];
    positiveInt('snapshot: timeoutMs', timeoutMs, 0, MAX_TIMEOUT_MS);
    const deadline = Date.now() + timeoutMs;
    // A node that crashes (or a cluster that stops) meanwhile is NODE_UNAVAILABLE (its call out settles so); a
    // control call to a busy node may take long, so each is raced against the deadline.
    const control = (h: (typeof targets)[number]) => {
      if (this.stopped) throw new ClusterError(ErrorCode.CLUSTER_STOPPED, 'the cluster was stopped');
      if (!h.alive || !h.control) throw new ClusterError(ErrorCode.NODE_UNAVAILABLE, `node ${h.id} is down`);
      return h.control;
    };
    const timedOut = (id: NodeId) => new ClusterError(ErrorCode.TIMEOUT, `node ${id} took no snapshot within ${timeoutMs} ms`);
    const within = <T>(id: NodeId, p: Promise<T>): Promise<T> => withTimeout(p, Math.max(0, deadline - Date.now()), () => timedOut(id));
    return Promise.all(targets.map(async (h) => {
      const before = (await within(h.id, control(h).status())) as { applied?: number };
      await within(h.id, control(h).requestSnapshot());
      for (;;) {
        const s = (await within(h.id, control(h).status())) as { snapshotIndex?: number };
        if ((s.snapshotIndex ?? 0) >= (before.applied ?? 0)) return { id: h.id, snapshotIndex: s.snapshotIndex ?? 0 };
        if (Date.now() > deadline) throw timedOut(h.id);
        await new Promise((r) => setTimeout(r, 20));
      }
    }));
  }

  /**
   * Compare the replicas' states without stopping writes (etcd's corruption check): one entry carries a digest op,
   * and every replica that applies it digests its whole state after that entry (every live key, value and expiry,
   * in key order: SHA-256) and reports it. Resolves once every member reported, or after `timeoutMs` (default 5 s)
   * with the others 'missing'; each is held to the digest a majority reported, and `consistent` when all are the
   * same. Each replica reads a snapshot of that state a slice at a time between its Raft steps, while its writes go
   * on (src/storage/digest.ts; its cost: docs/api.md).
   */
  async checkReplicas(options?: { timeoutMs?: number }): Promise<ReplicaCheck> {
    this.checkOpen();
    const timeoutMs = optionsObject<{ timeoutMs?: number }>('checkReplicas', options, ['timeoutMs']).timeoutMs ?? 5_000;
    if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs < 0) {
      throw new ClusterError(ErrorCode.INVALID_ARGUMENT, 'checkReplicas: timeoutMs must be a finite number >= 0');
    }
    const check = this.replicaChecks.open();
    try {
      const [r] = await this.writes.submit([{ t: 'digest', id: check.id }]);
      if (r?.ok !== true) throw new ClusterError(ErrorCode.STORAGE, `checkReplicas: the digest op failed (${r?.error ?? 'no result'})`);
      const deadline = Date.now() + timeoutMs;
      // The members are the leader's configuration (a node folder a stop left behind runs, but is no member).
      const config = (await this.membership.leaderStatus())?.membership;
      const members = (): NodeId[] => (config ? [...config.voters, ...config.learners].sort((a, b) => a - b) : this.nodes.ids());
      // stop() wakes every check, which then ends with CLUSTER_STOPPED rather than waiting out its timeout.
      while (members().some((id) => !check.reports.has(id)) && Date.now() < deadline) {
        this.checkOpen();
        await check.next(deadline - Date.now());
      }
      this.checkOpen();
      return replicaVerdict(members(), check.reports);
    } finally {
      check.close();
    }
  }

  /** Terminate node `id`'s worker abruptly, as a process crash would. */
  async crash(id: NodeId): Promise<void> {
    this.checkOpen();
    await this.nodes.crash(id);
  }

  /**
   * Start node `id` again on its directory. LMDB: STORAGE (CORRUPT) when its log environment is gone, empty or
   * damaged, as a disk replaced or a folder deleted leaves it: a node that forgot its votes could vote twice in a
   * term under its old id (StoreOptions.existing). replaceNode() puts a new node in its place.
   */
  async restart(id: NodeId): Promise<void> {
    this.checkOpen();
    await this.nodes.restart(id);
  }

  /** Cut the cluster into groups that cannot reach each other (the coordinator still reaches every node). */
  async partition(...groups: NodeId[][]): Promise<void> {
    this.checkOpen();
    const ids = this.nodes.ids();
    const groupOf = new Map<NodeId, number>();
    groups.forEach((g, i) => {
      if (!Array.isArray(g)) throw new ClusterError(ErrorCode.INVALID_ARGUMENT, 'partition: each group must be an array of node ids');
      g.forEach((id) => {
        this.nodes.get(id);
        if (groupOf.has(id)) throw new ClusterError(ErrorCode.INVALID_ARGUMENT, `partition: node ${id} is in more than one group`);
        groupOf.set(id, i);
      });
    });
    await Promise.all(ids.map((id) => {
      const mine = groupOf.get(id);
      const blocked = ids.filter((o) => o !== id && groupOf.get(o) !== mine);
      return this.nodes.setFaults(id, { ...this.nodes.faultsOf(id), blocked });
    }));
  }

  /** Remove partitions (link delay and drop rate stay as set). */
  async heal(): Promise<void> {
    this.checkOpen();
    await Promise.all(this.nodes.ids().map((id) => this.nodes.setFaults(id, { ...this.nodes.faultsOf(id), blocked: [] })));
  }

  /** Delay and drop messages between nodes (all links, or those from the nodes listed). */
  async setLinkFaults(faults: { delayMs?: number; dropRate?: number; nodes?: NodeId[] } = {}): Promise<void> {
    this.checkOpen();
    optionsObject('setLinkFaults', faults, ['delayMs', 'dropRate', 'nodes']);
    const dropRate = faults.dropRate ?? 0;
    const delayMs = faults.delayMs ?? 0;
    if (typeof dropRate !== 'number' || !(dropRate >= 0 && dropRate <= 1)) throw new ClusterError(ErrorCode.INVALID_ARGUMENT, 'dropRate must be in [0, 1]');
    positiveInt('delayMs', delayMs, 0, 60_000);
    if (faults.nodes !== undefined && !Array.isArray(faults.nodes)) throw new ClusterError(ErrorCode.INVALID_ARGUMENT, 'nodes must be an array of node ids');
    const ids = faults.nodes ?? this.nodes.ids();
    for (const id of ids) this.nodes.get(id); // an unknown node is NODE_UNAVAILABLE, before any fault is set
    await Promise.all(ids.map((id) => this.nodes.setFaults(id, { ...this.nodes.faultsOf(id), dropRate, delayMs })));
  }

  /** Test-only: deliver raw frames to node `id` as if peer `from` had sent them. Resolves to that node's count of malformed frames. */
  async injectFramesForTest(id: NodeId, from: NodeId, frames: unknown[]): Promise<number> {
    this.checkOpen();
    const h = this.nodes.get(id);
    if (!h.alive || !h.control) throw new ClusterError(ErrorCode.NODE_UNAVAILABLE, `node ${id} is down`);
    return h.control.inject(from, frames);
  }

  /**
   * Test-only: block node `id`'s thread for `ms` (a synchronous wait: no callback of that thread runs). Resolves when
   * the node is responsive again.
   */
  async stallNodeForTest(id: NodeId, ms: number): Promise<void> {
    this.checkOpen();
    const h = this.nodes.get(id);
    if (!h.alive || !h.control) throw new ClusterError(ErrorCode.NODE_UNAVAILABLE, `node ${id} is down`);
    await h.control.stallForTest(ms);
  }

  /**
   * Test-only: a lease read of `key` sent to node `id` itself, bypassing leader routing and retries.
   * Resolves to what that node read, or rejects with its error (NOT_LEADER when it is no longer leader).
   */
  async leaseReadOnNodeForTest(id: NodeId, key: KeyInput): Promise<Value | undefined> {
    this.checkOpen();
    const h = this.nodes.get(id);
    if (!h.alive || !h.control) throw new ClusterError(ErrorCode.NODE_UNAVAILABLE, `node ${id} is down`);
    const r = await h.control.leaseReadForTest(toKey(key));
    if (!r.ok) throw ClusterError.fromJSON(r.error);
    return r.value;
  }

  // ───────────────────────────── membership (docs/api.md) ─────────────────────────────

  /** Start node `id` (its own worker and store) and add it as a learner: it catches up but votes in nothing. */
  async addLearner(id: NodeId, options?: MembershipOptions): Promise<void> {
    this.checkOpen();
    await this.membership.addLearner(id, options);
  }

  /** Make learner `id` a voter, once it is within `maxLagEntries` (default 64) of the leader's commit index. */
  async promote(id: NodeId, options?: MembershipOptions): Promise<void> {
    this.checkOpen();
    await this.membership.promote(id, options);
  }

  /** Remove node `id` (voter or learner) from the configuration, then stop its worker and delete its store. */
  async removeNode(id: NodeId, options?: MembershipOptions): Promise<void> {
    this.checkOpen();
    await this.membership.removeNode(id, options);
  }

  /** addLearner(newId), promote(newId), removeNode(oldId): the voters never drop below their number before. */
  async replaceNode(oldId: NodeId, newId: NodeId, options?: MembershipOptions): Promise<void> {
    this.checkOpen();
    await this.membership.replaceNode(oldId, newId, options);
  }

  /** Node ids and whether each is running. */
  members(): Array<{ id: NodeId; alive: boolean }> {
    return this.nodes.ids().map((id) => ({ id, alive: this.nodes.get(id).alive }));
  }

  get options(): Readonly<ResolvedOptions> {
    return this.opts;
  }

  // ───────────────────────────── lifecycle ─────────────────────────────

  private checkOpen(): void {
    if (this.stopped) throw new ClusterError(ErrorCode.CLUSTER_STOPPED, 'the cluster was stopped');
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /**
   * Stop every node, pool and storage environment. Pending calls reject with CLUSTER_STOPPED. Calling it again
   * returns the same promise: it resolves once the first call's stop is done.
   */
  stop(): Promise<void> {
    return (this.stopping ??= this.doStop());
  }

  private async doStop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.sweepTimer);
    this.watches.close();
    const err = new ClusterError(ErrorCode.CLUSTER_STOPPED, 'the cluster was stopped');
    this.writes.rejectAll(err);
    this.reads.rejectAll(err);
    this.membership.stop();
    this.replicaChecks.wakeAll();
    for (const l of this.loading.values()) l.abandon(err);
    await this.nodes.stopAll(5_000);
    this.reads.close();
    this.dirLock?.release();
    if (this.ownDir) rmSync(this.dir, { recursive: true, force: true });
  }

  /** stop(), for `await using cluster = await Cluster.start()`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

export interface ClusterMetrics {
  leader: NodeId | undefined;
  coordinator: CoordinatorCounters & { pending: number };
  writeStages: Record<Stage, LatencySummaryMs>;
  writeTotal: LatencySummaryMs;
  stageSumP50Ms: number;
  readIndexRound: LatencySummaryMs;
  /** Watchers open, events their iterators returned, and the time from the node's apply to that return. */
  watch: { watchers: number; delivered: number; deliveryMs: LatencySummaryMs };
  /**
   * Memory as the threads' V8 isolates account it (heap in use + external: threadMemory()): the main thread's (the
   * coordinator's, and the application's that shares it), and its sum with every node thread's and pool thread's that
   * answered (their figures are in `nodes[].counters`: heapUsedBytes, externalBytes, poolHeapUsedBytes,
   * poolExternalBytes). The process's RSS is more: docs/api.md, "Memory".
   */
  memory: { mainThread: ThreadMemory; totalBytes: number };
  /** Per live node; `unavailable` (with empty counters and histograms) when the node did not answer. */
  nodes: Array<{ id: NodeId; role: string; term: number; member: NodeStatus['member']; lag?: number; counters: Record<string, number>; histograms: Record<string, LatencySummaryMs>; unavailable?: string }>;
}
