// How long Cluster.start takes until it resolves (a leader elected), for a new directory and for one reopened,
// with LMDB and memory storage: the median of `--runs` starts each, every one followed by a put and stop().
// Usage: npm run build && node dist/bench/start.js [--runs n] [--nodes n]   (--help for the options)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster } from '../src/index.js';
import { NODES, parseCommandLine, type CommandHelp, type OptionTable } from '../src/cli/options.js';
import { median } from './stats.js';

const OPTIONS = {
  runs: { type: 'int', min: 1, max: 50, default: 5, help: 'starts per row (the median is shown)' },
  nodes: NODES,
} as const satisfies OptionTable;

const HELP: CommandHelp = {
  command: 'node dist/bench/start.js',
  summary: 'how long Cluster.start takes until a leader is elected: new LMDB, new memory and reopened LMDB clusters.',
  usage: 'node dist/bench/start.js [options]',
};

async function timedStart(options: Parameters<typeof Cluster.start>[0]): Promise<number> {
  const t0 = performance.now();
  const c = await Cluster.start(options);
  const ms = performance.now() - t0;
  await c.put('k', 'v');
  await c.stop();
  return ms;
}

async function main(): Promise<void> {
  const { runs, nodes } = parseCommandLine(process.argv.slice(2), OPTIONS, HELP);
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
