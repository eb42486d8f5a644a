// The RESP server: a TCP listener on 127.0.0.1 in front of a Cluster, with a bound on connections.
import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { ClusterError, ErrorCode, type Cluster } from '../index.js';
import { Connection } from './connection.js';
import { CursorTable, type ConnectionState, type ServerContext, type ServerStats } from './context.js';
import { resolveRespOptions, type ResolvedRespOptions, type RespServerOptions } from './options.js';
import { KeyspaceNotifier } from './keyspace.js';
import { PubSubRegistry } from './pubsub.js';
import { TrackingTable } from './tracking.js';
import { WatchRegistry } from './watches.js';
import { ClientPause } from './pause.js';
import { SlowLog } from './slowlog.js';
import { LatencyMonitor } from './latency-monitor.js';
import { Saves } from './saves.js';
import { Monitors } from './monitor.js';
import { monitored } from './dispatch.js';
import { CommandStats } from './command-stats.js';
import { InstantaneousMetrics } from './instantaneous.js';
import { AclLog } from './acl-log.js';
import { Scripts } from './commands/scripting.js';
import { REDIS_VERSION } from './commands/connection.js';
import { LuaRuntime } from './lua.js';
import { ServerLog } from './server-log.js';
import { connectionRoom } from './descriptors.js';

const MAX_CLIENTS_REPLY = Buffer.from('-ERR max number of clients reached\r\n');

export class RespServer {
  private readonly net: Server;
  private readonly connections = new Set<Connection>();
  private nextClientId = 1;
  private readonly context: ServerContext;
  private closing: Promise<void> | undefined;
  /** Removes the cluster's hook into WATCH (./watches.ts). */
  private readonly unhook: () => void;

  /**
   * Set when `maxClients` was lowered at start because the limit on open files (`ulimit -n`) leaves room for
   * fewer connections: what was asked for, and the limit. `options.maxClients` is what the server allows.
   */
  maxClientsLowered: { requested: number; openFilesLimit: number } | undefined;

  private constructor(readonly cluster: Cluster, readonly options: ResolvedRespOptions, lua: LuaRuntime) {
    const stats: ServerStats = {
      connectionsReceived: 0, rejectedConnections: 0, commandsProcessed: 0, netInputBytes: 0, netOutputBytes: 0,
      keyspaceHits: 0, keyspaceMisses: 0, protocolErrors: 0, peakMemory: 0,
    };
    const pubsub = new PubSubRegistry();
    const clients = new Map<number, ConnectionState>();
    const keyspace = new KeyspaceNotifier(cluster, pubsub, stats);
    keyspace.tracking = new TrackingTable(clients, options.trackingTableMaxKeys, () => keyspace.refresh());
    this.context = {
      cluster,
      options,
      stats,
      clients,
      cursors: new CursorTable(options.maxScanCursors),
      watches: new WatchRegistry(),
      pubsub,
      keyspace,
      tracking: keyspace.tracking,
      pause: new ClientPause(),
      commandStats: new CommandStats(),
      slowlog: new SlowLog(),
      latency: new LatencyMonitor({ stages: (w) => cluster.profile.watchStages(w), readRounds: (w) => cluster.watchReadRounds(w) }),
      saves: new Saves(() => cluster.snapshot()),
      monitors: new Monitors(monitored),
      rates: new InstantaneousMetrics(() => ({ ops: stats.commandsProcessed, input: stats.netInputBytes, output: stats.netOutputBytes })),
      aclLog: new AclLog(),
      scripts: new Scripts(lua),
      log: new ServerLog(options.logLevel, options.logFile),
      idleTimeoutSeconds: 0,
      startedAt: Date.now(),
      runId: randomBytes(20).toString('hex'),
      port: () => this.port,
    };
    this.net = createServer({ noDelay: true }, (socket) => this.accept(socket));
    const { watches } = this.context;
    const unhookWatches = cluster.onWriteAccepted((ops) => watches.touchAccepted(ops));
    const { tracking } = this.context;
    const unhookTracking = cluster.onWriteApplied((ops, results, tag) => tracking.applied(ops, results, tag));
    const { latency, rates } = this.context;
    rates.start();
    // CONFIG SET timeout: idle connections closed, checked every second as Redis's clientsCron does.
    const idle = setInterval(() => this.closeIdle(), 1000);
    idle.unref();
    this.unhook = () => {
      unhookWatches();
      unhookTracking();
      latency.close();
      rates.close();
      clearInterval(idle);
      this.context.log.close();
    };
  }

  /** Listen in front of `cluster` (which the caller starts and stops). Resolves once listening. */
  static async start(cluster: Cluster, options?: RespServerOptions): Promise<RespServer> {
    // RESP values are bytes, written by batch() as they are; a codec would decode them on every read (JSON.parse).
    if (cluster.options.codec !== 'raw') {
      throw new ClusterError(ErrorCode.INVALID_ARGUMENT, `the RESP server needs a cluster with the 'raw' codec, not '${cluster.options.codec}'`);
    }
    const resolved = resolveRespOptions(options);
    try {
      ServerLog.check(resolved.logFile);
    } catch (err) {
      throw new ClusterError(ErrorCode.INVALID_ARGUMENT, `logFile ${JSON.stringify(resolved.logFile)} cannot be opened: ${err instanceof Error ? err.message : String(err)}`);
    }
    // As Redis: maxclients lowered to what the descriptor limit leaves (./descriptors.ts), and the caller told.
    const room = connectionRoom();
    const requested = resolved.maxClients;
    const lowered = room !== undefined && requested > room.connections;
    if (lowered) resolved.maxClients = room.connections;
    const server = new RespServer(cluster, resolved, await LuaRuntime.create(REDIS_VERSION));
    if (lowered) server.maxClientsLowered = { requested, openFilesLimit: room.openFilesLimit };
    await new Promise<void>((resolve, reject) => {
      const failed = (err: Error): void => {
        server.unhook();
        reject(err);
      };
      server.net.once('error', failed);
      server.net.listen(server.options.port, server.options.host, () => {
        server.net.off('error', failed);
        resolve();
      });
    });
    server.context.keyspace.set(resolved.notifyKeyspaceEvents);
    server.context.latency.thresholdMs = resolved.latencyMonitorThresholdMs;
    return server;
  }

  /** The port listened on (the one chosen by the system when started with port 0). */
  get port(): number {
    return (this.net.address() as AddressInfo | null)?.port ?? this.options.port;
  }

  get stats(): Readonly<ServerStats> {
    return this.context.stats;
  }

  /** Connections open now. */
  get clientCount(): number {
    return this.connections.size;
  }

  /** Keys some connection watches now (WATCH until its EXEC, DISCARD, UNWATCH, RESET or close). */
  get watchedKeys(): number {
    return this.context.watches.keys;
  }

  private accept(socket: Socket): void {
    const stats = this.context.stats;
    stats.connectionsReceived++;
    if (this.closing || this.connections.size >= this.options.maxClients) {
      stats.rejectedConnections++;
      socket.on('error', () => undefined);
      socket.end(MAX_CLIENTS_REPLY);
      // Read and drop what it sends, so that its FIN is seen and the socket closes; cut it after a second anyway.
      socket.resume();
      setTimeout(() => socket.destroy(), 1000).unref();
      return;
    }
    const c = new Connection(this.context, socket, this.nextClientId++, (gone) => {
      this.connections.delete(gone);
      this.context.clients.delete(gone.state.id);
    });
    this.connections.add(c);
    this.context.clients.set(c.state.id, c.state);
  }

  /** Close the connections idle for longer than `timeout` seconds (0: never), without a reply, as Redis does. */
  private closeIdle(): void {
    const seconds = this.context.idleTimeoutSeconds;
    if (seconds === 0) return;
    const now = Date.now();
    for (const c of this.connections) {
      const idle = c.idleMs(now);
      if (idle !== undefined && idle > seconds * 1000) c.destroy();
    }
  }

  /** Stop listening and close every connection (the cluster is left running). */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.unhook();
      this.context.pause.close();
      const keyspace = this.context.keyspace.close();
      this.net.close(() => void keyspace.then(() => resolve()));
      for (const c of this.connections) c.destroy();
    });
    return this.closing;
  }
}
