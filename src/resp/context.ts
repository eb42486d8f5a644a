// What command handlers see: the server's shared state and the calling connection's state.
import type { Cluster, Consistency } from '../index.js';
import type { ResolvedRespOptions } from './options.js';
import type { Protocol, Reply } from './reply.js';
import type { QueuedScript, WritePlan } from './plan.js';
import type { KeyspaceNotifier } from './keyspace.js';
import type { PubSubRegistry, Subscriber, Subscriptions } from './pubsub.js';
import type { ClientTracking, TrackingTable } from './tracking.js';
import type { WatchRegistry, WatchSet } from './watches.js';
import type { ClientPause } from './pause.js';
import type { SlowLog } from './slowlog.js';
import type { LatencyMonitor } from './latency-monitor.js';
import type { Saves } from './saves.js';
import type { Monitor, Monitors } from './monitor.js';
import type { CommandStats } from './command-stats.js';
import type { InstantaneousMetrics } from './instantaneous.js';
import type { AclLog } from './acl-log.js';
import type { Scripts } from './commands/scripting.js';
import type { ServerLog } from './server-log.js';

export interface ServerStats {
  connectionsReceived: number;
  rejectedConnections: number;
  commandsProcessed: number;
  netInputBytes: number;
  netOutputBytes: number;
  keyspaceHits: number;
  keyspaceMisses: number;
  protocolErrors: number;
  /** The largest used_memory INFO has reported (used_memory_peak; CONFIG RESETSTAT forgets it, as Redis's). */
  peakMemory: number;
}

/** MULTI's queue: per command a plan of the transaction's batch or a reply already known (PING, an error). */
export interface MultiState {
  items: Array<WritePlan | QueuedScript | Reply>;
  /**
   * A script is queued, or a command that reads or writes the whole keyspace (DBSIZE, FLUSHDB, FLUSHALL): its name.
   * A transaction holding a script runs as one over the records of its keys, so it cannot hold the other kind.
   */
  script: string | undefined;
  whole: string | undefined;
  /** A command was refused while queueing: EXEC replies EXECABORT. */
  aborted: boolean;
  /** The keys of its read-only commands answered when queued (an error): remembered for client-side caching at EXEC (./tracking.ts). */
  reads: Buffer[];
  /** A command that writes (or publishes) is queued: CLIENT PAUSE WRITE holds its EXEC (./pause.ts). */
  writes: boolean;
  /**
   * The full names and the arguments of the commands queued: as EXEC's reply is written, INFO commandstats counts
   * each, SLOWLOG logs it and MONITOR feeds it (./connection.ts).
   */
  names: string[];
  args: Buffer[][];
}

export interface ConnectionState extends Subscriber, Monitor {
  readonly id: number;
  readonly addr: string;
  readonly laddr: string;
  readonly createdAt: number;
  name: string;
  libName: string;
  libVer: string;
  protocol: Protocol;
  authenticated: boolean;
  /** READONLY: lease reads; READWRITE (default): linearizable. */
  readOptions: { consistency: Consistency };
  multi: MultiState | null;
  /** The keys WATCH watches for the next EXEC (./watches.ts). */
  watched: WatchSet;
  /** The channels, patterns and shard channels it is subscribed to (./pubsub.ts). */
  readonly subscriptions: Subscriptions;
  lastCommand: string;
  /** When it last sent or was sent bytes (Redis's lastinteraction): CLIENT LIST's idle, CONFIG SET timeout. */
  lastInteraction: number;
  /**
   * Its next command is held by CLIENT PAUSE (./pause.ts), or a WAIT waits: flag `b` in CLIENT LIST, counted in INFO's
   * blocked_clients.
   */
  blocked: boolean;
  /** While a WAIT waits: ends it as CLIENT UNBLOCK does (`error`: with Redis's UNBLOCKED error, else its count then). */
  unblock: ((error: boolean) => void) | undefined;
  /** QUIT: close once the replies before it are written. */
  closing: boolean;
  /**
   * The commands its scripts just ran ([full name, args]): EVAL's at 0, EXEC's at the place of each EVAL it ran
   * (none for one refused), for MONITOR once each EVAL is fed (./connection.ts).
   */
  scriptCalls: Array<Array<[string, Buffer[]]> | undefined> | undefined;
  /** CLIENT TRACKING (./tracking.ts). */
  tracking: ClientTracking;
  /** CLIENT REPLY: which replies are not written (pushes always are). */
  reply: ReplyMode;
  /** CLIENT NO-EVICT and NO-TOUCH ON: shown as flags `e` and `T` (nothing else depends on them here). */
  noEvict: boolean;
  noTouch: boolean;
  /** Reply bytes waiting in the socket (for CLIENT INFO/LIST). */
  outputBytes(): number;
  /** What it holds of its input, for CLIENT INFO/LIST (InputState, below). */
  input(): InputState;
  /** CLIENT KILL from another connection: close this one now, what it has not written is dropped. */
  kill(): void;
}

/**
 * A connection's input as CLIENT LIST shows Redis's: `queryBytes` (qbuf), the requests received and not yet
 * dispatched (the one being dispatched included, as Redis's query buffer holds the command it runs), in RESP;
 * `argvBytes` (argv-mem), the arguments of the commands dispatched and not yet answered, and those parsed of a
 * request not complete yet; `reading` (events `r`), the socket is read from.
 */
export interface InputState {
  queryBytes: number;
  argvBytes: number;
  reading: boolean;
}

/**
 * CLIENT REPLY, as Redis's flags: `off` (OFF) silences every reply until ON; SKIP sets `skipNext`, which becomes
 * `skipping` for the whole of the next command (whatever it is), and silences its reply.
 */
export interface ReplyMode {
  off: boolean;
  skipNext: boolean;
  skipping: boolean;
}

/** Integer SCAN cursors to the cluster's opaque ones, bounded: the oldest is forgotten first. */
export class CursorTable {
  private next = 1;
  private readonly map = new Map<number, { cursor: string; prefix: Buffer }>();

  constructor(private readonly max: number) {}

  add(cursor: string, prefix: Buffer): number {
    const id = this.next;
    this.next = this.next >= Number.MAX_SAFE_INTEGER ? 1 : this.next + 1;
    this.map.set(id, { cursor, prefix });
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value!);
    return id;
  }

  /** The cursor (and the MATCH prefix it scans) of `id`. Kept after use: a client may repeat a call (a retry). */
  get(id: number): { cursor: string; prefix: Buffer } | undefined {
    return this.map.get(id);
  }

  get size(): number {
    return this.map.size;
  }
}

export interface ServerContext {
  readonly cluster: Cluster;
  readonly options: ResolvedRespOptions;
  readonly stats: ServerStats;
  readonly clients: Map<number, ConnectionState>;
  readonly cursors: CursorTable;
  /** Which connections watch which keys (WATCH). */
  readonly watches: WatchRegistry;
  /** Which connections are subscribed to which channels (SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE). */
  readonly pubsub: PubSubRegistry;
  /** Keyspace notifications (notify-keyspace-events) published there. */
  readonly keyspace: KeyspaceNotifier;
  /** Client-side caching: which connections read which keys (CLIENT TRACKING). */
  readonly tracking: TrackingTable;
  /** CLIENT PAUSE: held commands wait for its end. */
  readonly pause: ClientPause;
  /** INFO commandstats, latencystats and errorstats. */
  readonly commandStats: CommandStats;
  /** SLOWLOG: the commands that took longest (./slowlog.ts). */
  readonly slowlog: SlowLog;
  /** The latency monitor: spikes of the commands' and the write path's stages' latency (LATENCY LATEST, HISTORY, GRAPH, DOCTOR; ./latency-monitor.ts). */
  readonly latency: LatencyMonitor;
  /** SAVE, BGSAVE and LASTSAVE: snapshot points of every node (./saves.ts). */
  readonly saves: Saves;
  /** MONITOR: the connections fed every command (./monitor.ts). */
  readonly monitors: Monitors;
  /** INFO stats' instantaneous_* rates of commands and network bytes (./instantaneous.ts). */
  readonly rates: InstantaneousMetrics<'ops' | 'input' | 'output'>;
  /** ACL LOG: the failed authentications (./acl-log.ts). */
  readonly aclLog: AclLog;
  /** EVAL's scripts and their Lua state (./commands/scripting.ts). */
  readonly scripts: Scripts;
  /** Redis's log (loglevel, logfile): what scripts write with redis.log. */
  readonly log: ServerLog;
  /** CONFIG SET timeout: a connection idle longer than this many seconds is closed (0: never; ./server.ts). */
  idleTimeoutSeconds: number;
  readonly startedAt: number;
  /** A random id of this server's run (INFO's run_id: 40 hex digits, new at every start, as Redis's). */
  readonly runId: string;
  /** The TCP port listened on. */
  port(): number;
}

export interface Ctx {
  readonly server: ServerContext;
  readonly conn: ConnectionState;
}
