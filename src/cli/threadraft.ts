#!/usr/bin/env node
// The `threadraft` command: `serve` (a cluster behind a RESP server, docs/resp.md), and `bench`, `chaos`, `sim`
// passed through to their own entry points (dist/bench/cli.js, dist/bench/chaos.js, dist/test/sim/run.js).
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClusterOptions } from '../index.js';
import type { RespServer, RespServerOptions } from '../resp/index.js';
import { packageVersion, parseCommandLine, usageExit } from './options.js';
import { SERVE_HELP, SERVE_OPTIONS } from './serve-options.js';

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

  --version    print the version
  -h, --help   this text

Every command takes --help and --version. Exit codes: 0 done; 1 failed; 2 a usage error (the message names
the option and what it allows); bench: 3 a --threshold failed; 130 interrupted.
`;

function version(): string {
  return packageVersion();
}

function fail(message: string): never {
  return usageExit('threadraft', message);
}

function serveOptions(argv: string[]): { cluster: ClusterOptions; resp: RespServerOptions } {
  const v = parseCommandLine(argv, SERVE_OPTIONS, SERVE_HELP);
  const cluster: ClusterOptions = { nodes: v.nodes, storage: v.storage, pool: v.pool, sync: v.sync };
  if (v.dir !== undefined) cluster.dir = v.dir;
  const resp: RespServerOptions = { port: v.port, maxClients: v.maxclients, maxBulkBytes: v['proto-max-bulk-len'] };
  if (v.requirepass !== undefined) resp.requirepass = v.requirepass;
  return { cluster, resp };
}

async function serve(argv: string[]): Promise<void> {
  const parsed = serveOptions(argv);
  // Loaded here, not at the top: bench, chaos, sim and --help need neither the cluster nor the server.
  const [{ Cluster }, { RespServer }] = await Promise.all([import('../index.js'), import('../resp/index.js')]);
  const cluster = await Cluster.start(parsed.cluster);
  let server: RespServer;
  try {
    server = await RespServer.start(cluster, parsed.resp);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  const o = cluster.options;
  process.stdout.write(`threadraft ${version()}: ${o.nodes} nodes, ${o.storage}${o.storage === 'lmdb' ? (o.sync ? ', synced' : ', NOT synced (unsafe for durability)') : ''}, ${cluster.dir}\n`);
  // A node whose store is damaged stays down while a majority serves (docs/storage.md, "Damaged files"): say so.
  for (const s of await cluster.status()) {
    if (!s.alive) process.stderr.write(`threadraft: node ${s.id} is down: ${(s.error ?? 'no error recorded').split('\n')[0]}\n`);
  }
  process.stdout.write(`listening on ${server.options.host}:${server.port}\n`);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${signal}: closing the server and stopping the cluster\n`);
    void server.close()
      .then(() => cluster.stop())
      .then(() => process.exit(0), (err: unknown) => {
        process.stderr.write(`threadraft: stop failed: ${String(err)}\n`);
        process.exit(1);
      });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

function passThrough(entry: string, argv: string[]): void {
  const child = spawn(process.execPath, [entry, ...argv], { stdio: 'inherit' });
  const forward = (signal: NodeJS.Signals): void => {
    child.kill(signal);
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
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
  if (entry === undefined) fail(`unknown command ${cmd}; the commands are ${['serve', ...Object.keys(PASS_THROUGH)].join(', ')}`);
  passThrough(entry, rest);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const e = err as { code?: string; message?: string };
  process.stderr.write(`threadraft: ${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}\n`);
  process.exit(1);
});
