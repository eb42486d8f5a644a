// The leader counts its own entries toward the quorum only once they are durable (after advance()),
// with three and five voters: with one voter (test/raft/replication.test.ts) the leader is the whole
// quorum, so a leader that counted unpersisted entries would only commit one Ready early there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Raft } from '../../src/raft/index.js';
import { config, empty, enc, roundTrip } from './harness.js';

/** Node 1 leads term 1 of `voters`, its no-op (index 1) persisted and acknowledged by node 2 (so committed). */
function leader(voters: number[]): Raft {
  const r = new Raft(config(1, voters), empty());
  r.campaign();
  roundTrip(r);
  for (const from of voters.slice(1, Math.floor(voters.length / 2) + 1)) {
    r.step({ type: 'vote-response', term: 1, from, to: 1, preVote: false, granted: true });
  }
  roundTrip(r);
  assert.equal(r.status().role, 'leader');
  for (const from of voters.slice(1)) ack(r, from, 1);
  while (r.hasReady()) roundTrip(r);
  assert.equal(r.status().commit, 1, 'the no-op committed');
  return r;
}

function ack(r: Raft, from: number, index: number): void {
  r.step({ type: 'append-response', term: r.status().term, from, to: 1, success: true, index, conflictTerm: 0, conflictIndex: 0 });
}

test('§5.3/§10.2.1 three voters: a follower ack plus the leader\'s unpersisted append is not a quorum; it is once advance() persisted it', () => {
  const r = leader([1, 2, 3]);
  r.propose([enc('a')]); // index 2
  const rd = r.ready(); // the host starts persisting index 2 and sends the appends in parallel
  assert.deepEqual(rd.entries.map((e) => e.index), [2]);
  ack(r, 2, 2); // follower 2 persisted and acknowledged index 2 before the leader's own fsync ended
  assert.equal(r.status().commit, 1, 'leader (not durable) + follower 2 must not count as a majority');
  r.advance(rd); // the leader's append is durable now
  assert.equal(r.status().commit, 2, 'leader (durable) + follower 2 is a majority');
  assert.deepEqual(r.ready().committedEntries.map((e) => e.index), [2]);
});

test('three voters: two follower acks are a quorum without the leader\'s own append (it is durable on a majority)', () => {
  const r = leader([1, 2, 3]);
  r.propose([enc('a')]);
  const rd = r.ready();
  ack(r, 2, 2);
  ack(r, 3, 2);
  assert.equal(r.status().commit, 2);
  r.advance(rd);
  // Applied only in a later Ready, after the leader's own append is durable too.
  assert.deepEqual(r.ready().committedEntries.map((e) => e.index), [2]);
});

test('five voters: two follower acks and the leader\'s unpersisted append are not a quorum of three', () => {
  const r = leader([1, 2, 3, 4, 5]);
  r.propose([enc('a'), enc('b')]); // indexes 2, 3
  const rd = r.ready();
  ack(r, 2, 3);
  ack(r, 3, 3);
  assert.equal(r.status().commit, 1);
  r.advance(rd);
  assert.equal(r.status().commit, 3);
});
