// threadraft chaos's options (src/cli/options.ts parses them; bench/chaos.ts runs).
import { CLIENTS, DURATION, KEYS, NODES, SEED, type CommandHelp, type OptionTable } from '../../src/cli/options.js';

export const CHAOS_OPTIONS = {
  duration: { ...DURATION, default: 60, help: 'load and faults' },
  seed: { ...SEED, help: 'random seed of clients and nemesis' },
  history: { type: 'string', default: 'chaos-history.jsonl', arg: '<file>', help: 'where the JSON Lines history goes' },
  clients: { ...CLIENTS, default: 10, help: 'concurrent clients (the checker\'s work grows with them)' },
  keys: { ...KEYS, default: 5, help: 'key space (small, so operations contend)' },
  nodes: NODES,
  keep: { type: 'flag', help: 'keep the cluster directory' },
  verbose: { type: 'flag', help: 'print every nemesis action' },
} as const satisfies OptionTable;

export const CHAOS_HELP: CommandHelp = {
  command: 'threadraft chaos',
  summary: 'a real LMDB cluster under faults, its history checked for linearizability.',
  usage: 'threadraft chaos [options]     (or: npm run chaos -- [options])',
  epilogue: `Exits 0 when the history is linearizable, no acknowledged write is lost after restarting every node
from its directory, and all nodes' state machines are identical; 1 otherwise; 2 on a usage error.
Linearizable and lease reads are recorded and checked (lease reads carry "consistency": "lease"); stale
reads are run, not recorded. Nemesis actions that fail (a transfer that times out, a restart that fails)
are counted in the report's nemesisFailures, with the first errors in nemesisErrors. With 1 or 2 nodes
no node is ever crashed (a majority must stay up); partitions still happen. Membership changes (add a
learner, promote, remove a voter or learner, replace a voter) are among the nemesis actions: voters never
go below the number started with (3 or fewer) or that number minus one; the report's membershipChanges
counts those that completed.`,
};
