// npm run chaos -- --duration 60 --seed N --history out.jsonl
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { runChaos } from './chaos/runner.js';

const HELP = `threadraft chaos: a real LMDB cluster under faults, its history checked for linearizability.

Usage: npm run chaos -- [options]
  --duration <s>     seconds of load and faults (default 60)
  --seed <n>         random seed of clients and nemesis (default 1)
  --history <file>   where the JSON Lines history goes (default ./chaos-history.jsonl)
  --clients <n>      concurrent clients (default 10)
  --keys <n>         key space (default 5: small, so operations contend)
  --nodes <3|5>      (default 3)
  --keep             keep the cluster directory
  --verbose          print every nemesis action
  -h, --help

Exits 0 when the history is linearizable, no acknowledged write is lost after restarting every node
from its directory, and all nodes' state machines are identical; 1 otherwise. Linearizable and lease
reads are recorded and checked (lease reads carry "consistency": "lease"); stale reads are run, not
recorded. Nemesis actions that fail (a transfer that times out, a restart that fails) are counted in
the report's nemesisFailures, with the first errors in nemesisErrors.
`;

function num(name: string, v: string | undefined, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) {
    process.stderr.write(`error: --${name} must be an integer in [${min}, ${max}], got ${v}\n`);
    process.exit(2);
  }
  return n;
}

let values;
try {
  values = parseArgs({
    options: {
      duration: { type: 'string' }, seed: { type: 'string' }, history: { type: 'string' }, clients: { type: 'string' },
      keys: { type: 'string' }, nodes: { type: 'string' }, keep: { type: 'boolean' }, verbose: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    },
  }).values;
} catch (err) {
  process.stderr.write(`error: ${(err as Error).message}\n\n${HELP}`);
  process.exit(2);
}
if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const nodes = num('nodes', values.nodes, 3, 3, 5);
const report = await runChaos({
  durationMs: num('duration', values.duration, 60, 1, 86_400) * 1000,
  seed: num('seed', values.seed, 1, 0, 0xffffffff),
  historyPath: resolve(values.history ?? 'chaos-history.jsonl'),
  clients: num('clients', values.clients, 10, 1, 1000),
  keys: num('keys', values.keys, 5, 1, 100_000),
  nodes,
  keepDir: values.keep ?? false,
  ...(values.verbose ? { log: (l: string) => process.stdout.write(`${l}\n`) } : {}),
});
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
process.exit(report.ok ? 0 : 1);
