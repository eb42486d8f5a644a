// What stage timing costs, resolved by interleaving: one cluster whose stage timing is switched on and off
// (Cluster.setInstrument) between short runs (on-off, then off-on, ...), so a drift of this noisy machine falls
// on both arms, and no difference between two clusters (their leaders' placement, their files) does. The cost
// of pair i is (off − on) / off; the report gives their median, a bootstrap 95 % interval of it and the sign test.
import { rmSync } from 'node:fs';
import type { ClusterOptions } from '../src/index.js';
import { startCluster } from './live.js';
import { preload, runLoad } from './load.js';
import { bootstrapMedianCi, median, signTestP } from './stats.js';
import type { SweepContext } from './sweep.js';
import type { InstrumentationCost } from './report/types.js';

export function pairsFor(suite: SweepContext['suite']): { pairs: number; seconds: number } {
  if (suite === 'quick') return { pairs: 4, seconds: 0.5 };
  if (suite === 'standard') return { pairs: 16, seconds: 1 };
  return { pairs: 20, seconds: 2 };
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
  const opts: ClusterOptions = ctx.clusterOptions({ instrument: true });
  const cluster = await startCluster(opts);
  try {
    const { rateOpsPerSec: _r, onTrace: _t, onProgress: _p, ...base } = ctx.base;
    const spec = { ...base, readRatio: 0, batchSize: 1, durationMs: seconds * 1000, warmupMs: 200, steadyWarmup: false };
    const run = async (on: boolean): Promise<number> => {
      await cluster.setInstrument(on);
      const label = on ? 'on' : 'off';
      return (await runLoad(cluster, { ...spec, name: label, description: label }, ctx.params({}))).opsPerSec;
    };
    // Every key written once, then a warm-up on each arm: the pairs measure overwrites of a steady state (the first
    // seconds of a new cluster insert keys and grow its files, and ran 25 % slower than the rest).
    await preload(cluster, spec.keySpace, spec.valueSize);
    for (let i = 0; i < 2; i++) {
      await run(true);
      await run(false);
    }
    const pairs: Array<[number, number]> = [];
    for (let i = 0; i < n; i++) {
      ctx.log(`instrument-cost: pair ${i + 1} of ${n}`);
      if (i % 2 === 0) {
        const a = await run(true);
        pairs.push([a, await run(false)]);
      } else {
        const b = await run(false);
        pairs.push([await run(true), b]);
      }
    }
    return summarizeCost(pairs, seconds);
  } finally {
    await cluster.stop();
    if (opts.dir) rmSync(opts.dir, { recursive: true, force: true });
  }
}
