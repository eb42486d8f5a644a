import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Raft, type AppendRequest, type Message } from '../../src/raft/index.js';
import { Cluster, config, empty, enc, entries, roundTrip } from './harness.js';

function appendsTo(msgs: Message[], to: number): AppendRequest[] {
  return msgs.filter((m): m is AppendRequest => m.type === 'append' && m.to === to);
}

/** A leader of term 1 in a 3-node cluster whose followers' answers are dropped unless delivered by hand. */
function leaderOnly(over: Parameters<typeof config>[2] = {}): Raft {
  const r = new Raft(config(1, [1, 2, 3], over), empty());
  r.campaign();
  roundTrip(r);
  r.step({ type: 'vote-response', term: 1, from: 2, to: 1, preVote: false, granted: true });
  roundTrip(r);
  return r;
}

function ack(r: Raft, from: number, index: number): void {
  r.step({ type: 'append-response', term: r.status().term, from, to: 1, success: true, index, conflictTerm: 0, conflictIndex: 0 });
}

test('proposal batch: one propose() appends many Normal entries in one Ready', () => {
  const c = new Cluster([1, 2, 3]);
  c.get(1).campaign();
  c.stabilize();
  const res = c.get(1).propose([enc('a'), enc('b'), enc('c')]);
  assert.deepEqual(res, { ok: true, term: 1, firstIndex: 2, lastIndex: 4 });
  const rd = c.get(1).ready();
  assert.deepEqual(rd.entries.map((e) => e.index), [2, 3, 4]);
  c.queue.push(...rd.messages);
  c.get(1).advance(rd);
  c.stabilize();
  assert.deepEqual(c.applied.get(3)?.map((e) => e.index), [1, 2, 3, 4]);
});

test('NOT_LEADER: a follower refuses proposals and names the leader it knows', () => {
  const c = new Cluster([1, 2, 3]);
  c.get(1).campaign();
  c.stabilize();
  assert.deepEqual(c.get(2).propose([enc('x')]), { ok: false, code: 'NOT_LEADER', leader: 1 });
  assert.deepEqual(c.get(2).readIndex(1), { ok: false, code: 'NOT_LEADER', leader: 1 });
});

test('§5.4.2 a leader does not commit an entry of an earlier term by counting replicas', () => {
  for (const testBreak of [undefined, 'commit-old-term'] as const) {
    const r = new Raft(config(1, [1, 2, 3], testBreak === undefined ? {} : { testBreak }), empty({ hardState: { term: 1, vote: 1, commit: 0 }, entries: entries(1) }));
    r.campaign(); // term 2
    roundTrip(r);
    r.step({ type: 'vote-response', term: 2, from: 2, to: 1, preVote: false, granted: true });
    roundTrip(r); // the no-op (index 2, term 2) is persisted locally
    ack(r, 2, 1); // a majority (1 and 2) holds entry 1 of term 1, but not the no-op
    assert.equal(r.status().commit, testBreak === undefined ? 0 : 1, `testBreak=${testBreak}`);
    ack(r, 2, 2); // the no-op of the current term commits, and entry 1 with it
    assert.equal(r.status().commit, 2);
  }
});

test('persistence: the leader counts its own entries toward the quorum only after advance()', () => {
  const r = new Raft(config(1, [1]), empty());
  r.campaign();
  roundTrip(r); // its vote for itself is durable: it leads
  assert.equal(r.status().role, 'leader');
  assert.equal(r.status().commit, 0, 'the no-op is not persisted yet');
  const rd = r.ready();
  assert.equal(rd.committedEntries.length, 0);
  r.advance(rd);
  assert.equal(r.status().commit, 1);
  assert.deepEqual(r.ready().committedEntries.map((e) => e.index), [1]);
});

test('persistence: a sole voter leads a term only once its term and vote are durable: nothing of the term reaches a learner before', () => {
  // Before, it led at once and sent the term's entries to its learner while the term was not on its disk: a power
  // failure lost the term, the node won the same term again and wrote other entries under the same (index, term)
  // (found by the simulation with 1 voter + spares: Log Matching).
  const r = new Raft(config(1, [1], { learners: [2] }), empty());
  r.campaign();
  assert.equal(r.status().role, 'candidate', 'not a leader while its vote is not durable');
  const rd = r.ready();
  assert.deepEqual(rd.hardState && { term: rd.hardState.term, vote: rd.hardState.vote }, { term: 1, vote: 1 });
  assert.equal(rd.messages.length + rd.persistedMessages.length, 0, 'no message of term 1 before it is durable');
  assert.equal(rd.entries.length, 0);
  r.advance(rd);
  assert.equal(r.status().role, 'leader');
  const next = r.ready();
  assert.deepEqual(next.entries.map((e) => e.index), [1], 'the no-op of the term');
  assert.ok(next.messages.some((m) => m.type === 'append' && m.to === 2));
});

test('persistence: a vote made durable for one term does not count for the next', () => {
  const r = new Raft(config(1, [1]), empty());
  r.campaign();
  const rd = r.ready(); // term 1, vote 1: being persisted
  r.campaign(); // it campaigns again (term 2) before that write ends
  assert.equal(r.status().term, 2);
  r.advance(rd); // term 1's vote is durable, term 2's is not
  assert.equal(r.status().role, 'candidate');
  roundTrip(r);
  assert.equal(r.status().role, 'leader');
  assert.equal(r.status().term, 2);
});

test('persistence: leader appends and heartbeats go in messages, follower acknowledgements in persistedMessages', () => {
  const r = leaderOnly();
  ack(r, 2, 1);
  r.propose([enc('a')]);
  r.tick();
  const rd = r.ready();
  assert.ok(rd.messages.some((m) => m.type === 'append') && rd.messages.some((m) => m.type === 'heartbeat'));
  assert.equal(rd.persistedMessages.length, 0);
  const f = new Raft(config(2, [1, 2, 3]), empty());
  for (const m of rd.messages.filter((m) => m.to === 2)) f.step(m);
  const frd = f.ready();
  assert.equal(frd.messages.length, 0);
  assert.ok(frd.persistedMessages.some((m) => m.type === 'append-response') && frd.persistedMessages.some((m) => m.type === 'heartbeat-response'));
});

test('committedEntries are bounded by maxApplyBytes per Ready (at least one entry)', () => {
  const r = new Raft(config(1, [1], { maxApplyBytes: 10 }), empty());
  r.campaign();
  roundTrip(r);
  roundTrip(r);
  r.propose([enc('aaaa'), enc('bbbb'), enc('cccc'), enc('dddddddddddddddd')]);
  roundTrip(r);
  const sizes: number[][] = [];
  while (r.hasReady()) sizes.push(roundTrip(r).committedEntries.map((e) => e.data.length));
  assert.deepEqual(sizes.filter((s) => s.length > 0), [[4, 4], [4], [16]]);
});

test('pipelining: at most maxInflightMsgs appends are in flight per follower; acks open the window again', () => {
  const r = leaderOnly({ maxInflightMsgs: 3, maxMsgBytes: 1 });
  ack(r, 2, 1); // follower 2 matched the no-op: replicate state
  roundTrip(r);
  r.propose(Array.from({ length: 10 }, (_, i) => enc(String(i))));
  let rd = roundTrip(r);
  assert.equal(appendsTo(rd.messages, 2).length, 3);
  assert.equal(appendsTo(rd.messages, 3).length, 0, 'follower 3 is in probe state with a probe outstanding');
  assert.equal(r.status().progress?.[2]?.inflight, 3);
  ack(r, 2, 3); // frees the first two
  rd = roundTrip(r);
  assert.deepEqual(appendsTo(rd.messages, 2).map((m) => m.entries.map((e) => e.index)), [[5], [6]]);
  assert.equal(r.status().progress?.[2]?.inflight, 3);
});

test('pipelining: bytes in flight per follower stay within maxInflightBytes', () => {
  const r = leaderOnly({ maxInflightBytes: 10, maxMsgBytes: 4 });
  ack(r, 2, 1);
  roundTrip(r);
  r.propose(Array.from({ length: 6 }, () => enc('abcd')));
  const rd = roundTrip(r);
  assert.equal(appendsTo(rd.messages, 2).length, 2);
  assert.equal(r.inflightBytes(2), 8);
  assert.ok(r.inflightBytes(2) <= 10);
});

test('maxMsgBytes bounds one append; a single larger entry still goes, alone in an empty window', () => {
  const r = leaderOnly({ maxMsgBytes: 10 });
  ack(r, 2, 1);
  roundTrip(r);
  r.propose([enc('aaaa'), enc('bbbb'), enc('cccc'), enc('x'.repeat(16))]);
  const rd = roundTrip(r);
  assert.deepEqual(appendsTo(rd.messages, 2).map((m) => m.entries.map((e) => e.data.length)), [[4, 4], [4]]);
  ack(r, 2, 4);
  assert.deepEqual(appendsTo(roundTrip(r).messages, 2).map((m) => m.entries.map((e) => e.data.length)), [[16]]);
});

test('§5.3 consistency check: a follower rejects an append whose prevLogTerm does not match, with conflict hints', () => {
  // Follower log terms [1, 1, 2, 2, 2]; the leader probes at index 5 claiming term 3.
  const f = new Raft(config(2, [1, 2, 3]), empty({ hardState: { term: 3, vote: 0, commit: 2 }, entries: entries(1, 1, 2, 2, 2) }));
  f.step({ type: 'append', term: 3, from: 1, to: 2, prevLogIndex: 5, prevLogTerm: 3, entries: [], commit: 2 });
  const resp = f.ready().persistedMessages[0];
  assert.ok(resp?.type === 'append-response');
  assert.equal(resp.success, false);
  assert.equal(resp.index, 5);
  // The last index whose term is <= 3 is 5 itself (term 2): the leader learns the follower's term there.
  assert.deepEqual([resp.conflictIndex, resp.conflictTerm], [5, 2]);
});

test('§5.3 fast backtracking: the leader skips a whole conflicting term in one round trip', () => {
  // Leader log terms [1, 1, 1, 4, 4, 4, 4]; follower [1, 1, 1, 2, 2, 2, 2, 2, 2] (a stale term-2 tail).
  const c = new Cluster([1, 2, 3], {}, (id) =>
    id === 1
      ? empty({ hardState: { term: 4, vote: 1, commit: 3 }, entries: entries(1, 1, 1, 4, 4, 4, 4) })
      : id === 2
        ? empty({ hardState: { term: 4, vote: 0, commit: 3 }, entries: entries(1, 1, 1, 2, 2, 2, 2, 2, 2) })
        : empty({ hardState: { term: 4, vote: 1, commit: 3 }, entries: entries(1, 1, 1, 4, 4, 4, 4) }),
  );
  c.get(1).campaign();
  let rejections = 0;
  c.filter = (m) => {
    if (m.type === 'append-response' && m.from === 2 && !m.success) rejections++;
    return true;
  };
  c.stabilize();
  assert.equal(c.leader(), 1);
  assert.ok(rejections <= 2, `${rejections} rejections: backtracking went entry by entry`);
  assert.equal(c.get(2).log.lastIndex, 8);
  assert.equal(c.get(2).log.term(4), 5 - 1);
  assert.equal(c.get(2).status().commit, 8);
});

test('§5.3 a follower truncates a conflicting suffix and never a committed entry', () => {
  const f = new Raft(config(2, [1, 2, 3]), empty({ hardState: { term: 2, vote: 0, commit: 1 }, entries: entries(1, 2, 2) }));
  f.step({ type: 'append', term: 3, from: 1, to: 2, prevLogIndex: 1, prevLogTerm: 1, entries: [{ term: 3, index: 2, type: 0, data: enc('n') }], commit: 1 });
  assert.equal(f.log.lastIndex, 2);
  assert.equal(f.log.term(2), 3);
  const rd = f.ready();
  assert.deepEqual(rd.entries.map((e) => [e.index, e.term]), [[2, 3]]);
  assert.throws(() => f.log.append([{ term: 4, index: 1, type: 0, data: enc('z') }]), /truncating committed entry/);
});

test('a lost append does not stall the pipeline: a heartbeat response draws a probe that recovers', () => {
  const c = new Cluster([1, 2, 3], { maxInflightMsgs: 2 });
  c.get(1).campaign();
  c.stabilize();
  c.filter = (m) => !(m.type === 'append' && m.to === 3);
  c.get(1).propose([enc('a')]);
  c.stabilize();
  c.heal();
  c.tick(3);
  assert.equal(c.get(3).status().commit, 2);
});
