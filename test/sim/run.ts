// Replay one simulation: threadraft sim --seed <n> [--nodes 3] [--steps 3000] [--chaos 1] [--spares 2] [--ops mixed] [--overrides '{"maxMsgBytes":1}']
//   [--break commit-old-term|double-vote]; or the same through the environment: SEED=<n> NODES=… npm run sim.
// Or sweep a range of seeds with the same options: threadraft sim --seeds 1-10000 (test/sim/batch.ts).
import { parseCommandLine, usageExit } from '../../src/cli/options.js';
import { OVERRIDE_KEYS, SIM_HELP, SIM_OPTIONS } from './options.js';
import { MAX_SEED, parseSeedRange } from './prng.js';
import type { SimOptions } from './sim.js';

function overrides(json: string | undefined): SimOptions['overrides'] {
  if (json === undefined) return undefined;
  let o: unknown;
  try {
    o = JSON.parse(json);
  } catch (err) {
    return usageExit(SIM_HELP.command, `--overrides must be a JSON object: ${(err as Error).message}`);
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return usageExit(SIM_HELP.command, '--overrides must be a JSON object');
  const unknown = Object.keys(o).filter((k) => !OVERRIDE_KEYS.includes(k));
  if (unknown.length > 0) return usageExit(SIM_HELP.command, `--overrides: unknown setting ${unknown.join(', ')}; allowed: ${OVERRIDE_KEYS.join(', ')}`);
  // Values too: a bad one is a usage error, not a "violation" of the Raft rules with a replay line.
  for (const [k, x] of Object.entries(o)) {
    if (k === 'preVote' || k === 'checkQuorum') {
      if (typeof x !== 'boolean') return usageExit(SIM_HELP.command, `--overrides: ${k} must be true or false, got ${JSON.stringify(x)}`);
    } else if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 1) {
      return usageExit(SIM_HELP.command, `--overrides: ${k} must be an integer >= 1, got ${JSON.stringify(x)}`);
    }
  }
  return o as SimOptions['overrides'];
}

/** --seeds a-b (or one seed): the batch's half-open range [a, b + 1). */
function seedRange(text: string | undefined): [number, number] | undefined {
  if (text === undefined) return undefined;
  const r = parseSeedRange(text);
  if (r === undefined) return usageExit(SIM_HELP.command, `--seeds must be a range a-b of seeds with 0 <= a <= b <= ${MAX_SEED}, got ${JSON.stringify(text)}`);
  return [r[0], r[1] + 1];
}

const argv = process.argv.slice(2);
const v = parseCommandLine(argv, SIM_OPTIONS, SIM_HELP);
const o = overrides(v.overrides);
// One seed or a sweep: both flags is a usage error; a --seed flag wins over SEEDS from the environment (a flag wins
// over its variable, and these two name one choice).
const given = (name: string): boolean => argv.some((a) => a === `--${name}` || a.startsWith(`--${name}=`));
if (given('seed') && given('seeds')) usageExit(SIM_HELP.command, '--seed and --seeds: give one seed or a range of them, not both');
const range = given('seed') ? undefined : seedRange(v.seeds);
const opts: SimOptions = {
  seed: v.seed, nodes: v.nodes, steps: v.steps, chaos: v.chaos, ...(v.spares > 0 ? { spares: v.spares } : {}), ...(v.ops === 'mixed' ? { ops: 'mixed' } : {}),
  ...(o === undefined ? {} : { overrides: o }), ...(v.break === undefined ? {} : { testBreak: v.break }),
};
// The simulation loads after the options are checked: a usage error answers at once.
if (range !== undefined) {
  const { runBatchParallel, SeedFailure } = await import('./batch.js');
  const { seed: _one, ...rest } = opts;
  const started = process.hrtime.bigint();
  try {
    const totals = await runBatchParallel({ ...rest, seeds: range });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    console.log(JSON.stringify({ seeds: `${range[0]}-${range[1] - 1}`, nodes: opts.nodes, steps: opts.steps, ok: true, ...totals, ms: Math.round(ms) }, null, 2));
    process.exit(0);
  } catch (err) {
    // A SeedFailure's message is "seed <n>: <violation>\nreplay: <command>"; anything else is the harness's own.
    console.error(err instanceof SeedFailure ? `VIOLATION: ${err.message}` : `threadraft sim: the sweep failed: ${(err as Error).message}`);
    process.exit(1);
  }
}
const { replayCommand, runSimulation } = await import('./sim.js');
const started = process.hrtime.bigint();
const s = await runSimulation(opts);
const ms = Number(process.hrtime.bigint() - started) / 1e6;
console.log(JSON.stringify({ ...s, ms: Math.round(ms) }, null, 2));
if (!s.ok) {
  console.error(`VIOLATION: ${s.violation?.message ?? 'unknown'}`);
  console.error(`replay: ${replayCommand(opts)}`);
  process.exit(1);
}
