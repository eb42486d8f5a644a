// Lease-read safety on the pure core (issue #10 item 1): a leader's lease (§6.4.1) counts a follower's
// heartbeat acknowledgement, so that follower must not vote for anyone else for electionTimeoutMin ticks
// after it (leader stickiness, §4.2.3 / §9.6), whatever other messages of higher terms arrive meanwhile.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EntryType, type Message, type NodeId, type Raft } from '../../src/raft/index.js';
import { Cluster, enc } from './harness.js';

const MIN = 10; // the harness's electionTimeoutMinTicks
const MAX = 20;
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

/** The value of `k` in `r`'s log up to `index` (every entry is `k=<value>`). */
function valueAt(r: Raft, index: number): string | undefined {
  let v: string | undefined;
  for (let i = 1; i <= index; i++) {
    const e = r.log.entry(i);
    if (e !== undefined && e.type === EntryType.Normal) v = dec(e.data).slice(2);
  }
  return v;
}

function tickUntil(c: Cluster, done: () => boolean, what: string, bound = 10 * MAX): void {
  for (let i = 0; i < bound && !done(); i++) c.tick(1);
  assert.ok(done(), `never: ${what}`);
}

interface Outcome {
  leaseReads: number;
  stale: string[];
  newCommitted: boolean;
}

/**
 * 3 nodes, check-quorum, no pre-vote, ticks in lockstep. Node 2 leads term 1 and one of its heartbeats to
 * each peer is held back. Partition 1 isolates 2: L (1 or 3) wins term 2 and 2 follows it after healing;
 * `k=old` commits. Partition 2 isolates X (the third node) for `isolatedTicks`: without pre-vote its term
 * climbs past L's. Then {L} | {2, X}: `delayTicks` later the held term-1 heartbeat reaches X, whose
 * higher-term rejection resets node 2 (becomeFollower(term, NONE)) while L's lease still counts 2's ack.
 * X's next election must not win 2's vote before that lease ran out. L is asked for a lease read of k
 * after every tick; none may miss `k=new` once a newer leader has committed it.
 */
function staleLeaseScenario(isolatedTicks: number, delayTicks: number): Outcome {
  const c = new Cluster([1, 2, 3], { checkQuorum: true, preVote: false });
  c.get(2).campaign();
  c.stabilize();
  assert.equal(c.leader(), 2);
  const held: Message[] = [];
  c.filter = (m) => {
    if (m.from !== 2 || m.type !== 'heartbeat') return true;
    held.push(m);
    return false;
  };
  c.tick(1);
  assert.equal(held.length, 2, 'one held heartbeat per peer');

  c.isolate(2);
  tickUntil(c, () => [1, 3].some((id) => c.get(id).status().role === 'leader') && c.get(2).status().role !== 'leader', 'a leader of term 2 without node 2');
  const L: NodeId = c.get(1).status().role === 'leader' ? 1 : 3;
  const X: NodeId = L === 1 ? 3 : 1;
  c.heal();
  tickUntil(c, () => c.get(2).status().leader === L && c.get(X).status().leader === L, 'node 2 follows L');
  const old = c.get(L).propose([enc('k=old')]);
  assert.ok(old.ok);
  c.stabilize();
  c.tick(1);
  assert.equal(c.get(2).status().commit, old.lastIndex);

  c.filter = (m) => m.from !== X && m.to !== X;
  c.tick(isolatedTicks);
  assert.ok(c.get(X).status().term > c.get(L).status().term, 'without pre-vote the isolated node raised its term');
  assert.equal(c.get(L).status().role, 'leader');

  c.filter = (m) => (m.from === L) === (m.to === L);
  c.tick(delayTicks);
  const toX = held.find((m) => m.to === X);
  assert.ok(toX !== undefined);
  c.get(X).step(toX); // a term-1 heartbeat: X answers it with its higher term, to node 2
  c.stabilize();

  const out: Outcome = { leaseReads: 0, stale: [], newCommitted: false };
  const mustSeeNew = new Map<number, boolean>();
  let newWrite: { leader: NodeId; index: number } | undefined;
  let readId = 0;
  for (let t = 0; t < 3 * MAX; t++) {
    c.tick(1);
    const N = [2, X].find((id) => c.get(id).status().role === 'leader');
    if (N !== undefined && newWrite === undefined) {
      const r = c.get(N).propose([enc('k=new')]);
      assert.ok(r.ok);
      newWrite = { leader: N, index: r.lastIndex };
      c.stabilize();
    }
    if (newWrite !== undefined && c.get(newWrite.leader).status().commit >= newWrite.index) out.newCommitted = true;
    const leader = c.get(L);
    if (leader.status().role === 'leader') {
      const before = leader.stats.leaseReads;
      mustSeeNew.set(++readId, out.newCommitted);
      leader.leaseRead(readId);
      if (leader.stats.leaseReads > before) out.leaseReads++;
      c.flush();
    }
  }
  for (const rs of c.reads.get(L) ?? []) {
    const v = valueAt(c.get(L), rs.index);
    if (mustSeeNew.get(rs.id) === true && v !== 'new') out.stale.push(`read ${rs.id} at index ${rs.index} saw ${String(v)}`);
  }
  return out;
}

test('§6.4.1 lease reads never miss a committed write: a stale higher-term reply does not end leader stickiness (§4.2.3), over 20 timing offsets × 3 delays', () => {
  let leaseReads = 0;
  let newLeaders = 0;
  let staleRuns = 0;
  const stale: string[] = [];
  for (let isolatedTicks = 2 * MAX; isolatedTicks < 3 * MAX; isolatedTicks++) {
    for (let delayTicks = 0; delayTicks < 3; delayTicks++) {
      const o = staleLeaseScenario(isolatedTicks, delayTicks);
      leaseReads += o.leaseReads;
      if (o.newCommitted) newLeaders++;
      if (o.stale.length > 0) staleRuns++;
      for (const s of o.stale) stale.push(`offset ${isolatedTicks}/${delayTicks}: ${s}`);
    }
  }
  assert.ok(leaseReads > 0, 'the old leader served lease reads (the test exercises the lease)');
  assert.equal(newLeaders, 60, 'in every run a newer leader committed k=new (liveness after the lease)');
  assert.deepEqual(stale, [], `${stale.length} stale lease reads in ${staleRuns} of 60 runs`);
});

type Poke = (follower: NodeId, other: NodeId, term: number) => Message;

/** Messages of a higher term that a follower may receive from a node that is not a leader. */
const higherTermPokes: [string, Poke][] = [
  ['a stale append rejection', (to, from, term) => ({ type: 'append-response', term, from, to, success: false, index: 0, conflictTerm: 0, conflictIndex: 0 })],
  ['a heartbeat response', (to, from, term) => ({ type: 'heartbeat-response', term, from, to, readRound: 1, lastIndex: 0 })],
  ['a pre-vote rejection', (to, from, term) => ({ type: 'vote-response', term, from, to, preVote: true, granted: false })],
  ['a vote rejection', (to, from, term) => ({ type: 'vote-response', term, from, to, preVote: false, granted: false })],
  ['a timeout-now', (to, from, term) => ({ type: 'timeout-now', term, from, to })],
];

for (const preVote of [false, true]) {
  for (const [name, poke] of higherTermPokes) {
    test(`§4.2.3 stickiness (pre-vote ${preVote ? 'on' : 'off'}): after ${name} of a higher term, a follower still ignores (pre)votes until electionTimeoutMin ticks after it last heard the leader`, () => {
      const c = new Cluster([1, 2, 3], { checkQuorum: true, preVote });
      c.get(1).campaign();
      c.stabilize();
      c.tick(3);
      assert.equal(c.leader(), 1);
      const f = c.get(2);
      const term = f.status().term;
      const lastLogIndex = f.status().lastIndex + 5;
      const vote = (t: number, pre: boolean): Message => ({ type: 'vote', term: t, from: 3, to: 2, preVote: pre, lastLogIndex, lastLogTerm: term, transfer: false });
      const granted = (): boolean => {
        const rd = f.ready();
        f.advance(rd);
        return [...rd.messages, ...rd.persistedMessages].some((m) => m.type === 'vote-response' && m.granted);
      };
      c.filter = () => false; // the follower hears nobody from now on
      f.step(poke(2, 3, term + 1));
      assert.equal(f.status().term, term + 1, 'the poke moved the follower to the higher term');
      assert.equal(f.status().leader, 0);
      for (let i = 0; i < MIN - 1; i++) {
        f.step(vote(term + 1, true)); // a pre-vote probe at our (new) term
        f.step(vote(term + 2, true));
        f.step(vote(term + 1, false)); // a real vote in the term the poke moved us to
        f.step(vote(term + 2, false));
        assert.equal(granted(), false, `no (pre)vote granted ${i} ticks after the leader was last heard`);
        assert.equal(f.status().vote, 0);
        f.tick();
      }
      f.tick();
      f.step(vote(f.status().term + 1, false));
      assert.equal(granted(), true, 'once the stickiness window has passed the vote is granted');
    });
  }
}

test('§3.10 a transfer vote is granted inside the stickiness window; a repeated request from the candidate already voted for is answered again', () => {
  const c = new Cluster([1, 2, 3], { checkQuorum: true });
  c.get(1).campaign();
  c.stabilize();
  const f = c.get(2);
  const term = f.status().term;
  const req: Message = { type: 'vote', term: term + 1, from: 3, to: 2, preVote: false, lastLogIndex: 9, lastLogTerm: term, transfer: true };
  f.step(req);
  assert.equal(f.status().vote, 3);
  f.advance(f.ready());
  f.step({ ...req, transfer: false });
  const rd = f.ready();
  assert.ok(rd.persistedMessages.some((m) => m.type === 'vote-response' && m.granted));
});
