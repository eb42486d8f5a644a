// Cluster options: defaults, validation, and the per-node options derived from them.
import { accessSync, constants, existsSync, mkdirSync, realpathSync, statSync, statfsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ClusterError, ErrorCode } from '../errors.js';
import { NODE_DEFAULTS, TIMING_PRESETS, type LogLevel, type NodeOptions, type Timing, type TimingPreset } from '../node/config.js';
import { MAX_TIMEOUT_MS, oneOf, positiveInt } from './validate.js';
import { CODECS, type CodecName } from './codec.js';
import { LIMITS } from '../storage/command.js';

export interface ClusterOptions {
  /** Number of voting nodes (1–7). Default 3. */
  nodes?: number;
  /** Where each node keeps its LMDB environment (`<dir>/node-<id>`). Default: a new temporary directory, removed by stop(). */
  dir?: string;
  /** Default 'lmdb'. 'memory' keeps everything in the node threads (nothing survives a crash of a node). */
  storage?: 'lmdb' | 'memory';
  /** Where synchronous storage work runs: 'piscina' (a blocking pool per node, default: a leader's log writes go through it while proposals arrive during them; a follower, and a leader that nothing waits for, writes its log on its own thread) or 'inline' (the node thread). */
  pool?: 'piscina' | 'inline';
  /** Synced writes (default true). false is UNSAFE for durability: acknowledged writes may be lost on a machine crash. */
  sync?: boolean;
  /** 'fast' (default: heartbeat 100 ms, election 500–1000 ms), 'seed' (500 ms, 1500–3000 ms), or explicit ticks. */
  timing?: TimingPreset | Timing;
  /** Deadline of one client call, queueing and retries included. Default 10 000 ms. */
  requestTimeoutMs?: number;
  /**
   * Bounds of one coordinator batch (one raft entry). Defaults 1024 operations, maxValueBytes + 64 KiB bytes; the
   * bytes must hold one put of the largest value and key (at least maxValueBytes + BATCH_MIN_EXTRA_BYTES).
   */
  maxBatchOps?: number;
  maxBatchBytes?: number;
  /** Operations queued or in flight before new calls get BUSY. Default 65 536. */
  maxPendingOps?: number;
  /**
   * Bytes of writes sent to the leader and not applied yet (default 32 MiB); more wait in the coordinator's queue,
   * their deadline running, until the leader applies some. One batch goes whatever its size when none is in flight.
   */
  maxInflightWriteBytes?: number;
  /**
   * Bytes of writes accepted and not yet applied, queued or sent (default 256 MiB): a write beyond gets BUSY, so
   * that the callers' values the coordinator holds stay bounded (maxPendingOps alone let 65 536 puts of 1 MiB, 64
   * GiB, wait). A write is always accepted when nothing is pending.
   */
  maxPendingWriteBytes?: number;
  /** Default 1 MiB. */
  maxValueBytes?: number;
  /** Take a snapshot point every this many applied entries (default 10 000). */
  snapshotEveryEntries?: number;
  /** Record per-stage latency of every write (default true). */
  instrument?: boolean;
  /** pino level for node logs (default 'silent'); logFile for a destination other than stderr. */
  logLevel?: LogLevel;
  logFile?: string;
  /** Seed for the nodes' random sources. */
  seed?: number;
  /** Time to wait for the first leader in start(). Default 15 000 ms. */
  startTimeoutMs?: number;
  /** How values are stored: 'raw' (default: strings and bytes as they are), 'json' or 'msgpack' (any serialisable value). */
  codec?: CodecName;
  /**
   * Bounds of the cache (default unbounded): after each entry every replica evicts its least recently written keys
   * until it holds at most maxKeys keys and maxBytes bytes of keys and values. Fixed when the directory is created:
   * every replica must apply the same bounds.
   */
  maxKeys?: number;
  maxBytes?: number;
}

export interface ResolvedOptions {
  nodes: number;
  dir: string | undefined;
  storage: 'lmdb' | 'memory';
  pool: 'piscina' | 'inline';
  sync: boolean;
  timing: Timing;
  requestTimeoutMs: number;
  maxBatchOps: number;
  maxBatchBytes: number;
  maxPendingOps: number;
  maxInflightWriteBytes: number;
  maxPendingWriteBytes: number;
  maxValueBytes: number;
  snapshotEveryEntries: number;
  instrument: boolean;
  logLevel: LogLevel;
  logFile: string | undefined;
  seed: number;
  startTimeoutMs: number;
  codec: CodecName;
  maxKeys: number | undefined;
  maxBytes: number | undefined;
}

const KNOWN = new Set([
  'nodes', 'dir', 'storage', 'pool', 'sync', 'timing', 'requestTimeoutMs', 'maxBatchOps', 'maxBatchBytes',
  'maxPendingOps', 'maxInflightWriteBytes', 'maxPendingWriteBytes', 'maxValueBytes', 'snapshotEveryEntries', 'instrument', 'logLevel', 'logFile', 'seed', 'startTimeoutMs', 'codec',
  'maxKeys', 'maxBytes',
]);

function invalid(message: string): ClusterError {
  return new ClusterError(ErrorCode.INVALID_ARGUMENT, message);
}

function bool(name: string, v: unknown, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw invalid(`${name} must be a boolean, got ${typeof v}`);
  return v;
}

function int(name: string, v: unknown, dflt: number, min: number, max: number): number {
  return v === undefined ? dflt : positiveInt(name, v, min, max);
}

/** What a batch adds to one put's value besides it: the largest key, the op's and the batch's own bytes (writes.ts). */
export const BATCH_MIN_EXTRA_BYTES = LIMITS.maxKeyBytes + 8 + 16;

/**
 * maxBatchBytes: by default maxValueBytes + 64 KiB. It must hold one put of the largest value with the largest key,
 * or a value the store accepts could never be written (it was 1 MiB, as the value: a 1 MiB value was refused).
 */
function batchBytes(v: unknown, maxValueBytes: number): number {
  const least = maxValueBytes + BATCH_MIN_EXTRA_BYTES;
  if (typeof v === 'number' && Number.isInteger(v) && v < least) {
    throw invalid(`maxBatchBytes must be at least maxValueBytes + ${BATCH_MIN_EXTRA_BYTES} (${least}): a put of the largest value and key must fit in a batch; got ${v}`);
  }
  return int('maxBatchBytes', v, maxValueBytes + 64 * 1024, least, 128 * 1024 * 1024);
}

const TIMING_KEYS = ['tickMs', 'heartbeatTicks', 'electionTimeoutMinTicks', 'electionTimeoutMaxTicks'];

function timing(v: unknown): Timing {
  if (v === undefined) return TIMING_PRESETS.fast;
  if (typeof v === 'string') return TIMING_PRESETS[oneOf('timing', v, ['fast', 'seed'] as const)];
  if (typeof v !== 'object' || v === null) throw invalid('timing must be a preset name or an object');
  for (const k of Object.keys(v)) {
    if (!TIMING_KEYS.includes(k)) throw invalid(`timing: unknown option ${k}; allowed: ${TIMING_KEYS.join(', ')}`);
  }
  const t = v as Record<string, unknown>;
  const out: Timing = {
    tickMs: positiveInt('timing.tickMs', t.tickMs, 1, 10_000),
    heartbeatTicks: positiveInt('timing.heartbeatTicks', t.heartbeatTicks, 1, 10_000),
    electionTimeoutMinTicks: positiveInt('timing.electionTimeoutMinTicks', t.electionTimeoutMinTicks, 2, 100_000),
    electionTimeoutMaxTicks: positiveInt('timing.electionTimeoutMaxTicks', t.electionTimeoutMaxTicks, 3, 100_000),
  };
  if (out.electionTimeoutMinTicks <= out.heartbeatTicks) throw invalid('timing: the election timeout must exceed the heartbeat interval');
  if (out.electionTimeoutMaxTicks <= out.electionTimeoutMinTicks) throw invalid('timing: electionTimeoutMaxTicks must exceed electionTimeoutMinTicks');
  return out;
}

export function resolveOptions(input: unknown): ResolvedOptions {
  if (input === undefined) input = {};
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw invalid('options must be an object');
  const o = input as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!KNOWN.has(k)) throw invalid(`unknown option ${k}`);
  if (o.dir !== undefined && (typeof o.dir !== 'string' || o.dir.length === 0)) throw invalid('dir must be a non-empty string');
  if (o.logFile !== undefined && typeof o.logFile !== 'string') throw invalid('logFile must be a string');
  if (o.logFile !== undefined) checkLogFile(o.logFile);
  const maxValueBytes = int('maxValueBytes', o.maxValueBytes, NODE_DEFAULTS.maxValueBytes, 1, 64 * 1024 * 1024);
  return {
    nodes: int('nodes', o.nodes, 3, 1, 7),
    dir: o.dir as string | undefined,
    storage: o.storage === undefined ? 'lmdb' : oneOf('storage', o.storage, ['lmdb', 'memory'] as const),
    pool: o.pool === undefined ? 'piscina' : oneOf('pool', o.pool, ['piscina', 'inline'] as const),
    sync: bool('sync', o.sync, true),
    timing: timing(o.timing),
    requestTimeoutMs: int('requestTimeoutMs', o.requestTimeoutMs, 10_000, 1, MAX_TIMEOUT_MS),
    maxBatchOps: int('maxBatchOps', o.maxBatchOps, 1024, 1, 1 << 20),
    maxBatchBytes: batchBytes(o.maxBatchBytes, maxValueBytes),
    maxPendingOps: int('maxPendingOps', o.maxPendingOps, 65_536, 1, 1 << 24),
    maxInflightWriteBytes: int('maxInflightWriteBytes', o.maxInflightWriteBytes, 32 * 1024 * 1024, 1, Number.MAX_SAFE_INTEGER),
    maxPendingWriteBytes: int('maxPendingWriteBytes', o.maxPendingWriteBytes, 256 * 1024 * 1024, 1, Number.MAX_SAFE_INTEGER),
    maxValueBytes,
    snapshotEveryEntries: int('snapshotEveryEntries', o.snapshotEveryEntries, NODE_DEFAULTS.snapshotEveryEntries, 0, 1 << 30),
    instrument: bool('instrument', o.instrument, true),
    logLevel: o.logLevel === undefined ? 'silent' : oneOf('logLevel', o.logLevel, ['silent', 'fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const),
    logFile: o.logFile as string | undefined,
    seed: int('seed', o.seed, 1, 0, 0xffffffff),
    startTimeoutMs: int('startTimeoutMs', o.startTimeoutMs, 15_000, 1, 600_000),
    codec: o.codec === undefined ? 'raw' : oneOf('codec', o.codec, CODECS),
    maxKeys: o.maxKeys === undefined ? undefined : int('maxKeys', o.maxKeys, 0, 1, Number.MAX_SAFE_INTEGER),
    maxBytes: o.maxBytes === undefined ? undefined : int('maxBytes', o.maxBytes, 0, 1, Number.MAX_SAFE_INTEGER),
  };
}

/** Kernel filesystems where a directory can never hold a store (recursive mkdir under /proc never returns). */
const VIRTUAL_FS = new Map([[0x9fa0, 'procfs'], [0x62656572, 'sysfs']]);

/** The nearest existing ancestor of `path` (itself if it exists). */
function existingAncestor(path: string): string {
  let p = resolve(path);
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  return p;
}

function refuseVirtual(name: string, path: string, ancestor: string): void {
  let real = ancestor;
  try {
    real = realpathSync(ancestor);
  } catch {
    // keep the path as given
  }
  const fs = VIRTUAL_FS.get(statfsSync(real).type);
  if (fs !== undefined || /^\/(proc|sys)(\/|$)/.test(real)) throw invalid(`${name} ${path} is on ${fs ?? real}, a kernel filesystem`);
}

/**
 * The cluster directory of LMDB storage, checked before anything is created (INVALID_ARGUMENT at once
 * instead of a raw ENOTDIR/EPERM from a node, or a recursive mkdir that never returns under /proc),
 * then created. Returns its real path.
 */
export function prepareDir(dir: string): string {
  const ancestor = existingAncestor(dir);
  refuseVirtual('dir', dir, ancestor);
  if (!statSync(ancestor).isDirectory()) throw invalid(`dir ${dir}: ${ancestor} is a file, not a directory`);
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (err) {
    throw new ClusterError(ErrorCode.INVALID_ARGUMENT, `dir ${dir} is not a writable directory: ${(err as Error).message}`, { cause: err });
  }
  return realpathSync(dir);
}

/** logFile: a file path (not a directory) whose parent directory exists and is writable; refused at once otherwise. */
function checkLogFile(path: string): void {
  if (path.length === 0) throw invalid('logFile must be a non-empty path');
  refuseVirtual('logFile', path, existingAncestor(path));
  const parent = dirname(resolve(path));
  let parentIsDir = false;
  try {
    parentIsDir = statSync(parent).isDirectory();
  } catch {
    // missing
  }
  if (!parentIsDir) throw invalid(`logFile ${path}: its directory ${parent} does not exist`);
  if (existsSync(path)) {
    if (statSync(path).isDirectory()) throw invalid(`logFile ${path} is a directory`);
    try {
      accessSync(path, constants.W_OK);
    } catch {
      throw invalid(`logFile ${path} is not writable`);
    }
    return;
  }
  try {
    accessSync(parent, constants.W_OK | constants.X_OK);
  } catch {
    throw invalid(`logFile ${path}: its directory ${parent} is not writable`);
  }
}

export function nodeOptions(o: ResolvedOptions, id: number, voters: number[], dir: string): NodeOptions {
  const n: NodeOptions = {
    id,
    voters,
    dir,
    storage: o.storage,
    pool: o.pool,
    sync: o.sync,
    timing: o.timing,
    snapshotEveryEntries: o.snapshotEveryEntries,
    snapshotEveryBytes: NODE_DEFAULTS.snapshotEveryBytes,
    snapshotChunkBytes: NODE_DEFAULTS.snapshotChunkBytes,
    snapshotInstallTimeoutMs: NODE_DEFAULTS.snapshotInstallTimeoutMs,
    maxInflightMsgs: NODE_DEFAULTS.maxInflightMsgs,
    maxInflightBytes: NODE_DEFAULTS.maxInflightBytes,
    maxMsgBytes: NODE_DEFAULTS.maxMsgBytes,
    maxApplyBytes: NODE_DEFAULTS.maxApplyBytes,
    maxOutstandingReadies: NODE_DEFAULTS.maxOutstandingReadies,
    maxValueBytes: o.maxValueBytes,
    instrument: o.instrument,
    logLevel: o.logLevel,
    seed: (o.seed * 7919 + id * 104_729) >>> 0,
  };
  if (o.logFile !== undefined) n.logFile = o.logFile;
  if (o.maxKeys !== undefined) n.maxKeys = o.maxKeys;
  if (o.maxBytes !== undefined) n.maxBytes = o.maxBytes;
  return n;
}
