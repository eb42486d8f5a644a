// The scenarios of issue 15, registered with the CLI in one place: the sweeps, the open loop, the
// instrumentation cost; and the --trace collector. bench/cli.ts only parses the flags and calls these.
import type { ClusterOptions } from '../src/index.js';
import { instrumentationCost, poolCost, ttlCost } from './paired-cost.js';
import type { LoadSpec } from './load.js';
import type { PairedCost, Sweep } from './report/types.js';
import { batchSweep, inFlightSweep, rateSweep, type Suite, type SweepContext } from './sweep.js';
import { writeTrace, type TraceScenario } from './trace.js';

export const EXTRA_SCENARIOS = ['sweep', 'sweep-batch', 'rate-sweep', 'open-loop', 'instrument-cost', 'ttl-cost', 'pool-cost', 'learner-catchup'] as const;

/** What each suite adds (the full grid only in `full`; paired costs: 16 pairs of 1 s in `standard`, 20 of 2 s in `full`). */
export const EXTRA_SUITES: Record<Suite, string[]> = {
  quick: ['sweep'],
  standard: ['sweep', 'sweep-batch', 'rate-sweep', 'open-loop', 'instrument-cost', 'ttl-cost', 'pool-cost', 'learner-catchup'],
  full: ['sweep', 'sweep-batch', 'rate-sweep', 'open-loop', 'instrument-cost', 'ttl-cost', 'pool-cost', 'learner-catchup'],
};

export const DEFAULT_RATE = 10_000;
export const DEFAULT_SLO_P99_MS = 10;

export function isExtra(name: string): boolean {
  return (EXTRA_SCENARIOS as readonly string[]).includes(name);
}

/** Where the extra scenarios put what they measured (results.json's sweeps and paired costs). */
export interface ExtraResults {
  sweeps: Sweep[];
  instrumentationCost?: PairedCost;
  ttlCost?: PairedCost;
  poolCost?: PairedCost;
}

export interface ExtraArgs {
  suite: Suite;
  durationS: number | undefined;
  rate: number | undefined;
  sloP99Ms: number;
}

/**
 * Runs one extra scenario. `measure` runs a LoadSpec on a fresh cluster as the CLI's own scenarios do
 * (used by open-loop, whose result is an ordinary scenario).
 */
export async function runExtra(
  name: string,
  a: ExtraArgs,
  base: LoadSpec,
  clusterOptions: (over: Partial<ClusterOptions>) => ClusterOptions,
  params: (over: Record<string, string | number | boolean>) => Record<string, string | number | boolean>,
  measure: (spec: LoadSpec) => Promise<void>,
  out: ExtraResults,
): Promise<void> {
  const ctx: SweepContext = { base, suite: a.suite, durationS: a.durationS, clusterOptions, params, log: (l) => process.stdout.write(`${l}\n`) };
  switch (name) {
    case 'sweep':
      out.sweeps.push(await inFlightSweep(ctx));
      return;
    case 'sweep-batch':
      out.sweeps.push(await batchSweep(ctx));
      return;
    case 'rate-sweep':
      out.sweeps.push(await rateSweep(ctx, a.sloP99Ms));
      return;
    case 'learner-catchup':
      throw new Error('learner-catchup is run by bench/cli.ts (bench/learner-catchup.ts)');
    case 'instrument-cost':
      out.instrumentationCost = await instrumentationCost(ctx);
      return;
    case 'ttl-cost':
      out.ttlCost = await ttlCost(ctx);
      return;
    case 'pool-cost':
      out.poolCost = await poolCost(ctx);
      return;
    case 'open-loop': {
      const rate = a.rate ?? DEFAULT_RATE;
      return measure({ ...base, name: 'open-loop', description: `puts sent at ${rate}/s (open loop: each latency from its intended send time)`, readRatio: 0, batchSize: 1, rateOpsPerSec: rate });
    }
    default:
      throw new Error(`unknown scenario ${name}`);
  }
}

/** --trace: collects each scenario's sample of writes, written as <out>/trace.json at the end. */
export class TraceCollector {
  readonly scenarios: TraceScenario[] = [];
  readonly onTrace = (t: TraceScenario): void => {
    if (t.writes.length > 0) this.scenarios.push(t);
  };
  write(dir: string): Promise<string> {
    return writeTrace(dir, this.scenarios);
  }
}
