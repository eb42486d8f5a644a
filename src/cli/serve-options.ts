// threadraft serve's options (src/cli/options.ts parses them; src/cli/threadraft.ts serves).
import { NODES, POOL, STORAGE, SYNC, type CommandHelp, type OptionTable } from './options.js';

/** serve's options: the cluster's from the shared rules (src/cli/options.ts), the server's as RespServer checks them. */
export const SERVE_OPTIONS = {
  port: { type: 'int', min: 0, max: 65535, default: 6379, help: 'TCP port on 127.0.0.1 (0: any free port). Prints "listening on 127.0.0.1:<port>"' },
  nodes: NODES,
  dir: { type: 'string', arg: '<path>', defaultText: 'a temporary directory removed on exit', help: 'where the nodes keep their storage' },
  storage: STORAGE,
  sync: SYNC,
  pool: POOL,
  'max-keys': { type: 'int', min: 1, max: Number.MAX_SAFE_INTEGER, arg: '<n>', defaultText: 'unbounded', help: 'a bounded cache: after each write every replica evicts its least recently written keys down to n (fixed when --dir is created)' },
  'max-bytes': { type: 'int', min: 1, max: Number.MAX_SAFE_INTEGER, arg: '<bytes>', defaultText: 'unbounded', help: 'the same, for the bytes of keys and values (CONFIG GET maxmemory shows it)' },
  'max-value-bytes': { type: 'int', min: 1, max: 64 * 1024 * 1024, default: 1024 * 1024, arg: '<bytes>', defaultText: '1048576: 1 MiB', help: 'the largest value a key may hold (a larger one is refused: -ERR INVALID_ARGUMENT; Redis allows 512 MB)' },
  'max-batch-ops': { type: 'int', min: 1, max: 1 << 20, default: 1024, arg: '<n>', help: 'operations in one log entry at most, and so in one command or transaction (an MSET or DEL of more keys is refused: -ERR INVALID_ARGUMENT)' },
  requirepass: { type: 'string', arg: '<password>', help: 'require AUTH (the default user)' },
  maxclients: { type: 'int', min: 1, max: 1_000_000, default: 10_000, help: 'connections at a time (lowered at start to what the limit on open files, ulimit -n, leaves)' },
  'proto-max-bulk-len': { type: 'int', min: 1, max: 512 * 1024 * 1024, default: 64 * 1024 * 1024, arg: '<bytes>', defaultText: '67108864: 64 MiB', help: 'largest bulk string of a request' },
  'notify-keyspace-events': { type: 'string', arg: '<flags>', defaultText: 'none', help: "keyspace notifications as Redis's: the classes (g generic, $ strings, x expired, e evicted, A all of those, m key misses) on __keyspace@0__:<key> (K) and __keyevent@0__:<event> (E), e.g. KEA (CONFIG SET changes it)" },
  'latency-monitor-threshold': { type: 'int', min: 0, max: Number.MAX_SAFE_INTEGER, default: 0, arg: '<ms>', defaultText: '0: off', help: 'sample the commands and write-path stages that take at least this long (LATENCY LATEST, DOCTOR; CONFIG SET changes it)' },
  loglevel: { type: 'enum', values: ['debug', 'verbose', 'notice', 'warning', 'nothing'], default: 'notice', help: "what scripts write with redis.log at this level or above goes to the log (CONFIG SET changes it)" },
  logfile: { type: 'string', arg: '<path>', defaultText: 'standard error', help: 'append the log (pino lines) to this file' },
  'tracking-table-max-keys': { type: 'int', min: 1, max: 1 << 30, default: 1_000_000, arg: '<n>', help: 'keys remembered for client-side caching (CLIENT TRACKING) at most; past it, those remembered longest ago are invalidated' },
} as const satisfies OptionTable;

export const SERVE_HELP: CommandHelp = {
  command: 'threadraft serve',
  summary: 'a cluster behind a Redis-protocol server (docs/resp.md).',
  usage: 'threadraft serve [options]       (or: npm run serve -- [options])',
  epilogue: 'SIGINT, SIGTERM or SIGHUP, or SHUTDOWN from a client (redis-cli shutdown), closes the server and stops the cluster\n(and removes its temporary directory).',
};
