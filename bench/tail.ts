// Tail attribution: which write-path stages made the slowest writes slow. The cluster's profile keeps
// the milestones of the slowest writes (a bounded heap, src/cluster/profile.ts); this compares the mean
// time per stage among them with the mean among all writes.
import { STAGES } from '../src/index.js';
import { stagesOf, type WriteTimes } from '../src/cluster/profile.js';
import type { StageGroup, TailAttribution } from './report/types.js';

/** What the profile knows about all writes: how many, and the mean of each stage and of the total. */
export interface AllWrites {
  writes: number;
  meanMs: Record<string, number>;
  meanTotalMs: number;
}

function group(label: string, ws: readonly WriteTimes[]): StageGroup {
  const meanMs: Record<string, number> = Object.fromEntries(STAGES.map((s) => [s, 0]));
  let total = 0;
  for (const w of ws) {
    const st = stagesOf(w);
    for (const s of STAGES) meanMs[s]! += Math.max(0, st[s]) / ws.length;
    total += (w[7] - w[0]) / ws.length;
  }
  return { label, writes: ws.length, meanTotalMs: total, meanMs };
}

/** The largest stage of one write. */
function dominantStage(w: WriteTimes): string {
  const st = stagesOf(w);
  let best: string = STAGES[0];
  for (const s of STAGES) if (st[s] > st[best as keyof typeof st]) best = s;
  return best;
}

/**
 * `slowest`: the kept writes, slowest first. The slowest 1 % are the first ceil(writes / 100) of them,
 * the writes "at p99" those ranked between the slowest 0.9 % and 1.1 % (around the 99th percentile).
 */
export function tailAttribution(all: AllWrites, slowest: readonly WriteTimes[]): TailAttribution | undefined {
  if (all.writes === 0 || slowest.length === 0) return undefined;
  const want = Math.ceil(all.writes / 100);
  const tail = slowest.slice(0, want);
  const groups: StageGroup[] = [{ label: 'all writes', writes: all.writes, meanTotalMs: all.meanTotalMs, meanMs: { ...all.meanMs } }];
  const lo = Math.floor(all.writes * 0.009);
  const hi = Math.max(lo + 1, Math.ceil(all.writes * 0.011));
  if (slowest.length >= hi) groups.push(group('around p99 (p98.9–p99.1)', slowest.slice(lo, hi)));
  groups.push(group(tail.length === want ? 'slowest 1 %' : `slowest ${tail.length} (of ${want} = 1 %)`, tail));
  const dominant: Record<string, number> = Object.fromEntries(STAGES.map((s) => [s, 0]));
  for (const w of tail) dominant[dominantStage(w)]! += 1;
  for (const s of STAGES) dominant[s]! /= tail.length;
  const out: TailAttribution = { writes: all.writes, groups, dominant };
  if (tail.length < want) out.note = `only the slowest ${tail.length} writes were kept (the keeper is bounded); 1 % is ${want}`;
  return out;
}
