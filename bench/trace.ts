// --trace: a sample of writes as Chrome trace-event JSON (opens in https://ui.perfetto.dev and
// chrome://tracing). One process per scenario, one track (thread) per thread of the cluster: main,
// each node worker, each node's storage pool thread. Each sampled write's stages are complete events
// ('X', ts/dur in µs) on the thread where they happen, on the common clock of all threads
// (performance.timeOrigin + performance.now()). Sampled writes never overlap in time (profile.ts
// keepTrace), so the events of a track nest properly.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { WriteTimes } from '../src/cluster/profile.js';

export interface TraceScenario {
  scenario: string;
  nodes: number;
  /** The leader during the run (its thread did the leader's stages). */
  leader: number;
  /** Whether the leader's log write ran on a pool thread (LMDB with pool 'piscina'). */
  pool: boolean;
  writes: readonly WriteTimes[];
}

export interface TraceEvent {
  name: string;
  ph: 'X' | 'M';
  pid: number;
  tid: number;
  ts?: number;
  dur?: number;
  cat?: string;
  args?: Record<string, string | number>;
}

export const MAIN_TID = 0;
export const nodeTid = (id: number): number => id;
export const poolTid = (id: number): number => 100 + id;

function meta(pid: number, tid: number, name: string, value: string, sort?: number): TraceEvent[] {
  const out: TraceEvent[] = [{ name, ph: 'M', pid, tid, args: { name: value } }];
  if (sort !== undefined) out.push({ name: 'thread_sort_index', ph: 'M', pid, tid, args: { sort_index: sort } });
  return out;
}

/** Track names of one scenario: main, node-1..n, pool-1..n (pool tracks only with a pool). */
function tracks(pid: number, s: TraceScenario): TraceEvent[] {
  const out = [...meta(pid, 0, 'process_name', s.scenario), ...meta(pid, MAIN_TID, 'thread_name', 'main', 0)];
  for (let id = 1; id <= s.nodes; id++) {
    out.push(...meta(pid, nodeTid(id), 'thread_name', `node-${id}${id === s.leader ? ' (leader)' : ''}`, id * 2));
    if (s.pool) out.push(...meta(pid, poolTid(id), 'thread_name', `pool-${id}`, id * 2 + 1));
  }
  return out;
}

/** The events of one write; milestones are made monotonic (threads' clocks agree to about a µs). */
function writeEvents(pid: number, s: TraceScenario, w: WriteTimes, k: number, originMs: number): TraceEvent[] {
  const b: number[] = [];
  for (const t of w) b.push(Math.max(t, b[b.length - 1] ?? t));
  const us = (ms: number): number => Math.round((ms - originMs) * 1000 * 1000) / 1000;
  const ev = (name: string, tid: number, from: number, to: number, args?: Record<string, string | number>): TraceEvent => ({
    name, ph: 'X', cat: 'write', pid, tid, ts: us(b[from]!), dur: Math.max(0, Math.round((us(b[to]!) - us(b[from]!)) * 1000) / 1000), ...(args ? { args } : {}),
  });
  const L = nodeTid(s.leader);
  const out = [
    ev(`write #${k}`, MAIN_TID, 0, 7, { totalMs: Math.round((b[7]! - b[0]!) * 1000) / 1000 }),
    ev('queue', MAIN_TID, 0, 1),
    ev('toLeader (hop)', L, 1, 2),
    ev('leaderQueue', L, 2, 3),
    ev('leaderFsync', s.pool ? poolTid(s.leader) : L, 3, 4),
    ev('replication', L, 4, 5),
    ev('apply', L, 5, 6),
    ev('reply', MAIN_TID, 6, 7),
  ];
  for (let id = 1; id <= s.nodes; id++) {
    if (id !== s.leader) out.push(ev("replication (leader's view: append, follower fsync, ack)", nodeTid(id), 4, 5));
  }
  return out;
}

/** The whole trace; `originMs` (the main thread's performance.timeOrigin) becomes ts 0. */
export function buildTrace(scenarios: readonly TraceScenario[], originMs: number): { traceEvents: TraceEvent[]; displayTimeUnit: 'ms'; otherData: Record<string, string> } {
  const traceEvents: TraceEvent[] = [];
  scenarios.forEach((s, i) => {
    const pid = i + 1;
    traceEvents.push(...tracks(pid, s));
    s.writes.forEach((w, k) => traceEvents.push(...writeEvents(pid, s, w, k, originMs)));
  });
  return { traceEvents, displayTimeUnit: 'ms', otherData: { source: 'threadraft benchmark --trace', clock: 'performance.timeOrigin + performance.now(), µs since the main thread started' } };
}

export async function writeTrace(dir: string, scenarios: readonly TraceScenario[]): Promise<string> {
  const path = join(dir, 'trace.json');
  await writeFile(path, JSON.stringify(buildTrace(scenarios, performance.timeOrigin)) + '\n');
  return path;
}
