// Shared helpers of the RESP tests: a cluster behind a server on a free port, torn down completely; a raw socket.
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, type ClusterOptions } from '../../src/index.js';
import { RespServer, type RespServerOptions } from '../../src/resp/index.js';

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
