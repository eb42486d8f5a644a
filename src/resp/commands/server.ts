// Server commands: INFO (real figures from status() and metrics()), COMMAND (from the command table), CONFIG (what
// the server and cluster were started with; four parameters settable), LATENCY, SLOWLOG, MONITOR, DEBUG DIGEST, POPULATE and SLEEP,
// MEMORY USAGE, OBJECT, SAVE, BGSAVE, LASTSAVE, SHUTDOWN, TIME, ROLE, WAIT; SWAPDB, REPLICAOF, FAILOVER and MODULE as
// Redis answers them for what this server is (one database, a primary without RESP replicas, no modules).
import { arch, platform, release, totalmem } from 'node:os';
import type { LatencySummaryMs } from '../../index.js';
import { MAX_TIMEOUT_MS } from '../../cluster/validate.js';
import { nodeMemoryBytes } from '../../cluster/cluster.js';
import { memoryBytes, threadCpuTimes } from '../../util/thread-health.js';
import { valueBytes } from '../../storage/codec.js';
import { HLL_SPARSE_MAX_BYTES, isHll } from '../../storage/hyperloglog.js';
import { fixed2 } from '../../util/printf.js';
import { unixMicros } from '../../util/clock.js';
import { string2d } from '../../storage/float80.js';
import { percentileText } from '../command-stats.js';
import { clampInt64, INT64_MAX, keyBytes, keyError, keyword, parseInt64, parseInteger, upper } from '../args.js';
import { globMatch } from '../glob.js';
import { arityOk, command, commandNamed, commandsIn, everyCommand, hasKeys, keySpec, keysOf, lookupCommand, sub, type ArgDoc, type CommandSpec, type KeySpec } from '../command.js';
import type { Ctx } from '../context.js';
import { arityError, clusterError, DB_RANGE, intArg, NOT_INTEGER, subcommandSyntax, SYNTAX, TIMEOUT_NEGATIVE, TIMEOUT_NOT_INTEGER, unknownSubcommand } from '../errors.js';
import { BATCH_OVERHEAD_BYTES, CallPlan, KeysPlan, opsBytes, ReadPlan, WritePlan, type RespOp } from '../plan.js';
import { batch } from '../cluster-api.js';
import { keyspaceFlagsText, parseKeyspaceFlags } from '../keyspace-flags.js';
import { MAX_SLOWLOG_LEN } from '../slowlog.js';
import { COMMAND_DOCS } from '../command-docs.js';
import { ErrorReply, helpReply, MapReply, NO_REPLY, OK, SetReply, SimpleString, VerbatimReply, type Reply } from '../reply.js';
import { clientMemory, REDIS_VERSION } from './connection.js';
import { LOG_LEVELS } from '../server-log.js';

export const THREADRAFT_VERSION = '0.1.0';

const DEBUG_HELP = [
  'DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'DIGEST', "    Return the replicas' digest of the whole dataset.",
  'POPULATE <count> [<prefix>] [<size>]',
  '    Create <count> string keys named key:<num> (those absent), with values value:<num>. If <prefix> is',
  "    specified then it is used instead of the 'key' prefix; with <size>, values are <size> bytes (zero-padded).",
  '    Written through the log, in batches: every replica has them.',
  'SLEEP <seconds>', "    Hold this command's reply for <seconds> (at most 3600). Decimals allowed.",
  'HELP', '    Prints this help.',
];

/** Each DEBUG subcommand's least and greatest number of arguments, the command's name included. */
const DEBUG_ARITY = new Map<string, [number, number]>([['HELP', [2, 2]], ['SLEEP', [3, 3]], ['DIGEST', [2, 2]], ['POPULATE', [3, 5]]]);

/** Redis's getPositiveLongFromObjectOrReply without a message: this one error for a count or size not 0 to LONG_MAX. */
const NOT_POSITIVE = new ErrorReply('ERR value is out of range, must be positive');

/** A non-negative decimal number (DEBUG SLEEP's seconds): no sign, no hexadecimal, no infinity. */
const DECIMAL = /^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** The longest DEBUG SLEEP, in seconds. */
const MAX_DEBUG_SLEEP_S = 3600;

/**
 * Resolves once `ms` have passed on performance.now()'s clock (a timer may fire up to a millisecond early on it). Its
 * timers are unreferenced: a server closing does not wait for them.
 */
async function sleepAtLeast(ms: number): Promise<void> {
  const until = performance.now() + ms;
  for (let left = ms; left > 0; left = until - performance.now()) {
    await new Promise<void>((resolve) => setTimeout(resolve, Math.ceil(left)).unref());
  }
}

/**
 * DEBUG DIGEST (Redis: a hex digest of the whole dataset, what Redis's own tests compare between a primary and its
 * replicas): Cluster.checkReplicas(), whose digest a majority of the replicas reported; an error naming the nodes
 * when they do not all agree.
 * DEBUG SLEEP seconds: its reply comes that long after it is dispatched (a slow command to try SLOWLOG and the
 * latency monitor with). Redis stops the whole server for that long; here only this reply waits (the connection's
 * later replies wait for it, as every reply waits for those before it). Refused unless 0 to 3600 seconds.
 */
function debug(ctx: Ctx, args: Buffer[]): Reply | CallPlan {
  const sub = upper(args[1]!);
  // As Redis: an unknown subcommand, or a known one with the wrong number of arguments, is one error.
  const arity = DEBUG_ARITY.get(sub);
  if (arity === undefined || args.length < arity[0] || args.length > arity[1]) return subcommandSyntax(args[1]!, 'debug');
  if (sub === 'HELP') return helpReply(DEBUG_HELP);
  if (sub === 'POPULATE') return populate(ctx, args);
  if (sub === 'SLEEP') {
    const text = args[2]!.toString('latin1');
    const s = Number(text);
    if (!DECIMAL.test(text) || !(s <= MAX_DEBUG_SLEEP_S)) return new ErrorReply(`ERR DEBUG SLEEP takes 0 to ${MAX_DEBUG_SLEEP_S} seconds`);
    return new CallPlan(async () => {
      await sleepAtLeast(s * 1000);
      return OK;
    });
  }
  const { cluster } = ctx.server;
  return new CallPlan(async () => {
    const r = await cluster.checkReplicas();
    if (r.consistent && r.digest !== undefined) return r.digest;
    return new ErrorReply(`ERR replicas differ at log index ${r.index}: ${r.nodes.map((n) => `node ${n.id} ${n.status}`).join(', ')}`);
  });
}

/**
 * DEBUG POPULATE count [prefix] [size], as Redis's: keys `prefix:0` to `prefix:<count - 1>` (prefix `key`), each
 * written only where absent (a key present is left as it is), with the value `value:<n>`, or with a size that many
 * bytes: `value:<n>` cut to it or padded with zero bytes (size 0: the plain value). Redis writes them into its memory
 * alone (its replicas never get them); here they are `put`s with condition absent through the log, so every replica
 * holds them, sent in batches of at most maxBatchOps and maxBatchBytes, four in flight. So it is not atomic: other
 * connections may see some keys before the reply. Clients that track a key are told when it is created, as by any
 * write (Redis signals each key too); no keyspace event is published, as on Redis. It stops between two batches when
 * its connection closes; a cluster error ends it with that error (the keys of the other batches may be written).
 */
function populate(ctx: Ctx, args: Buffer[]): Reply | CallPlan {
  const count = parseInt64(args[2]!);
  const size = args.length === 5 ? parseInt64(args[4]!) : 0n;
  if (count === null || count < 0n || size === null || size < 0n) return NOT_POSITIVE;
  const { cluster } = ctx.server;
  const { maxValueBytes, maxBatchOps, maxBatchBytes } = cluster.options;
  if (size > BigInt(maxValueBytes)) return new ErrorReply(`ERR INVALID_ARGUMENT value is ${size} bytes; the limit is ${maxValueBytes}`);
  const prefix = Buffer.concat([args.length >= 4 ? args[3]! : POPULATE_PREFIX, COLON]);
  const n = Number(count); // past 2^53 keys the writes would never end anyway
  const bad = n > 0 ? keyError(Buffer.concat([prefix, Buffer.from(String(n - 1))])) : undefined; // the longest key
  if (bad) return bad;
  const valueSize = Number(size);
  const { conn, server } = ctx;
  return new CallPlan(async () => {
    const inFlight: Array<Promise<unknown>> = [];
    let failed: unknown;
    for (let j = 0; j < n && failed === undefined; ) {
      if (server.clients.get(conn.id) !== conn) break; // closed: no one to answer, no reason to go on
      const ops: RespOp[] = [];
      let bytes = BATCH_OVERHEAD_BYTES;
      for (; j < n && ops.length < maxBatchOps; j++) {
        const key = Buffer.concat([prefix, Buffer.from(String(j))]);
        const text = `value:${j}`;
        // With a size: zero bytes, with as much of the text as fits written over them (Buffer.write stops at the end).
        const value = valueSize === 0 ? Buffer.from(text) : Buffer.alloc(valueSize);
        if (valueSize !== 0) value.write(text, 'latin1');
        const op: RespOp = { type: 'put', key, value, condition: 'absent' };
        const b = opsBytes([op]);
        if (ops.length > 0 && bytes + b > maxBatchBytes) break;
        ops.push(op);
        bytes += b;
      }
      inFlight.push(batch(cluster, ops).catch((err: unknown) => (failed ??= err)));
      if (inFlight.length >= POPULATE_IN_FLIGHT) await inFlight.shift();
    }
    await Promise.all(inFlight);
    return failed === undefined ? OK : clusterError(failed);
  });
}

/**
 * DEBUG POPULATE's batches sent and not answered yet, at most: 1.12 × the keys a second of one at a time (medians of 6
 * alternating runs of 200,000 keys on a 3-node LMDB cluster, faster in all 6).
 */
const POPULATE_IN_FLIGHT = 4;
const POPULATE_PREFIX = Buffer.from('key');
const COLON = Buffer.from(':');

type Section = [name: string, fields: Array<[string, string | number]>];

/**
 * A byte count as Redis's INFO prints one (bytesToHuman): 512B, 1.50K, 64.00M, ... with C's "%.2f", which rounds an
 * exact tie to even (1152 bytes: 1.12K) where toFixed would round it up.
 */
export function bytesToHuman(n: number): string {
  if (n < 1024) return `${n}B`;
  const units = ['K', 'M', 'G', 'T', 'P'];
  for (let i = 0; i < units.length; i++) {
    if (n < 1024 ** (i + 2)) return `${fixed2(n, 1024 ** (i + 1))}${units[i]}`;
  }
  return `${n}B`;
}

/**
 * maxmemory-policy in Redis's words: 'noeviction' for a cluster without bounds (nothing is ever evicted), else
 * 'allkeys-lru', the nearest Redis policy: any key may go, the least recently written first (reads do not count:
 * docs/cache.md, "Bounds").
 */
function evictionPolicy(o: { maxKeys?: number | undefined; maxBytes?: number | undefined }): string {
  return o.maxKeys === undefined && o.maxBytes === undefined ? 'noeviction' : 'allkeys-lru';
}

/**
 * INFO cpu as Redis's: the process's CPU seconds in system and user mode (every thread: the nodes, their pools and
 * the coordinator), none in children (the nodes are threads, not processes), and the main thread's (Linux), where
 * the coordinator and this server run.
 */
function cpuFields(): Array<[string, string]> {
  const secs = (us: number): string => (us / 1e6).toFixed(6);
  const p = process.cpuUsage();
  const fields: Array<[string, string]> = [
    ['used_cpu_sys', secs(p.system)], ['used_cpu_user', secs(p.user)],
    ['used_cpu_sys_children', secs(0)], ['used_cpu_user_children', secs(0)],
  ];
  const main = threadCpuTimes();
  if (main !== undefined) {
    fields.push(['used_cpu_sys_main_thread', secs(main.systemMs * 1000)], ['used_cpu_user_main_thread', secs(main.userMs * 1000)]);
  }
  return fields;
}

/** The largest input (qbuf) and output (omem) of the connections, and the sum of their tot-mem (./connection.ts clientMemory). */
function clientBuffers(ctx: Ctx): { input: number; output: number; total: number } {
  let input = 0;
  let output = 0;
  let total = 0;
  for (const c of ctx.server.clients.values()) {
    const m = clientMemory(c);
    input = Math.max(input, m.input.queryBytes);
    output = Math.max(output, m.output);
    total += m.total;
  }
  return { input, output, total };
}

/** The connections blocked: in WAIT, or their next command held by CLIENT PAUSE (Redis counts its postponed clients too). */
function blocked(ctx: Ctx): number {
  let n = 0;
  for (const c of ctx.server.clients.values()) if (c.blocked) n++;
  return n;
}

function ms(v: number): string {
  return v.toFixed(3);
}

function latencyFields(prefix: string, s: LatencySummaryMs): Array<[string, string | number]> {
  return [[prefix, `count=${s.count},p50=${ms(s.p50)},p99=${ms(s.p99)},max=${ms(s.max)}`]];
}

/** INFO's sections in Redis's order. */
const ORDER = ['server', 'clients', 'memory', 'persistence', 'stats', 'replication', 'cpu', 'modules', 'latency', 'commandstats', 'errorstats', 'latencystats', 'cluster', 'keyspace'];

/** The sections whose fields are this server's own: an INFO of only these (a monitor's INFO commandstats) asks the nodes nothing. */
function ownSections(ctx: Ctx): Section[] {
  return [
    ['cpu', cpuFields()],
    ['modules', []], // none loaded (MODULE LIST)
    ['commandstats', ctx.server.commandStats.commandstats()],
    ['errorstats', ctx.server.commandStats.errorstats()],
    ['latencystats', ctx.server.commandStats.latencystats()],
    ['cluster', [['cluster_enabled', 0]]], // no Redis Cluster: one node answers for every key
  ];
}

/** The sections `want` names, in Redis's order; the nodes' status and metrics are asked for only when one needs them. */
async function sections(ctx: Ctx, want: (name: string) => boolean): Promise<Section[]> {
  const own = ownSections(ctx);
  const list = ORDER.filter(want).every((name) => own.some(([n]) => n === name)) ? own : [...(await clusterSections(ctx)), ...own];
  return ORDER.flatMap((name) => list.filter(([n]) => n === name && want(n)));
}

async function clusterSections(ctx: Ctx): Promise<Section[]> {
  const { cluster, stats, options, rates } = ctx.server;
  const [status, metrics, keys] = await Promise.all([cluster.status(), cluster.metrics(), cluster.size(ctx.conn.readOptions)]);
  const uptime = Math.floor((Date.now() - ctx.server.startedAt) / 1000);
  const mem = process.memoryUsage(); // for the RSS: the process's
  const leader = status.find((s) => s.role === 'leader');
  const lc = metrics.nodes.find((n) => n.id === leader?.id)?.counters;
  const leaderCommit = leader?.commit ?? 0;
  const replication: Array<[string, string | number]> = [
    ['role', 'master'],
    ['connected_slaves', 0],
    ['master_repl_offset', leaderCommit], // ROLE's offset
    ['raft_nodes', status.length],
    ['raft_leader', metrics.leader ?? 0],
    ['raft_term', leader?.term ?? Math.max(0, ...status.map((s) => s.term))],
    ['raft_commit_index', leaderCommit],
    ['raft_applied_index', leader?.applied ?? 0],
    ...status.map((s): [string, string] => [
      `raft_node${s.id}`,
      `role=${s.role},alive=${s.alive ? 1 : 0},term=${s.term},commit=${s.commit ?? 0},applied=${s.applied ?? 0},last_index=${s.lastIndex ?? 0},snapshot_index=${s.snapshotIndex ?? 0}`,
    ]),
  ];
  const latency: Array<[string, string | number]> = [
    ...Object.entries(metrics.writeStages).flatMap(([stage, s]) => latencyFields(`write_stage_${stage}_ms`, s)),
    ...latencyFields('write_total_ms', metrics.writeTotal),
    ...latencyFields('read_index_round_ms', metrics.readIndexRound),
  ];
  const o = cluster.options;
  const used = metrics.memory.totalBytes;
  if (used > stats.peakMemory) stats.peakMemory = used;
  const tracking = ctx.server.tracking.stats;
  const buffers = clientBuffers(ctx);
  const save = ctx.server.saves.stats();
  return [
    ['server', [
      ['redis_version', REDIS_VERSION], ['threadraft_version', THREADRAFT_VERSION], ['redis_mode', 'standalone'],
      ['os', `${platform()} ${release()} ${arch()}`], ['arch_bits', 64], ['process_id', process.pid],
      ['run_id', ctx.server.runId], ['tcp_port', ctx.server.port()], ['server_time_usec', Date.now() * 1000],
      ['uptime_in_seconds', uptime], ['uptime_in_days', Math.floor(uptime / 86400)], ['config_file', ''],
      ['node_version', process.version],
    ]],
    // The input and output buffers: the largest of the connections now (CLIENT LIST's qbuf and omem; Redis keeps the
    // peak of its last seconds), and every connection's tot-mem summed as Redis's mem_clients_normal.
    ['clients', [
      ['connected_clients', ctx.server.clients.size], ['cluster_connections', 0], ['maxclients', options.maxClients],
      ['client_recent_max_input_buffer', buffers.input], ['client_recent_max_output_buffer', buffers.output],
      ['blocked_clients', blocked(ctx)], ['tracking_clients', tracking.clients], ['clients_in_timeout_table', 0],
    ]],
    // used_memory: every thread's heap in use and external memory (Cluster.metrics().memory); the RSS is more (what the
    // C library keeps after frees: docs/api.md, "Memory"), and their ratio is Redis's mem_fragmentation_ratio. The
    // peak is the largest used_memory INFO reported (Redis also samples it 10 times a second).
    ['memory', [
      ['used_memory', used], ['used_memory_human', bytesToHuman(used)],
      ['used_memory_rss', mem.rss], ['used_memory_rss_human', bytesToHuman(mem.rss)],
      ['used_memory_peak', stats.peakMemory], ['used_memory_peak_human', bytesToHuman(stats.peakMemory)],
      ['used_memory_peak_perc', `${stats.peakMemory > 0 ? fixed2(used * 100, stats.peakMemory) : '0.00'}%`],
      ['used_memory_main', memoryBytes(metrics.memory.mainThread)],
      ...metrics.nodes.filter((n) => n.unavailable === undefined).map((n): [string, number] => [`used_memory_node${n.id}`, nodeMemoryBytes(n.counters)]),
      ['total_system_memory', totalmem()], ['total_system_memory_human', bytesToHuman(totalmem())],
      ['number_of_cached_scripts', ctx.server.scripts.lua.size],
      ['maxmemory', o.maxBytes ?? 0], ['maxmemory_human', bytesToHuman(o.maxBytes ?? 0)], ['maxmemory_policy', evictionPolicy(o)],
      ['mem_fragmentation_ratio', used > 0 ? fixed2(mem.rss, used) : '0.00'], ['mem_fragmentation_bytes', mem.rss - used],
      ['mem_clients_normal', buffers.total],
    ]],
    // The saves and log rewrites (../saves.ts) as Redis names them (its rdb_* and aof_* fields).
    ['persistence', [
      ['loading', 0], ['rdb_bgsave_in_progress', save.inProgress ? 1 : 0], ['rdb_last_save_time', save.lastSaveTime],
      ['rdb_last_bgsave_status', save.lastStatus], ['rdb_last_bgsave_time_sec', save.lastBackgroundSeconds],
      ['rdb_current_bgsave_time_sec', save.currentBackgroundSeconds], ['rdb_saves', save.saves],
      ['aof_enabled', appendOnly(o) ? 1 : 0], ['aof_rewrite_in_progress', save.rewrite.inProgress ? 1 : 0],
      ['aof_rewrite_scheduled', save.rewrite.scheduled ? 1 : 0], ['aof_last_rewrite_time_sec', save.rewrite.lastSeconds],
      ['aof_current_rewrite_time_sec', save.rewrite.currentSeconds], ['aof_last_bgrewrite_status', save.rewrite.lastStatus],
      ['aof_rewrites', save.rewrite.started], ['aof_rewrites_consecutive_failures', save.rewrite.consecutiveFailures], ['storage', o.storage], ['sync', o.sync ? 1 : 0], ['pool', o.pool],
      ['snapshot_every_entries', o.snapshotEveryEntries],
    ]],
    ['stats', [
      ['total_connections_received', stats.connectionsReceived], ['total_commands_processed', stats.commandsProcessed],
      ['instantaneous_ops_per_sec', rates.value('ops')],
      ['total_net_input_bytes', stats.netInputBytes], ['total_net_output_bytes', stats.netOutputBytes],
      // Rates of the last 1.6 s (../instantaneous.ts).
      ['instantaneous_input_kbps', rates.kbps('input')], ['instantaneous_output_kbps', rates.kbps('output')],
      // The leader's replica's counts since the state was created (replicated state: RESETSTAT leaves them).
      ['rejected_connections', stats.rejectedConnections], ['expired_keys', lc?.expirations ?? 0],
      ['evicted_keys', lc?.evictions ?? 0], ['evicted_scripts', ctx.server.scripts.evicted], ['keyspace_hits', stats.keyspaceHits],
      ['keyspace_misses', stats.keyspaceMisses], ['pubsub_channels', ctx.server.pubsub.size('channel')],
      ['pubsub_patterns', ctx.server.pubsub.size('pattern')], ['pubsubshard_channels', ctx.server.pubsub.size('shard')],
      ['tracking_total_keys', tracking.keys], ['tracking_total_items', tracking.items],
      ['tracking_total_prefixes', tracking.prefixes], ['total_error_replies', ctx.server.commandStats.errorReplies],
      // Redis 7.2's ACL denials: a wrong password is the only one there can be (the default user may run anything).
      ['acl_access_denied_auth', ctx.server.aclLog.authFailures], ['acl_access_denied_cmd', 0], ['acl_access_denied_key', 0],
      ['acl_access_denied_channel', 0],
      ['protocol_errors', stats.protocolErrors],
      ['raft_writes', metrics.coordinator.writes], ['raft_reads', metrics.coordinator.reads],
      ['raft_batches_sent', metrics.coordinator.batchesSent], ['raft_read_rounds_sent', metrics.coordinator.readRoundsSent],
      ['raft_writes_resent', metrics.coordinator.resends], ['raft_leader_changes', metrics.coordinator.leaderChanges],
    ]],
    ['replication', replication],
    ['latency', latency],
    // keys: DBSIZE's count (live keys); expires and avg_ttl (ms): the leader's, whose count has the expired keys not
    // purged yet too (Redis's has them in both), so it is capped at keys. Without a leader, none is counted as expiring.
    ['keyspace', keys > 0 ? [['db0', `keys=${keys},expires=${Math.min(keys, lc?.expires ?? 0)},avg_ttl=${lc?.avgTtlMs ?? 0}`]] : []],
  ];
}

function render(list: Section[]): string {
  return list
    .map(([name, fields]) => `# ${name === 'cpu' ? 'CPU' : `${name[0]!.toUpperCase()}${name.slice(1)}`}\r\n${fields.map(([k, v]) => `${k}:${v}\r\n`).join('')}`)
    .join('\r\n');
}

const UNBLOCKED = new ErrorReply('UNBLOCKED client unblocked via CLIENT UNBLOCK');

/**
 * WAIT numreplicas timeout: how many nodes besides the leader hold every write acknowledged before it (a read plan:
 * it runs after the connection's earlier writes are acknowledged), waiting up to `timeout` ms for `numreplicas`.
 */
function wait(ctx: Ctx, args: Buffer[]): Reply | ReadPlan {
  const replicas = parseInt64(args[1]!);
  if (replicas === null) return NOT_INTEGER;
  const timeout = parseInt64(args[2]!);
  if (timeout === null) return TIMEOUT_NOT_INTEGER;
  if (timeout < 0n) return TIMEOUT_NEGATIVE;
  const { cluster } = ctx.server;
  // 0, Redis's "for ever", is the cluster's requestTimeoutMs; longer than waitReplicas takes, its longest.
  const ms = timeout === 0n ? cluster.options.requestTimeoutMs : clampInt64(timeout, 0, MAX_TIMEOUT_MS);
  const want = clampInt64(replicas);
  const conn = ctx.conn;
  return new ReadPlan(async () => {
    // Blocked while it waits, as Redis's WAIT blocks its client: CLIENT UNBLOCK ends it.
    const cut = new AbortController();
    let refused = false;
    conn.blocked = true;
    conn.unblock = (error) => {
      refused = error;
      cut.abort();
      conn.blocked = false; // unblocked now: its reply follows within a poll
      conn.unblock = undefined;
    };
    try {
      const n = await cluster.waitReplicas(want, ms, { signal: cut.signal });
      return refused ? UNBLOCKED : n;
    } catch (err) {
      return clusterError(err);
    } finally {
      conn.blocked = false;
      conn.unblock = undefined;
    }
  });
}

/** The sections INFO leaves out unless named (or `all`, `everything`), as Redis's. */
const NOT_DEFAULT = new Set(['commandstats', 'latencystats']);

/** INFO [section ...]: the default sections for none or `default`, every one for `all` or `everything`. */
function info(ctx: Ctx, args: Buffer[]): ReadPlan {
  const wanted = args.slice(1).map((a) => a.toString('latin1').toLowerCase());
  const all = wanted.some((w) => w === 'all' || w === 'everything');
  const defaults = wanted.length === 0 || wanted.includes('default');
  return new ReadPlan(async () => {
    try {
      const list = await sections(ctx, (name) => all || wanted.includes(name) || (defaults && !NOT_DEFAULT.has(name)));
      return new VerbatimReply('txt', render(list));
    } catch (err) {
      return clusterError(err);
    }
  });
}

/** Whether the nodes keep their log on disk (LMDB): Redis's `appendonly yes` (CONFIG GET) and `aof_enabled:1` (INFO). */
function appendOnly(o: { storage: string }): boolean {
  return o.storage === 'lmdb';
}

/**
 * CONFIG GET's parameters: Redis's names, with what this server and its cluster were started with. They are fixed
 * at start, so CONFIG SET refuses each as Redis refuses an immutable one. The persistence ones say what the log
 * does in Redis's terms (docs/resp.md, "CONFIG"): every write is in a log synced before it is acknowledged
 * (appendonly yes, appendfsync always) on LMDB with sync; no periodic dump (save ""); memory storage keeps nothing.
 */
function configParams(ctx: Ctx): Array<[string, string]> {
  const { options, cluster } = ctx.server;
  const o = cluster.options;
  const persisted = appendOnly(o);
  return [
    ['bind', options.host],
    ['port', String(ctx.server.port())],
    ['requirepass', options.requirepass ?? ''],
    ['maxclients', String(options.maxClients)],
    ['proto-max-bulk-len', String(options.maxBulkBytes)],
    ['databases', '1'],
    ['timeout', String(ctx.server.idleTimeoutSeconds)],
    ['save', ''],
    ['appendonly', persisted ? 'yes' : 'no'],
    ['appendfsync', persisted && o.sync ? 'always' : 'no'],
    ['maxmemory', String(o.maxBytes ?? 0)],
    ['maxmemory-policy', evictionPolicy(o)],
    ['dir', cluster.dir],
    ['notify-keyspace-events', keyspaceFlagsText(ctx.server.keyspace.current)],
    ['tracking-table-max-keys', String(options.trackingTableMaxKeys)],
    // Redis's default, which every replica's PFADD and PFMERGE apply (src/storage/hyperloglog.ts).
    ['hll-sparse-max-bytes', String(HLL_SPARSE_MAX_BYTES)],
    // How long a script runs before it is stopped (./scripting.ts), under both of Redis's names.
    ['busy-reply-threshold', String(ctx.server.scripts.timeMs)],
    ['lua-time-limit', String(ctx.server.scripts.timeMs)],
    // Per-command latencies (INFO latencystats, LATENCY HISTOGRAM).
    ['latency-tracking', ctx.server.commandStats.latencyTracking ? 'yes' : 'no'],
    ['latency-tracking-info-percentiles', ctx.server.commandStats.percentiles.map(percentileText).join(' ')],
    ['latency-monitor-threshold', String(ctx.server.latency.thresholdMs)],
    ['slowlog-log-slower-than', String(ctx.server.slowlog.slowerThanUs)],
    ['slowlog-max-len', String(ctx.server.slowlog.maxLength)],
    // The server's log: what scripts write with redis.log (../server-log.ts); '' is standard error here.
    ['loglevel', ctx.server.log.level],
    ['logfile', ctx.server.log.file],
    // Not a replica of anything (REPLICAOF NO ONE), under both of Redis's names.
    ['replicaof', ''],
    ['slaveof', ''],
  ];
}

/** busy-reply-threshold (lua-time-limit): a script is stopped past it; 0, which would let one run for ever here, is refused. */
function scriptTime(ctx: Ctx, value: Buffer): (() => void) | string {
  const ms = integerWithin(value, 1n, 2147483647n);
  return typeof ms === 'string' ? ms : () => (ctx.server.scripts.timeMs = ms);
}

/**
 * The parameters CONFIG SET changes (Redis's mutable ones among ours): each checks a value, and returns how to apply
 * it or, when it is refused, why (Redis's words).
 */
const SETTERS: Record<string, (ctx: Ctx, value: Buffer) => (() => void) | string> = {
  'notify-keyspace-events': (ctx, value) => {
    const flags = parseKeyspaceFlags(value.toString('latin1'));
    return typeof flags === 'string' ? flags : () => ctx.server.keyspace.set(flags);
  },
  'slowlog-log-slower-than': (ctx, value) => {
    const us = integerWithin(value, -1n, INT64_MAX);
    return typeof us === 'string' ? us : () => (ctx.server.slowlog.slowerThanUs = us);
  },
  'latency-monitor-threshold': (ctx, value) => {
    const ms = integerWithin(value, 0n, INT64_MAX);
    return typeof ms === 'string' ? ms : () => (ctx.server.latency.thresholdMs = ms);
  },
  loglevel: (ctx, value) => {
    const level = LOG_LEVELS.find((l) => l === value.toString('latin1').toLowerCase());
    return level === undefined ? `argument(s) must be one of the following: ${LOG_LEVELS.join(', ')}` : () => (ctx.server.log.level = level);
  },
  'busy-reply-threshold': scriptTime,
  'lua-time-limit': scriptTime,
  timeout: (ctx, value) => {
    const seconds = integerWithin(value, 0n, 2147483647n);
    return typeof seconds === 'string' ? seconds : () => (ctx.server.idleTimeoutSeconds = seconds);
  },
  'latency-tracking': (ctx, value) => {
    const text = value.toString('latin1').toLowerCase();
    if (text !== 'yes' && text !== 'no') return "argument must be 'yes' or 'no'";
    return () => (ctx.server.commandStats.latencyTracking = text === 'yes');
  },
  // Percentiles separated by single spaces (two spaces make an empty one, refused); "" for none. As Redis's string2d.
  'latency-tracking-info-percentiles': (ctx, value) => {
    const text = value.toString('latin1');
    const ps = text === '' ? [] : text.split(' ').map(string2d);
    if (ps.some((p) => p === undefined)) return 'Invalid latency-tracking-info-percentiles parameters';
    if (ps.some((p) => p! < 0 || p! > 100)) return 'latency-tracking-info-percentiles parameters should sit between [0.0,100.0]';
    return () => (ctx.server.commandStats.percentiles = ps as number[]);
  },
  'slowlog-max-len': (ctx, value) => {
    const len = integerWithin(value, 0n, BigInt(MAX_SLOWLOG_LEN));
    return typeof len === 'string' ? len : () => ctx.server.slowlog.setMaxLen(len);
  },
};

/** Parameters Redis does not let CONFIG SET change either, whatever the value: immutable, and protected (as Redis's default `enable-protected-configs no`). */
const REDIS_IMMUTABLE = new Set(['databases', 'replicaof', 'slaveof', 'logfile']);
const REDIS_PROTECTED = new Set(['dir']);

/** Whether CONFIG SET's `given` is the parameter's current value (words case-insensitively, as Redis parses them). */
function sameValue(name: string, given: Buffer, value: string): boolean {
  const text = given.toString('utf8');
  return text === value || (name !== 'requirepass' && text.toLowerCase() === value);
}

/** An integer parameter's value within [min, max] (past the safe integers: the nearest), or why it is refused. */
function integerWithin(value: Buffer, min: bigint, max: bigint): number | string {
  const v = parseInt64(value);
  if (v === null) return "argument couldn't be parsed into an integer";
  if (v < min || v > max) return `argument must be between ${min} and ${max} inclusive`;
  return clampInt64(v);
}

const CONFIG_HELP = [
  'CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'GET <pattern> [<pattern> ...]', '    Return parameters matching the glob-like <pattern>s and their values.',
  'SET <directive> <value> [<directive> <value> ...]', '    Set notify-keyspace-events, loglevel, timeout, busy-reply-threshold (lua-time-limit), latency-monitor-threshold, latency-tracking, latency-tracking-info-percentiles, slowlog-log-slower-than or slowlog-max-len; every other parameter is fixed when the server starts (its own value is accepted).',
  'RESETSTAT', '    Reset statistics reported by the INFO command and the cluster\'s metrics.',
  'REWRITE', '    Refused: the server runs without a config file.',
  'HELP', '    Prints this help.',
];

/** CONFIG GET / SET / RESETSTAT / REWRITE / HELP (redis-benchmark asks CONFIG GET save and appendonly first). */
function config(ctx: Ctx, args: Buffer[]): Reply | CallPlan | WritePlan {
  const sub = upper(args[1]!);
  const n = args.length;
  switch (sub) {
    case 'GET': {
      if (n < 3) return arityError('config|get');
      // Answered in the connection's order, as a plan with nothing to send: after a CONFIG SET before it (inside
      // MULTI: at EXEC). As Redis 7: each parameter once; a name without glob characters is echoed as given.
      return new WritePlan([], () => {
        const found = new Map<string, [string, string]>();
        const params = configParams(ctx);
        for (const a of args.slice(2)) {
          const pattern = a.toString('latin1');
          const lower = pattern.toLowerCase();
          const glob = /[*?[]/.test(pattern) ? Buffer.from(lower, 'latin1') : undefined;
          for (const [name, value] of params) {
            if (found.has(name)) continue;
            if (glob === undefined) {
              if (name === lower) found.set(name, [pattern, value]);
            } else if (globMatch(glob, Buffer.from(name, 'latin1'))) {
              found.set(name, [name, value]);
            }
          }
        }
        return new MapReply([...found.values()]);
      });
    }
    case 'SET': {
      if (n % 2 !== 0) return SYNTAX;
      // All or nothing, as Redis: the names are checked in one pass (the first unknown, fixed or repeated one is the
      // error), then the values in order, before any is applied.
      // A parameter fixed here that Redis lets change takes the value it has (`CONFIG SET save ""`, `appendonly no`
      // on memory storage): nothing changes, so nothing is refused.
      const current = new Map(configParams(ctx));
      const seen = new Set<string>();
      for (let i = 2; i < n; i += 2) {
        const given = args[i]!.toString('utf8', 0, 128);
        const name = given.toLowerCase();
        const value = current.get(name);
        if (value === undefined) return new ErrorReply(`ERR Unknown option or number of arguments for CONFIG SET - '${given}'`);
        const fixed = !(name in SETTERS) && (REDIS_IMMUTABLE.has(name) || !sameValue(name, args[i + 1]!, value));
        const why = REDIS_PROTECTED.has(name) ? "can't set protected config" : fixed ? "can't set immutable config" : seen.has(name) ? 'duplicate parameter' : undefined;
        if (why !== undefined) return new ErrorReply(`ERR CONFIG SET failed (possibly related to argument '${given}') - ${why}`);
        seen.add(name);
      }
      const apply: Array<() => void> = [];
      for (let i = 2; i < n; i += 2) {
        const name = args[i]!.toString('latin1').toLowerCase();
        if (!(name in SETTERS)) continue; // its own value
        const set = SETTERS[name]!(ctx, args[i + 1]!);
        if (typeof set === 'string') return new ErrorReply(`ERR CONFIG SET failed (possibly related to argument '${name}') - ${set}`);
        apply.push(set);
      }
      // Applied in the connection's order (inside MULTI: at EXEC), as a plan with nothing to send.
      return new WritePlan([], () => {
        for (const a of apply) a();
        return OK;
      });
    }
    case 'RESETSTAT': {
      if (n !== 2) return arityError('config|resetstat');
      const { stats, cluster, commandStats, rates } = ctx.server;
      return new CallPlan(async () => {
        for (const k of Object.keys(stats) as Array<keyof typeof stats>) stats[k] = 0;
        rates.reset();
        commandStats.reset();
        try {
          await cluster.resetMetrics();
          return OK;
        } catch (err) {
          return clusterError(err);
        }
      });
    }
    case 'REWRITE':
      return n === 2 ? new ErrorReply('ERR The server is running without a config file') : arityError('config|rewrite');
    case 'HELP':
      return n === 2 ? helpReply(CONFIG_HELP) : arityError('config|help');
    default:
      return unknownSubcommand(args[1]!, 'config');
  }
}

const LATENCY_HELP = [
  'LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'DOCTOR', '    Return a human readable latency analysis report.',
  'GRAPH <event>', '    Return an ASCII latency graph for the <event> class.',
  'HISTORY <event>', '    Return time-latency samples for the <event> class.',
  'LATEST', '    Return the latest latency samples for all events.',
  'RESET [<event> ...]', '    Reset latency data of one or more <event> classes.', '    (default: reset all data for all event classes)',
  'HISTOGRAM [COMMAND ...]', '    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.',
  '    If no commands are specified then all histograms are replied.',
  'HELP', '    Prints this help.',
];

/**
 * LATENCY HISTOGRAM [command ...]: each command's calls and the cumulative distribution of its times, as Redis 7
 * (../command-stats.ts), answered in the connection's order (after the commands before it are counted).
 * LATEST, HISTORY, GRAPH, DOCTOR and RESET read and reset the latency monitor (../latency-monitor.ts), in the
 * connection's order too: as plans with nothing to send (inside MULTI: at EXEC), after the commands before them are
 * sampled. An event's name is matched exactly, as Redis does, but by RESET, in any case.
 */
function latency(ctx: Ctx, args: Buffer[]): Reply | ReadPlan | WritePlan {
  const monitor = ctx.server.latency;
  switch (upper(args[1]!)) {
    case 'HISTOGRAM': {
      const names = args.length === 2 ? undefined : args.slice(2).map((a) => a.toString('latin1').toLowerCase());
      const { commandStats } = ctx.server;
      return new ReadPlan(async () => new MapReply(commandStats.histograms(names).map((h): [Reply, Reply] => [
        h.name,
        new MapReply([['calls', h.calls], ['histogram_usec', new MapReply(h.buckets)]]),
      ])));
    }
    // Their arities are the table's (below): checked before this runs.
    case 'LATEST':
      return new WritePlan([], () => monitor.latest());
    case 'HISTORY':
      return new WritePlan([], () => monitor.history(args[2]!.toString('latin1')));
    case 'GRAPH': {
      const event = args[2]!.toString('latin1');
      return new WritePlan([], () => {
        const graph = monitor.graph(event);
        return graph === undefined ? new ErrorReply(`ERR No samples available for event '${args[2]!.toString('utf8')}'`) : new VerbatimReply('txt', graph);
      });
    }
    case 'RESET': {
      const events = args.length === 2 ? undefined : args.slice(2).map((a) => a.toString('latin1'));
      return new WritePlan([], () => monitor.reset(events));
    }
    case 'DOCTOR':
      return new WritePlan([], () => new VerbatimReply('txt', monitor.doctor(ctx.server.slowlog.slowerThanUs)));
    case 'HELP':
      return helpReply(LATENCY_HELP);
    default:
      return unknownSubcommand(args[1]!, 'latency');
  }
}

const SLOWLOG_HELP = [
  'SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'GET [<count>]', '    Return top <count> entries from the slowlog (default: 10, -1 mean all).', '    Entries are made of:',
  '    id, timestamp, time in microseconds, arguments array, client IP and port,', '    client name',
  'LEN', '    Return the length of the slowlog.',
  'RESET', '    Reset the slowlog.',
  'HELP', '    Prints this help.',
];

/**
 * SLOWLOG GET [count] / LEN / RESET / HELP (../slowlog.ts). GET and LEN read the log once the commands before them
 * are answered and logged (SLOWLOG waits for them: ../dispatch.ts), as reads: inside MULTI they are refused, as
 * LATENCY HISTOGRAM is, since they would read it when queued. RESET is applied in the connection's order, as a plan
 * with nothing to send (inside MULTI: at EXEC).
 */
function slowlog(ctx: Ctx, args: Buffer[]): Reply | ReadPlan | WritePlan {
  const log = ctx.server.slowlog;
  switch (upper(args[1]!)) {
    case 'GET': {
      if (args.length > 3) return subcommandSyntax(args[1]!, 'slowlog');
      let count: number | undefined = 10;
      if (args.length === 3) {
        const n = parseInt64(args[2]!);
        if (n === null || n < -1n) return new ErrorReply('ERR count should be greater than or equal to -1');
        count = n === -1n ? undefined : clampInt64(n, 0);
      }
      return new ReadPlan(async () => log.newest(count).map((e) => [e.id, e.time, e.us, e.args, e.addr, e.name]));
    }
    case 'LEN':
      return new ReadPlan(async () => log.length);
    case 'RESET':
      return new WritePlan([], () => {
        log.reset();
        return OK;
      });
    case 'HELP':
      return helpReply(SLOWLOG_HELP);
    default:
      return unknownSubcommand(args[1]!, 'slowlog');
  }
}

/**
 * MONITOR (../monitor.ts): the connection is fed every command from now on. As Redis: a second MONITOR is not
 * answered at all, and inside MULTI (queued, as Redis queues it) EXEC answers it with Redis's refusal.
 */
function monitor(ctx: Ctx): Reply {
  if (ctx.conn.multi) return new ErrorReply("ERR MONITOR isn't allowed for DENY BLOCKING client");
  return ctx.server.monitors.add(ctx.conn) ? OK : NO_REPLY;
}

/** SWAPDB index1 index2: database 0 with itself (a no-op), the only one there is; Redis's errors else. */
function swapdb(_ctx: Ctx, args: Buffer[]): Reply {
  const a = intArg(args[1]!, 'invalid first DB index');
  if (a instanceof ErrorReply) return a;
  const b = intArg(args[2]!, 'invalid second DB index');
  if (b instanceof ErrorReply) return b;
  return a === 0 && b === 0 ? OK : DB_RANGE;
}

/**
 * REPLICAOF (SLAVEOF) host port: NO ONE is OK (the server is a primary already, as Redis answers it); another server
 * is refused once the port is checked as Redis checks it: the cluster's nodes replicate by Raft, and this server
 * cannot become a RESP replica.
 */
function replicaof(_ctx: Ctx, args: Buffer[]): Reply {
  if (keyword(args[1], 'NO') && keyword(args[2], 'ONE')) return OK;
  const port = parseInt64(args[2]!);
  if (port === null || port < 0n || port > 65535n) return new ErrorReply('ERR Invalid master port');
  return new ErrorReply("ERR threadraft's nodes replicate by Raft: this server cannot be a replica of another (REPLICAOF NO ONE only)");
}

/**
 * FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT ms]: its arguments checked as Redis checks them, then Redis's
 * answer for a primary without replicas (INFO's connected_slaves:0): the cluster's nodes are not RESP replicas. A
 * leader change is Cluster.transferLeadership() (docs/api.md).
 */
function failover(_ctx: Ctx, args: Buffer[]): Reply {
  if (args.length === 2 && keyword(args[1], 'ABORT')) return new ErrorReply('ERR No failover in progress.');
  let timeout = 0n;
  let to = false;
  let force = false;
  for (let j = 1; j < args.length; j++) {
    if (keyword(args[j], 'TIMEOUT') && j + 1 < args.length && timeout === 0n) {
      const t = parseInt64(args[++j]!);
      if (t === null) return NOT_INTEGER;
      if (t <= 0n) return new ErrorReply('ERR FAILOVER timeout must be greater than 0');
      timeout = t;
    } else if (keyword(args[j], 'TO') && j + 2 < args.length && !to) {
      if (parseInt64(args[j + 2]!) === null) return NOT_INTEGER;
      to = true;
      j += 2;
    } else if (keyword(args[j], 'FORCE') && !force) force = true;
    else return SYNTAX;
  }
  return new ErrorReply('ERR FAILOVER requires connected replicas.');
}

const MODULE_HELP = [
  'MODULE <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'LIST', '    Return a list of loaded modules.',
  'LOAD <path> [<arg> ...]', '    Load a module library from <path>, passing to it any optional arguments.',
  'LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]', '    Load a module library from <path>, while passing it module configurations and optional arguments.',
  'UNLOAD <name>', '    Unload a module.',
  'HELP', '    Prints this help.',
];

/**
 * MODULE LIST: none (threadraft loads no Redis modules, so a client probing for RedisJSON or RediSearch finds none);
 * LOAD, LOADEX and UNLOAD refused, as Redis refuses them by default.
 */
function moduleCmd(_ctx: Ctx, args: Buffer[]): Reply {
  switch (upper(args[1]!)) {
    case 'LIST':
      return [];
    case 'LOAD':
    case 'LOADEX':
    case 'UNLOAD':
      return new ErrorReply('ERR MODULE command not allowed: threadraft loads no modules');
    case 'HELP':
      return helpReply(MODULE_HELP);
    default:
      return unknownSubcommand(args[1]!, 'module');
  }
}

/**
 * MEMORY USAGE key [SAMPLES count]: the bytes of the key and its value, as `maxBytes` counts them (Redis adds its
 * own per-key overhead, which has no counterpart here); nil for no key. SAMPLES is checked as Redis does and
 * changes nothing (a string has nothing to sample). The only MEMORY subcommand besides HELP.
 */
function memory(_ctx: Ctx, args: Buffer[]): Reply | KeysPlan {
  const sub = upper(args[1]!);
  if (sub === 'HELP') {
    return args.length === 2
      ? helpReply([
        'MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
        'MALLOC-STATS', '    Return internal statistics report from the memory allocator (none here).',
        'PURGE', '    Attempt to purge dirty pages for reclamation by the allocator (nothing to do here).',
        'USAGE <key> [SAMPLES <count>]', '    Return the bytes of <key> and its value.',
        'HELP', '    Prints this help.',
      ])
      : arityError('memory|help');
  }
  // What Redis built without jemalloc answers: the JavaScript engine's collector returns memory itself, and it has
  // no allocator report to give.
  if (sub === 'PURGE') return OK;
  if (sub === 'MALLOC-STATS') return 'Stats not supported for the current allocator';
  if (sub !== 'USAGE') return unknownSubcommand(args[1]!, 'memory');
  if (args.length < 3) return arityError('memory|usage');
  for (let j = 3; j < args.length; j += 2) {
    if (!keyword(args[j], 'SAMPLES') || j + 1 >= args.length) return SYNTAX;
    const samples = parseInt64(args[j + 1]!);
    if (samples === null) return NOT_INTEGER;
    if (samples < 0n) return SYNTAX;
  }
  const key = args[2]!;
  const bad = keyError(key);
  if (bad) return bad;
  const plan = new KeysPlan([key], (vs) => {
    const v = vs[0];
    return v === undefined ? null : key.length + valueBytes(v);
  });
  plan.lookups = 'none'; // Redis finds the key without a lookup: no keyspace hit or miss
  return plan;
}

const OBJECT_HELP = [
  'OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'ENCODING <key>', '    Return the kind of internal representation Redis would use to store the value', '    associated with a <key> (from the value: int, embstr or raw).',
  'FREQ <key>', '    Refused: the maxmemory policy is not an LFU one, access frequency is not tracked.',
  'IDLETIME <key>', '    Refused: threadraft does not track accesses to keys.',
  'REFCOUNT <key>', '    Return the number of references of the value associated with the specified', '    <key> (as Redis counts them).',
  'HELP', '    Prints this help.',
];

/** Redis's OBJ_ENCODING_EMBSTR_SIZE_LIMIT and OBJ_SHARED_INTEGERS; a shared object's refcount (INT_MAX). */
const EMBSTR_MAX = 44;
const SHARED_INTEGERS = 10_000;
const SHARED_REFCOUNT = 2_147_483_647;

/**
 * OBJECT ENCODING / REFCOUNT / FREQ / IDLETIME key, and HELP, as Redis 7.0 answers them for a string: nil for no
 * key. ENCODING and REFCOUNT are told from the value as Redis's SET would store it (an integer of at most 20 characters
 * `int`, shared when below 10,000 and the maxmemory policy lets Redis share integers; else `embstr` up to 44 bytes,
 * then `raw`), and a HyperLogLog `raw`, as after any PF command; Redis may differ for a value APPEND, SETRANGE or
 * SETBIT made (`raw`), and for an HLL of at most 44 bytes written by SET and not read by a PF command since (`embstr`). FREQ gets Redis's refusal under
 * a policy that is not LFU (redis-cli --hotkeys stops there, as against Redis); IDLETIME is refused: reads are not
 * recorded, so no key's idle time is known. The key is looked up as Redis's OBJECT does: a keyspace hit or miss, no
 * keymiss event.
 */
function object(ctx: Ctx, args: Buffer[]): Reply | KeysPlan {
  const sub = upper(args[1]!);
  if (sub === 'HELP') return helpReply(OBJECT_HELP);
  const key = args[2]!;
  const bad = keyError(key);
  if (bad) return bad;
  const shared = !ctx.server.cluster.options.maxBytes; // Redis shares integers without maxmemory (or without an LRU/LFU policy)
  const plan = new KeysPlan([key], (vs) => {
    const v = vs[0];
    if (v === undefined) return null;
    const b = keyBytes(v);
    const n = parseInt64(b); // a 64-bit integer of Redis's syntax: at most 20 characters
    switch (sub) {
      case 'ENCODING':
        // An HLL is `raw` on Redis once a PF command has touched it (it makes the value its own raw string first).
        return n !== null ? 'int' : b.length <= EMBSTR_MAX && !isHll(b) ? 'embstr' : 'raw';
      case 'REFCOUNT':
        return shared && n !== null && n >= 0n && n < BigInt(SHARED_INTEGERS) ? SHARED_REFCOUNT : 1;
      case 'FREQ':
        return new ErrorReply('ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.');
      default:
        return new ErrorReply('ERR threadraft does not track accesses to keys: OBJECT IDLETIME is not supported');
    }
  });
  plan.lookups = 'quiet';
  return plan;
}

const SAVE_IN_PROGRESS = new ErrorReply('ERR Background save already in progress');

/**
 * SAVE: a snapshot point on every live node (../saves.ts: there is no dump file; every acknowledged write is in the log
 * already), answered once every one took it; the cluster's error if one did not. In the connection's order, as a
 * call; refused inside MULTI, as Redis refuses it, and while a BGSAVE runs.
 */
function save(ctx: Ctx): CallPlan {
  const { saves } = ctx.server;
  return new CallPlan(async () => {
    if (saves.inProgress) return SAVE_IN_PROGRESS;
    try {
      await saves.save();
      return OK;
    } catch (err) {
      return clusterError(err);
    }
  });
}

const BGSAVE_STARTED = new SimpleString('Background saving started');
const BGSAVE_SCHEDULED = new SimpleString('Background saving scheduled');
const BGSAVE_BUSY = new ErrorReply("ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.");

/**
 * BGSAVE [SCHEDULE]: the same, on its own (INFO persistence and LASTSAVE tell when it is done); refused while one runs,
 * as Redis refuses it. While a BGREWRITEAOF runs (Redis's other child process), refused, or with SCHEDULE started once
 * it ends and answered "scheduled", as Redis's. Inside MULTI it starts at EXEC and is answered "scheduled", as Redis
 * answers it there.
 */
function bgsave(ctx: Ctx, args: Buffer[]): Reply | WritePlan {
  if (args.length > 2 || (args.length === 2 && !keyword(args[1], 'SCHEDULE'))) return SYNTAX;
  const { saves } = ctx.server;
  const inMulti = ctx.conn.multi !== null;
  return new WritePlan([], () => {
    switch (saves.background(args.length === 2 || inMulti)) {
      case 'started':
        return inMulti ? BGSAVE_SCHEDULED : BGSAVE_STARTED;
      case 'scheduled':
        return BGSAVE_SCHEDULED;
      case 'in-progress':
        return SAVE_IN_PROGRESS;
      default:
        return BGSAVE_BUSY;
    }
  });
}

const REWRITE_STARTED = new SimpleString('Background append only file rewriting started');
const REWRITE_SCHEDULED = new SimpleString('Background append only file rewriting scheduled');
const REWRITE_IN_PROGRESS = new ErrorReply('ERR Background append only file rewriting already in progress');

/**
 * BGREWRITEAOF: what rewriting Redis's append-only file is here, the log compacted up to a snapshot point on every
 * node (../saves.ts), on its own (INFO persistence's aof_* fields tell when it is done). As Redis's: refused while one
 * runs, started after a running BGSAVE ("scheduled"); inside MULTI started at EXEC and answered "scheduled".
 */
function bgrewriteaof(ctx: Ctx): WritePlan {
  const { saves } = ctx.server;
  const inMulti = ctx.conn.multi !== null;
  return new WritePlan([], () => {
    const r = saves.rewrite();
    return r === 'in-progress' ? REWRITE_IN_PROGRESS : r === 'scheduled' || inMulti ? REWRITE_SCHEDULED : REWRITE_STARTED;
  });
}

/** LASTSAVE: the unix time of the last successful save (the server's start before any), in the connection's order. */
function lastsave(ctx: Ctx): WritePlan {
  const { saves } = ctx.server;
  return new WritePlan([], () => saves.lastSave);
}

const SHUTDOWN_FLAGS = new Set(['NOSAVE', 'SAVE', 'NOW', 'FORCE', 'ABORT']);

/**
 * SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]: the server's `shutdown` option is called and this connection
 * closed without a reply, as Redis closes it (redis-cli takes that as success). A read plan, so that it runs once
 * the connection's earlier writes are acknowledged (`SET k v` then SHUTDOWN in one pipeline: the SET is answered
 * and kept, as on Redis). There is nothing to save (every acknowledged write is in the log already) and nothing
 * more to wait for, so the flags change nothing; ABORT finds no shutdown in progress. Without the option it is
 * refused.
 */
function shutdown(ctx: Ctx, args: Buffer[]): Reply | ReadPlan {
  const flags = new Set<string>();
  for (const a of args.slice(1)) {
    const f = upper(a);
    if (!SHUTDOWN_FLAGS.has(f)) return new ErrorReply('ERR syntax error');
    flags.add(f);
  }
  if ((flags.has('SAVE') && flags.has('NOSAVE')) || (flags.has('ABORT') && flags.size > 1)) return new ErrorReply('ERR syntax error');
  if (flags.has('ABORT')) return new ErrorReply('ERR No shutdown in progress.');
  const hook = ctx.server.options.shutdown;
  if (hook === undefined) return new ErrorReply('ERR Errors trying to SHUTDOWN: this server runs inside an application (RespServer option shutdown is not set)');
  return new ReadPlan(async () => {
    ctx.conn.kill();
    hook();
    return OK; // never written: the connection is closed
  });
}

/**
 * COMMAND GETKEYS and GETKEYSANDFLAGS: the keys of `argv` (a command and its arguments) by the key specs of the
 * command it names (a container's subcommand too), with Redis's errors (getKeysSubcommandImpl): an unknown command,
 * one without keys, a wrong number of arguments, keys past the arguments. With flags: each key's, as a set.
 */
function commandKeys(table: ReadonlyMap<string, CommandSpec>, argv: Buffer[], withFlags: boolean): Reply {
  const c = lookupCommand(table, argv);
  if (c === undefined) return new ErrorReply('ERR Invalid command specified');
  if (!hasKeys(c)) return new ErrorReply('ERR The command has no key arguments');
  if (!arityOk(c.arity, argv.length)) return new ErrorReply('ERR Invalid number of arguments specified for command');
  const keys = keysOf(c, argv);
  // A command whose keys are optional (EVAL with numkeys 0) has none: Redis's CMD_NO_MANDATORY_KEYS.
  if (keys === undefined || keys.length === 0) return c.flags.includes('no_mandatory_keys') ? [] : new ErrorReply('ERR Invalid arguments specified for command');
  return keys.map((k) => (withFlags ? [k.key, flagSet(k.flags)] : k.key));
}

/** Flags or ACL categories, as Redis replies them: a set of simple strings. */
function flagSet(flags: string[]): SetReply {
  return new SetReply(flags.map((f) => new SimpleString(f)));
}

/**
 * TIME: the server's clock as Redis gives it, [seconds, microseconds] since the epoch. A read plan: in the
 * connection's order; inside MULTI a plan of no ops, read when EXEC is answered (not when queued).
 */
function time(ctx: Ctx): ReadPlan | WritePlan {
  if (ctx.conn.multi) return Object.assign(new WritePlan([], now), { readsOnlyServer: true });
  return new ReadPlan(async () => now());
}

function now(): Reply {
  const us = unixMicros();
  const seconds = Math.floor(us / 1e6);
  return [String(seconds), String(us - seconds * 1e6)];
}

/**
 * ROLE: the server is a primary, as INFO's replication section says. Its offset is the leader's commit index (the
 * Raft log is what it replicates); it has no RESP replicas to list (the cluster's nodes are not Redis replicas).
 */
function role(ctx: Ctx): ReadPlan {
  const { cluster } = ctx.server;
  return new ReadPlan(async () => {
    try {
      const status = await cluster.status();
      return ['master', status.find((s) => s.role === 'leader')?.commit ?? 0, []];
    } catch (err) {
      return clusterError(err);
    }
  });
}

/**
 * COMMAND INFO's description of one command, Redis 7's ten fields: name, arity, flags, the legacy first key, last key
 * and step, ACL categories, tips, key specs, and a container's subcommands, each described the same way.
 */
function commandInfo(c: CommandSpec): Reply {
  const categories = flagSet(c.categories.map((a) => `@${a}`));
  const subs = c.subcommands ? [...c.subcommands.values()].map(commandInfo) : new SetReply([]);
  return [c.name, c.arity, flagSet(c.flags), c.firstKey, c.lastKey, c.step, categories, new SetReply(c.tips), new SetReply(c.keySpecs.map(keySpecReply)), subs];
}

/** One key spec as COMMAND INFO gives it (addReplyCommandKeySpecs): notes, flags, begin_search, find_keys. */
function keySpecReply(k: KeySpec): Reply {
  const fields: [string, Reply][] = [
    ['flags', flagSet(k.flags)],
    ['begin_search', new MapReply([['type', 'index'], ['spec', new MapReply([['index', k.index]])]])],
    ['find_keys', k.keynum !== undefined
      ? new MapReply([['type', 'keynum'], ['spec', new MapReply([['keynumidx', k.keynum.keynumIdx], ['firstkey', k.keynum.firstKey], ['keystep', k.keynum.keyStep]])]])
      : new MapReply([['type', 'range'], ['spec', new MapReply([['lastkey', k.lastKey], ['keystep', k.keyStep], ['limit', 0]])]])],
  ];
  if (k.notes !== undefined) fields.unshift(['notes', k.notes]);
  return new MapReply(fields);
}

/**
 * COMMAND DOCS of one command, in Redis's order: summary, since, group, then Redis's complexity, doc flags,
 * deprecation, history and arguments (../command-docs.ts: what redis-cli's `help` and hints show), and a
 * container's subcommands' docs by their names.
 */
function commandDocs(c: CommandSpec): Reply {
  const fields: [string, Reply][] = [['summary', c.summary], ['since', c.since], ['group', c.group]];
  const d = COMMAND_DOCS[c.name];
  if (d?.complexity !== undefined) fields.push(['complexity', d.complexity]);
  if (d?.docFlags !== undefined) fields.push(['doc_flags', flagSet(d.docFlags)]);
  if (d?.deprecatedSince !== undefined) fields.push(['deprecated_since', d.deprecatedSince]);
  if (d?.replacedBy !== undefined) fields.push(['replaced_by', d.replacedBy]);
  if (d?.history !== undefined) fields.push(['history', new SetReply(d.history.map(([version, change]) => [version, change]))]); // a set in RESP3, as Redis's
  if (d?.arguments !== undefined) fields.push(['arguments', argDocs(d.arguments)]);
  if (c.subcommands) fields.push(['subcommands', new MapReply([...c.subcommands.values()].map((s) => [s.name, commandDocs(s)]))]);
  return new MapReply(fields);
}

function argDocs(args: readonly ArgDoc[]): Reply {
  return args.map((a) => {
    const fields: [string, Reply][] = [['name', a.name], ['type', a.type]];
    if (a.keySpecIndex !== undefined) fields.push(['key_spec_index', a.keySpecIndex]);
    if (a.token !== undefined) fields.push(['token', a.token]);
    if (a.summary !== undefined) fields.push(['summary', a.summary]);
    if (a.since !== undefined) fields.push(['since', a.since]);
    if (a.deprecatedSince !== undefined) fields.push(['deprecated_since', a.deprecatedSince]);
    if (a.flags !== undefined) fields.push(['flags', flagSet(a.flags)]);
    if (a.arguments !== undefined) fields.push(['arguments', argDocs(a.arguments)]);
    return new MapReply(fields);
  });
}

/**
 * COMMAND LIST FILTERBY MODULE name | ACLCAT category | PATTERN glob: the commands and subcommands of no module (none
 * is loaded), of a category (none for an unknown one), or whose names match the pattern, case-insensitively, as Redis's.
 */
function commandListFiltered(all: CommandSpec[], type: Buffer, value: Buffer): Reply {
  switch (upper(type)) {
    case 'MODULE':
      return [];
    case 'ACLCAT':
      return commandsIn(value.toString('latin1').toLowerCase(), all);
    case 'PATTERN': {
      const pattern = Buffer.from(value.toString('latin1').toLowerCase(), 'latin1');
      return [...everyCommand(all)].filter((c) => globMatch(pattern, Buffer.from(c.name, 'latin1'))).map((c) => c.name);
    }
    default:
      return SYNTAX;
  }
}

export function serverCommands(table: () => Map<string, CommandSpec>): CommandSpec[] {
  const lookup = (b: Buffer): CommandSpec | undefined => commandNamed(table(), b.toString('latin1'));
  const commandCmd = (_ctx: Ctx, args: Buffer[]): Reply => {
    const all = [...table().values()];
    if (args.length === 1) return all.map(commandInfo);
    const sub = upper(args[1]!);
    const names = args.slice(2);
    switch (sub) {
      case 'COUNT':
        return args.length === 2 ? all.length : arityError('command|count');
      case 'LIST':
        if (args.length === 2) return [...everyCommand(all)].map((c) => c.name);
        return args.length === 5 && keyword(args[2], 'FILTERBY') ? commandListFiltered(all, args[3]!, args[4]!) : SYNTAX;
      case 'HELP':
        if (args.length !== 2) return arityError('command|help');
        return helpReply([
          'COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
          '(no subcommand)', '    Return details about all commands.',
          'COUNT', '    Return the total number of commands in this server.',
          'LIST', '    Return a list of all commands in this server.',
          'INFO [<command-name> ...]', '    Return details about multiple commands.',
          'DOCS [<command-name> ...]', '    Return documentation details about multiple commands.',
          'GETKEYS <full-command>', '    Return the keys from a full Redis command.',
          'GETKEYSANDFLAGS <full-command>', '    Return the keys and the access flags from a full Redis command.',
          'HELP', '    Prints this help.',
        ]);
      case 'INFO':
        return (names.length === 0 ? all : names.map(lookup)).map((c) => (c ? commandInfo(c) : null));
      case 'DOCS': {
        const found = names.length === 0 ? all : names.map(lookup).filter((c): c is CommandSpec => c !== undefined);
        return new MapReply(found.map((c) => [c.name, commandDocs(c)]));
      }
      case 'GETKEYS':
      case 'GETKEYSANDFLAGS':
        return commandKeys(table(), names, sub === 'GETKEYSANDFLAGS');
      default:
        return unknownSubcommand(args[1]!, 'command');
    }
  };
  return [
    command('debug', -2, ['admin', 'noscript', 'loading', 'stale'], 'server', 'A container for debugging commands.', debug),
    command('config', -2, [], 'server', 'A container for server configuration commands.', config, { since: '2.0.0', subcommands: {
      get: sub(-3, ['admin', 'noscript', 'loading', 'stale'], 'Returns the effective values of configuration parameters.', { since: '2.0.0' }),
      set: sub(-4, ['admin', 'noscript', 'loading', 'stale'], 'Sets configuration parameters in-flight.', { since: '2.0.0', tips: ['request_policy:all_nodes', 'response_policy:all_succeeded'] }),
      resetstat: sub(2, ['admin', 'noscript', 'loading', 'stale'], 'Resets the server\'s statistics.', { since: '2.0.0' }),
      rewrite: sub(2, ['admin', 'noscript', 'loading', 'stale'], 'Persists the effective configuration to file.', { since: '2.8.0' }),
      help: sub(2, ['loading', 'stale'], 'Returns helpful text about the different subcommands.', { since: '5.0.0' }),
    } }),
    command('info', -1, ['loading', 'stale'], 'server', 'Returns information and statistics about the server.', info, { tips: ['nondeterministic_output', 'request_policy:all_shards', 'response_policy:special'], acl: ['dangerous'] }),
    command('command', -1, ['loading', 'stale'], 'server', 'Returns detailed information about all commands.', commandCmd, { tips: ['nondeterministic_output_order'], since: '2.8.13', acl: ['connection'], subcommands: {
      count: sub(2, ['loading', 'stale'], 'Returns a count of commands.', { since: '2.8.13', acl: ['connection'] }),
      list: sub(-2, ['loading', 'stale'], 'Returns a list of command names.', { since: '7.0.0', acl: ['connection'], tips: ['nondeterministic_output_order'] }),
      info: sub(-2, ['loading', 'stale'], 'Returns information about one, multiple or all commands.', { since: '2.8.13', acl: ['connection'], tips: ['nondeterministic_output_order'] }),
      docs: sub(-2, ['loading', 'stale'], 'Returns documentary information about one, multiple or all commands.', { since: '7.0.0', acl: ['connection'], tips: ['nondeterministic_output_order'] }),
      getkeys: sub(-4, ['loading', 'stale'], 'Extracts the key names from an arbitrary command.', { since: '2.8.13', acl: ['connection'] }),
      getkeysandflags: sub(-4, ['loading', 'stale'], 'Extracts the key names and access flags for an arbitrary command.', { since: '7.0.0', acl: ['connection'] }),
      help: sub(2, ['loading', 'stale'], 'Returns helpful text about the different subcommands.', { since: '5.0.0', acl: ['connection'] }),
    } }),
    command('latency', -2, [], 'server', 'A container for latency diagnostics commands.', latency, { since: '2.8.13', subcommands: {
      doctor: sub(2, ['admin', 'noscript', 'loading', 'stale'], 'Returns a human-readable latency analysis report.', { since: '2.8.13', tips: ['nondeterministic_output', 'request_policy:all_nodes', 'response_policy:special'] }),
      graph: sub(3, ['admin', 'noscript', 'loading', 'stale'], 'Returns a latency graph for an event.', { since: '2.8.13', tips: ['nondeterministic_output', 'request_policy:all_nodes', 'response_policy:special'] }),
      history: sub(3, ['admin', 'noscript', 'loading', 'stale'], 'Returns timestamp-latency samples for an event.', { since: '2.8.13', tips: ['nondeterministic_output', 'request_policy:all_nodes', 'response_policy:special'] }),
      latest: sub(2, ['admin', 'noscript', 'loading', 'stale'], 'Returns the latest latency samples for all events.', { since: '2.8.13', tips: ['nondeterministic_output', 'request_policy:all_nodes', 'response_policy:special'] }),
      reset: sub(-2, ['admin', 'noscript', 'loading', 'stale'], 'Resets the latency data for one or more events.', { since: '2.8.13', tips: ['request_policy:all_nodes', 'response_policy:all_succeeded'] }),
      histogram: sub(-2, ['admin', 'noscript', 'loading', 'stale'], 'Returns the cumulative distribution of latencies of a subset or all commands.', { since: '7.0.0', tips: ['nondeterministic_output', 'request_policy:all_nodes', 'response_policy:special'] }),
      help: sub(2, ['loading', 'stale'], 'Returns helpful text about the different subcommands.', { since: '2.8.13' }),
    } }),
    command('monitor', 1, ['admin', 'noscript', 'loading', 'stale'], 'server', 'Listens for all requests received by the server in real-time.', monitor, { since: '1.0.0' }),
    command('slowlog', -2, [], 'server', 'A container for slow log commands.', slowlog, { since: '2.2.12', subcommands: {
      get: sub(-2, ['admin', 'loading', 'stale'], 'Returns the slow log\'s entries.', { since: '2.2.12', tips: ['request_policy:all_nodes', 'nondeterministic_output'] }),
      len: sub(2, ['admin', 'loading', 'stale'], 'Returns the number of entries in the slow log.', { since: '2.2.12', tips: ['request_policy:all_nodes', 'response_policy:agg_sum', 'nondeterministic_output'] }),
      reset: sub(2, ['admin', 'loading', 'stale'], 'Clears all entries from the slow log.', { since: '2.2.12', tips: ['request_policy:all_nodes', 'response_policy:all_succeeded'] }),
      help: sub(2, ['loading', 'stale'], 'Show helpful text about the different subcommands', { since: '6.2.0' }),
    } }),
    command('object', -2, [], 'generic', 'A container for object introspection commands.', object, { since: '2.2.3', subcommands: {
      encoding: sub(3, ['readonly'], 'Returns the internal encoding of a Redis object.', { since: '2.2.3', acl: ['keyspace'], tips: ['nondeterministic_output'], keys: [keySpec('RO', 2)] }),
      freq: sub(3, ['readonly'], 'Returns the logarithmic access frequency counter of a Redis object.', { since: '4.0.0', acl: ['keyspace'], tips: ['nondeterministic_output'], keys: [keySpec('RO', 2)] }),
      idletime: sub(3, ['readonly'], 'Returns the time since the last access to a Redis object.', { since: '2.2.3', acl: ['keyspace'], tips: ['nondeterministic_output'], keys: [keySpec('RO', 2)] }),
      refcount: sub(3, ['readonly'], 'Returns the reference count of a value of a key.', { since: '2.2.3', acl: ['keyspace'], tips: ['nondeterministic_output'], keys: [keySpec('RO', 2)] }),
      help: sub(2, ['loading', 'stale'], 'Returns helpful text about the different subcommands.', { since: '6.2.0', acl: ['keyspace'] }),
    } }),
    command('swapdb', 3, ['write', 'fast'], 'server', 'Swaps two Redis databases.', swapdb, { since: '4.0.0', acl: ['keyspace', 'dangerous'] }),
    command('replicaof', 3, ['admin', 'noscript', 'stale', 'no_async_loading'], 'server', 'Configures a server as replica of another, or promotes it to a master.', replicaof, { since: '5.0.0' }),
    command('slaveof', 3, ['admin', 'noscript', 'stale', 'no_async_loading'], 'server', 'Sets a Redis server as a replica of another, or promotes it to being a master.', replicaof),
    command('failover', -1, ['admin', 'noscript', 'stale'], 'server', 'Starts a coordinated failover from a server to one of its replicas.', failover, { since: '6.2.0' }),
    command('module', -2, [], 'server', 'A container for module commands.', moduleCmd, { since: '4.0.0', subcommands: {
      list: sub(2, ['admin', 'noscript'], 'Returns all loaded modules.', { since: '4.0.0', tips: ['nondeterministic_output_order'] }),
      load: sub(-3, ['admin', 'noscript', 'no_async_loading'], 'Loads a module.', { since: '4.0.0' }),
      loadex: sub(-3, ['admin', 'noscript', 'no_async_loading'], 'Loads a module using extended parameters.', { since: '7.0.0' }),
      unload: sub(3, ['admin', 'noscript', 'no_async_loading'], 'Unloads a module.', { since: '4.0.0' }),
      help: sub(2, ['loading', 'stale'], 'Returns helpful text about the different subcommands.', { since: '5.0.0' }),
    } }),
    command('memory', -2, [], 'server', 'A container for memory diagnostics commands.', memory, { since: '4.0.0', subcommands: {
      usage: sub(-3, ['readonly'], 'Estimates the memory usage of a key.', { since: '4.0.0', keys: [keySpec('RO', 2)] }),
      purge: sub(2, [], 'Asks the allocator to release memory.', { since: '4.0.0', tips: ['request_policy:all_shards', 'response_policy:all_succeeded'] }),
      'malloc-stats': sub(2, [], 'Returns the allocator statistics.', { since: '4.0.0', tips: ['nondeterministic_output', 'request_policy:all_shards', 'response_policy:special'] }),
      help: sub(2, ['loading', 'stale'], 'Returns helpful text about the different subcommands.', { since: '4.0.0' }),
    } }),
    command('save', 1, ['admin', 'noscript', 'no_async_loading', 'no_multi'], 'server', 'Synchronously saves the database(s) to disk.', save),
    command('bgrewriteaof', 1, ['admin', 'noscript', 'no_async_loading'], 'server', 'Asynchronously rewrites the append-only file to disk.', bgrewriteaof),
    command('bgsave', -1, ['admin', 'noscript', 'no_async_loading'], 'server', 'Asynchronously saves the database(s) to disk.', bgsave),
    command('lastsave', 1, ['loading', 'stale', 'fast'], 'server', 'Returns the Unix timestamp of the last successful save to disk.', lastsave, { tips: ['nondeterministic_output'], acl: ['admin', 'dangerous'] }),
    command('shutdown', -1, ['admin', 'allow_busy', 'loading', 'no_multi', 'noscript', 'stale'], 'server', 'Synchronously saves the database(s) to disk and shuts down the Redis server.', shutdown, { since: '1.0.0' }),
    command('time', 1, ['loading', 'stale', 'fast'], 'server', 'Returns the server time.', time, { tips: ['nondeterministic_output'], since: '2.6.0' }),
    command('role', 1, ['noscript', 'loading', 'stale', 'fast'], 'server', 'Returns the replication role.', role, { since: '2.8.12', acl: ['admin', 'dangerous'] }),
    command('wait', 3, ['noscript'], 'generic', 'Blocks until the asynchronous replication of all preceding write commands sent by the connection is completed.', wait, { tips: ['request_policy:all_shards', 'response_policy:agg_min'], since: '3.0.0', acl: ['connection'] }),
  ];
}
