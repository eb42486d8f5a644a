// The read fast paths from one caller on the main thread: peek() (synchronous) and a stale get(), on a
// 3-node LMDB cluster holding 10,000 keys of 100 bytes. Each tinybench iteration does 1,000 reads of
// precomputed keys, so the figures are the API's own cost per read, without the closed-loop scenarios'
// clock read and histogram record per call (bench/load.ts, `read-peek` and `read-stale`).
// Usage: npm run build && node dist/bench/reads.js [--time ms]
import { pathToFileURL } from 'node:url';
import { Bench } from 'tinybench';
import { Cluster } from '../src/index.js';
import { keyOf, preload } from './load.js';

const PER_ITERATION = 1000;
const KEYS = 10_000;

export interface ReadApiRow {
  name: string;
  readsPerSec: number;
  meanUs: number;
}

/** The read fast paths of `cluster` (preloaded with keyOf(0 .. keys-1)), each measured for about `timeMs`. */
export async function readApi(cluster: Cluster, keys: number, timeMs: number): Promise<ReadApiRow[]> {
  const strings = Array.from({ length: PER_ITERATION }, (_, i) => keyOf((i * 7919) % keys));
  const buffers = strings.map((k) => Buffer.from(k));
  const bench = new Bench({ time: timeMs, warmupTime: 200 });
  bench.add('peek(), string keys', () => {
    for (const k of strings) if (cluster.peek(k) === undefined) throw new Error(`missing ${k}`);
  });
  bench.add('peek(), Buffer keys', () => {
    for (const k of buffers) if (cluster.peek(k) === undefined) throw new Error('missing key');
  });
  bench.add("get(k, { consistency: 'stale' }), one at a time", async () => {
    for (const k of strings) if ((await cluster.get(k, { consistency: 'stale' })) === undefined) throw new Error(`missing ${k}`);
  });
  await bench.run();
  return bench.tasks.map((t) => {
    const r = t.result;
    if (r.state !== 'completed') throw new Error(`${t.name}: ${r.state}`);
    const meanUs = (r.latency.mean * 1000) / PER_ITERATION;
    return { name: t.name, readsPerSec: 1e6 / meanUs, meanUs };
  });
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const timeMs = Number(args[args.indexOf('--time') + 1] ?? 0) || 2000;
  const cluster = await Cluster.start({ nodes: 3 });
  try {
    await preload(cluster, KEYS, 100);
    const rows = await readApi(cluster, KEYS, timeMs);
    process.stdout.write(`| read (one caller, ${PER_ITERATION} per iteration) | reads/s | mean µs per read |\n|---|---:|---:|\n`);
    for (const r of rows) process.stdout.write(`| ${r.name} | ${Math.round(r.readsPerSec).toLocaleString('en-US')} | ${r.meanUs.toFixed(3)} |\n`);
  } finally {
    await cluster.stop();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`${String(err instanceof Error ? err.stack : err)}\n`);
    process.exit(1);
  });
}
