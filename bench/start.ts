// How long Cluster.start takes until it resolves (a leader elected), for a new directory and for one reopened,
// with LMDB and memory storage: the median of `--runs` starts each, every one followed by a put and stop().
// Usage: npm run build && node dist/bench/start.js [--runs n] [--nodes n]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Cluster } from '../src/index.js';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function timedStart(options: Parameters<typeof Cluster.start>[0]): Promise<number> {
  const t0 = performance.now();
  const c = await Cluster.start(options);
  const ms = performance.now() - t0;
  await c.put('k', 'v');
  await c.stop();
  return ms;
}

const USAGE = 'Usage: node dist/bench/start.js [--runs n (1-50, default 5)] [--nodes n (1-7, default 3)]';

/** A usage error: the message and the usage on stderr, exit 2 (as the threadraft commands do). */
function usage(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

function intArg(name: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) usage(`--${name} must be an integer from ${min} to ${max}, got '${text}'`);
  return n;
}

async function main(): Promise<void> {
  let values: { runs: string; nodes: string; help?: boolean };
  try {
    values = parseArgs({ options: { runs: { type: 'string', default: '5' }, nodes: { type: 'string', default: '3' }, help: { type: 'boolean', short: 'h' } } }).values as typeof values;
  } catch (err) {
    usage(err instanceof Error ? err.message : String(err));
  }
  if (values.help === true) {
    console.log(USAGE);
    return;
  }
  const runs = intArg('runs', values.runs, 1, 50);
  const nodes = intArg('nodes', values.nodes, 1, 7);
  const rows: Array<[string, number[]]> = [];
  for (const storage of ['lmdb', 'memory'] as const) {
    const fresh: number[] = [];
    for (let i = 0; i < runs; i++) fresh.push(await timedStart({ nodes, storage }));
    rows.push([`${nodes} nodes, ${storage}, new`, fresh]);
  }
  const dir = mkdtempSync(join(tmpdir(), 'threadraft-start-'));
  try {
    await timedStart({ dir, nodes });
    const reopened: number[] = [];
    for (let i = 0; i < runs; i++) reopened.push(await timedStart({ dir }));
    rows.push([`${nodes} nodes, lmdb, reopened`, reopened]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  for (const [name, ms] of rows) console.log(`${name.padEnd(26)} median ${median(ms).toFixed(0).padStart(5)} ms   runs ${ms.map((x) => x.toFixed(0)).join(' ')}`);
}

await main();
