// learner-catchup (issue 16, item 5): a 3-node cluster preloaded with `keys` keys, a closed-loop write load, then
// addLearner() of a new node while the load runs: how long until the learner has caught up (its applied index
// reaches the leader's commit index at the moment of adding, and its lag is within promote()'s threshold), how
// long promote() takes, and the writes' throughput and latency before, during the catch-up, and after.
import type { ClusterOptions } from '../src/index.js';
import { startCluster } from './live.js';
import { LatencyHistogram, nowMs } from '../src/util/histogram.js';
import { mulberry32 } from '../src/util/random.js';
import { keyOf, preload } from './load.js';
import type { ScenarioResult } from './report/types.js';

export const LEARNER_CATCHUP = 'learner-catchup';
/** promote()'s default maxLagEntries: "caught up" means within it. */
const MAX_LAG_ENTRIES = 64;
const INTERVAL_MS = 500;
const POLL_MS = 20;

export interface LearnerCatchupSpec {
  /** Keys preloaded (and written by the load): 100,000 in the suites. */
  keys: number;
  valueSize: number;
  /** Writes in flight (closed loop). */
  inFlight: number;
  /** How long the load runs before addLearner() and after promote(). */
  phaseMs: number;
  /** The cluster (3 nodes, LMDB: the CLI's options); a snapshot point every 1,000 entries unless given. */
  cluster: ClusterOptions;
  timeoutMs?: number;
  seed?: number;
  log?: (line: string) => void;
}

export interface PhaseFigures {
  ops: number;
  errors: number;
  durationMs: number;
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

export interface LearnerCatchupResult {
  /** The writes during the catch-up (addLearner() until caught up), its params carrying the timings. */
  scenario: ScenarioResult;
  preloadMs: number;
  /** addLearner() until it resolved (the node started, the change committed). */
  addLearnerMs: number;
  /** addLearner() called until the learner caught up. */
  catchUpMs: number;
  /** promote() of the caught-up learner. */
  promoteMs: number;
  /** The leader's commit index when addLearner() was called: what the learner had to reach. */
  targetIndex: number;
  learnerId: number;
  before: PhaseFigures;
  during: PhaseFigures;
  after: PhaseFigures;
  /** One line for the console and the report's notes. */
  note: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;

interface Phase {
  histogram: LatencyHistogram;
  ops: number;
  errors: number;
  firstError?: string;
  startedAt: number;
  endedAt?: number;
}

function newPhase(): Phase {
  return { histogram: new LatencyHistogram(), ops: 0, errors: 0, startedAt: nowMs() };
}

function figures(p: Phase): PhaseFigures {
  const durationMs = (p.endedAt ?? nowMs()) - p.startedAt;
  const s = p.histogram.summary();
  return { ops: p.ops, errors: p.errors, durationMs: round(durationMs), opsPerSec: durationMs > 0 ? Math.round((p.ops * 1000) / durationMs) : 0, p50Ms: round(s.p50, 3), p99Ms: round(s.p99, 3) };
}

export async function learnerCatchup(spec: LearnerCatchupSpec): Promise<LearnerCatchupResult> {
  const log = spec.log ?? (() => undefined);
  const timeoutMs = spec.timeoutMs ?? 120_000;
  const cluster = await startCluster({ snapshotEveryEntries: 1000, ...spec.cluster, nodes: 3, storage: 'lmdb' });
  try {
    const t0 = nowMs();
    await preload(cluster, spec.keys, spec.valueSize);
    const preloadMs = nowMs() - t0;
    log(`${LEARNER_CATCHUP}: ${spec.keys} keys preloaded in ${round(preloadMs / 1000, 2)} s`);

    // The closed loop: `inFlight` callers, each recording into the phase current when its call completes.
    const value = Buffer.alloc(spec.valueSize, 9);
    const rand = mulberry32(spec.seed ?? 1);
    const start = nowMs();
    const throughput: Array<[number, number]> = [];
    let intervalOps = 0;
    let phase = newPhase();
    const phases: Phase[] = [phase];
    let stopped = false;
    const ticker = setInterval(() => {
      throughput.push([round((nowMs() - start) / 1000, 2), Math.round((intervalOps * 1000) / INTERVAL_MS)]);
      intervalOps = 0;
    }, INTERVAL_MS);
    const caller = async (): Promise<void> => {
      while (!stopped) {
        const began = nowMs();
        try {
          await cluster.put(keyOf(Math.floor(rand() * spec.keys)), value);
          phase.histogram.recordMs(nowMs() - began);
          phase.ops++;
          intervalOps++;
        } catch (err) {
          phase.errors++;
          phase.firstError ??= String(err);
          await sleep(5);
        }
      }
    };
    const next = (): void => {
      phase.endedAt = nowMs();
      phase = newPhase();
      phases.push(phase);
    };
    const callers = Array.from({ length: spec.inFlight }, () => caller());
    try {
      await sleep(spec.phaseMs);
      next();

      const learnerId = Math.max(...cluster.members().map((m) => m.id)) + 1;
      const leaderStatus = async (): Promise<{ commit: number } | undefined> => {
        const s = await cluster.status();
        const l = s.find((x) => x.role === 'leader');
        return l?.commit === undefined ? undefined : { commit: l.commit };
      };
      let target: number | undefined;
      for (const deadline = nowMs() + timeoutMs; target === undefined && nowMs() < deadline; ) {
        target = (await leaderStatus())?.commit;
        if (target === undefined) await sleep(POLL_MS);
      }
      if (target === undefined) throw new Error(`${LEARNER_CATCHUP}: no leader`);
      const added = nowMs();
      await cluster.addLearner(learnerId, { timeoutMs });
      const addLearnerMs = nowMs() - added;
      let catchUpMs: number | undefined;
      for (const deadline = added + timeoutMs; nowMs() < deadline; await sleep(POLL_MS)) {
        const me = (await cluster.status()).find((x) => x.id === learnerId);
        if (me?.applied !== undefined && me.applied >= target && me.lag !== undefined && me.lag <= MAX_LAG_ENTRIES) {
          catchUpMs = nowMs() - added;
          break;
        }
      }
      if (catchUpMs === undefined) throw new Error(`${LEARNER_CATCHUP}: node ${learnerId} did not catch up within ${timeoutMs} ms`);
      next();

      const promoting = nowMs();
      await cluster.promote(learnerId, { timeoutMs, maxLagEntries: MAX_LAG_ENTRIES });
      const promoteMs = nowMs() - promoting;
      next();
      await sleep(spec.phaseMs);
      phase.endedAt = nowMs();
      stopped = true;
      await Promise.all(callers);

      const [before, during, , after] = phases.map(figures) as [PhaseFigures, PhaseFigures, PhaseFigures, PhaseFigures];
      const d = phases[1]!;
      const lat = d.histogram.summary();
      const params: ScenarioResult['params'] = {
        keys: spec.keys, valueSize: spec.valueSize, inFlight: spec.inFlight, learner: learnerId, targetIndex: target,
        preloadMs: round(preloadMs), addLearnerMs: round(addLearnerMs), catchUpMs: round(catchUpMs), promoteMs: round(promoteMs),
        beforeOpsPerSec: before.opsPerSec, beforeP50Ms: before.p50Ms, beforeP99Ms: before.p99Ms,
        duringOpsPerSec: during.opsPerSec, duringP50Ms: during.p50Ms, duringP99Ms: during.p99Ms,
        afterOpsPerSec: after.opsPerSec, afterP50Ms: after.p50Ms, afterP99Ms: after.p99Ms,
        snapshotEveryEntries: spec.cluster.snapshotEveryEntries ?? 1000,
      };
      const scenario: ScenarioResult = {
        name: LEARNER_CATCHUP,
        description: `puts, ${spec.inFlight} in flight, while a new learner catches up from ${spec.keys} keys (timings in params)`,
        ops: d.ops,
        errors: d.errors,
        durationMs: during.durationMs,
        opsPerSec: during.opsPerSec,
        latencyMs: { p50: lat.p50, p95: lat.p95, p99: lat.p99, p999: lat.p999, max: lat.max, mean: lat.mean },
        histogram: d.histogram.buckets(),
        throughput,
        params,
        hdr: d.histogram.encode(),
        loop: 'closed',
      };
      const fmt = (p: PhaseFigures): string => `${p.opsPerSec} ops/s p50 ${p.p50Ms} ms p99 ${p.p99Ms} ms`;
      const note = `${LEARNER_CATCHUP}: learner ${learnerId} caught up from ${spec.keys} keys (commit index ${target}) in ${round(catchUpMs / 1000, 2)} s (addLearner ${round(addLearnerMs)} ms), promoted in ${round(promoteMs)} ms; writes before ${fmt(before)}, during catch-up ${fmt(during)}, after ${fmt(after)}`;
      log(note);
      return { scenario, preloadMs, addLearnerMs, catchUpMs, promoteMs, targetIndex: target, learnerId, before, during, after, note };
    } finally {
      stopped = true;
      clearInterval(ticker);
      await Promise.all(callers);
    }
  } finally {
    await cluster.stop();
  }
}
