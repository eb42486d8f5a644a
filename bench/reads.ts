// The read fast paths from one caller on the main thread: peek() (synchronous) and a stale get(), on a
// 3-node LMDB cluster holding 10,000 keys of 100 bytes. Each tinybench iteration does 1,000 reads of
// precomputed keys, so the figures are the API's own cost per read, without the closed-loop scenarios'
// clock read and histogram record per call (bench/load.ts, `read-peek` and `read-stale`).
// Usage: npm run build && node dist/bench/reads.js [--time ms]
import { Bench } from 'tinybench';
import { Cluster } from '../src/index.js';
import { keyOf, preload } from './load.js';

const PER_ITERATION = 1000;
const KEYS = 10_000;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const timeMs = Number(args[args.indexOf('--time') + 1] ?? 0) || 2000;
  const cluster = await Cluster.start({ nodes: 3 });
  try {
    await preload(cluster, KEYS, 100);
    const strings = Array.from({ length: PER_ITERATION }, (_, i) => keyOf((i * 7919) % KEYS));
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
    process.stdout.write(`| read (one caller, ${PER_ITERATION} per iteration) | reads/s | mean µs per read |\n|---|---:|---:|\n`);
    for (const t of bench.tasks) {
      const r = t.result;
      if (r.state !== 'completed') throw new Error(`${t.name}: ${r.state}`);
      const perReadUs = (r.latency.mean * 1000) / PER_ITERATION;
      process.stdout.write(`| ${t.name} | ${Math.round(1e6 / perReadUs).toLocaleString('en-US')} | ${perReadUs.toFixed(3)} |\n`);
    }
  } finally {
    await cluster.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err instanceof Error ? err.stack : err)}\n`);
  process.exit(1);
});
