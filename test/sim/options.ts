// threadraft sim's options (src/cli/options.ts parses them; test/sim/run.ts runs).
import { NODES, SEED, type CommandHelp, type OptionTable } from '../../src/cli/options.js';

export const SIM_OPTIONS = {
  seed: { ...SEED, env: 'SEED' },
  seeds: { type: 'string', env: 'SEEDS', arg: '<a-b>', help: 'every seed from a to b instead of one, on two worker threads (a sweep); prints the totals' },
  nodes: { ...NODES, env: 'NODES' },
  steps: { type: 'int', min: 1, max: 10_000_000, default: 3000, env: 'STEPS', help: 'simulated steps' },
  chaos: { type: 'number', min: 0, max: 100, default: 1, env: 'CHAOS', help: 'fault intensity multiplier (0: no faults)' },
  spares: { type: 'int', min: 0, max: 4, default: 0, env: 'SPARES', help: 'nodes beyond the voters for random membership changes (add learner, promote, remove)' },
  ops: { type: 'enum', values: ['put', 'mixed'], default: 'put', env: 'OPS', help: 'the clients\' commands: puts of unique values, or also every other kind of op (expiries, counters, cas, rename...) on other keys' },
  overrides: { type: 'string', env: 'OVERRIDES', arg: '<json>', help: 'fixed Raft settings instead of the seed\'s choice, e.g. \'{"maxMsgBytes":1}\'' },
  break: { type: 'enum', values: ['commit-old-term', 'double-vote'], env: 'BREAK', help: 'break one rule on purpose (the simulation must catch it)' },
} as const satisfies OptionTable;

export const OVERRIDE_KEYS = ['preVote', 'checkQuorum', 'maxInflightMsgs', 'maxInflightBytes', 'maxMsgBytes', 'maxApplyBytes'];

export const SIM_HELP: CommandHelp = {
  command: 'threadraft sim',
  summary: 'one deterministic simulation of the real node host (docs/architecture.md).',
  usage: 'threadraft sim [options]       (or: SEED=<n> npm run sim)',
  epilogue: `Each option can come from the environment variable shown; a flag wins over it.
Prints the run's summary as JSON (with --seeds, the sweep's totals); exits 0 when no property was
violated, 1 with the violation and the command that replays it (a sweep stops at its first failing
seed), 2 on a usage error.`,
};
