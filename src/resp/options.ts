// The RESP server's options: declared, defaulted and validated once (resolveRespOptions), then handed down whole.
import { ClusterError, ErrorCode } from '../index.js';
import { positiveInt } from '../cluster/validate.js';
import { parseKeyspaceFlags, type KeyspaceFlags } from './keyspace-flags.js';
import { LOG_LEVELS, type LogLevelName } from './server-log.js';

export interface RespServerOptions {
  /** TCP port on 127.0.0.1 (default 6379; 0: any free port, see RespServer.port). */
  port?: number;
  /** The address to listen on. Default 127.0.0.1: the server has no TLS and one password at most. */
  host?: string;
  /** AUTH password of the `default` user (Redis's requirepass); unset: no authentication. */
  requirepass?: string;
  /** Connections at a time; one more is answered `-ERR max number of clients reached` and closed. Default 10 000. */
  maxClients?: number;
  /** Largest bulk string of a request (Redis's proto-max-bulk-len). Default 64 MiB (Redis: 512 MiB). */
  maxBulkBytes?: number;
  /** Most arguments of one request. Default 1 048 576 (as Redis). */
  maxArgs?: number;
  /** Longest inline request or header line. Default 64 KiB (as Redis). */
  maxInlineBytes?: number;
  /** Stop reading a socket and sending its commands while this many reply bytes wait to be written. Default 1 MiB. */
  outputHighWaterBytes?: number;
  /**
   * A connection with this many bytes of output unwritten when a pub/sub message (or a MONITOR line) for it comes is
   * closed (Redis's `client-output-buffer-limit pubsub` hard limit, which is also 32 MiB). Default 32 MiB.
   */
  maxPubsubOutputBytes?: number;
  /**
   * Redis's notify-keyspace-events at start (CONFIG SET changes it): the classes (`g`, `$`, `x`, `e`, `A`, ...)
   * published on `__keyspace@0__:<key>` (`K`) and `__keyevent@0__:<event>` (`E`); `n` is refused.
   * Default '' (none).
   */
  notifyKeyspaceEvents?: string;
  /** Commands parsed but not yet sent before a socket stops being read. Default 4 096. */
  maxQueuedCommands?: number;
  /** SCAN cursors remembered (an older one gets `-ERR invalid cursor`). Default 10 000. */
  maxScanCursors?: number;
  /**
   * Keys remembered for client-side caching (CLIENT TRACKING) at most, across connections (Redis's
   * tracking-table-max-keys): past it, those remembered longest ago are invalidated. Default 1 000 000 (as Redis).
   */
  trackingTableMaxKeys?: number;
  /**
   * Redis's latency-monitor-threshold at start (CONFIG SET changes it): commands and write-path stages that took at
   * least this many ms are sampled (LATENCY LATEST, HISTORY, GRAPH, DOCTOR). Default 0: the monitor is off.
   */
  latencyMonitorThresholdMs?: number;
  /**
   * Redis's loglevel at start (CONFIG SET changes it): what scripts write with redis.log at this level or above goes
   * to the server's log (pino lines). Default 'nothing' (`threadraft serve` starts at 'notice', as Redis).
   */
  logLevel?: LogLevelName;
  /** Redis's logfile: the server's log is appended there. Default '' (standard error). */
  logFile?: string;
  /**
   * Called by SHUTDOWN (Redis: the server process stops), after which the calling connection is closed. `threadraft
   * serve` passes one that closes the server, stops the cluster and exits 0. Without it SHUTDOWN is refused: an
   * application that embeds the server decides when it stops.
   */
  shutdown?: () => void;
}

export type ResolvedRespOptions = Required<Omit<RespServerOptions, 'requirepass' | 'shutdown' | 'notifyKeyspaceEvents'>> & {
  requirepass: string | undefined;
  shutdown: (() => void) | undefined;
  /** notifyKeyspaceEvents, parsed. */
  notifyKeyspaceEvents: KeyspaceFlags;
};

const KNOWN = new Set([
  'port', 'host', 'requirepass', 'maxClients', 'maxBulkBytes', 'maxArgs', 'maxInlineBytes', 'outputHighWaterBytes',
  'maxPubsubOutputBytes', 'notifyKeyspaceEvents', 'maxQueuedCommands', 'maxScanCursors', 'trackingTableMaxKeys', 'latencyMonitorThresholdMs', 'shutdown',
  'logLevel', 'logFile',
]);

function invalid(message: string): ClusterError {
  return new ClusterError(ErrorCode.INVALID_ARGUMENT, message);
}

function int(name: string, v: unknown, dflt: number, min: number, max: number): number {
  return v === undefined ? dflt : positiveInt(name, v, min, max);
}

export function resolveRespOptions(input: RespServerOptions = {}): ResolvedRespOptions {
  if (typeof input !== 'object' || input === null) throw invalid('RESP server options must be an object');
  for (const k of Object.keys(input)) if (!KNOWN.has(k)) throw invalid(`unknown RESP server option ${k}`);
  if (input.requirepass !== undefined && (typeof input.requirepass !== 'string' || input.requirepass.length === 0)) {
    throw invalid('requirepass must be a non-empty string');
  }
  if (input.host !== undefined && typeof input.host !== 'string') throw invalid('host must be a string');
  if (input.shutdown !== undefined && typeof input.shutdown !== 'function') throw invalid('shutdown must be a function');
  const notify = input.notifyKeyspaceEvents ?? '';
  if (typeof notify !== 'string') throw invalid('notifyKeyspaceEvents must be a string');
  if (input.logLevel !== undefined && !(LOG_LEVELS as readonly unknown[]).includes(input.logLevel)) throw invalid(`logLevel must be one of ${LOG_LEVELS.join(', ')}`);
  if (input.logFile !== undefined && typeof input.logFile !== 'string') throw invalid('logFile must be a string');
  const flags = parseKeyspaceFlags(notify);
  if (typeof flags === 'string') throw invalid(`notifyKeyspaceEvents: ${flags}`);
  return {
    port: int('port', input.port, 6379, 0, 65535),
    host: input.host ?? '127.0.0.1',
    requirepass: input.requirepass,
    shutdown: input.shutdown,
    maxClients: int('maxClients', input.maxClients, 10_000, 1, 1_000_000),
    maxBulkBytes: int('maxBulkBytes', input.maxBulkBytes, 64 * 1024 * 1024, 1, 512 * 1024 * 1024),
    maxArgs: int('maxArgs', input.maxArgs, 1024 * 1024, 1, 1024 * 1024 * 1024),
    maxInlineBytes: int('maxInlineBytes', input.maxInlineBytes, 64 * 1024, 16, 64 * 1024 * 1024),
    outputHighWaterBytes: int('outputHighWaterBytes', input.outputHighWaterBytes, 1024 * 1024, 1, 1024 * 1024 * 1024),
    maxPubsubOutputBytes: int('maxPubsubOutputBytes', input.maxPubsubOutputBytes, 32 * 1024 * 1024, 1, 1024 * 1024 * 1024),
    notifyKeyspaceEvents: flags,
    maxQueuedCommands: int('maxQueuedCommands', input.maxQueuedCommands, 4096, 1, 1 << 24),
    maxScanCursors: int('maxScanCursors', input.maxScanCursors, 10_000, 1, 1 << 24),
    trackingTableMaxKeys: int('trackingTableMaxKeys', input.trackingTableMaxKeys, 1_000_000, 1, 1 << 30),
    latencyMonitorThresholdMs: int('latencyMonitorThresholdMs', input.latencyMonitorThresholdMs, 0, 0, Number.MAX_SAFE_INTEGER),
    logLevel: input.logLevel ?? 'nothing',
    logFile: input.logFile ?? '',
  };
}
