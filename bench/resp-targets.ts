// The servers the RESP benchmark measures, each a child process on 127.0.0.1 in a temporary directory.
// Every child and directory is registered in one place and removed at the end, on an error, on SIGINT,
// SIGTERM or SIGHUP, and (synchronously, SIGKILL) when the process exits by any other path.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { END_SIGNALS } from '../src/cli/options.js';
import { SIGNAL_EXIT_CODES } from './automation.js';
import { callOnce, infoFields, RespError } from './resp-proto.js';

export const HOST = '127.0.0.1';

// ---- the supervisor ---------------------------------------------------------------------------

/** The last lines a child wrote, for error messages (bounded). */
const TAIL_LINES = 40;

export interface Child {
  name: string;
  proc: ChildProcess;
  /** stdout and stderr, last TAIL_LINES lines. */
  tail(): string;
  /** Resolves with the exit code (or signal) once the process has exited, or with why it did not start. */
  exited: Promise<string>;
  /** True once `exited` has resolved. */
  gone(): boolean;
}

const liveChildren = new Set<Child>();
const liveDirs = new Set<string>();
let handlersInstalled = false;

function killAllSync(): void {
  for (const c of liveChildren) {
    if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
  }
  liveChildren.clear();
  for (const d of liveDirs) rmSync(d, { recursive: true, force: true });
  liveDirs.clear();
}

function onSignal(sig: (typeof END_SIGNALS)[number]): void {
  killAllSync();
  // Another handler (the suite's SIGINT cleanup) decides how to exit; alone, exit as the signal would.
  if (process.listenerCount(sig) <= 1) process.exit(SIGNAL_EXIT_CODES[sig]);
}
const signalHandlers = new Map(END_SIGNALS.map((s) => [s, () => onSignal(s)] as const));

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', killAllSync);
  for (const [s, h] of signalHandlers) process.on(s, h);
}

/** Leaves the process's signal handling as it was, once nothing is left to clean. */
function uninstallHandlersIfIdle(): void {
  if (!handlersInstalled || liveChildren.size > 0 || liveDirs.size > 0) return;
  handlersInstalled = false;
  process.off('exit', killAllSync);
  for (const [s, h] of signalHandlers) process.off(s, h);
}

export function makeTempDir(prefix: string): string {
  installHandlers();
  const d = mkdtempSync(join(tmpdir(), prefix));
  liveDirs.add(d);
  return d;
}

export function removeTempDir(d: string): void {
  rmSync(d, { recursive: true, force: true });
  liveDirs.delete(d);
  uninstallHandlersIfIdle();
}

/** Spawns a supervised child; stdout and stderr are drained into a bounded tail. */
export function spawnChild(name: string, command: string, args: string[], cwd?: string): Child {
  installHandlers();
  const proc = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const keep = (chunk: Buffer): void => {
    for (const l of chunk.toString('utf8').split('\n')) {
      if (l.length === 0) continue;
      lines.push(l);
      if (lines.length > TAIL_LINES) lines.shift();
    }
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  let gone = false;
  const exited = new Promise<string>((resolve) => {
    proc.once('error', (e) => resolve(`failed to start: ${e.message}`));
    proc.once('exit', (code, signal) => resolve(signal ?? `exit code ${String(code)}`));
  }).finally(() => (gone = true));
  const child: Child = { name, proc, tail: () => lines.join('\n'), exited, gone: () => gone };
  liveChildren.add(child);
  void exited.then(() => liveChildren.delete(child));
  return child;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the child has exited. */
export async function stopChild(c: Child, graceMs = 5000): Promise<void> {
  if (!c.gone()) {
    c.proc.kill('SIGTERM');
    const timer = setTimeout(() => c.proc.kill('SIGKILL'), graceMs);
    await c.exited;
    clearTimeout(timer);
  }
  liveChildren.delete(c);
  uninstallHandlersIfIdle();
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, HOST, () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      s.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

export function onPath(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns true; fails early when a child exits, or after `timeoutMs`. */
async function until(what: string, children: Child[], timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    for (const c of children) {
      if (c.gone()) throw new Error(`${c.name} exited while waiting for ${what}:\n${c.tail()}`);
    }
    try {
      if (await check()) return;
    } catch (e) {
      last = (e as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (${last})` : ''}`);
    await sleep(50);
  }
}

/** No fork at work (a replica rewrites its AOF just after its first sync): the load must not meet one. */
async function persistenceIdle(port: number): Promise<boolean> {
  const info = infoFields(await callOnce(HOST, port, ['INFO', 'persistence']));
  return ['loading', 'rdb_bgsave_in_progress', 'aof_rewrite_in_progress', 'aof_rewrite_scheduled'].every((f) => info.get(f) === '0');
}

/**
 * Whether the server answering on `port` is process `pid`, by INFO's process_id: the port freePort() gave out may
 * have been taken meanwhile by another test's server (a Redis, or a RESP server on port 0), which answers PING too.
 */
export async function answeredBy(port: number, pid: number | undefined): Promise<boolean> {
  return pid !== undefined && infoFields(await callOnce(HOST, port, ['INFO', 'server'])).get('process_id') === String(pid);
}

async function pingOk(port: number): Promise<boolean> {
  const r = await callOnce(HOST, port, ['PING'], 1000);
  if (r instanceof RespError) throw new Error(r.message); // e.g. LOADING
  return r === 'PONG';
}

// ---- the targets ------------------------------------------------------------------------------

export type TargetId = 'threadraft' | 'redis-aof' | 'redis-replicas' | 'redis-nopersist';
export const TARGET_IDS: readonly TargetId[] = ['threadraft', 'redis-aof', 'redis-replicas', 'redis-nopersist'];

export interface Target {
  id: TargetId;
  /** What it is, as the table shows it. */
  label: string;
  /** How it was started (command lines), for the report. */
  setup: string[];
  port: number;
  stop(): Promise<void>;
}

/** A target that could not run, and why (not installed, not built, failed to start). */
export interface Unavailable {
  id: TargetId;
  label: string;
  reason: string;
}

export const TARGET_LABELS: Record<TargetId, string> = {
  threadraft: 'threadraft serve',
  'redis-aof': 'Redis, AOF always',
  'redis-replicas': 'Redis + 2 replicas, AOF always, WAIT 1',
  'redis-nopersist': 'Redis, no persistence',
};

interface RedisProc {
  child: Child;
  port: number;
  dir: string;
  command: string;
}

async function startRedis(name: string, extra: string[]): Promise<RedisProc> {
  const dir = makeTempDir(`threadraft-resp-${name}-`);
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    // --dir makes redis-server chdir there: the AOF and any dump stay inside the temporary directory.
    const args = ['--port', String(port), '--bind', HOST, '--dir', dir, '--daemonize', 'no', '--logfile', '', ...extra];
    const child = spawnChild(name, 'redis-server', args, dir);
    try {
      // Our child, not another server that took the port first (ours then exits: Address already in use, retried).
      await until(`${name} to answer PING`, [child], 10_000, async () => (await pingOk(port)) && (await answeredBy(port, child.proc.pid)));
      await until(`${name} to finish loading and rewriting`, [child], 30_000, () => persistenceIdle(port));
      return { child, port, dir, command: `redis-server ${args.map(shellWord).join(' ')}` };
    } catch (e) {
      await stopChild(child);
      // Someone took the port between freePort() and the bind: try another.
      if (attempt < 3 && /Address already in use/i.test(child.tail())) continue;
      removeTempDir(dir);
      throw e;
    }
  }
}

/** Replicas (all but the first) first: a primary stopped before them waits for them (shutdown-timeout). */
async function stopRedis(procs: RedisProc[]): Promise<void> {
  await Promise.all(procs.slice(1).map((p) => stopChild(p.child)));
  if (procs[0]) await stopChild(procs[0].child);
  for (const p of procs) removeTempDir(p.dir);
}

const AOF_ALWAYS = ['--appendonly', 'yes', '--appendfsync', 'always', '--save', ''];

export async function startRedisAof(): Promise<Target> {
  const p = await startRedis('redis-aof', AOF_ALWAYS);
  return { id: 'redis-aof', label: TARGET_LABELS['redis-aof'], setup: [p.command], port: p.port, stop: () => stopRedis([p]) };
}

/** `extra`: more of redis-server's options (a test's `--enable-debug-command yes`). */
export async function startRedisNoPersist(extra: string[] = []): Promise<Target> {
  const p = await startRedis('redis-nopersist', ['--appendonly', 'no', '--save', '', ...extra]);
  return { id: 'redis-nopersist', label: TARGET_LABELS['redis-nopersist'], setup: [p.command], port: p.port, stop: () => stopRedis([p]) };
}

/** A primary and two replicas, AOF always on all three; ready when both replicas' links are up. */
export async function startRedisReplicas(): Promise<Target> {
  const procs: RedisProc[] = [];
  try {
    // Without the delay the primary waits 5 s for more replicas before the first (diskless) full sync.
    const primary = await startRedis('redis-primary', [...AOF_ALWAYS, '--repl-diskless-sync-delay', '0']);
    procs.push(primary);
    for (const n of [1, 2]) procs.push(await startRedis(`redis-replica${n}`, [...AOF_ALWAYS, '--replicaof', HOST, String(primary.port)]));
    const children = procs.map((p) => p.child);
    await until('2 replicas connected to the primary', children, 20_000, async () => {
      const info = infoFields(await callOnce(HOST, primary.port, ['INFO', 'replication']));
      if (info.get('connected_slaves') !== '2') return false;
      for (const r of procs.slice(1)) {
        if (infoFields(await callOnce(HOST, r.port, ['INFO', 'replication'])).get('master_link_status') !== 'up') return false;
      }
      return true;
    });
    await until('the replicas to finish their first sync (AOF rewrite)', children, 30_000, async () => (await Promise.all(procs.map((p) => persistenceIdle(p.port)))).every(Boolean));
    return { id: 'redis-replicas', label: TARGET_LABELS['redis-replicas'], setup: procs.map((p) => p.command), port: primary.port, stop: () => stopRedis(procs) };
  } catch (e) {
    await stopRedis(procs);
    throw e;
  }
}

export interface ThreadraftServeOptions {
  /** dist/src/cli/threadraft.js (or another build of it). */
  script: string;
  nodes: number;
  storage: string;
  sync: boolean;
  pool: string;
  startTimeoutMs?: number;
}

const LISTENING = /listening on (\d+\.\d+\.\d+\.\d+):(\d+)/;

/** `threadraft serve --port 0`: the port is read from its `listening on 127.0.0.1:<port>` line. */
export async function startThreadraft(o: ThreadraftServeOptions): Promise<Target> {
  if (!existsSync(o.script)) throw new NotBuilt(`${o.script} does not exist (threadraft serve is not built)`);
  const dir = makeTempDir('threadraft-resp-serve-');
  const args = [o.script, 'serve', '--port', '0', '--nodes', String(o.nodes), '--storage', o.storage, o.sync ? '--sync' : '--no-sync', '--pool', o.pool, '--dir', join(dir, 'data')];
  const child = spawnChild('threadraft serve', process.execPath, args, dir);
  const stop = async (): Promise<void> => {
    await stopChild(child, 10_000);
    removeTempDir(dir);
  };
  try {
    // Chunks may split the line: keep what was printed before it (bounded) and search that.
    let printed = '';
    const onData = (chunk: Buffer): void => {
      if (printed.length < 65_536) printed += chunk.toString('utf8');
    };
    child.proc.stdout?.on('data', onData);
    await until('threadraft serve to print "listening on 127.0.0.1:<port>"', [child], o.startTimeoutMs ?? 60_000, async () => LISTENING.test(printed));
    child.proc.stdout?.off('data', onData);
    const port = Number(LISTENING.exec(printed)?.[2]);
    await until('threadraft serve to answer PING', [child], 10_000, () => pingOk(port));
    const command = `node ${args.map(shellWord).join(' ')}`;
    return { id: 'threadraft', label: TARGET_LABELS.threadraft, setup: [command], port, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

export class NotBuilt extends Error {}

export function shellWord(s: string): string {
  return /^[A-Za-z0-9_.,:/=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
