// The two loads of the RESP benchmark: redis-benchmark (the tool everyone else uses, parsed from its
// --csv output), and a closed-loop generator in Node for what redis-benchmark cannot send: a SET followed
// by `WAIT 1 0` on the same connection, counted as one operation once both replies are in.
import { connect, type Socket } from 'node:net';
import { LatencyHistogram } from '../src/util/histogram.js';
import { mulberry32u32 } from '../src/util/random.js';
import { encodeCommand, parseReply, ReplyReader, RespError, type RespValue } from './resp-proto.js';
import { HOST, shellWord, spawnChild, stopChild } from './resp-targets.js';

// ---- redis-benchmark --------------------------------------------------------------------------

export interface RedisBenchmarkSpec {
  port: number;
  test: 'set' | 'get';
  connections: number;
  pipeline: number;
  requests: number;
  keyspace: number;
  valueSize: number;
}

/** One line of redis-benchmark --csv: requests per second and latencies in ms. */
export interface CsvRow {
  test: string;
  rps: number;
  avgMs: number;
  minMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

export function redisBenchmarkArgs(s: RedisBenchmarkSpec): string[] {
  const args = ['-h', HOST, '-p', String(s.port), '-t', s.test, '-c', String(s.connections), '-n', String(s.requests), '-r', String(s.keyspace), '-d', String(s.valueSize)];
  if (s.pipeline > 1) args.push('-P', String(s.pipeline));
  args.push('--csv');
  return args;
}

export function commandLine(cmd: string, args: string[]): string {
  return [cmd, ...args].map(shellWord).join(' ');
}

/**
 * Parses redis-benchmark --csv (7.x: "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms",
 * "p95_latency_ms","p99_latency_ms","max_latency_ms"; 6.x printed only "test","rps"). Columns are found
 * by the header's names; a latency the header lacks is NaN.
 */
export function parseCsv(text: string): CsvRow[] {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.startsWith('"'));
  const cells = (l: string): string[] => l.split(',').map((c) => c.trim().replace(/^"|"$/g, ''));
  const header = lines[0] === undefined ? [] : cells(lines[0]);
  const col = (name: string): number => header.indexOf(name);
  const hasHeader = col('test') >= 0;
  const rows: CsvRow[] = [];
  for (const l of hasHeader ? lines.slice(1) : lines) {
    const c = cells(l);
    const at = (name: string, dflt: number): number => {
      const i = hasHeader ? col(name) : dflt;
      return i >= 0 && c[i] !== undefined ? Number(c[i]) : NaN;
    };
    rows.push({ test: c[0] ?? '', rps: at('rps', 1), avgMs: at('avg_latency_ms', -1), minMs: at('min_latency_ms', -1), p50Ms: at('p50_latency_ms', -1), p95Ms: at('p95_latency_ms', -1), p99Ms: at('p99_latency_ms', -1), maxMs: at('max_latency_ms', -1) });
  }
  return rows;
}

/** Runs redis-benchmark to completion (killed after `timeoutMs`) and returns its row for the test. */
export async function runRedisBenchmark(s: RedisBenchmarkSpec, timeoutMs: number): Promise<{ row: CsvRow; command: string }> {
  const args = redisBenchmarkArgs(s);
  const command = commandLine('redis-benchmark', args);
  const child = spawnChild('redis-benchmark', 'redis-benchmark', args);
  let out = '';
  child.proc.stdout?.on('data', (c: Buffer) => {
    if (out.length < 1_000_000) out += c.toString('utf8');
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void stopChild(child, 1000);
  }, timeoutMs);
  const how = await child.exited;
  clearTimeout(timer);
  await stopChild(child);
  if (timedOut) throw new Error(`${command}: no result in ${timeoutMs} ms`);
  if (how !== 'exit code 0') throw new Error(`${command}: ${how}\n${child.tail()}`);
  const row = parseCsv(out).find((r) => r.test.toUpperCase() === s.test.toUpperCase());
  if (row !== undefined && row.rps === Infinity) throw new Error(`${command}: finished too fast to be measured (rps "inf"): raise -n`);
  if (row === undefined || !(row.rps > 0)) throw new Error(`${command}: no ${s.test.toUpperCase()} row in its output:\n${out.slice(0, 2000)}`);
  return { row, command };
}

// ---- the closed-loop generator -----------------------------------------------------------------

export type GenMode = 'set' | 'set-wait' | 'get';

export interface GenSpec {
  port: number;
  mode: GenMode;
  connections: number;
  /** Operations sent back to back per connection before awaiting their replies. */
  pipeline: number;
  durationMs: number;
  warmupMs: number;
  keyspace: number;
  valueSize: number;
  /** set-wait: replicas WAIT waits for (`WAIT <n> 0`). */
  waitReplicas: number;
  seed: number;
}

export interface GenResult {
  ops: number;
  errors: number;
  firstError: string | undefined;
  /** The measured window: from the end of the warm-up to the last reply (at least the duration asked for). */
  durationMs: number;
  opsPerSec: number;
  histogram: LatencyHistogram;
  /** [seconds since the measured window began, ops/s in that second]. */
  throughput: Array<[number, number]>;
}

/** How the generator's load would be written as a command line, for the report. */
export function genCommandLine(s: GenSpec): string {
  const cmds = s.mode === 'set-wait' ? `SET key:<rand> <${s.valueSize} B>; WAIT ${s.waitReplicas} 0` : s.mode === 'set' ? `SET key:<rand> <${s.valueSize} B>` : 'GET key:<rand>';
  return `resp-load (bench/resp-load.ts) -h ${HOST} -p ${s.port} -c ${s.connections}${s.pipeline > 1 ? ` -P ${s.pipeline}` : ''} -r ${s.keyspace} --duration ${s.durationMs / 1000}s: ${cmds}`;
}

/** redis-benchmark's key names (`key:__rand_int__`), so either tool's GETs find the other's SETs. */
function keyName(i: number): string {
  return `key:${String(i).padStart(12, '0')}`;
}

const DRAIN_TIMEOUT_MS = 5000;

/** N connections, each a closed loop: send `pipeline` operations, await all their replies, repeat. */
export async function runGenerator(s: GenSpec): Promise<GenResult> {
  if (s.connections < 1 || s.pipeline < 1 || s.durationMs <= 0) throw new Error('runGenerator: connections, pipeline and duration must be positive');
  const value = Buffer.alloc(s.valueSize, 'x');
  // The connections first: their setup is neither warm-up nor measurement (on a loaded machine it can take longer
  // than a short run). One that fails closes those already open.
  const opened = await Promise.allSettled(Array.from({ length: s.connections }, () => openSocket(s.port)));
  const failed = opened.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  const sockets = opened.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
  if (failed !== undefined) {
    for (const sock of sockets) sock.destroy();
    throw failed.reason;
  }
  const start = performance.now();
  const measureFrom = start + s.warmupMs;
  const endAt = measureFrom + s.durationMs;
  const state: GenResult = { ops: 0, errors: 0, firstError: undefined, durationMs: s.durationMs, opsPerSec: 0, histogram: new LatencyHistogram(), throughput: [] };
  // No round starts after endAt, and the rounds in flight then are measured to their last reply: the window
  // runs from the end of the warm-up to the last reply, so a round longer than the whole duration (a slow
  // disk under WAIT) still yields a rate instead of none.
  let lastDone = endAt;
  const perSecond: number[] = [];
  const record = (sentAt: number, doneAt: number, failed: string | undefined): void => {
    if (doneAt < measureFrom) return;
    if (failed !== undefined) {
      state.errors++;
      state.firstError ??= failed;
      return;
    }
    state.ops++;
    if (doneAt > lastDone) lastDone = doneAt;
    state.histogram.recordMs(doneAt - sentAt);
    const sec = Math.floor((doneAt - measureFrom) / 1000);
    while (perSecond.length <= sec) perSecond.push(0);
    perSecond[sec]!++;
  };
  try {
    await Promise.all(sockets.map((sock, i) => connectionLoop(sock, s, value, mulberry32u32(s.seed + i * 7919), endAt, record)));
  } finally {
    for (const sock of sockets) sock.destroy();
  }
  state.durationMs = lastDone - measureFrom;
  state.opsPerSec = state.ops / (state.durationMs / 1000);
  // The last second may be a part of one: its rate is its count over its length.
  state.throughput = perSecond.map((n, i) => [i + 1, n / Math.min(1, state.durationMs / 1000 - i)] as [number, number]);
  return state;
}

/** Writes every key of the key space once (pipelined, `chunk` at a time), so that GETs find values. */
export async function preloadKeys(port: number, keyspace: number, valueSize: number, chunk = 500): Promise<void> {
  const value = Buffer.alloc(valueSize, 'x');
  const sock = await openSocket(port);
  const reader = new ReplyReader();
  try {
    for (let from = 0; from < keyspace; from += chunk) {
      const n = Math.min(chunk, keyspace - from);
      const cmds = Array.from({ length: n }, (_, i) => encodeCommand(['SET', keyName(from + i), value]));
      const replies = await new Promise<RespValue[]>((resolve, reject) => {
        const got: RespValue[] = [];
        const onData = (c: Buffer): void => {
          got.push(...reader.push(c));
          if (got.length >= n) done(null);
        };
        const timer = setTimeout(() => done(new Error(`preload: no reply to ${n - got.length} of ${n} SETs in 30 s`)), 30_000);
        const done = (err: Error | null): void => {
          clearTimeout(timer);
          sock.off('data', onData);
          sock.off('close', onClose);
          if (err) reject(err);
          else resolve(got);
        };
        const onClose = (): void => done(new Error('preload: connection closed'));
        sock.on('data', onData);
        sock.once('close', onClose);
        sock.write(Buffer.concat(cmds));
      });
      const bad = replies.find((r) => r !== 'OK');
      if (bad !== undefined) throw new Error(`preload: SET answered ${bad instanceof RespError ? `-${bad.message}` : JSON.stringify(bad)}`);
    }
  } finally {
    sock.destroy();
  }
}

function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: HOST, port });
    sock.once('error', reject);
    sock.once('connect', () => {
      sock.off('error', reject);
      sock.setNoDelay(true);
      resolve(sock);
    });
  });
}

/** One connection's loop; resolves when the time is up and its last batch has been answered. */
function connectionLoop(
  sock: Socket,
  s: GenSpec,
  value: Buffer,
  rand: () => number,
  endAt: number,
  record: (sentAt: number, doneAt: number, failed: string | undefined) => void,
): Promise<void> {
  const repliesPerOp = s.mode === 'set-wait' ? 2 : 1;
  const wait = encodeCommand(['WAIT', String(s.waitReplicas), '0']);
  return new Promise((resolve, reject) => {
    let pending: Buffer = Buffer.alloc(0);
    let sentAt = 0;
    let repliesLeft = 0; // replies still due in the current batch
    let opReplies = 0; // replies seen of the current operation
    let opError: string | undefined;
    let drainTimer: NodeJS.Timeout | undefined;
    const finish = (err?: Error): void => {
      clearTimeout(drainTimer);
      sock.removeAllListeners('data');
      if (err) reject(err);
      else resolve();
    };
    const sendBatch = (): void => {
      if (performance.now() >= endAt) return finish();
      const parts: Buffer[] = [];
      for (let i = 0; i < s.pipeline; i++) {
        const key = keyName(rand() % s.keyspace);
        if (s.mode === 'get') parts.push(encodeCommand(['GET', key]));
        else parts.push(encodeCommand(['SET', key, value]));
        if (s.mode === 'set-wait') parts.push(wait);
      }
      repliesLeft = s.pipeline * repliesPerOp;
      sentAt = performance.now();
      sock.write(parts.length === 1 ? parts[0]! : Buffer.concat(parts));
    };
    sock.on('data', (chunk: Buffer) => {
      let buf = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      let off = 0;
      for (;;) {
        let r;
        try {
          r = parseReply(buf, off);
        } catch (e) {
          return finish(e as Error);
        }
        if (r === undefined) break;
        off = r.end;
        if (r.value instanceof RespError) opError ??= r.value.message;
        if (++opReplies === repliesPerOp) {
          record(sentAt, performance.now(), opError);
          opReplies = 0;
          opError = undefined;
        }
        if (--repliesLeft === 0) {
          buf = buf.subarray(off);
          off = 0;
          sendBatch();
        }
      }
      pending = off >= buf.length ? Buffer.alloc(0) : buf.subarray(off);
    });
    sock.once('close', () => finish(repliesLeft > 0 ? new Error('connection closed with replies outstanding') : undefined));
    sock.once('error', (e) => finish(e));
    // A server that stops answering (a WAIT with no replica) must not hang the run.
    drainTimer = setTimeout(() => finish(new Error(`no reply within ${DRAIN_TIMEOUT_MS} ms after the end of the run`)), Math.max(0, endAt - performance.now()) + DRAIN_TIMEOUT_MS);
    sendBatch();
  });
}
