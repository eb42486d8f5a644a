// Input validation for step(): the core never trusts a message's shape. Returns why a message is malformed.
import { decodeConfEntry, membershipProblem } from './membership.js';
import type { Entry, Message, NodeId } from './types.js';

export function isNat(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

function isBool(x: unknown): x is boolean {
  return typeof x === 'boolean';
}

type Rec = Record<string, unknown>;

function entriesProblem(m: Rec, term: number): string | undefined {
  const ents = m['entries'];
  if (!Array.isArray(ents)) return 'entries is not an array';
  let expect = (m['prevLogIndex'] as number) + 1;
  let prevTerm = m['prevLogTerm'] as number;
  for (const raw of ents as unknown[]) {
    if (typeof raw !== 'object' || raw === null) return 'entry is not an object';
    const e = raw as Partial<Entry>;
    if (!isNat(e.term) || !isNat(e.index)) return 'entry term/index not a natural number';
    if (e.index !== expect) return 'entries not contiguous';
    if (e.term < prevTerm || e.term > term) return 'entry term out of order';
    if (e.type !== 0 && e.type !== 1 && e.type !== 2) return 'unknown entry type';
    if (!(e.data instanceof Uint8Array)) return 'entry data is not a Uint8Array';
    if (e.type === 2 && decodeConfEntry(e.data) === undefined) return 'malformed configuration entry';
    expect++;
    prevTerm = e.term;
  }
  return undefined;
}

function snapshotProblem(m: Rec, term: number): string | undefined {
  const s = m['snapshot'];
  if (typeof s !== 'object' || s === null) return 'snapshot meta missing';
  const meta = s as Rec;
  if (!isNat(meta['index']) || !isNat(meta['term'])) return 'snapshot index/term not natural numbers';
  if (meta['term'] > term) return 'snapshot term beyond message term';
  if ((meta['index'] === 0) !== (meta['term'] === 0)) return 'snapshot index/term inconsistent';
  const membership = meta['membership'];
  if (typeof membership !== 'object' || membership === null) return 'snapshot membership missing';
  const problem = membershipProblem(membership);
  if (problem !== undefined) return `snapshot ${problem}`;
  if (((membership as Rec)['voters'] as unknown[]).length === 0) return 'snapshot without voters';
  return undefined;
}

function bodyProblem(m: Rec, term: number): string | undefined {
  const nat = (...keys: string[]): boolean => keys.every((k) => isNat(m[k]));
  const bool = (...keys: string[]): boolean => keys.every((k) => isBool(m[k]));
  switch (m['type']) {
    case 'vote':
      if (!bool('preVote', 'transfer') || !nat('lastLogIndex', 'lastLogTerm')) return 'malformed vote';
      return (m['lastLogTerm'] as number) > term ? 'vote lastLogTerm beyond term' : undefined;
    case 'vote-response':
      return bool('preVote', 'granted') ? undefined : 'malformed vote-response';
    case 'append':
      if (!nat('prevLogIndex', 'prevLogTerm', 'commit')) return 'malformed append';
      if ((m['prevLogTerm'] as number) > term) return 'append prevLogTerm beyond term';
      return entriesProblem(m, term);
    case 'append-response':
      return bool('success') && nat('index', 'conflictTerm', 'conflictIndex') ? undefined : 'malformed append-response';
    case 'heartbeat':
      return nat('commit', 'readRound') ? undefined : 'malformed heartbeat';
    case 'heartbeat-response':
      return nat('readRound', 'lastIndex') ? undefined : 'malformed heartbeat-response';
    case 'snapshot':
      return snapshotProblem(m, term);
    case 'timeout-now':
      return undefined;
    default:
      return 'unknown message type';
  }
}

/**
 * Why `msg` must be dropped, or undefined when it is well formed and addressed to `self`. The sender need not be
 * in our configuration: a leader of a configuration this node has not seen yet must reach it (the core drops
 * responses from nodes it does not replicate to, and counts votes of voters only).
 */
export function messageProblem(msg: unknown, self: NodeId): string | undefined {
  if (typeof msg !== 'object' || msg === null) return 'not an object';
  const m = msg as Rec;
  if (!isNat(m['term']) || !isNat(m['from']) || !isNat(m['to'])) return 'term/from/to not natural numbers';
  if (m['term'] === 0) return 'term 0';
  if (m['to'] !== self) return 'not addressed to this node';
  if (m['from'] === self) return 'from this node';
  if (m['from'] === 0) return 'from no node';
  return bodyProblem(m, m['term'] as number);
}

export type { Message };
