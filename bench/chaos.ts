// threadraft chaos (npm run chaos -- --duration 60 --seed N --history out.jsonl)
import { resolve } from 'node:path';
import { parseCommandLine } from '../src/cli/options.js';
import { CHAOS_HELP, CHAOS_OPTIONS } from './chaos/options.js';

const v = parseCommandLine(process.argv.slice(2), CHAOS_OPTIONS, CHAOS_HELP);
// The runner (and the cluster) load after the options are checked: a usage error answers at once.
const { runChaos } = await import('./chaos/runner.js');
const report = await runChaos({
  durationMs: Math.round(v.duration * 1000),
  seed: v.seed,
  historyPath: resolve(v.history),
  clients: v.clients,
  keys: v.keys,
  nodes: v.nodes,
  keepDir: v.keep,
  ...(v.verbose ? { log: (l: string) => process.stdout.write(`${l}\n`) } : {}),
});
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
process.exit(report.ok ? 0 : 1);
