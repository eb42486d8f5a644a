#!/usr/bin/env node
// The `threadraft` command: `serve` (a cluster behind a RESP server, docs/resp.md), and `bench`, `chaos`, `sim`
// passed through to their own entry points (dist/bench/cli.js, dist/bench/chaos.js, dist/test/sim/run.js).
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClusterOptions } from '../index.js';
import { reportDownNodes } from './down-nodes.js';
import type { RespServer, RespServerOptions } from '../resp/index.js';
import { END_SIGNALS, ignoreOutputErrors, packageVersion, parseCommandLine, usageExit } from './options.js';
import { SERVE_HELP, SERVE_OPTIONS } from './serve-options.js';
import { parseKeyspaceFlags } from '../resp/keyspace-flags.js';

const here = dirname(fileURLToPath(import.meta.url));
/** dist/ (this file is dist/src/cli/threadraft.js). */
const distDir = join(here, '..', '..');

const PASS_THROUGH: Record<string, string> = {
  bench: join(distDir, 'bench', 'cli.js'),
  chaos: join(distDir, 'bench', 'chaos.js'),
  sim: join(distDir, 'test', 'sim', 'run.js'),
};

const HELP = `threadraft: a Raft key/value cluster in one Node.js process.

Usage: threadraft <command> [options]

Commands
  serve        start a cluster and a Redis-protocol (RESP2/RESP3) server on 127.0.0.1 (threadraft serve --help)
  bench        the benchmark (threadraft bench --help)
  chaos        the chaos tester (threadraft chaos --help)
  sim          one deterministic simulation (threadraft sim --help)

  -v, --version  print the version
  -h, --help     this text

Every command takes --help and --version. Exit codes: 0 done; 1 failed; 2 a usage error (the message names
the option and what it allows); bench: 3 a --threshold failed; 130 interrupted by SIGINT (143 by SIGTERM, 129
by SIGHUP), except serve once it is listening: a signal then stops it and it exits 0.
`;

function version(): string {
  return packageVersion();
}

function fail(message: string): never {
  return usageExit('threadraft', message);
}

function serveOptions(argv: string[]): { cluster: ClusterOptions; resp: RespServerOptions } {
  const v = parseCommandLine(argv, SERVE_OPTIONS, SERVE_HELP);
  const cluster: ClusterOptions = { nodes: v.nodes, storage: v.storage, pool: v.pool, sync: v.sync, maxValueBytes: v['max-value-bytes'], maxBatchOps: v['max-batch-ops'] };
  if (v.dir !== undefined) cluster.dir = v.dir;
  if (v['max-keys'] !== undefined) cluster.maxKeys = v['max-keys'];
  if (v['max-bytes'] !== undefined) cluster.maxBytes = v['max-bytes'];
  const resp: RespServerOptions = { port: v.port, maxClients: v.maxclients, maxBulkBytes: v['proto-max-bulk-len'], trackingTableMaxKeys: v['tracking-table-max-keys'], latencyMonitorThresholdMs: v['latency-monitor-threshold'], logLevel: v.loglevel };
  if (v.requirepass !== undefined) resp.requirepass = v.requirepass;
  if (v.logfile !== undefined) resp.logFile = v.logfile;
  const notify = v['notify-keyspace-events'];
  if (notify !== undefined) {
    const flags = parseKeyspaceFlags(notify);
    if (typeof flags === 'string') usageExit('threadraft serve', `--notify-keyspace-events ${JSON.stringify(notify)}: ${flags}`);
    resp.notifyKeyspaceEvents = notify;
  }
  return { cluster, resp };
}

async function serve(argv: string[]): Promise<void> {
  const parsed = serveOptions(argv);
  ignoreOutputErrors(); // a reader gone (`threadraft serve | grep -m1 listening`) must not leave the directory behind
  // The handlers come first: a signal while the cluster starts stops it once started (its temporary directory
  // removed), and exits 128 + the signal's number, as an interrupted command; after "listening", 0.
  let cluster: import('../index.js').Cluster | undefined;
  let server: import('../resp/index.js').RespServer | undefined;
  let interrupted: NodeJS.Signals | undefined;
  let stopping = false;
  const stop = (signal: NodeJS.Signals | 'SHUTDOWN', code: number): void => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${signal}: closing the server and stopping the cluster\n`);
    void (server ? server.close() : Promise.resolve())
      .then(() => cluster?.stop())
      .then(() => process.exit(code), (err: unknown) => {
        process.stderr.write(`threadraft: stop failed: ${String(err)}\n`);
        process.exit(1);
      });
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (server) stop(signal, 0);
    else interrupted ??= signal; // starting: handled once the start settles
  };
  for (const sig of END_SIGNALS) process.on(sig, onSignal);
  const exitInterrupted = (): Promise<void> => {
    stop(interrupted!, 128 + (constants.signals[interrupted!] ?? 0));
    return new Promise(() => undefined); // process.exit follows
  };
  // Loaded here, not at the top: bench, chaos, sim and --help need neither the cluster nor the server.
  const [{ Cluster }, { RespServer }] = await Promise.all([import('../index.js'), import('../resp/index.js')]);
  if (interrupted) return exitInterrupted();
  cluster = await Cluster.start(parsed.cluster);
  if (interrupted) return exitInterrupted();
  try {
    // SHUTDOWN from a client stops as SIGTERM does.
    server = await RespServer.start(cluster, { ...parsed.resp, shutdown: () => stop('SHUTDOWN', 0) });
  } catch (err) {
    await cluster.stop();
    if ((err as { code?: string }).code === 'EADDRINUSE') {
      throw new Error(`${parsed.resp.host ?? '127.0.0.1'}:${parsed.resp.port ?? 6379} is in use (EADDRINUSE): choose another --port, or --port 0 for any free one`);
    }
    throw err;
  }
  if (interrupted) return exitInterrupted();
  const o = cluster.options;
  const bounds = `${o.maxKeys !== undefined ? `, at most ${o.maxKeys} keys` : ''}${o.maxBytes !== undefined ? `, at most ${o.maxBytes} bytes of keys and values` : ''}`;
  process.stdout.write(`threadraft ${version()}: ${o.nodes} node${o.nodes === 1 ? '' : 's'}, ${o.storage}${o.storage === 'lmdb' ? (o.sync ? ', synced' : ', NOT synced (unsafe for durability)') : ''}${bounds}, ${cluster.dir}\n`);
  // A node whose store is damaged stays down while a majority serves (docs/storage.md, "Damaged files"), and one
  // may go down while serving (its thread crashed, a storage error): say so, with its error.
  reportDownNodes(cluster, (line) => process.stderr.write(`threadraft: ${line}\n`));
  const lowered = server.maxClientsLowered;
  if (lowered) {
    process.stderr.write(`threadraft: --maxclients ${lowered.requested} lowered to ${server.options.maxClients}: this process may open ${lowered.openFilesLimit} files (ulimit -n); raise that limit to serve more connections\n`);
  }
  process.stdout.write(`listening on ${server.options.host}:${server.port}\n`);
  if (interrupted) stop(interrupted, 0);
}

function passThrough(entry: string, argv: string[]): void {
  const child = spawn(process.execPath, [entry, ...argv], { stdio: 'inherit' });
  const forward = (signal: NodeJS.Signals): void => {
    child.kill(signal);
  };
  // Each one: unhandled, it would end this process alone and leave the child running without its parent.
  for (const sig of END_SIGNALS) process.on(sig, forward);
  // The child's code (130 after SIGINT, 2 after a usage error); killed by a signal: 128 + its number, as a shell says.
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : 0)));
}

async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '-h' || cmd === '--help' || cmd === 'help') {
    process.stdout.write(HELP);
    return;
  }
  if (cmd === '--version' || cmd === '-v') {
    process.stdout.write(`${version()}\n`);
    return;
  }
  if (cmd === 'serve') return serve(rest);
  const entry = PASS_THROUGH[cmd];
  if (entry === undefined) fail(`unknown command ${cmd === '' ? "''" : cmd}; the commands are ${['serve', ...Object.keys(PASS_THROUGH)].join(', ')}`);
  passThrough(entry, rest);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const e = err as { code?: string; message?: string };
  process.stderr.write(`threadraft: ${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}\n`);
  process.exit(1);
});
