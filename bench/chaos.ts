// threadraft chaos (npm run chaos -- --duration 60 --seed N --history out.jsonl)
import { constants } from 'node:os';
import { resolve } from 'node:path';
import { END_SIGNALS, ignoreOutputErrors, parseCommandLine } from '../src/cli/options.js';
import { CHAOS_HELP, CHAOS_OPTIONS } from './chaos/options.js';

const v = parseCommandLine(process.argv.slice(2), CHAOS_OPTIONS, CHAOS_HELP);
// The history file and the exit code are the result: `--verbose | head` must not crash the run (EPIPE) and leave its
// cluster's directory behind.
ignoreOutputErrors();
// The runner (and the cluster) load after the options are checked: a usage error answers at once.
const { runChaos } = await import('./chaos/runner.js');
// Ctrl-C (SIGINT), SIGTERM or SIGHUP: the run ends, its cluster is stopped and its directory removed; exit 128 + the
// signal.
const abort = new AbortController();
let interrupted: NodeJS.Signals | undefined;
for (const sig of END_SIGNALS) {
  process.on(sig, () => {
    interrupted ??= sig;
    abort.abort();
  });
}
let report: Awaited<ReturnType<typeof runChaos>>;
try {
  report = await runChaos({
    durationMs: Math.round(v.duration * 1000),
    seed: v.seed,
    historyPath: resolve(v.history),
    clients: v.clients,
    keys: v.keys,
    nodes: v.nodes,
    keepDir: v.keep,
    ...(v.verbose ? { log: (l: string) => process.stdout.write(`${l}\n`) } : {}),
    signal: abort.signal,
  });
} catch (err) {
  if (interrupted) {
    process.stderr.write(`threadraft chaos: ${interrupted}: interrupted, the cluster stopped and its directory removed\n`);
    process.exit(128 + (constants.signals[interrupted] ?? 0));
  }
  process.stderr.write(`threadraft chaos: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
process.exit(report.ok ? 0 : 1);
