#!/usr/bin/env node
// The `threadraft` command: `serve` (a cluster behind a RESP server, docs/resp.md), and `bench`, `chaos`, `sim`
// passed through to their own entry points (dist/bench/cli.js, dist/bench/chaos.js, dist/test/sim/run.js).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Cluster, type ClusterOptions } from '../index.js';
import { RespServer, type RespServerOptions } from '../resp/index.js';

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
  sim          one deterministic simulation (SEED=<n> threadraft sim)

  --version    print the version
  -h, --help   this text
`;

const SERVE_HELP = `threadraft serve: a cluster behind a Redis-protocol server (docs/resp.md).

Usage: threadraft serve [options]       (or: npm run serve -- [options])

  --port <n>                 TCP port on 127.0.0.1 (default 6379; 0: any free port). Prints "listening on 127.0.0.1:<port>"
  --nodes <1-7>              voters (default 3)
  --dir <path>               where the nodes keep their storage (default: a temporary directory removed on exit)
  --storage <lmdb|memory>    (default lmdb)
  --sync / --no-sync         synced LMDB writes (default on; --no-sync is UNSAFE for durability)
  --pool <piscina|inline>    where storage transactions run (default piscina)
  --requirepass <password>   require AUTH (the default user)
  --maxclients <n>           connections at a time (default 10000)
  --proto-max-bulk-len <n>   largest bulk string of a request, in bytes (default 67108864: 64 MiB)
  -h, --help                 this text

SIGINT or SIGTERM closes the server and stops the cluster.
`;

function version(): string {
  const pkg = JSON.parse(readFileSync(join(distDir, '..', 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

function fail(message: string): never {
  process.stderr.write(`threadraft: ${message}\n`);
  process.exit(2);
}

function integer(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) fail(`--${name} must be a non-negative integer, got ${v}`);
  return Number(v);
}

function serveOptions(argv: string[]): { cluster: ClusterOptions; resp: RespServerOptions } | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' }, nodes: { type: 'string' }, dir: { type: 'string' }, storage: { type: 'string' },
      sync: { type: 'boolean' }, 'no-sync': { type: 'boolean' }, pool: { type: 'string' }, requirepass: { type: 'string' },
      maxclients: { type: 'string' }, 'proto-max-bulk-len': { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return undefined;
  const cluster: ClusterOptions = {};
  const nodes = integer('nodes', values.nodes);
  if (nodes !== undefined) cluster.nodes = nodes;
  if (values.dir !== undefined) cluster.dir = values.dir;
  if (values.storage !== undefined) cluster.storage = values.storage as 'lmdb' | 'memory';
  if (values.pool !== undefined) cluster.pool = values.pool as 'piscina' | 'inline';
  if (values.sync && values['no-sync']) fail('--sync and --no-sync together');
  if (values['no-sync']) cluster.sync = false;
  const resp: RespServerOptions = {};
  const port = integer('port', values.port);
  if (port !== undefined) resp.port = port;
  if (values.requirepass !== undefined) resp.requirepass = values.requirepass;
  const maxClients = integer('maxclients', values.maxclients);
  if (maxClients !== undefined) resp.maxClients = maxClients;
  const bulk = integer('proto-max-bulk-len', values['proto-max-bulk-len']);
  if (bulk !== undefined) resp.maxBulkBytes = bulk;
  return { cluster, resp };
}

async function serve(argv: string[]): Promise<void> {
  let parsed: ReturnType<typeof serveOptions>;
  try {
    parsed = serveOptions(argv);
  } catch (err) {
    fail((err as Error).message);
  }
  if (!parsed) {
    process.stdout.write(SERVE_HELP);
    return;
  }
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
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
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
  if (entry === undefined) fail(`unknown command ${cmd}; try threadraft --help`);
  passThrough(entry, rest);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const e = err as { code?: string; message?: string };
  process.stderr.write(`threadraft: ${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}\n`);
  process.exit(1);
});
