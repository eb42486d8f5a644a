// What a feature costs, resolved by interleaving: one cluster, runs with the feature and without it in pairs whose
// order flips every pair (with, without; without, with; ...), so that a drift of this noisy machine falls on both
// arms, and no difference between two clusters (their leaders' placement, their files) does. The cost of pair i is
// (without − with) / without; the report gives their median, a bootstrap 95 % interval of it and the sign test.
// Three are measured so: stage timing (`instrument-cost`, Cluster.setInstrument switched between runs), a TTL on
// every put (`ttl-cost`, issue 13's target: at most 10 % of write-256), and the blocking pool against inline
// storage (`pool-cost`, issue 11's target 4: the pool at least as fast; two clusters side by side).
import type { Cluster, ClusterOptions } from '../src/index.js';
import { withCluster } from './live.js';
import { preload, runLoad, type LoadSpec } from './load.js';
import { bootstrapMedianCi, median, signTestP } from './stats.js';
import type { SweepContext } from './sweep.js';
import type { PairedCost } from './report/types.js';

/** Pairs per suite, and seconds per run (`durationS`, from --duration, overrides the suite's). */
export function pairsFor(suite: SweepContext['suite'], durationS?: number): { pairs: number; seconds: number } {
  const plan = suite === 'quick' ? { pairs: 4, seconds: 0.5 } : suite === 'standard' ? { pairs: 16, seconds: 1 } : { pairs: 20, seconds: 2 };
  return durationS === undefined ? plan : { pairs: plan.pairs, seconds: durationS };
}

/** Warm-up of each run: instrument-cost's, and ttl-cost's (its TTL runs insert their keys again first). */
export const RUN_WARMUP_MS = 200;
export const TTL_RUN_WARMUP_MS = 500;

/** The summary of measured pairs [with the feature ops/s, without ops/s]. */
export function summarizeCost(pairs: Array<[number, number]>, secondsPerRun: number): PairedCost {
  const costs = pairs.map(([on, off]) => (off > 0 ? ((off - on) / off) * 100 : 0));
  const [lo, hi] = bootstrapMedianCi(costs);
  const slower = costs.filter((c) => c > 0).length;
  return { pairs, medianPct: median(costs), ciLowPct: lo, ciHighPct: hi, slowerPairs: slower, signTestP: signTestP(slower, costs.length), secondsPerRun };
}

/** `n` pairs [with, without] after `warmPairs` unrecorded ones; the order within a pair flips every pair. */
export async function interleave(
  n: number,
  withIt: () => Promise<number>,
  without: () => Promise<number>,
  log: (line: string) => void,
  label: string,
  warmPairs = 2,
): Promise<Array<[number, number]>> {
  for (let i = 0; i < warmPairs; i++) {
    await withIt();
    await without();
  }
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i < n; i++) {
    log(`${label}: pair ${i + 1} of ${n}`);
    if (i % 2 === 0) {
      const a = await withIt();
      pairs.push([a, await without()]);
    } else {
      const b = await without();
      pairs.push([await withIt(), b]);
    }
  }
  return pairs;
}

/** One preloaded cluster for `body`, stopped and removed after it. */
function withPreloaded<T>(ctx: SweepContext, over: Partial<ClusterOptions>, body: (cluster: Cluster, spec: LoadSpec, seconds: number, n: number) => Promise<T>): Promise<T> {
  const { pairs: n, seconds } = pairsFor(ctx.suite, ctx.durationS);
  return withCluster(ctx.clusterOptions(over), async (cluster) => {
    const { rateOpsPerSec: _r, onTrace: _t, onProgress: _p, ...base } = ctx.base;
    const spec: LoadSpec = { ...base, readRatio: 0, batchSize: 1, durationMs: seconds * 1000, warmupMs: RUN_WARMUP_MS, steadyWarmup: false };
    // Every key written once: the pairs measure overwrites of a steady state (the first seconds of a new cluster
    // insert keys and grow its files, and ran 25 % slower than the rest).
    await preload(cluster, spec.keySpace, spec.valueSize);
    return body(cluster, spec, seconds, n);
  });
}

/** Stage timing on against off: Cluster.setInstrument switched between the runs. */
export function instrumentationCost(ctx: SweepContext): Promise<PairedCost> {
  return withPreloaded(ctx, { instrument: true }, async (cluster, spec, seconds, n) => {
    const run = async (on: boolean): Promise<number> => {
      await cluster.setInstrument(on);
      const label = on ? 'on' : 'off';
      return (await runLoad(cluster, { ...spec, name: label, description: label }, ctx.params({}))).opsPerSec;
    };
    return summarizeCost(await interleave(n, () => run(true), () => run(false), ctx.log, 'instrument-cost'), seconds);
  });
}

/**
 * The piscina pool against inline storage (issue 11's target 4: piscina ≥ 1.0 × inline, that is a cost ≤ 0): two
 * preloaded clusters of the CLI's configuration, one per arm, started side by side and kept for all the pairs, the
 * runs alternating between them (the idle one costs each arm the same: a few per cent of a core for its ticks).
 * This is a comparison of two clusters, unlike the paired costs on one: their leaders' placement and files differ.
 */
export function poolCost(ctx: SweepContext): Promise<PairedCost> {
  return withPreloaded(ctx, { pool: 'piscina' }, (pooled, spec, seconds, n) =>
    withPreloaded(ctx, { pool: 'inline' }, async (inline) => {
      const run = async (cluster: Cluster, pool: 'piscina' | 'inline'): Promise<number> =>
        (await runLoad(cluster, { ...spec, name: pool, description: pool }, ctx.params({ pool }))).opsPerSec;
      return summarizeCost(await interleave(n, () => run(pooled, 'piscina'), () => run(inline, 'inline'), ctx.log, 'pool-cost'), seconds);
    }),
  );
}

/** The TTL of ttl-cost's puts: drawn in [TTL_MS / 2, 3 TTL_MS / 2), as in cache-ttl-churn. */
export const TTL_MS = 1000;
/** After a TTL run, the wait until all its keys expired (the longest TTL drawn is 1.5 × TTL_MS). */
export const TTL_EXPIRY_WAIT_MS = 1.5 * TTL_MS + 50;
/** Writes that purge what a TTL run left (each entry purges at most 256 expired keys), at most. */
const MAX_FLUSH_PUTS = 1000;

/**
 * Puts with a TTL against plain puts, at --clients in flight. The arms write key spaces of their own (`ttl-*` and
 * the preloaded `key-*`), so that neither overwrites the other's keys (a plain put over a TTL key would pay for
 * taking it out of the expiry index). Each TTL run ends by waiting until its keys expired (1.5 × TTL_MS) and writing
 * one key until every replica purged them (expired keys are removed by the entries that follow: docs/cache.md),
 * so that no purge falls into the next run; its next run inserts its keys again (during its warm-up, mostly), as
 * a cache under TTL churn does. The warm-up is TTL_RUN_WARMUP_MS on both arms.
 */
export function ttlCost(ctx: SweepContext): Promise<PairedCost> {
  return withPreloaded(ctx, { instrument: true }, async (cluster, spec, seconds, n) => {
    const warm = { ...spec, warmupMs: TTL_RUN_WARMUP_MS };
    const plain = async (): Promise<number> => (await runLoad(cluster, { ...warm, name: 'plain', description: 'plain puts' }, ctx.params({}))).opsPerSec;
    const withTtl = async (): Promise<number> => {
      const r = await runLoad(cluster, { ...warm, name: 'ttl', description: 'puts with a TTL', ttlMs: TTL_MS, keyPrefix: 'ttl-' }, ctx.params({ ttlMs: TTL_MS }));
      await purgeTtlKeys(cluster, spec.keySpace);
      return r.opsPerSec;
    };
    return summarizeCost(await interleave(n, withTtl, plain, ctx.log, 'ttl-cost'), seconds);
  });
}

/** Wait until the TTL run's keys expired, then write until every replica holds only the plain keys (and the flush key). */
async function purgeTtlKeys(cluster: Cluster, plainKeys: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, TTL_EXPIRY_WAIT_MS));
  for (let i = 0; i < MAX_FLUSH_PUTS; i++) {
    await cluster.put('ttl-flush', 'x');
    if (i % 16 !== 15) continue;
    const m = await cluster.metrics();
    if (m.nodes.every((nd) => (nd.counters.keys ?? Infinity) <= plainKeys + 1)) return;
  }
  throw new Error(`ttl-cost: expired keys still held after ${MAX_FLUSH_PUTS} writes`);
}
