// Shared helpers of the RESP tests: a cluster behind a server on a free port, torn down completely; a raw socket.
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, type ClusterOptions } from '../../src/index.js';
import { RespServer, type RespServerOptions } from '../../src/resp/index.js';
import { startRedisNoPersist, type Target } from '../../bench/resp-targets.js';
import { RespError, SimpleConn, type RespValue } from '../../bench/resp-proto.js';
import { parseSeedRange } from '../sim/prng.js';
import assert from 'node:assert/strict';

export interface Served {
  cluster: Cluster;
  server: RespServer;
  port: number;
  stop(): Promise<void>;
}

/** A cluster (default: 3 nodes, memory) in a temporary directory, and a RESP server on a free port in front of it. */
export async function serve(clusterOpts: ClusterOptions = {}, respOpts: RespServerOptions = {}): Promise<Served> {
  const dir = mkdtempSync(join(tmpdir(), 'threadraft-resp-'));
  const cluster = await Cluster.start({ nodes: 3, storage: 'memory', dir, ...clusterOpts });
  let server: RespServer;
  try {
    server = await RespServer.start(cluster, { port: 0, ...respOpts });
  } catch (err) {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    cluster,
    server,
    port: server.port,
    async stop() {
      await server.close();
      await cluster.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A multibulk request. */
export function encode(...args: Array<string | Buffer>): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = typeof a === 'string' ? Buffer.from(a) : a;
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

export interface Raw {
  socket: Socket;
  /** Everything received so far. */
  received(): Buffer;
  /** Resolves once `pred` holds for what was received (or rejects after timeoutMs). */
  until(pred: (b: Buffer) => boolean, timeoutMs?: number): Promise<Buffer>;
  /** Resolves once at least `n` bytes were received (without joining them on every chunk). */
  untilBytes(n: number, timeoutMs?: number): Promise<Buffer>;
  /** Resolves once the server closed the connection. */
  closed: Promise<void>;
  end(): void;
}

export function raw(port: number): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let bytes = 0;
    const received = (): Buffer => {
      if (chunks.length > 1) chunks.splice(0, chunks.length, Buffer.concat(chunks));
      return chunks[0] ?? Buffer.alloc(0);
    };
    const waiters = new Set<() => void>();
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      bytes += d.length;
      for (const w of waiters) w();
    });
    socket.on('error', () => undefined);
    const closed = new Promise<void>((r) => socket.on('close', () => {
      r();
      for (const w of waiters) w();
    }));
    const wait = (done: () => boolean, timeoutMs: number): Promise<Buffer> => new Promise((res, rej) => {
      const check = (): void => {
        if (!done()) return;
        waiters.delete(check);
        clearTimeout(t);
        res(received());
      };
      const t = setTimeout(() => {
        waiters.delete(check);
        rej(new Error(`timed out; received ${bytes} bytes: ${JSON.stringify(received().toString('latin1').slice(0, 300))}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
    socket.once('connect', () => resolve({
      socket,
      received,
      closed,
      end: () => socket.destroy(),
      until: (pred, timeoutMs = 5000) => wait(() => pred(received()), timeoutMs),
      untilBytes: (n, timeoutMs = 5000) => wait(() => bytes >= n, timeoutMs),
    }));
    socket.once('error', reject);
  });
}

/** Whether `b` ends with `s` (a reply's text). */
export function endsWith(s: string): (b: Buffer) => boolean {
  return (b) => b.toString('latin1').endsWith(s);
}

/**
 * `body` with a redis-server without persistence (`redisArgs`: more of its options) and a served 3-node memory
 * cluster, both stopped after it.
 */
export async function againstRedis(body: (redis: Target, served: Served) => Promise<void>, redisArgs: string[] = []): Promise<void> {
  const redis = await startRedisNoPersist(redisArgs);
  let served: Served | undefined;
  try {
    served = await serve();
    await body(redis, served);
  } finally {
    await served?.stop();
    await redis.stop();
  }
}

/**
 * Play conversation `s` against Redis and threadraft; fail at the first byte where what a connection received from
 * threadraft differs from what it received from Redis. Resolves to what Redis's connections received.
 */
export async function sameAsRedis(redis: { port: number }, served: { port: number }, s: Conversation): Promise<string[]> {
  const before = await Promise.all([statCounts(redis.port), statCounts(served.port)]);
  const theirs = await transcript(redis.port, s.conns, s.steps);
  const ours = await transcript(served.port, s.conns, s.steps);
  for (let i = 0; i < theirs.length; i++) {
    const [a, b] = [ours[i]!, theirs[i]!];
    if (a === b) continue;
    let at = 0;
    while (a[at] === b[at]) at++;
    const around = (t: string): string => JSON.stringify(t.slice(Math.max(0, at - 300), at + 200));
    assert.fail(`${s.name}: connection ${i} differs at byte ${at}\n  threadraft: ${around(a)}\n  redis:      ${around(b)}\n  script: ${JSON.stringify(s.steps)}`);
  }
  // INFO commandstats and errorstats counted the conversation's commands as Redis's did.
  const after = await Promise.all([statCounts(redis.port), statCounts(served.port)]);
  assert.deepEqual(grown(before[1], after[1]), grown(before[0], after[0]), `${s.name}: INFO commandstats or errorstats counted otherwise\n  script: ${JSON.stringify(s.steps)}`);
  return theirs;
}

/** INFO commandstats and errorstats of the server at `port` as counts by line name (calls, rejected, failed; count), the times left out. */
export async function statCounts(port: number): Promise<Map<string, number[]>> {
  const r = await raw(port);
  try {
    const out = new Map<string, number[]>();
    for (const m of (await bulk(r, ['INFO', 'commandstats', 'errorstats'])).matchAll(/^(cmdstat_[^:]+|errorstat_[^:]+):(.*)\r$/gm)) {
      const fields = new Map(m[2]!.split(',').map((f) => f.split('=') as [string, string]));
      out.set(m[1]!, ['calls', 'rejected_calls', 'failed_calls', 'count'].filter((k) => fields.has(k)).map((k) => Number(fields.get(k))));
    }
    return out;
  } finally {
    r.end();
  }
}

/** The fields of INFO `section` (`everything` for all) on `c`, by name. */
export async function infoFields(c: SimpleConn, section: string): Promise<Map<string, string>> {
  const text = String(await c.call(['INFO', section]));
  return new Map([...text.matchAll(/^([a-z_0-9]+):(.*)\r$/gm)].map((m) => [m[1]!, m[2]!]));
}

/** The text of the bulk string (RESP2) that `words`, sent on `r`, is answered with. */
export async function bulk(r: Raw, words: string[]): Promise<string> {
  const from = r.received().length;
  r.socket.write(encode(...words));
  const got = await r.until((b) => {
    const m = /^\$(\d+)\r\n/.exec(b.subarray(from).toString('latin1'));
    return m !== null && b.length - from >= m[0].length + Number(m[1]) + 2;
  });
  const text = got.subarray(from).toString('latin1');
  return text.slice(text.indexOf('\r\n') + 2, -2);
}

/** The address (`ip:port`) the server knows a connection by: CLIENT INFO's addr. */
export async function clientAddress(c: Raw | SimpleConn): Promise<string> {
  const info = c instanceof SimpleConn ? String(await c.call(['CLIENT', 'INFO'])) : await bulk(c, ['CLIENT', 'INFO']);
  return /addr=(\S+)/.exec(info)![1]!;
}

/** What grew from `before` to `after` (statCounts), sorted by name. */
export function grown(before: Map<string, number[]>, after: Map<string, number[]>): Array<[string, number[]]> {
  return [...after].map(([k, v]): [string, number[]] => [k, v.map((n, i) => n - (before.get(k)?.[i] ?? 0))])
    .filter(([, d]) => d.some((n) => n !== 0)).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
}

/** Why the comparisons with Redis are skipped where it is missing. */
/**
 * `body` with a client of a served 1-node cluster and a connection in MONITOR mode on it; `fed()` sends `PING end`
 * from the client and resolves with everything the monitor was fed up to it. All closed after.
 */
export async function withMonitor(body: (c: SimpleConn, fed: () => Promise<string>) => Promise<void>): Promise<void> {
  const s = await serve({ nodes: 1 });
  const c = await SimpleConn.open('127.0.0.1', s.port);
  const m = await raw(s.port);
  try {
    m.socket.write(encode('MONITOR'));
    await m.until(endsWith('+OK\r\n'));
    await body(c, async () => {
      await c.call(['PING', 'end']);
      return (await m.until(endsWith('"end"\r\n'))).toString('latin1');
    });
  } finally {
    m.end();
    c.close();
    await s.stop();
  }
}

/** The subcommands threadraft has from Redis 7.2, which the redis-server 7.0 these tests compare with lacks. */
export const SINCE_REDIS_72: ReadonlySet<string> = new Set(['client|setinfo', 'client|no-touch']);

/** A reply as plain values: errors as `-message`, bulk strings as latin1 text, arrays of those. */
export function plainReply(x: RespValue): unknown {
  return x instanceof RespError ? `-${x.message}` : Array.isArray(x) ? x.map(plainReply) : Buffer.isBuffer(x) ? x.toString('latin1') : x;
}

export const NO_REDIS = 'redis-server is not installed (Debian: apt-get install redis-server)';

/** A command written as one line of words; `''` stands for an empty argument. */
export function words(line: string): string[] {
  return line.split(' ').map((w) => (w === "''" ? '' : w));
}

/** A conversation compared with Redis: `conns` connections and what each sends, step by step. */
export interface Conversation {
  name: string;
  conns: number;
  steps: Step[];
}

/**
 * The seeded random conversations of three connections a test runs: seeds 1 to 8, or the range in the environment
 * variable `variable` (`1-1000`), each named with the variable that replays it.
 */
export function randomConversations(variable: string, script: (seed: number) => Step[]): Conversation[] {
  const [from, to] = parseSeedRange(process.env[variable] ?? '1-8') ?? [1, 8];
  const out: Conversation[] = [];
  for (let seed = from; seed <= to; seed++) out.push({ name: `random conversation, seed ${seed} (${variable}=${seed})`, conns: 3, steps: script(seed) });
  return out;
}

/** A step: connection index and the commands it sends in one write (a pipeline). `$i` stands for connection i's id. */
export type Step = [conn: number, commands: string[][]];

/**
 * What each connection received over a script (the Pub/Sub and client-side caching conversations compared with
 * Redis), connection i's id written `<id i>` where a reply names it. After each step every open connection is
 * synchronized with a PING of a marker, so the bytes a step produced on each connection come before that marker's
 * reply, on either server. A connection that sent QUIT is not waited on any more.
 */
export async function transcript(port: number, conns: number, steps: Step[]): Promise<string[]> {
  const sockets: Raw[] = [];
  const ids: string[] = [];
  const starts: number[] = [];
  const open: boolean[] = [];
  try {
    for (let i = 0; i < conns; i++) {
      const r = await raw(port);
      r.socket.write(encode('CLIENT', 'ID'));
      const got = (await r.until(endsWith('\r\n'))).toString('latin1');
      ids.push(/^:(\d+)\r\n$/.exec(got)![1]!);
      starts.push(got.length);
      sockets.push(r);
      open.push(true);
    }
    let mark = 0;
    const sync = async (r: Raw): Promise<void> => {
      const m = `sync-${++mark}`;
      r.socket.write(encode('PING', m));
      await r.until((b) => b.toString('latin1').includes(`${m}\r\n`));
    };
    for (const [i, cmds] of steps) {
      const args = cmds.map((cmd) => cmd.map((a) => (/^\$\d$/.test(a) ? ids[Number(a.slice(1))] ?? '999999' : a)));
      sockets[i]!.socket.write(Buffer.concat(args.map((a) => encode(...a))));
      if (cmds.some((cmd) => cmd[0] === 'QUIT')) {
        await sockets[i]!.closed;
        open[i] = false;
      } else await sync(sockets[i]!);
      for (let j = 0; j < conns; j++) if (j !== i && open[j]) await sync(sockets[j]!);
    }
    return sockets.map((r, i) => {
      let text = r.received().toString('latin1').slice(starts[i]);
      // Ids are in TRACKINGINFO's redirect and in a broken redirect's message (GETREDIR is asked of no redirecting connection).
      ids.forEach((id, j) => (text = text.replace(new RegExp(`(redirect|tracking-redir-broken)\r\n:${id}\r\n`, 'g'), `$1\r\n:<id ${j}>\r\n`)));
      // HELLO's map holds the server's version and the connection id: the same placeholder on both sides.
      return text.replace(/(%7|\*14)\r\n\$6\r\nserver[\s\S]*?\$7\r\nmodules\r\n\*0\r\n/g, '<hello>');
    });
  } finally {
    for (const r of sockets) r.end();
  }
}
