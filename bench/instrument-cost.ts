// What stage timing costs, resolved by interleaving: two identical clusters alive side by side, one
// with `instrument` on and one off; short runs alternate between them (on-off, then off-on, ...), so a
// drift of this noisy machine falls on both arms. The cost of pair i is (off − on) / off; the report
// gives their median, a bootstrap 95 % interval of it and the sign test.
import { rmSync } from 'node:fs';
import { Cluster, type ClusterOptions } from '../src/index.js';
import { runLoad } from './load.js';
import { bootstrapMedianCi, median, signTestP } from './stats.js';
import type { SweepContext } from './sweep.js';
import type { InstrumentationCost } from './report/types.js';

export function pairsFor(suite: SweepContext['suite']): { pairs: number; seconds: number } {
  if (suite === 'quick') return { pairs: 4, seconds: 0.5 };
  if (suite === 'standard') return { pairs: 10, seconds: 1 };
  return { pairs: 12, seconds: 2 };
}

/** The summary of measured pairs [on ops/s, off ops/s]. */
export function summarizeCost(pairs: Array<[number, number]>, secondsPerRun: number): InstrumentationCost {
  const costs = pairs.map(([on, off]) => (off > 0 ? ((off - on) / off) * 100 : 0));
  const [lo, hi] = bootstrapMedianCi(costs);
  const slower = costs.filter((c) => c > 0).length;
  return { pairs, medianPct: median(costs), ciLowPct: lo, ciHighPct: hi, slowerPairs: slower, signTestP: signTestP(slower, costs.length), secondsPerRun };
}

export async function instrumentationCost(ctx: SweepContext): Promise<InstrumentationCost> {
  const { pairs: n, seconds } = ctx.durationS !== undefined ? { pairs: pairsFor(ctx.suite).pairs, seconds: ctx.durationS } : pairsFor(ctx.suite);
  const optsOn: ClusterOptions = ctx.clusterOptions({ instrument: true });
  const optsOff: ClusterOptions = ctx.clusterOptions({ instrument: false });
  const on = await Cluster.start(optsOn);
  let off: Cluster | undefined;
  try {
    off = await Cluster.start(optsOff);
    const { rateOpsPerSec: _r, onTrace: _t, onProgress: _p, ...base } = ctx.base;
    const spec = { ...base, readRatio: 0, batchSize: 1, durationMs: seconds * 1000, warmupMs: 200, steadyWarmup: false };
    const run = async (c: Cluster, label: string): Promise<number> => (await runLoad(c, { ...spec, name: label, description: label }, ctx.params({}))).opsPerSec;
    await run(on, 'warm-up on');
    await run(off, 'warm-up off');
    const pairs: Array<[number, number]> = [];
    for (let i = 0; i < n; i++) {
      ctx.log(`instrument-cost: pair ${i + 1} of ${n}`);
      if (i % 2 === 0) {
        const a = await run(on, 'on');
        pairs.push([a, await run(off, 'off')]);
      } else {
        const b = await run(off, 'off');
        pairs.push([await run(on, 'on'), b]);
      }
    }
    return summarizeCost(pairs, seconds);
  } finally {
    await Promise.allSettled([on.stop(), off?.stop()]);
    for (const o of [optsOn, optsOff]) if (o.dir) rmSync(o.dir, { recursive: true, force: true });
  }
}
