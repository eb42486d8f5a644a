// Configuration changes (thesis §4.1, §4.2.1): one server at a time, carried in the log as ConfChange entries that
// hold the WHOLE new configuration, so a node that missed earlier changes (or joins with an empty log) learns the
// configuration from the latest entry alone. A configuration takes effect on every node as soon as its entry is
// in the node's log (appended, not committed); the latest one in the log (or the snapshot's) is the one in effect.
import { assert } from './assert.js';
import type { Membership, NodeId } from './types.js';

/** One change at a time: the voters of two consecutive configurations differ by at most one (§4.1). */
export type ConfChange =
  | { type: 'add-learner'; id: NodeId }
  | { type: 'promote'; id: NodeId }
  | { type: 'remove'; id: NodeId };

export const CONF_CHANGE_TYPES: ReadonlySet<string> = new Set(['add-learner', 'promote', 'remove']);

/** A membership with sorted voters and learners (learners always present). */
export function normalizeMembership(m: Membership): Required<Membership> {
  return { voters: [...m.voters].sort((a, b) => a - b), learners: [...(m.learners ?? [])].sort((a, b) => a - b) };
}

export function sameMembership(a: Membership, b: Membership): boolean {
  const x = normalizeMembership(a);
  const y = normalizeMembership(b);
  return x.voters.join(',') === y.voters.join(',') && x.learners.join(',') === y.learners.join(',');
}

/** Why `m` is not a valid configuration, or undefined. Voters and learners are disjoint positive ids. */
export function membershipProblem(m: unknown): string | undefined {
  if (typeof m !== 'object' || m === null) return 'membership is not an object';
  const { voters, learners } = m as { voters?: unknown; learners?: unknown };
  const ids = (x: unknown): x is number[] => Array.isArray(x) && x.every((v) => Number.isSafeInteger(v) && (v as number) > 0);
  if (!ids(voters)) return 'voters malformed';
  if (learners !== undefined && !ids(learners)) return 'learners malformed';
  const all = [...voters, ...(learners ?? [])];
  if (new Set(all).size !== all.length) return 'voters and learners must be distinct';
  return undefined;
}

/** The configuration `change` leads to from `m`, or why it is refused. Never leaves a configuration without voters. */
export function applyConfChange(m: Membership, change: ConfChange): Required<Membership> | string {
  const { voters, learners } = normalizeMembership(m);
  const id = change.id;
  if (!Number.isSafeInteger(id) || id <= 0) return `node id ${String(id)} is not a positive integer`;
  const isVoter = voters.includes(id);
  const isLearner = learners.includes(id);
  switch (change.type) {
    case 'add-learner':
      if (isVoter || isLearner) return `node ${id} is already a ${isVoter ? 'voter' : 'learner'}`;
      return normalizeMembership({ voters, learners: [...learners, id] });
    case 'promote':
      if (!isLearner) return `node ${id} is not a learner`;
      return normalizeMembership({ voters: [...voters, id], learners: learners.filter((x) => x !== id) });
    case 'remove':
      if (!isVoter && !isLearner) return `node ${id} is not a member`;
      if (isVoter && voters.length === 1) return `node ${id} is the last voter`;
      return normalizeMembership({ voters: voters.filter((x) => x !== id), learners: learners.filter((x) => x !== id) });
    default:
      return 'unknown configuration change';
  }
}

// The entry's data: u16 format (1), u32 voter count, u32 learner count, then the ids as u32 (DataView, little endian).
const FORMAT = 1;

export function encodeConfEntry(m: Membership): Uint8Array {
  const n = normalizeMembership(m);
  const ids = [...n.voters, ...n.learners];
  const buf = new Uint8Array(10 + 4 * ids.length);
  const dv = new DataView(buf.buffer);
  dv.setUint16(0, FORMAT, true);
  dv.setUint32(2, n.voters.length, true);
  dv.setUint32(6, n.learners.length, true);
  ids.forEach((id, i) => {
    assert(id <= 0xffffffff, () => `node id ${id} does not fit a configuration entry`);
    dv.setUint32(10 + 4 * i, id, true);
  });
  return buf;
}

/** The configuration in a ConfChange entry's data, or undefined when the data is malformed. */
export function decodeConfEntry(data: Uint8Array): Required<Membership> | undefined {
  if (data.byteLength < 10) return undefined;
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (dv.getUint16(0, true) !== FORMAT) return undefined;
  const nv = dv.getUint32(2, true);
  const nl = dv.getUint32(6, true);
  if (data.byteLength !== 10 + 4 * (nv + nl)) return undefined;
  const ids: number[] = [];
  for (let i = 0; i < nv + nl; i++) ids.push(dv.getUint32(10 + 4 * i, true));
  const m = { voters: ids.slice(0, nv), learners: ids.slice(nv) };
  if (membershipProblem(m) !== undefined || m.voters.length === 0) return undefined;
  return normalizeMembership(m);
}
