// Apply results from the leader to the coordinator, packed: most commands are puts whose result is a
// plain { ok: true }, so each command costs three numbers (client, seq, flags) and only the others
// carry their results. One msgpackr buffer per Ready, transferred: structured-cloning an object per
// command was the leader thread's largest cost (profiled: postMessage dominated at 40k writes/s).
import type { CommandResult, OpResult } from '../storage/command.js';
import { packCopy, unpackBytes } from '../util/pack.js';
import type { StageTimes } from './protocol.js';

const DUPLICATE = 1;

interface Wire {
  /** client, seq, flags per command */
  c: number[];
  /** [command number, results] for results other than one plain { ok: true } */
  x: Array<[number, OpResult[]]>;
  /** id, received, persistStart, persistEnd, committed, applied per instrumented batch */
  s: number[] | null;
}

export const PLAIN_OK: readonly OpResult[] = Object.freeze([Object.freeze({ ok: true })]);

/**
 * One result that is exactly { ok: true }. Any other field makes it special, whatever it is: a list of the fields
 * known here dropped a `ttl` op's ttlMs and expiresAt when it was alone in its command (found by the RESP
 * differential test, seed 74: PTTL alone in a MULTI answered -1).
 */
function isPlain(results: OpResult[]): boolean {
  if (results.length !== 1) return false;
  const r = results[0]!;
  if (r.ok !== true) return false;
  for (const k in r) if (k !== 'ok') return false;
  return true;
}

export function encodeApplied(results: CommandResult[][], stages: StageTimes[] | null): Uint8Array {
  const wire: Wire = { c: [], x: [], s: null };
  let n = 0;
  for (const perEntry of results) {
    for (const r of perEntry) {
      wire.c.push(r.client, r.seq, r.duplicate ? DUPLICATE : 0);
      if (!isPlain(r.results)) wire.x.push([n, r.results]);
      n++;
    }
  }
  if (stages) {
    wire.s = [];
    for (const t of stages) wire.s.push(t.id, t.received, t.persistStart, t.persistEnd, t.committed, t.applied);
  }
  return packCopy(wire);
}

export interface DecodedApplied {
  count: number;
  client(i: number): number;
  seq(i: number): number;
  duplicate(i: number): boolean;
  results(i: number): readonly OpResult[];
  stages: StageTimes[];
}

export function decodeApplied(bytes: Uint8Array): DecodedApplied {
  const w = unpackBytes<Wire>(bytes);
  const special = new Map<number, OpResult[]>(w.x);
  const stages: StageTimes[] = [];
  const s = w.s ?? [];
  for (let i = 0; i + 5 < s.length; i += 6) {
    stages.push({ id: s[i]!, received: s[i + 1]!, persistStart: s[i + 2]!, persistEnd: s[i + 3]!, committed: s[i + 4]!, applied: s[i + 5]! });
  }
  return {
    count: w.c.length / 3,
    client: (i) => w.c[3 * i]!,
    seq: (i) => w.c[3 * i + 1]!,
    duplicate: (i) => (w.c[3 * i + 2]! & DUPLICATE) !== 0,
    results: (i) => special.get(i) ?? PLAIN_OK,
    stages,
  };
}
